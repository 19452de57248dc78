from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.registry import REGISTRY, Check
from v6pilot.checks.result import CheckResult, Status
from v6pilot.errors import NetRefused
from v6pilot.net.limits import LocalLimiter
from v6pilot.net.mock import MockNetwork
from v6pilot.net.polite import Limits, PoliteNetwork, Throttle
from v6pilot.net.waits import WaitClock
from v6pilot.scan.engine import _until_deadline, scan, scan_target


async def _fast(ctx: TargetContext) -> CheckResult:
    return CheckResult.make(Status.PASS, "check.error", check="t", error=ctx.target.host)


async def _slow(ctx: TargetContext) -> CheckResult:
    await asyncio.sleep(30)
    return CheckResult.make(Status.PASS, "check.error", check="t", error="late")


async def _network_failure(ctx: TargetContext) -> CheckResult:
    raise NetRefused("2001:db8::1", 443, "connection refused")


async def _bug(ctx: TargetContext) -> CheckResult:
    raise ZeroDivisionError("oops")


async def _needs_v4(ctx: TargetContext) -> CheckResult:
    return CheckResult.make(Status.PASS, "check.error", check="t", error="ran")


TEST_CHECKS = {
    "test.fast": Check("test.fast", "quick", _fast),
    "test.slow": Check("test.slow", "quick", _slow),
    "test.net": Check("test.net", "quick", _network_failure),
    "test.bug": Check("test.bug", "quick", _bug),
    "test.v4": Check("test.v4", "quick", _needs_v4, needs=frozenset({4})),
}


@pytest.fixture
def registered() -> Iterator[dict[str, Check]]:
    REGISTRY.update(TEST_CHECKS)
    yield TEST_CHECKS
    for key in TEST_CHECKS:
        REGISTRY.pop(key)


def target(host: str) -> Target:
    return Target(host, host, f"http://{host}/")


async def test_failures_become_statuses_and_the_deadline_holds(
    registered: dict[str, Check],
) -> None:
    net = MockNetwork()
    net.families = frozenset({6})
    shared = ScanShared(net, ScanOptions(target_deadline=0.2))
    report = await scan_target(target("a.example.cn"), list(registered.values()), shared)
    statuses = {k: (v.status, v.code) for k, v in report.checks.items()}
    assert statuses == {
        "test.fast": (Status.PASS, "check.error"),
        "test.slow": (Status.ERROR, "check.deadline"),
        "test.net": (Status.ERROR, "check.error"),
        "test.bug": (Status.ERROR, "check.crashed"),
        "test.v4": (Status.ERROR, "check.no_route"),
    }
    assert "[2001:db8::1]:443" in report.checks["test.net"].message
    assert report.elapsed < 5


async def _three_fetches(ctx: TargetContext) -> CheckResult:
    for _ in range(3):
        await ctx.net.fetch("http://a.example.cn/", "2001:db8::1")
    return CheckResult.make(Status.PASS, "check.error", check="t", error="done")


def _polite_shared(deadline: float) -> ScanShared:
    """Five turns a second at 2001:db8::1: three fetches wait about 0.4 s."""
    inner = MockNetwork()
    inner.add_page("http://a.example.cn/", "2001:db8::1")
    limits = Limits(ip_connections=0, ip_rate=5, domain_rate=0, dns_rate=0)
    net = PoliteNetwork(inner, Throttle(limits, LocalLimiter()))
    return ScanShared(net, ScanOptions(target_deadline=deadline))


async def test_time_spent_waiting_for_turns_extends_the_deadline(
    registered: dict[str, Check], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(REGISTRY, "test.turns", Check("test.turns", "quick", _three_fetches))
    shared = _polite_shared(0.25)
    report = await scan_target(target("a.example.cn"), [REGISTRY["test.turns"]], shared)
    assert report.checks["test.turns"].status is Status.PASS
    assert report.elapsed >= 0.35
    slow = await scan_target(target("b.example.cn"), [registered["test.slow"]], shared)
    assert slow.checks["test.slow"].code == "check.deadline" and slow.elapsed < 1


def test_waits_are_counted_only_when_limits_make_targets_wait() -> None:
    assert _polite_shared(1.0).waits_counted
    assert not ScanShared(MockNetwork(), ScanOptions()).waits_counted


async def test_a_shared_tasks_waits_extend_every_target_awaiting_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def shared_fetches(ctx: TargetContext) -> CheckResult:
        return await ctx.shared.once(("three fetches",), lambda: _three_fetches(ctx))

    monkeypatch.setitem(REGISTRY, "test.shared", Check("test.shared", "quick", shared_fetches))
    shared = _polite_shared(0.25)
    checks = [REGISTRY["test.shared"]]
    reports = await asyncio.gather(
        scan_target(target("a.example.cn"), checks, shared),
        scan_target(target("b.example.cn"), checks, shared),
    )
    assert [r.checks["test.shared"].status for r in reports] == [Status.PASS, Status.PASS]


async def test_a_wait_for_a_turn_past_the_deadline_is_sat_out_without_spinning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wakes = 0
    real_wait = asyncio.wait

    async def counted_wait(*args: Any, **kwargs: Any) -> Any:
        nonlocal wakes
        wakes += 1
        return await real_wait(*args, **kwargs)

    monkeypatch.setattr("v6pilot.scan.engine.asyncio.wait", counted_wait)
    clock = WaitClock()
    clock.begin()
    check = asyncio.ensure_future(asyncio.sleep(0.3))
    check.add_done_callback(lambda _: clock.end())
    pending = await _until_deadline({check}, time.monotonic() + 0.001, clock)
    assert not pending and wakes <= 10


async def test_scan_yields_every_target_once_with_bounded_concurrency(
    registered: dict[str, Check], monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight = peak = 0

    async def counting(ctx: TargetContext) -> CheckResult:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return await _fast(ctx)

    monkeypatch.setitem(REGISTRY, "test.fast", Check("test.fast", "quick", counting))
    monkeypatch.setattr("v6pilot.scan.engine.checks_for", lambda profile: [REGISTRY["test.fast"]])
    hosts = [f"s{i}.example.cn" for i in range(50)]
    seen = [
        r.target.host
        async for r in scan((target(h) for h in hosts), MockNetwork(), ScanOptions(), concurrency=7)
    ]
    assert sorted(seen) == sorted(hosts)
    assert peak == 7


async def test_scan_memo_forgets_old_finished_facts_but_keeps_running_ones() -> None:
    from v6pilot.checks.context import Memo

    memo = Memo(max_entries=10)
    blocker = asyncio.Event()

    async def waits() -> str:
        await blocker.wait()
        return "slow"

    async def value(n: int) -> int:
        return n

    slow = asyncio.ensure_future(memo.once("slow", waits))
    for n in range(30):
        assert await memo.once(n, lambda n=n: value(n)) == n
    assert len(memo) <= 10
    blocker.set()
    assert await slow == "slow"
    assert await memo.once(29, lambda: value(-1)) == 29


async def test_memo_shares_but_does_not_remember_failures() -> None:
    from v6pilot.checks.context import Memo

    memo = Memo()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise NetRefused("2001:db8::53", 53, "refused")
        return "answer" if calls == 2 else "lost" if calls == 3 else "late"

    first = await asyncio.gather(
        memo.once("k", flaky), memo.once("k", flaky), return_exceptions=True
    )
    assert [type(r).__name__ for r in first] == ["NetRefused", "NetRefused"] and calls == 1
    assert await memo.once("k", flaky) == "answer"
    assert await memo.once("k", flaky) == "answer" and calls == 2
    keep_good = lambda value: value != "lost"  # noqa: E731
    assert await memo.once("j", flaky, keep_good) == "lost"
    assert await memo.once("j", flaky, keep_good) == "late" and calls == 4


async def test_shared_results_take_known_facts_at_once_and_never_cancel_shared_work() -> None:
    from v6pilot.checks.context import Memo, shared_results

    memo = Memo()
    release = asyncio.Event()

    async def slow(value: int) -> int:
        await release.wait()
        return value

    async def quick(value: int) -> int:
        return value

    known = [memo.start(k, lambda k=k: quick(k)) for k in (1, 2)]
    await asyncio.sleep(0)
    pending = memo.start(3, lambda: slow(3))
    waiter = asyncio.ensure_future(shared_results([*known, pending]))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert waiter.cancelled() and not pending.done()
    release.set()
    assert await shared_results([*known, pending]) == [1, 2, 3]
    with pytest.raises(StopIteration) as finished:
        shared_results(known).send(None)
    assert finished.value.value == [1, 2]


def test_target_locals_are_made_once_per_target() -> None:
    shared = ScanShared(MockNetwork(), ScanOptions())
    first, second = (TargetContext(Target(h, h, f"http://{h}/"), shared) for h in ("a.t", "b.t"))
    made: list[str] = []

    def make() -> object:
        made.append("x")
        return object()

    assert first.local("k", make) is first.local("k", make)
    assert second.local("k", make) is not first.local("k", make)
    assert made == ["x", "x"]
