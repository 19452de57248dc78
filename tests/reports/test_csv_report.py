"""The CSV report: English header, one row per group, then overall; shares as fractions."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.scoring.contract import sample
from v6pilot.reports.csv_report import write_csv
from v6pilot.reports.data import ReportData
from v6pilot.scoring.aggregate import summarise


def test_rows(tmp_path: Path, data: ReportData) -> None:
    path = tmp_path / "groups.csv"
    write_csv(path, data, "project")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [(r["level"], r["name"]) for r in rows] == [
        ("project", "P1"),
        ("project", "P2"),
        ("overall", "overall"),
    ]
    header = list(rows[0])
    assert header[:4] == ["level", "name", "assets", "share_aaaa"]
    assert "indicator_7" in header
    assert "mean_score" in header
    p2 = rows[1]
    assert (p2["assets"], p2["share_v4_only"], p2["mean_score"]) == ("3", "0.3333", "59.53")
    assert rows[2]["indicator_3"] == "0.925"


def test_unmeasured_figures_are_blank(tmp_path: Path) -> None:
    path = tmp_path / "industries.csv"
    write_csv(path, ReportData(summarise(sample(), ("industry",))))
    healthcare = list(csv.DictReader(path.open(encoding="utf-8-sig")))[3]
    assert healthcare["name"] == "healthcare"
    assert healthcare["indicator_3"] == ""  # its homepage never loaded over IPv6
    assert healthcare["share_unreachable"] == "1.0"
