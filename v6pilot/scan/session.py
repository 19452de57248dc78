"""One scan as the CLI runs it: inputs parsed, network built, results scored and written."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from v6pilot.checks.context import ScanOptions, Target
from v6pilot.checks.registry import checks_for
from v6pilot.errors import V6PilotError
from v6pilot.net.live import LiveNetwork, parse_resolver
from v6pilot.net.roothints import load_root_hints
from v6pilot.scan.output import open_writer
from v6pilot.scan.targets import InputProblem, TargetError, parse_target, read_targets
from v6pilot.scoring.evaluate import scan_and_evaluate
from v6pilot.scoring.rubric import Rubric, load_rubric


class ScanError(V6PilotError):
    """The scan cannot be run from here as asked."""


@dataclass
class ScanPlan:
    """Everything a scan needs, validated before the first packet is sent."""

    targets: list[Target]
    problems: list[InputProblem]
    options: ScanOptions
    rubric: Rubric
    resolvers: list[tuple[str, int]] = field(default_factory=list)
    root_hints: Path | None = None
    ca_file: Path | None = None


def plan_scan(
    raw_targets: list[str],
    input_file: Path | None,
    *,
    profile: str,
    resolvers: list[str],
    root_hints: Path | None,
    ca_file: Path | None,
    allow_private: bool,
    timeout: float,
    rubric: Path | None,
) -> ScanPlan:
    """Parse and validate the scan's inputs; bad targets become problems, not failures."""
    checks_for(profile)
    targets: list[Target] = []
    problems: list[InputProblem] = []
    for number, raw in enumerate(raw_targets, start=1):
        try:
            targets.append(parse_target(raw, allow_private=allow_private))
        except TargetError as exc:
            problems.append(InputProblem("command line", number, str(exc)))
    if input_file is not None:
        for item in read_targets(input_file, allow_private=allow_private):
            (problems if isinstance(item, InputProblem) else targets).append(item)  # type: ignore[arg-type]
    if root_hints is not None:
        load_root_hints(root_hints)
    return ScanPlan(
        targets=targets,
        problems=problems,
        options=ScanOptions(profile=profile, timeout=timeout, allow_private=allow_private),
        rubric=load_rubric(rubric),
        resolvers=[parse_resolver(r) for r in resolvers],
        root_hints=root_hints,
        ca_file=ca_file,
    )


def _network(plan: ScanPlan) -> LiveNetwork:
    return LiveNetwork(
        resolvers=plan.resolvers or None,
        root_hints=load_root_hints(plan.root_hints) if plan.root_hints else None,
        ca_file=str(plan.ca_file) if plan.ca_file else None,
        timeout=plan.options.timeout,
    )


async def _run(
    plan: ScanPlan, concurrency: int, out: Path | None, progress: bool
) -> list[dict[str, Any]]:
    check_ids = [c.id for c in checks_for(plan.options.profile)]
    writer = open_writer(out, check_ids) if out is not None else None
    kept: list[dict[str, Any]] = []
    net = _network(plan)
    if 6 not in net.routes():
        raise ScanError(
            "this machine has no IPv6 route, so it cannot measure IPv6 support; "
            "scan from a host with IPv6 connectivity"
        )
    bar = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not progress,
        transient=True,
    )
    try:
        with bar:
            task = bar.add_task("scan", total=len(plan.targets))
            results = scan_and_evaluate(
                plan.targets, net, plan.options, plan.rubric, concurrency=concurrency
            )
            async for result in results:
                if writer is not None:
                    writer.write(result)
                else:
                    kept.append(result)
                bar.advance(task)
    finally:
        await net.close()
        if writer is not None:
            writer.close()
    return kept


def run(
    plan: ScanPlan, *, concurrency: int, out: Path | None, progress: bool = True
) -> list[dict[str, Any]]:
    """Run the planned scan; results are returned only when not written to `out`."""
    return asyncio.run(_run(plan, concurrency, out, progress))
