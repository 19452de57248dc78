"""A scan split over processes finds the same truth, each target exactly once, and the
parent's metrics count them."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from v6pilot.lab.catalogue import Catalogue
from v6pilot.lab.labscan import compare, lab_plan
from v6pilot.scan.parallel import parallel_results

pytestmark = pytest.mark.lab
CHOSEN = ["good", "no-aaaa", "v6-blackhole", "subres-v4", "chain-broken", "links-l2", "dead"]


def test_two_processes_scan_each_target_once_and_correctly(lab: Catalogue) -> None:
    scenarios = [lab.scenario(s) for s in CHOSEN]
    plan = lab_plan(lab, profile="standard", scenarios=scenarios)
    before = REGISTRY.get_sample_value("v6pilot_targets_total", {"profile": "standard"}) or 0.0
    found = list(parallel_results(plan, concurrency=10, processes=2))
    after = REGISTRY.get_sample_value("v6pilot_targets_total", {"profile": "standard"})
    assert after == before + len(CHOSEN)
    assert sorted(r["url"] for r in found) == sorted(t.url for t in plan.targets)
    by_url = {t.url: s for t, s in zip(plan.targets, scenarios, strict=True)}
    assert [m for r in found for m in compare(by_url[r["url"]], r)] == []
