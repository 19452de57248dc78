"""The XLSX report read back with openpyxl: sheets, headers, numbers, formats and colours."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from v6pilot.reports.data import ReportData
from v6pilot.reports.labels import label
from v6pilot.reports.xlsx_report import write_xlsx


@pytest.fixture
def book(tmp_path: Path, data: ReportData) -> Workbook:
    path = tmp_path / "report.xlsx"
    write_xlsx(path, data)
    return load_workbook(path)


def rows(book: Workbook, sheet: str) -> list[list[object]]:
    return [list(r) for r in book[sheet].iter_rows(values_only=True)]


def test_sheet_names(book: Workbook) -> None:
    assert book.sheetnames == [
        "city 城市",
        "project 项目",
        "targets 目标",
        "changes 变化",
        "assets 资产",
    ]


def test_group_sheet_headers_values_and_overall_row(book: Workbook) -> None:
    table = rows(book, "city 城市")
    zh = dict(zip(table[1], table[0], strict=True))
    assert zh["name"] == "名称"
    assert zh["AAAA share"] == "AAAA记录占比"
    assert zh[label("column.indicator_6", "en")] == label("column.indicator_6", "zh")
    index = {name: i for i, name in enumerate(table[1])}

    def cell(row: list[object], key: str) -> object:
        return row[index[label(f"column.{key}", "en")]]

    hangzhou, ningbo, wenzhou, overall = table[2:]
    assert cell(hangzhou, "name") == "Hangzhou"
    assert cell(hangzhou, "assets") == 2
    assert cell(hangzhou, "share_aaaa") == 1.0
    assert cell(hangzhou, "mean_score") == 86.4
    assert cell(ningbo, "indicator_7") == 0.6
    assert cell(wenzhou, "share_unreachable") == 0.5
    assert cell(overall, "name") == "总体 overall"
    assert cell(overall, "indicator_3") == 0.925
    assert cell(overall, "median_score") == 81.8


def test_frozen_header_formats_and_colours(book: Workbook) -> None:
    sheet = book["project 项目"]
    assert sheet.freeze_panes == "B3"
    assert sheet["D3"].number_format == "0.0%"  # share_aaaa of P1
    assert sheet["D3"].value == 1.0
    ranges = {str(r.sqref): r.rules for r in sheet.conditional_formatting}
    assert "D3:D5" in ranges  # share_aaaa over P1, P2 and the overall row
    formulas = [rule.formula[0] for rule in ranges["D3:D5"]]
    assert formulas == [
        "AND(ISNUMBER(D3),D3>=0.9)",
        "AND(ISNUMBER(D3),D3>=0.6,D3<0.9)",
        "AND(ISNUMBER(D3),D3<0.6)",
    ]
    assert ranges["D3:D5"][0].dxf.fill.fgColor.rgb.endswith("C6EFCE")


def test_targets_sheet(book: Workbook) -> None:
    table = rows(book, "targets 目标")
    column = {name: index for index, name in enumerate(table[1])}
    met, overdue, not_met = table[2:]
    assert met[column["state"]] == "已达成 met"
    assert overdue[column["state"]] == "已逾期 overdue"
    assert overdue[column["actual"]] == 0.6667
    assert overdue[column["holding it back"]] == "a3.example"
    assert not_met[column["threshold"]] == 90
    assert str(not_met[column["holding it back"]]).split("\n") == [
        "a3.example",
        "a4.example",
        "a2.example",
    ]  # lowest score first; a6 (90.8) reaches 90
    assert book["targets 目标"].cell(row=4, column=column["actual"] + 1).number_format == "0.0%"


def test_assets_sheet_lists_every_asset(book: Workbook) -> None:
    table = rows(book, "assets 资产")
    column = {name: index for index, name in enumerate(table[1])}
    assert [r[column["target"]] for r in table[2:]] == [f"a{n}.example" for n in range(1, 7)]
    a3 = table[4]
    assert a3[column["grade"]] == "仅支持IPv4 IPv4 only"
    assert a3[column["score"]] == 15.0
    assert a3[column["failing checks"]] == "dns.aaaa (fail)\nweb.homepage_v6 (fail)"
    assert "homepage does not load over IPv6" in str(a3[column["problems (English)"]])
    assert "(zh)" in str(a3[column["problems (Chinese)"]])
    assert table[2][column["failing checks"]] is None  # a1 passes everything


def test_changes_sheet(book: Workbook) -> None:
    table = rows(book, "changes 变化")
    assert [(r[0], r[1]) for r in table[2:]] == [
        ("a1.example", "已移除 gone"),
        ("a6.example", "新增 new"),
    ]


def test_chosen_levels_only(tmp_path: Path, data: ReportData) -> None:
    path = tmp_path / "one.xlsx"
    write_xlsx(path, ReportData(data.summary), ["project"])
    assert load_workbook(path).sheetnames == ["project 项目"]
