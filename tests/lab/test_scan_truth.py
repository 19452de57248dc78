"""Scanning the whole lab gives, scenario by scenario, exactly the ground truth's statuses."""

from __future__ import annotations

from typing import Any

import pytest

from v6pilot.checks.registry import load_all
from v6pilot.lab.catalogue import Catalogue, load_catalogue
from v6pilot.lab.labscan import scan_lab

pytestmark = pytest.mark.lab
SCENARIOS = [s.id for s in load_catalogue().scenarios]
IPV6_VERDICTS = (
    "dns.aaaa",
    "dns.ns_aaaa",
    "dns.ns_reach_v6",
    "dns.chain_v6",
    "dns.mx_aaaa",
    "mail.smtp_v6",
    "web.reach_v6",
    "web.homepage_v6",
    "web.homepage_success",
    "web.redirect_v6",
    "web.links_l2",
    "web.links_l3",
    "web.subresources_v6",
)
"""Checks whose verdict needs no IPv4 comparison, so the IPv6-only client must agree on them."""


@pytest.fixture(scope="module")
def dual_stack_scan(lab: Catalogue) -> dict[str, dict[str, Any]]:
    return {s.id: r for s, r in scan_lab(lab, client="dual", profile="full")}


@pytest.fixture(scope="module")
def ipv6_only_scan(lab: Catalogue) -> dict[str, dict[str, Any]]:
    return {s.id: r for s, r in scan_lab(lab, client="v6only", profile="full")}


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_full_scan_matches_ground_truth(
    lab: Catalogue, dual_stack_scan: dict[str, dict[str, Any]], scenario_id: str
) -> None:
    scenario = lab.scenario(scenario_id)
    result = dual_stack_scan[scenario_id]
    got = {check_id: check["status"] for check_id, check in result["checks"].items()}
    assert got == scenario.expect.checks, {
        k: (scenario.expect.checks.get(k), got.get(k), result["checks"].get(k, {}).get("message"))
        for k in set(got) | set(scenario.expect.checks)
        if got.get(k) != scenario.expect.checks.get(k)
    }
    assert result["grade"] == scenario.expect.grade


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_failing_checks_say_what_and_where(
    lab: Catalogue, dual_stack_scan: dict[str, dict[str, Any]], scenario_id: str
) -> None:
    zone = lab.scenario(scenario_id).zone.name
    for check_id, check in dual_stack_scan[scenario_id]["checks"].items():
        if check["status"] in ("fail", "warn"):
            message = check["message"]
            assert message and check["message_zh"], check_id
            names_a_place = zone in message or any(ch.isdigit() or ch == "/" for ch in message)
            assert names_a_place, check


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_ipv6_only_client_agrees_on_ipv6_verdicts(
    dual_stack_scan: dict[str, dict[str, Any]],
    ipv6_only_scan: dict[str, dict[str, Any]],
    scenario_id: str,
) -> None:
    dual, v6only = dual_stack_scan[scenario_id], ipv6_only_scan[scenario_id]
    differing = {
        c: (dual["checks"][c]["status"], v6only["checks"][c]["status"])
        for c in IPV6_VERDICTS
        if dual["checks"][c]["status"] != v6only["checks"][c]["status"]
    }
    assert differing == {}


def test_ipv6_only_client_does_not_blame_targets_for_missing_ipv4(
    ipv6_only_scan: dict[str, dict[str, Any]],
) -> None:
    needs_ipv4 = {c.id for c in load_all().values() if 4 in c.needs}
    for scenario_id, result in ipv6_only_scan.items():
        for check_id in needs_ipv4:
            check = result["checks"][check_id]
            assert check["status"] == "error", (scenario_id, check_id, check["message"])
            assert "IPv4" in check["message"]
