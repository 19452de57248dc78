"""The scan engine: targets in, one report per target out, with bounded concurrency and a
per-target deadline, so no single target can hang a scan and no failure stops it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.registry import Check, checks_for
from v6pilot.checks.result import CheckResult, Status
from v6pilot.net.network import Network
from v6pilot.net.waits import TARGET_WAITS, WaitClock

RECHECK_SECONDS = 0.1
"""While a wait for a turn is in progress past the deadline, how often to look again (the
deadline moves with the wait)."""


@dataclass
class TargetReport:
    """Every check's result for one target, as measured (scoring comes later)."""

    target: Target
    profile: str
    checks: dict[str, CheckResult]
    elapsed: float


async def scan_target(target: Target, checks: list[Check], shared: ScanShared) -> TargetReport:
    """Run `checks` on one target, concurrently, within the target deadline (extended by the
    time the target waited for turns of per-destination limits)."""
    started = time.monotonic()
    ctx = TargetContext(target, shared)
    waits = WaitClock()
    token = TARGET_WAITS.set(waits if shared.waits_counted else None)
    try:
        tasks = {c.id: ctx.start_check(c.id) for c in checks}
    finally:
        TARGET_WAITS.reset(token)
    deadline = shared.options.target_deadline
    pending = await _until_deadline(set(tasks.values()), started + deadline, waits)
    allowed = round(deadline + waits.seconds(), 1)
    for task in pending:
        task.cancel()
    ctx.memo.cancel()
    results = {}
    for check_id, task in tasks.items():
        if task in pending:
            results[check_id] = CheckResult.make(Status.ERROR, "check.deadline", seconds=allowed)
        else:
            results[check_id] = task.result()
    return TargetReport(target, shared.options.profile, results, time.monotonic() - started)


async def _until_deadline(
    tasks: set[asyncio.Future[CheckResult]], deadline_at: float, waits: WaitClock
) -> set[asyncio.Future[CheckResult]]:
    """Wait for `tasks` until `deadline_at` plus the time waited for turns; the unfinished."""
    pending = tasks
    while pending:
        remaining = deadline_at + waits.seconds() - time.monotonic()
        if remaining <= 0 and not waits.active:
            break
        timeout = max(remaining, RECHECK_SECONDS) if waits.active else remaining
        _, pending = await asyncio.wait(pending, timeout=timeout)
    return pending


async def scan(
    targets: Iterable[Target], net: Network, options: ScanOptions, *, concurrency: int = 100
) -> AsyncIterator[TargetReport]:
    """Scan `targets` with at most `concurrency` in flight, yielding reports as they finish.

    Targets are pulled lazily, so an input of any length is scanned in bounded memory.
    """
    shared = ScanShared(net, options)
    checks = checks_for(options.profile)
    source = iter(targets)
    done: asyncio.Queue[TargetReport | None] = asyncio.Queue(maxsize=concurrency)

    async def worker() -> None:
        try:
            for target in source:
                await done.put(await scan_target(target, checks, shared))
        finally:
            await done.put(None)

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
    running = len(workers)
    try:
        while running:
            report = await done.get()
            if report is None:
                running -= 1
            else:
                yield report
        for task in workers:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in workers:
            task.cancel()
        shared.memo.cancel()
