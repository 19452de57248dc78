"""The printable HTML report: figures, failing assets with messages and remedies, escaping."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import escape

from tests.reports.conftest import SCRIPT
from v6pilot.reports.data import ReportData
from v6pilot.reports.html_report import render_html, write_html
from v6pilot.reports.remedies import remedy


def section(html: str, name: str) -> str:
    """The printable section of group `name`."""
    start = html.index(f"<h2>城市 {name} ")
    end = html.find('<section class="group">', start)
    return html[start : end if end != -1 else len(html)]


def test_failing_asset_with_message_and_remedy(data: ReportData) -> None:
    html = render_html(data, "city")
    wenzhou = section(html, "Wenzhou")
    assert "a6.example" in wenzhou
    assert "2 of 9 sub-resources" not in wenzhou  # replaced by the escaped message
    assert "http://cdn.example/x.js" in wenzhou
    assert escape(remedy("web.subresources_v6", "fail", "en")) in wenzhou
    assert escape(remedy("web.subresources_v6", "fail", "zh")) in wenzhou
    assert "serve these resources from a dual-stack host or cdn" in wenzhou.lower()
    assert escape(remedy("web.consistency", "warn", "en")) in wenzhou  # warnings too
    assert "a1.example" not in section(html, "Hangzhou")  # passes everything
    assert "a2.example" in section(html, "Hangzhou")


def test_markup_in_messages_is_escaped(data: ReportData) -> None:
    html = render_html(data, "city")
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_group_figures_overall_targets_and_changes(data: ReportData) -> None:
    html = render_html(data, "city")
    assert "86.4" in section(html, "Hangzhou")
    assert re.search(r"<td[^>]*>总体 overall</td>\s*<td[^>]*>6</td>", html)
    assert "已逾期" in html and "overdue" in html
    assert "已移除" in html  # a1 is gone in the comparison
    assert "@media print" in html
    assert "http" not in html.split("<body>")[0]  # no external assets in the head


def test_every_group_gets_a_section(tmp_path: Path, data: ReportData) -> None:
    path = tmp_path / "projects.html"
    write_html(path, data, "project")
    html = path.read_text("utf-8")
    assert html.count('<section class="group">') == 2
    p1 = html[html.index("<h2>项目 P1 ") : html.index("<h2>项目 P2 ")]
    assert "a2.example" in p1 and "a5.example" in p1
    assert "chain breaks at zone cn" in p1
