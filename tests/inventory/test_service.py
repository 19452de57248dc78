"""Importing inventories into the store (all or nothing, bad rows reported) and exporting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from v6pilot.inventory import service
from v6pilot.inventory.io import read_inventory
from v6pilot.inventory.model import (
    COLUMNS,
    AssetKind,
    CityLevel,
    Industry,
    InventoryRow,
    OrganisationType,
)
from v6pilot.inventory.service import export_inventory, import_inventory
from v6pilot.store import Store
from v6pilot.store.assets import AssetFilter, inventory_rows, upsert_inventory_row
from v6pilot.store.models import Asset, Organisation, Project, Region

HEADER = ",".join(COLUMNS)
INVENTORY = (
    f"{HEADER}\r\n"
    "www.pku.edu.cn,website,北京大学,university,education,北京市,北京市,municipality,单栈,ipv6_only\r\n"
    "www.pku.edu.cn,website,北京大学,university,education,北京市,北京市,municipality,物联网,iot\r\n"
    "iot.pku.edu.cn:8883/mqtt,endpoint,北京大学,university,education,北京市,北京市,municipality,物联网,iot\r\n"
    "www.bank.cn,website,某银行,enterprise,finance,广东省,深圳市,separately_planned,,\r\n"
    "bank.cn,domain,某银行,enterprise,finance,广东省,深圳市,separately_planned,,\r\n"
)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Region, Organisation, Project, Asset)
        }


def stored_rows(store: Store) -> list[InventoryRow]:
    with store.transaction() as session:
        return list(inventory_rows(session))


def test_import_writes_every_entity(store: Store, tmp_path: Path) -> None:
    report = import_inventory(store, write_csv(tmp_path / "inventory.csv", INVENTORY))
    assert (report.imported, report.problems) == (5, [])
    assert counts(store) == {"regions": 2, "organisations": 2, "projects": 2, "assets": 4}
    with store.transaction() as session:
        endpoint = session.scalar(select(Asset).where(Asset.target == "iot.pku.edu.cn:8883/mqtt"))
        assert endpoint is not None and [p.title for p in endpoint.projects] == ["物联网"]


def test_a_gbk_csv_with_chinese_headers_imports(store: Store, tmp_path: Path) -> None:
    text = (
        f"{','.join(COLUMNS.values())}\r\n"
        "www.例子.中国,网站,某医院,事业单位,医疗卫生,四川省,成都市,省会城市,,\r\n"
    )
    report = import_inventory(store, write_csv(tmp_path / "清单.csv", text, "gbk"))
    assert (report.imported, report.problems) == (1, [])
    assert stored_rows(store) == [
        InventoryRow(
            target="www.xn--fsqu00a.xn--fiqs8s",
            kind=AssetKind.WEBSITE,
            organisation="某医院",
            organisation_type=OrganisationType.PUBLIC_INSTITUTION,
            industry=Industry.HEALTHCARE,
            province="四川省",
            city="成都市",
            city_level=CityLevel.PROVINCIAL_CAPITAL,
        )
    ]


@pytest.mark.parametrize("chinese", [False, True])
def test_xlsx_round_trip(store: Store, tmp_path: Path, chinese: bool) -> None:
    import_inventory(store, write_csv(tmp_path / "inventory.csv", INVENTORY))
    first = stored_rows(store)
    assert export_inventory(store, tmp_path / "export.xlsx", chinese=chinese) == 5
    before = counts(store)
    report = import_inventory(store, tmp_path / "export.xlsx")
    assert (report.imported, report.problems) == (5, [])
    assert [p.row for p in read_inventory(tmp_path / "export.xlsx").rows] == first
    assert stored_rows(store) == first
    assert counts(store) == before


def test_export_of_a_filtered_inventory(store: Store, tmp_path: Path) -> None:
    import_inventory(store, write_csv(tmp_path / "inventory.csv", INVENTORY))
    written = export_inventory(
        store, tmp_path / "bank.csv", where=AssetFilter(organisation="某银行")
    )
    assert written == 2
    assert [p.row.target for p in read_inventory(tmp_path / "bank.csv").rows] == [
        "www.bank.cn",
        "bank.cn",
    ]


def test_bad_rows_are_reported_and_good_rows_imported(store: Store, tmp_path: Path) -> None:
    text = (
        f"{HEADER}\r\n"
        "www.a.cn,website,甲,enterprise,finance,,,,,\r\n"
        "www.b.cn,website,乙,enterprise,banks,,,,,\r\n"
        "www.c.cn,website,丙,,,,,,,\r\n"
        "www.d.cn,satellite,丁,,,,,,,\r\n"
        "www.e.cn,website,甲,enterprise,education,,,,,\r\n"
    )
    report = import_inventory(store, write_csv(tmp_path / "inventory.csv", text))
    assert report.imported == 2
    assert [(p.line, p.column) for p in report.problems] == [
        (3, "industry"),
        (5, "kind"),
        (6, "industry"),
    ]
    assert str(report.problems[0]).startswith("line 3, column industry: 'banks' is not one of:")
    assert "'甲' has industry 'finance' on line 2" in report.problems[2].message
    assert [r.target for r in stored_rows(store)] == ["www.a.cn", "www.c.cn"]


def test_rows_complete_each_other(store: Store, tmp_path: Path) -> None:
    text = (
        f"{HEADER}\r\n"
        "www.a.cn,website,甲,,finance,广东省,,,项目,\r\n"
        "www.b.cn,website,甲,enterprise,,广东省,深圳市,,项目,iot\r\n"
    )
    report = import_inventory(store, write_csv(tmp_path / "inventory.csv", text))
    assert (report.imported, report.problems) == (2, [])
    rows = stored_rows(store)
    assert {(r.industry, r.organisation_type, r.city, r.direction) for r in rows} == {
        ("finance", "enterprise", "深圳市", "iot")
    }


def test_one_target_under_two_organisations_is_a_conflict(store: Store, tmp_path: Path) -> None:
    text = f"{HEADER}\r\nwww.a.cn,website,甲,,,,,,,\r\nhttp://WWW.A.CN/,website,乙,,,,,,,\r\n"
    report = import_inventory(store, write_csv(tmp_path / "inventory.csv", text))
    assert report.imported == 1
    assert [(p.line, p.column) for p in report.problems] == [(3, "organisation")]


def test_a_failure_mid_import_writes_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []

    def failing(session: Session, row: InventoryRow) -> Asset:
        if len(written) == 3:
            raise RuntimeError("database went away")
        written.append(row.target)
        return upsert_inventory_row(session, row)

    monkeypatch.setattr(service, "upsert_inventory_row", failing)
    with pytest.raises(RuntimeError, match="database went away"):
        import_inventory(store, write_csv(tmp_path / "inventory.csv", INVENTORY))
    assert len(written) == 3
    assert counts(store) == {"regions": 0, "organisations": 0, "projects": 0, "assets": 0}
