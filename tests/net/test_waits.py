"""Waits for turns counted per target: overlapping waits once, a shared task's waits for
every target awaiting it, and only while it awaits."""

from __future__ import annotations

import pytest

from v6pilot.net.waits import SharedWaits, WaitClock


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    clock = [100.0]
    monkeypatch.setattr("v6pilot.net.waits.time.monotonic", lambda: clock[0])
    return clock


def test_a_wait_clock_counts_overlapping_waits_once(now: list[float]) -> None:
    clock = WaitClock()
    with clock.waiting():
        now[0] += 1.0
        with clock.waiting():
            now[0] += 2.0
        now[0] += 1.0
        assert clock.active and clock.seconds() == 4.0
    now[0] += 10.0
    with clock.waiting():
        now[0] += 0.5
    assert not clock.active and clock.seconds() == 4.5


def test_a_shared_task_waits_for_each_joined_target_only_while_joined(now: list[float]) -> None:
    shared, first, second = SharedWaits(), WaitClock(), WaitClock()
    with shared.joined(first):
        with shared.waiting():
            now[0] += 1.0
            with shared.joined(second):
                now[0] += 2.0
            now[0] += 4.0
        now[0] += 8.0
    with shared.waiting():
        now[0] += 16.0
    assert (first.seconds(), second.seconds()) == (7.0, 2.0)


def test_shared_waits_pass_through_a_shared_task_awaiting_another(now: list[float]) -> None:
    inner, outer, target = SharedWaits(), SharedWaits(), WaitClock()
    with outer.joined(target), inner.joined(outer), inner.waiting():
        now[0] += 3.0
    assert target.seconds() == 3.0 and not target.active
