"""Turning a target's measured check results into the output contract: score, grade, checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from v6pilot.checks.context import ScanOptions, Target
from v6pilot.metrics import record_report
from v6pilot.net.network import Network
from v6pilot.scan.engine import TargetReport, scan
from v6pilot.scoring.grade import grade
from v6pilot.scoring.rubric import Rubric


def evaluate(report: TargetReport, rubric: Rubric) -> dict[str, Any]:
    """One target's line of the scan contract (docs/checks.md)."""
    return {
        "target": report.target.raw,
        "url": report.target.url,
        "profile": report.profile,
        "score": rubric.score(report.checks),
        "grade": grade(report.checks).value,
        "checks": {check_id: r.to_dict() for check_id, r in report.checks.items()},
    }


async def scan_and_evaluate(
    targets: Iterable[Target],
    net: Network,
    options: ScanOptions,
    rubric: Rubric,
    *,
    concurrency: int,
) -> AsyncIterator[dict[str, Any]]:
    """Scan targets and yield each one's contract line as soon as it is done."""
    async for report in scan(targets, net, options, concurrency=concurrency):
        record_report(report)
        yield evaluate(report, rubric)
