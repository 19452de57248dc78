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


Parent = queue.Queue[tuple[str, Any]]


def _reader(parent: Parent, received: list[Any], counted: list[float]) -> None:
    """A slow parent: takes a message every 0.2 s until the one ending with "last"."""
    while True:
        time.sleep(0.2)
        kind, (batch, increments) = parent.get()
        assert kind == "results"
        received.extend(batch)
        counted.append(sum(increments.values()))
        if batch and batch[-1] == "last":
            return


async def test_results_reach_a_slow_parent_in_batches_without_blocking_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("v6pilot.scan.parallel.BATCH_RESULTS", 3)
    parent: Parent = queue.Queue(maxsize=1)
    received: list[Any] = []
    counted: list[float] = []
    reader = threading.Thread(target=_reader, args=(parent, received, counted))
    reader.start()
    longest_tick = 0.0

    async def ticker() -> None:
        nonlocal longest_tick
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            longest_tick = max(longest_tick, time.monotonic() - before)

    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.01)
    take_counted()
    batches = _Batches(parent)
    for number in range(22):
        record_throttle("ip_rate", 1.0)
        await batches.add(number)  # type: ignore[arg-type]
    await batches.add("last")  # type: ignore[arg-type]
    await asyncio.sleep(0.02)
    ticking.cancel()
    batches.close()
    await asyncio.to_thread(reader.join)
    assert received == [*range(22), "last"]
    assert sum(counted) == 44.0
    assert longest_tick < 0.1


async def test_a_timed_batch_waits_for_room_and_keeps_its_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("v6pilot.scan.parallel.BATCH_SECONDS", 0.01)
    parent: Parent = queue.Queue(maxsize=1)
    parent.put(("results", ([], {})))
    take_counted()
    batches = _Batches(parent)
    record_throttle("ip_rate", 2.0)
    await batches.add("late")  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert parent.get_nowait() == ("results", ([], {}))
    await asyncio.sleep(0.05)
    _, (batch, increments) = parent.get_nowait()
    assert batch == ["late"] and sum(increments.values()) == 3.0
    record_throttle("ip_rate", 1.0)
    batches.close()
    _, (rest, leftover) = parent.get_nowait()
    assert rest == [] and sum(leftover.values()) == 2.0
