from __future__ import annotations

from pathlib import Path

import idna
import pytest
from openpyxl import Workbook

from v6pilot.scan.targets import InputProblem, TargetError, parse_target, read_targets


def test_host_name_becomes_http_url() -> None:
    target = parse_target("WWW.Example.CN")
    assert (target.host, target.url) == ("www.example.cn", "http://www.example.cn/")


def test_url_keeps_scheme_port_path_and_query() -> None:
    target = parse_target("https://www.example.cn:8443/portal/index.html?x=1#top")
    assert target.url == "https://www.example.cn:8443/portal/index.html?x=1"


def test_chinese_idn_is_converted_to_ace() -> None:
    target = parse_target("www.中国政府网.中国")
    assert target.host.startswith("www.xn--") and target.host.endswith(".xn--fiqs8s")
    assert target.raw == "www.中国政府网.中国"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("192.0.2.1", "IP address"),
        ("http://[2001:db8::1]/", "IP address"),
        ("ftp://example.cn/", "only http and https"),
        ("localhost.localdomain", "special-use"),
        ("www.good.test", "special-use"),
        ("intranet", "fully qualified"),
        ("bad_label!.example.cn", "not a valid domain"),
        ("   ", "empty"),
    ],
)
def test_unusable_targets_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(TargetError, match=reason):
        parse_target(raw)


def test_special_use_names_allowed_for_the_lab() -> None:
    assert parse_target("www.good.test", allow_private=True).host == "www.good.test"


def test_txt_file_reports_bad_lines_and_keeps_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "sites.txt"
    source.write_text(
        "# pilot sites\nwww.example.cn\n\nftp://nope.cn/  # wrong scheme\nedu.example.cn\n"
    )
    items = list(read_targets(source))
    assert [i.host for i in items if not isinstance(i, InputProblem)] == [
        "www.example.cn",
        "edu.example.cn",
    ]
    problems = [i for i in items if isinstance(i, InputProblem)]
    assert [p.line for p in problems] == [4]
    assert str(problems[0]).startswith(f"{source}:4:")


def test_csv_with_chinese_header(tmp_path: Path) -> None:
    source = tmp_path / "sites.csv"
    source.write_text(
        "单位,目标\n某大学,www.example.edu.cn\n某银行,192.0.2.9\n", encoding="utf-8-sig"
    )
    items = list(read_targets(source))
    assert items[0].host == "www.example.edu.cn"  # type: ignore[union-attr]
    assert isinstance(items[1], InputProblem) and items[1].line == 3


def test_xlsx_target_column(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "target"])
    sheet.append(["portal", "https://www.example.gov.cn/"])
    path = tmp_path / "sites.xlsx"
    book.save(path)
    [target] = list(read_targets(path))
    assert target.url == "https://www.example.gov.cn/"  # type: ignore[union-attr]


def test_csv_without_target_column_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "sites.csv"
    source.write_text("site\nwww.example.cn\n")
    with pytest.raises(TargetError, match="no 'target' column"):
        list(read_targets(source))


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot read"):
        list(read_targets(tmp_path / "missing.txt"))


@pytest.mark.parametrize(
    "host",
    [
        "www.gov.cn",
        "a.b-c.example",
        "x1.y2.z3",
        "123.example",
        "a" * 63 + ".example",
        "xn--fiqs8s.cn",
        "a--b.example",
        "-bad.example",
        "bad-.example",
        "a" * 64 + ".example",
        "under_score.example",
        "www.example.",
    ],
)
def test_plain_names_take_the_shortcut_with_the_idna_result(host: str) -> None:
    try:
        expected = idna.encode(host.rstrip("."), uts46=True).decode().lower()
    except idna.IDNAError:
        expected = None
    if expected is None:
        with pytest.raises(TargetError):
            parse_target(host, allow_private=True)
    else:
        assert parse_target(host, allow_private=True).host == expected
