"""Scanning the lab from one of its clients and comparing the results with the ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from v6pilot.checks.context import ScanOptions
from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue, Scenario
from v6pilot.lab.netns import run_in_netns
from v6pilot.net.live import LiveNetwork
from v6pilot.net.roothints import load_root_hints
from v6pilot.scan.targets import parse_target
from v6pilot.scoring.evaluate import scan_and_evaluate
from v6pilot.scoring.rubric import load_rubric

CLIENTS = {"dual": topology.CLIENT46, "v6only": topology.CLIENT6}


@dataclass(frozen=True)
class Mismatch:
    """A result that differs from the scenario's ground truth."""

    scenario: str
    item: str
    expected: str
    got: str


def lab_network(catalogue: Catalogue, client: str, timeout: float) -> LiveNetwork:
    """A network for scanning from `client`: the lab's resolver, root hints and CA."""
    resolver = catalogue.resolver
    endpoints = [resolver.v6] if client == "v6only" else [resolver.v6, resolver.v4]
    return LiveNetwork(
        resolvers=[(e.address, 53) for e in endpoints if e is not None],
        root_hints=load_root_hints(topology.STATE_DIR / "root.hints"),
        ca_file=str(topology.STATE_DIR / "ca.pem"),
        timeout=timeout,
    )


def scan_lab(
    catalogue: Catalogue,
    *,
    client: str = "dual",
    profile: str = "full",
    scenarios: list[Scenario] | None = None,
    timeout: float = 3.0,
) -> list[tuple[Scenario, dict[str, Any]]]:
    """Scan every (or the given) scenario's target from inside a lab client namespace."""
    chosen = scenarios or list(catalogue.scenarios)
    by_target = {parse_target(s.target, allow_private=True).url: s for s in chosen}
    options = ScanOptions(profile=profile, timeout=timeout, allow_private=True)

    async def run() -> list[tuple[Scenario, dict[str, Any]]]:
        net = lab_network(catalogue, client, timeout)
        targets = [parse_target(s.target, allow_private=True) for s in chosen]
        found = []
        try:
            async for result in scan_and_evaluate(
                targets, net, options, load_rubric(), concurrency=len(targets)
            ):
                found.append((by_target[result["url"]], result))
        finally:
            await net.close()
        return found

    return run_in_netns(CLIENTS[client], run)


def compare(scenario: Scenario, result: dict[str, Any]) -> list[Mismatch]:
    """Every check status and the grade that differ from the scenario's ground truth."""
    mismatches = []
    if result["grade"] != scenario.expect.grade:
        mismatches.append(Mismatch(scenario.id, "grade", scenario.expect.grade, result["grade"]))
    for check_id, expected in scenario.expect.checks.items():
        got = result["checks"].get(check_id, {}).get("status")
        if got is not None and got != expected:
            mismatches.append(Mismatch(scenario.id, check_id, expected, got))
    return mismatches
