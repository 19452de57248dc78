"""The inventory tables: upserts from inventory rows, filters, rows back out."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from v6pilot.inventory.model import (
    AssetKind,
    CityLevel,
    Direction,
    Industry,
    InventoryRow,
    OrganisationType,
)
from v6pilot.store import Store, StoreError
from v6pilot.store.assets import (
    AssetFilter,
    asset_by_target,
    inventory_rows,
    list_assets,
    upsert_inventory_row,
)
from v6pilot.store.models import Organisation, Project, Region

UNIVERSITY = InventoryRow(
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
BANK = InventoryRow(
    target="www.bank.cn",
    kind=AssetKind.WEBSITE,
    organisation="某银行",
    industry=Industry.FINANCE,
    province="广东省",
    city="深圳市",
    city_level=CityLevel.SEPARATELY_PLANNED,
)


def _write(store: Store, *rows: InventoryRow) -> None:
    with store.transaction() as session:
        for row in rows:
            upsert_inventory_row(session, row)


def _targets(store: Store, where: AssetFilter) -> list[str]:
    with store.transaction() as session:
        return [a.target for a in list_assets(session, where)]


def test_a_row_creates_region_organisation_project_and_asset(store: Store) -> None:
    _write(store, UNIVERSITY)
    with store.transaction() as session:
        asset = asset_by_target(session, "www.pku.edu.cn")
        assert asset is not None and asset.organisation is not None
        assert asset.organisation.name == "北京大学"
        assert asset.organisation.type is OrganisationType.UNIVERSITY
        assert asset.organisation.region is not None
        assert asset.organisation.region.city_level is CityLevel.MUNICIPALITY
        assert [p.title for p in asset.projects] == ["校园网IPv6单栈"]
        assert [o.name for o in asset.projects[0].participants] == ["北京大学"]


def test_rewriting_a_row_changes_nothing(store: Store) -> None:
    _write(store, UNIVERSITY)
    _write(store, UNIVERSITY)
    with store.transaction() as session:
        counts = [
            session.scalar(select(func.count()).select_from(t))
            for t in (Region, Organisation, Project)
        ]
        assert counts == [1, 1, 1]
        assert list(inventory_rows(session)) == [UNIVERSITY]


def test_empty_cells_leave_stored_values_alone(store: Store) -> None:
    _write(store, UNIVERSITY)
    sparse = InventoryRow(
        target="lib.pku.edu.cn", kind=AssetKind.WEBSITE, organisation="北京大学", province="北京市"
    )
    _write(store, sparse)
    with store.transaction() as session:
        organisation = session.scalar(select(Organisation).where(Organisation.name == "北京大学"))
        assert organisation is not None and organisation.region is not None
        assert organisation.industry is Industry.EDUCATION
        assert organisation.region.city == "北京市"


def test_a_province_only_region_is_unique(store: Store) -> None:
    rows = [
        InventoryRow(
            target=f"www.o{n}.cn", kind=AssetKind.WEBSITE, organisation=f"o{n}", province="河北省"
        )
        for n in range(2)
    ]
    _write(store, *rows)
    with store.transaction() as session:
        regions = session.scalars(select(Region)).all()
        assert [(r.province, r.city) for r in regions] == [("河北省", None)]


def test_an_asset_in_two_projects_exports_two_rows(store: Store) -> None:
    second = replace(UNIVERSITY, project="IPv6+5G", direction=Direction.IPV6_5G)
    _write(store, UNIVERSITY, second, BANK)
    with store.transaction() as session:
        rows = list(inventory_rows(session))
    assert [(r.target, r.project) for r in rows] == [
        ("www.pku.edu.cn", "校园网IPv6单栈"),
        ("www.pku.edu.cn", "IPv6+5G"),
        ("www.bank.cn", None),
    ]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (AssetFilter(), ["www.pku.edu.cn", "www.bank.cn"]),
        (AssetFilter(organisation="某银行"), ["www.bank.cn"]),
        (AssetFilter(industry=Industry.EDUCATION), ["www.pku.edu.cn"]),
        (AssetFilter(city="深圳市"), ["www.bank.cn"]),
        (AssetFilter(province="北京市"), ["www.pku.edu.cn"]),
        (AssetFilter(project="校园网IPv6单栈"), ["www.pku.edu.cn"]),
        (AssetFilter(direction=Direction.IPV6_ONLY), ["www.pku.edu.cn"]),
        (AssetFilter(direction=Direction.IOT), []),
        (AssetFilter(industry=Industry.FINANCE, province="北京市"), []),
    ],
)
def test_list_assets_filters(store: Store, where: AssetFilter, expected: list[str]) -> None:
    _write(store, UNIVERSITY, BANK)
    assert _targets(store, where) == expected


def test_filter_json_round_trip_accepts_chinese_labels() -> None:
    where = AssetFilter.from_dict({"industry": "教育", "direction": "物联网", "city": "深圳市"})
    assert where == AssetFilter(industry=Industry.EDUCATION, direction=Direction.IOT, city="深圳市")
    assert AssetFilter.from_dict(where.to_dict()) == where
    assert where.to_dict() == {"industry": "education", "direction": "iot", "city": "深圳市"}


@pytest.mark.parametrize(
    ("data", "message"),
    [({"sector": "x"}, "unknown asset filter fields: sector"), ({"industry": "banks"}, "'banks'")],
)
def test_bad_filter_json_is_a_store_error(data: dict[str, str], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        AssetFilter.from_dict(data)
