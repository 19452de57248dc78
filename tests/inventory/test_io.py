"""Inventory files without a database: target normalisation, CSV/XLSX reading in either
language and encoding, problems by line and column, writing back."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from v6pilot.inventory.io import (
    InventoryError,
    RowProblem,
    normalise_target,
    read_inventory,
    write_inventory,
)
from v6pilot.inventory.model import (
    COLUMNS,
    AssetKind,
    CityLevel,
    Direction,
    Industry,
    InventoryRow,
    OrganisationType,
)

ENGLISH = ",".join(COLUMNS)
CHINESE = ",".join(COLUMNS.values())


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("WWW.Example.CN", AssetKind.WEBSITE, "www.example.cn"),
        ("http://www.example.cn", AssetKind.WEBSITE, "www.example.cn"),
        ("http://www.example.cn/", AssetKind.WEBSITE, "www.example.cn"),
        ("https://www.example.cn", AssetKind.WEBSITE, "https://www.example.cn/"),
        ("http://www.example.cn/portal?x=1", AssetKind.WEBSITE, "http://www.example.cn/portal?x=1"),
        ("www.例子.中国", AssetKind.WEBSITE, "www.xn--fsqu00a.xn--fiqs8s"),
        ("例子.中国.", AssetKind.DOMAIN, "xn--fsqu00a.xn--fiqs8s"),
        ("IoT.Example.cn:8883/MQTT", AssetKind.ENDPOINT, "iot.example.cn:8883/mqtt"),
        ("[2001:DB8:0::1]:5683/coap", AssetKind.ENDPOINT, "[2001:db8::1]:5683/coap"),
        ("192.0.2.7:443/tcp", AssetKind.ENDPOINT, "192.0.2.7:443/tcp"),
    ],
)
def test_targets_are_normalised(text: str, kind: AssetKind, expected: str) -> None:
    assert normalise_target(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("https://example.cn/", AssetKind.DOMAIN, "a domain is a bare name"),
        ("192.0.2.7", AssetKind.WEBSITE, "is an IP address"),
        ("ftp://example.cn", AssetKind.WEBSITE, "only http and https"),
        ("localhost", AssetKind.DOMAIN, "not a fully qualified"),
        ("iot.example.cn/mqtt", AssetKind.ENDPOINT, "not an endpoint host:port/protocol"),
        ("iot.example.cn:70000/mqtt", AssetKind.ENDPOINT, "port 70000"),
        ("iot.example.cn:1883/telnetx", AssetKind.ENDPOINT, "protocol 'telnetx'"),
        ("[192.0.2.1]:80/http", AssetKind.ENDPOINT, "not an IPv6 address"),
    ],
)
def test_bad_targets_say_why(text: str, kind: AssetKind, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_target(text, kind)


def test_chinese_headers_and_labels_in_a_gbk_csv(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "inventory.csv",
        f"{CHINESE}\r\nwww.pku.edu.cn,网站,北京大学,高校,教育,北京市,北京市,直辖市,校园网IPv6单栈,IPv6单栈部署\r\n",
        encoding="gbk",
    )
    sheet = read_inventory(path)
    assert sheet.problems == []
    assert [p.row for p in sheet.rows] == [
        InventoryRow(
            target="www.pku.edu.cn",
            kind=AssetKind.WEBSITE,
            organisation="北京大学",
            organisation_type=OrganisationType.UNIVERSITY,
            industry=Industry.EDUCATION,
            province="北京市",
            city="北京市",
            city_level=CityLevel.MUNICIPALITY,
            project="校园网IPv6单栈",
            direction=Direction.IPV6_ONLY,
        )
    ]


def test_any_column_order_bom_and_unknown_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "inventory.csv",
        "备注,organisation,target,kind\r\n重点,某公司,example.cn,domain\r\n",
        encoding="utf-8-sig",
    )
    sheet = read_inventory(path)
    assert [(p.line, p.row.target, p.row.kind) for p in sheet.rows] == [
        (2, "example.cn", AssetKind.DOMAIN)
    ]
    assert sheet.ignored_columns == ("备注",)


def test_empty_kind_means_website_and_blank_or_comment_rows_are_skipped(tmp_path: Path) -> None:
    text = "target,organisation,kind\r\n,,\r\n# later,某公司,\r\nexample.cn,某公司,\r\n"
    sheet = read_inventory(write_csv(tmp_path / "inventory.csv", text))
    assert [(p.line, p.row.kind) for p in sheet.rows] == [(4, AssetKind.WEBSITE)]


def test_bad_cells_are_reported_by_line_and_column(tmp_path: Path) -> None:
    text = (
        f"{ENGLISH}\r\n"
        "www.ok.cn,website,甲,enterprise,finance,广东省,深圳市,separately_planned,,\r\n"
        "www.bad.cn,website,乙,enterprise,banks,广东省,深圳市,capital,,\r\n"
        "192.0.2.1,website,丙,,,,,,,\r\n"
        "www.x.cn,website,,,,,深圳市,,,iot\r\n"
    )
    sheet = read_inventory(write_csv(tmp_path / "inventory.csv", text))
    assert [p.line for p in sheet.rows] == [2]
    assert [(p.line, p.column) for p in sheet.problems] == [
        (3, "industry"),
        (3, "city_level"),
        (4, "target"),
        (5, "organisation"),
        (5, "province"),
        (5, "project"),
    ]
    assert str(sheet.problems[0]).startswith("line 3, column industry: 'banks' is not one of: ")


def test_problems_name_the_column_as_headed_in_the_file(tmp_path: Path) -> None:
    text = f"{CHINESE}\r\nwww.x.cn,网站,某单位,,银行,,,,,\r\n"
    sheet = read_inventory(write_csv(tmp_path / "inventory.csv", text))
    assert [(p.line, p.column) for p in sheet.problems] == [(2, "行业")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("inventory.csv", b"target,kind\r\nexample.cn,website\r\n", "no 'organisation'"),
        ("inventory.csv", "target,目标,organisation\r\n".encode(), "are both target"),
        ("inventory.csv", b"", "empty file"),
        ("inventory.csv", b"\xff\xfe\x00t\x00a\x81\x30", "not UTF-8 or GB18030"),
        ("inventory.txt", b"target,organisation\r\n", "a .csv or .xlsx file"),
        ("inventory.xlsx", b"target,organisation\r\n", "not an .xlsx workbook"),
    ],
)
def test_unusable_files_are_inventory_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InventoryError, match=message):
        read_inventory(path)


def test_xlsx_is_read_like_csv(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["目标", "单位", "类型"])
    sheet.append(["iot.example.cn:1883/mqtt", "某公司", "服务端点"])
    sheet.append([None, None, None])
    sheet.append(["example.cn", "某公司", "bogus"])
    book.save(tmp_path / "inventory.xlsx")
    read = read_inventory(tmp_path / "inventory.xlsx")
    assert [(p.line, p.row.target) for p in read.rows] == [(2, "iot.example.cn:1883/mqtt")]
    assert read.problems[0].line == 4 and read.problems[0].column == "类型"


ROWS = [
    InventoryRow(
        target="www.pku.edu.cn",
        kind=AssetKind.WEBSITE,
        organisation="北京大学",
        organisation_type=OrganisationType.UNIVERSITY,
        industry=Industry.EDUCATION,
        province="北京市",
        city="北京市",
        city_level=CityLevel.MUNICIPALITY,
        project="校园网IPv6单栈",
        direction=Direction.IPV6_ONLY,
    ),
    InventoryRow(target="example.cn", kind=AssetKind.DOMAIN, organisation="某公司"),
]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("chinese", [False, True])
def test_written_files_read_back_the_same(tmp_path: Path, suffix: str, chinese: bool) -> None:
    path = tmp_path / f"inventory{suffix}"
    assert write_inventory(path, ROWS, chinese=chinese) == 2
    sheet = read_inventory(path)
    assert [p.row for p in sheet.rows] == ROWS
    assert list(sheet.headers.values()) == list(COLUMNS.values() if chinese else COLUMNS)


def test_chinese_export_uses_chinese_labels(tmp_path: Path) -> None:
    write_inventory(tmp_path / "inventory.xlsx", ROWS[:1], chinese=True)
    book = load_workbook(tmp_path / "inventory.xlsx", read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert rows[1] == (
        "www.pku.edu.cn",
        "网站",
        "北京大学",
        "高校",
        "教育",
        "北京市",
        "北京市",
        "直辖市",
        "校园网IPv6单栈",
        "IPv6单栈部署",
    )


def test_problem_text_without_a_column() -> None:
    assert str(RowProblem(9, None, "odd")) == "line 9: odd"
