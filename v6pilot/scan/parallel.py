"""One scan over several processes on one machine: the targets are dealt out to worker
processes, each running the asyncio engine on its share, and their results merged as they come.

Python runs one core per process, so this is how a scan uses every core. Per-destination
limits are divided between the processes unless they share a Redis limiter. The parent's
metrics count what the worker processes counted (targets, checks, errors, waits).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import queue as queue_module
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from v6pilot.errors import V6PilotError
from v6pilot.metrics import add_counted, restore_counted, take_counted
from v6pilot.net import loop, netns
from v6pilot.net.polite import Limits
from v6pilot.scan.session import NetworkConfig, ScanPlan, results, scan_results

MIN_TARGETS_PER_PROCESS = 200
"""Below this many targets per process, starting processes costs more than it saves."""
BATCH_RESULTS = 100
BATCH_SECONDS = 0.1
QUEUED_BATCHES = 64
"""Batches waiting for the parent, at most: a slow parent (database writes) holds the workers
back instead of their results piling up in memory."""
FULL_QUEUE_RETRY = 0.01


class ParallelScanError(V6PilotError):
    """A worker process of a parallel scan failed."""


def default_processes(targets: int) -> int:
    """As many processes as cores, but none idle for lack of targets."""
    return max(1, min(os.cpu_count() or 1, targets // MIN_TARGETS_PER_PROCESS))


def share_limits(config: NetworkConfig, processes: int) -> NetworkConfig:
    """Each process's part of the limits: divided, unless a shared limiter enforces them."""
    limits = config.limits
    if limits is None or config.limiter_url is not None or processes == 1:
        return config
    divided = Limits(
        ip_connections=math.ceil(limits.ip_connections / processes),
        ip_rate=limits.ip_rate / processes,
        domain_rate=limits.domain_rate / processes,
        dns_rate=limits.dns_rate / processes,
        ipv6_prefix=limits.ipv6_prefix,
    )
    return replace(config, limits=divided)


class _Batches:
    """Results on their way to the parent, sent in batches with what the process counted
    meanwhile: one message per batch costs both processes much less than one per result. A
    batch goes when full or `BATCH_SECONDS` after its first result, whichever comes first.

    The loop never blocks on the parent: while the parent's queue is full, a full batch waits
    asynchronously (the scan stops taking new targets) and a timed one tries again later, so
    what is in flight keeps being measured on time.
    """

    def __init__(self, out: Any) -> None:
        self.out = out
        self.batch: list[dict[str, Any]] = []
        self.timer: asyncio.TimerHandle | None = None

    async def add(self, result: dict[str, Any]) -> None:
        self.batch.append(result)
        if len(self.batch) >= BATCH_RESULTS:
            while not self._send():
                await asyncio.sleep(FULL_QUEUE_RETRY)
        elif self.timer is None:
            self._arm()

    def _arm(self) -> None:
        self.timer = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if not self._send():
            self._arm()

    def _send(self) -> bool:
        """Hand the batch to the parent unless its queue is full; True when nothing is left."""
        if not self.batch:
            return True
        counted = take_counted()
        try:
            self.out.put_nowait(("results", (self.batch, counted)))
        except queue_module.Full:
            restore_counted(counted)
            return False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.batch = []
        return True

    def close(self) -> None:
        """Send what is left, results and counts, waiting for room if need be (nothing is in
        flight any more)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        counted = take_counted()
        if self.batch or counted:
            self.out.put(("results", (self.batch, counted)))
            self.batch = []


async def _scan_share(plan: ScanPlan, concurrency: int, out: Any) -> None:
    batches = _Batches(out)
    try:
        async for result in scan_results(plan, concurrency=concurrency):
            await batches.add(result)
    finally:
        batches.close()


def _worker(plan: ScanPlan, concurrency: int, out: Any) -> None:
    """Body of one worker process: the whole process enters the plan's namespace and scans
    its share on a loop in its main thread, then sends a last word."""
    try:
        if plan.network.netns is not None:
            netns.enter(plan.network.netns)
        loop.run(_scan_share(plan, concurrency, out))
    except BaseException as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    out.put(("done", None))


def parallel_results(
    plan: ScanPlan, *, concurrency: int, processes: int
) -> Iterator[dict[str, Any]]:
    """Scan `plan` in `processes` processes (`concurrency` targets in flight in all together)."""
    if processes <= 1:
        yield from results(plan, concurrency=concurrency)
        return
    context = multiprocessing.get_context("spawn")
    out = context.Queue(maxsize=QUEUED_BATCHES)
    network = share_limits(plan.network, processes)
    each = max(1, concurrency // processes)
    workers = [
        context.Process(
            target=_worker,
            args=(replace(plan, targets=plan.targets[i::processes], network=network), each, out),
            daemon=True,
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        running = len(workers)
        while running:
            try:
                kind, payload = out.get(timeout=1.0)
            except queue_module.Empty:
                if not any(w.is_alive() for w in workers):
                    raise ParallelScanError(
                        "scan worker processes ended without finishing"
                    ) from None
                continue
            if kind == "results":
                batch, counted = payload
                add_counted(counted)
                yield from batch
            elif kind == "done":
                running -= 1
            else:
                raise ParallelScanError(f"a scan worker process failed: {payload}")
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(timeout=5)
