"""One scan over several processes on one machine: the targets are dealt out to worker
processes, each running the asyncio engine on its share, and their results merged as they come.

Python runs one core per process, so this is how a scan uses every core. Per-destination
limits are divided between the processes unless they share a Redis limiter. The parent's
metrics count what the worker processes counted (targets, checks, errors, waits).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue as queue_module
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from v6pilot.errors import V6PilotError
from v6pilot.metrics import add_counted, take_counted
from v6pilot.net.polite import Limits
from v6pilot.scan.session import NetworkConfig, ScanPlan, results

MIN_TARGETS_PER_PROCESS = 200
"""Below this many targets per process, starting processes costs more than it saves."""


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


def _worker(plan: ScanPlan, concurrency: int, out: Any) -> None:
    """Body of one worker process: scan its share, send each result with what the process
    counted meanwhile (for the parent's metrics), then a last word."""
    try:
        for result in results(plan, concurrency=concurrency):
            out.put(("result", (result, take_counted())))
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
    out = context.Queue(maxsize=4096)
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
            if kind == "result":
                result, counted = payload
                add_counted(counted)
                yield result
            elif kind == "done":
                running -= 1
            else:
                raise ParallelScanError(f"a scan worker process failed: {payload}")
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(timeout=5)
