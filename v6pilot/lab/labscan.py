"""Scanning the lab from one of its clients and comparing the results with the ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from v6pilot.checks.context import ScanOptions
from v6pilot.checks.registry import load_all
from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue, Scenario
from v6pilot.scan.session import NetworkConfig, ScanPlan, results
from v6pilot.scan.targets import parse_target
from v6pilot.scoring.rubric import load_rubric

CLIENTS = {"dual": topology.CLIENT46, "v6only": topology.CLIENT6}


@dataclass(frozen=True)
class Mismatch:
    """A result that differs from the scenario's ground truth."""

    scenario: str
    item: str
    expected: str
    got: str


def lab_network(catalogue: Catalogue, client: str) -> NetworkConfig:
    """Where and how to scan from a lab client: its namespace, the lab resolver, hints, CA."""
    resolver = catalogue.resolver
    endpoints = [resolver.v6] if client == "v6only" else [resolver.v6, resolver.v4]
    return NetworkConfig(
        resolvers=tuple((e.address, 53) for e in endpoints if e is not None),
        root_hints=topology.STATE_DIR / "root.hints",
        ca_file=topology.STATE_DIR / "ca.pem",
        netns=CLIENTS[client],
    )


def lab_plan(
    catalogue: Catalogue,
    *,
    client: str = "dual",
    profile: str = "full",
    scenarios: list[Scenario] | None = None,
    timeout: float = 3.0,
) -> ScanPlan:
    """A scan of every (or the given) scenario's target from inside a lab client namespace."""
    chosen = scenarios or list(catalogue.scenarios)
    return ScanPlan(
        targets=[parse_target(s.target, allow_private=True) for s in chosen],
        problems=[],
        options=ScanOptions(profile=profile, timeout=timeout, allow_private=True),
        rubric=load_rubric(),
        network=lab_network(catalogue, client),
    )


def scan_lab(
    catalogue: Catalogue,
    *,
    client: str = "dual",
    profile: str = "full",
    scenarios: list[Scenario] | None = None,
    timeout: float = 3.0,
) -> list[tuple[Scenario, dict[str, Any]]]:
    """Scan the lab's scenarios and pair each result with its scenario."""
    chosen = scenarios or list(catalogue.scenarios)
    plan = lab_plan(catalogue, client=client, profile=profile, scenarios=chosen, timeout=timeout)
    by_url = {t.url: s for t, s in zip(plan.targets, chosen, strict=True)}
    return [(by_url[r["url"]], r) for r in results(plan, concurrency=len(chosen))]


CLIENT_FAMILIES = {"dual": frozenset({4, 6}), "v6only": frozenset({6})}


def compare(
    scenario: Scenario, result: dict[str, Any], families: frozenset[int] = frozenset({4, 6})
) -> list[Mismatch]:
    """Check statuses and the grade that differ from the scenario's ground truth.

    From a client lacking an IP version, checks needing it (and the grade, which needs both)
    are not compared: the scanner rightly reports them as not measured.
    """
    registry = load_all()
    mismatches = []
    if families >= {4, 6} and result["grade"] != scenario.expect.grade:
        mismatches.append(Mismatch(scenario.id, "grade", scenario.expect.grade, result["grade"]))
    for check_id, expected in scenario.expect.checks.items():
        got = result["checks"].get(check_id, {}).get("status")
        measurable = registry[check_id].needs <= families
        if got is not None and measurable and got != expected:
            mismatches.append(Mismatch(scenario.id, check_id, expected, got))
    return mismatches
