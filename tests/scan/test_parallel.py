from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any

import pytest

from v6pilot.metrics import record_throttle, take_counted
from v6pilot.net.polite import Limits
from v6pilot.scan.parallel import (
    MIN_TARGETS_PER_PROCESS,
    _Batches,
    default_processes,
    share_limits,
)
from v6pilot.scan.session import NetworkConfig


def test_processes_follow_cores_but_not_beyond_the_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert default_processes(10) == 1
    assert default_processes(MIN_TARGETS_PER_PROCESS * 2) == 2
    assert default_processes(MIN_TARGETS_PER_PROCESS * 64) == 4


def test_limits_are_divided_between_processes_unless_shared() -> None:
    config = NetworkConfig(limits=Limits(ip_connections=6, ip_rate=20, domain_rate=20, dns_rate=50))
    divided = share_limits(config, 4)
    assert divided.limits == Limits(ip_connections=2, ip_rate=5, domain_rate=5, dns_rate=12.5)
    shared = NetworkConfig(limits=config.limits, limiter_url="redis://127.0.0.1:6379/0")
    assert share_limits(shared, 4) is shared
    assert share_limits(NetworkConfig(), 4).limits is None


async def test_results_reach_a_slow_parent_in_batches_without_blocking_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("v6pilot.scan.parallel.BATCH_RESULTS", 3)
    monkeypatch.setattr("v6pilot.scan.parallel.BATCH_SECONDS", 0.02)
    parent: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    received: list[Any] = []
    kinds: set[str] = set()
    counted = 0.0

    def slow_parent() -> None:
        nonlocal counted
        while True:
            time.sleep(0.05)
            kind, (batch, increments) = parent.get()
            kinds.add(kind)
            received.extend(batch)
            counted += sum(increments.values())
            if batch[-1] == "last":
                return

    reader = threading.Thread(target=slow_parent)
    reader.start()
    longest_tick = 0.0

    async def ticker() -> None:
        nonlocal longest_tick
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            longest_tick = max(longest_tick, time.monotonic() - before)

    ticking = asyncio.ensure_future(ticker())
    take_counted()
    batches = _Batches(parent)
    for number in range(20):
        record_throttle("ip_rate", 1.0)
        await batches.add(number)  # type: ignore[arg-type]
    await batches.add("last")  # type: ignore[arg-type]
    await asyncio.sleep(0.1)
    batches.close()
    ticking.cancel()
    await asyncio.to_thread(reader.join)
    assert kinds == {"results"} and received == [*range(20), "last"]
    assert counted == 40.0
    assert longest_tick < 0.04
