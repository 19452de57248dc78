"""Issue 4 end to end: an inventory of lab scenarios over 3 cities, 4 industries and 2 projects,
scanned into the database (SQLite and PostgreSQL), aggregated, compared after a regression, and
reported as XLSX; every figure checked against values computed from the ground truth."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.store.backends import session_store, store
from v6pilot.checks.context import ScanOptions
from v6pilot.i18n import render as label
from v6pilot.inventory.service import import_inventory
from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue
from v6pilot.lab.labscan import lab_network
from v6pilot.reports.build import build_report, write_report
from v6pilot.reports.columns import GROUP_COLUMNS
from v6pilot.scan import session
from v6pilot.scan.targets import parse_target
from v6pilot.scoring.aggregate import summarise
from v6pilot.scoring.compare import Change, compare_runs
from v6pilot.store.assets import AssetFilter
from v6pilot.store.db import Store
from v6pilot.store.recorder import RunRecorder
from v6pilot.store.runs import asset_records

pytestmark = pytest.mark.lab
__all__ = ["session_store", "store"]

CITIES = [
    ("北京", "北京", "municipality"),
    ("浙江", "杭州", "provincial_capital"),
    ("广东", "深圳", "separately_planned"),
]
INDUSTRIES = ["government", "education", "finance", "water_resources"]
PROJECTS = [("政务网站IPv6改造", "key_industries"), ("校园IPv6单栈试点", "ipv6_only")]
SCENARIOS = [
    "good",
    "no-aaaa",
    "mapped-aaaa",
    "v6-blackhole",
    "v6-diff-content",
    "v6-error-status",
    "ns-one-aaaa",
    "chain-broken",
    "subres-v4",
    "links-l2",
    "redirect-v4",
    "dead",
    "v6-only",
    "gbk",
]


def placement(index: int) -> dict[str, str]:
    """Where the index-th scenario sits: city, industry, organisation and project."""
    province, city, level = CITIES[index % 3]
    industry = INDUSTRIES[index % 4]
    title, direction = PROJECTS[index % 2] if index % 3 != 2 else ("", "")
    return {
        "organisation": f"{city}{industry}单位{index % 5}",
        "organisation_type": "public_institution",
        "industry": industry,
        "province": province,
        "city": city,
        "city_level": level,
        "project": title,
        "direction": direction,
    }


@pytest.fixture
def inventory_file(lab: Catalogue, tmp_path: Path) -> Path:
    path = tmp_path / "inventory.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["target", "kind", *placement(0)])
        for index, scenario_id in enumerate(SCENARIOS):
            writer.writerow(
                [lab.scenario(scenario_id).target, "website", *placement(index).values()]
            )
    return path


def scan_inventory(store: Store, lab: Catalogue) -> int:
    options = ScanOptions(profile="standard", timeout=3.0, allow_private=True)
    plan = session.plan_inventory_scan(
        store, AssetFilter(), options=options, network=lab_network(lab, "dual"), rubric=None
    )
    assert plan.problems == [] and len(plan.targets) == len(SCENARIOS)
    recorder = RunRecorder(
        store,
        profile="standard",
        rubric=plan.rubric.name,
        expected=len(plan.targets),
        asset_ids=plan.asset_ids,
    )
    session.run(plan, concurrency=len(plan.targets), writers=[recorder], on_each=lambda: None)
    return recorder.run_id


def expected_by_city(lab: Catalogue, regressed: str = "") -> dict[str, dict[str, float]]:
    """Per city, from the ground truth alone: assets, AAAA share, IPv6 reach, grade shares.

    The `regressed` scenario's www has lost IPv6 (black-holed): its homepage no longer loads
    over IPv6, so it counts as v4_only.
    """
    cities: dict[str, list[tuple[dict[str, str], str]]] = {}
    for index, scenario_id in enumerate(SCENARIOS):
        truth = lab.scenario(scenario_id).expect
        checks, grade = dict(truth.checks), truth.grade
        if scenario_id == regressed:
            checks["web.homepage_v6"], grade = "fail", "v4_only"
        cities.setdefault(placement(index)["city"], []).append((checks, grade))
    figures = {}
    for city, members in cities.items():
        n = len(members)
        figures[city] = {
            "assets": n,
            "share_aaaa": round(sum(c["dns.aaaa"] == "pass" for c, _ in members) / n, 4),
            "share_reach_v6": round(sum(c["web.homepage_v6"] == "pass" for c, _ in members) / n, 4),
            "share_v6_full": round(sum(g == "v6_full" for _, g in members) / n, 4),
            "share_v4_only": round(sum(g == "v4_only" for _, g in members) / n, 4),
        }
    return figures


@pytest.fixture
def faulty_good_site(lab: Catalogue) -> Iterator[None]:
    yield
    topology.set_fault(lab, "good", "www", 6, active=False)


def test_inventory_scan_aggregates_compares_and_reports(
    lab: Catalogue, store: Store, inventory_file: Path, tmp_path: Path, faulty_good_site: None
) -> None:
    report = import_inventory(store, inventory_file)
    assert (report.imported, report.problems) == (len(SCENARIOS), [])

    first = scan_inventory(store, lab)
    with store.transaction() as db:
        records = list(asset_records(db, first))
    summary = summarise(records, ["city", "industry", "project"])
    got = {
        g.name: {
            k: getattr(g, k)
            for k in ("assets", "share_aaaa", "share_reach_v6", "share_v6_full", "share_v4_only")
        }
        for g in summary.levels["city"]
    }
    assert got == expected_by_city(lab)
    assert {g.name for g in summary.levels["industry"]} == set(INDUSTRIES)
    projects = {g.name: g.assets for g in summary.levels["project"]}
    assert projects == {
        title: sum(1 for i in range(len(SCENARIOS)) if placement(i)["project"] == title)
        for title, _ in PROJECTS
    }

    topology.set_fault(lab, "good", "www", 6, active=True)
    second = scan_inventory(store, lab)
    with store.transaction() as db:
        comparison = compare_runs(asset_records(db, first), asset_records(db, second))
    good = parse_target(lab.scenario("good").target, allow_private=True).host
    assert [change.target for change in comparison.changed(Change.REGRESSED)] == [good]

    data = build_report(store, run_id=second, compare_with=first, levels=["city"])
    out = tmp_path / "report.xlsx"
    write_report(out, data, "city")
    sheet = next(s for s in load_workbook(out).worksheets if s.title.startswith("city"))
    rows = list(sheet.iter_rows(values_only=True))
    columns = {label("report.column." + c.key, "en"): i for i, c in enumerate(GROUP_COLUMNS)}
    assert list(rows[1][: len(columns)]) == list(columns)
    by_city = {row[0]: row for row in rows[2:] if row[0] in {c for _, c, _ in CITIES}}
    expected = expected_by_city(lab, regressed="good")
    for city, figures in expected.items():
        for key, value in figures.items():
            assert by_city[city][columns[label("report.column." + key, "en")]] == value, (
                city,
                key,
            )
