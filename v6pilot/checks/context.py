"""What a check gets to work with: the target, the scan options, and memoised shared work.

Work several checks need (a host's addresses, the homepage fetched over one family) is done
once per target with `TargetContext.once`, and work that is the same for many targets (a
zone's name servers, whether a host answers over IPv6) once per scan with `ScanShared.once`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from v6pilot.checks.registry import REGISTRY
from v6pilot.checks.result import CheckResult, Status
from v6pilot.errors import V6PilotError
from v6pilot.net.network import Network
from v6pilot.net.polite import PoliteNetwork
from v6pilot.net.waits import TARGET_WAITS, SharedWaits, register_shared, waits_of

T = TypeVar("T")

DEFAULT_SEC_PORTS = (21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 3306, 3389, 5432, 6379, 8080, 8443)


@dataclass(frozen=True)
class Target:
    """One thing to scan: what the user wrote, its ASCII host name and the URL to start from."""

    raw: str
    host: str
    url: str

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme


@dataclass(frozen=True)
class ScanOptions:
    """Everything that shapes a scan except its targets; each cap is a per-target limit."""

    profile: str = "standard"
    timeout: float = 5.0
    target_deadline: float = 120.0
    allow_private: bool = False
    max_body: int = 2 * 1024 * 1024
    max_redirects: int = 10
    max_links_l2: int = 50
    max_links_l3: int = 100
    max_subresources: int = 100
    success_probes: int = 10
    sec_ports: tuple[int, ...] = DEFAULT_SEC_PORTS


async def shared_result(task: asyncio.Future[T]) -> T:
    """The result of a task others may await too; cancelling the caller leaves it running.
    While the caller waits, the task's waits for turns of per-destination limits count as
    the caller's too (a once-per-scan task's, see `ScanShared.start`)."""
    if task.done():
        return task.result()
    waiter = TARGET_WAITS.get()
    if waiter is None or (shared := waits_of(task)) is None:
        return await asyncio.shield(task)
    with shared.joined(waiter):
        return await asyncio.shield(task)


async def shared_results(tasks: list[asyncio.Future[T]]) -> list[T]:
    """The results of several shared tasks (see `shared_result`); when all are done, as they
    mostly are for once-per-scan facts, without a waiting task for each."""
    if all(task.done() for task in tasks):
        return [task.result() for task in tasks]
    return list(await asyncio.gather(*(shared_result(task) for task in tasks)))


class Memo:
    """Runs each keyed coroutine once and hands every caller the same result (or exception).

    With `max_entries`, the oldest finished entries are forgotten beyond that many, so a scan
    of any length keeps memory bounded (a forgotten fact is measured again if asked for).
    """

    def __init__(self, max_entries: int | None = None) -> None:
        self._tasks: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()
        self.max_entries = max_entries

    def start(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[T]],
        keep: Callable[[T], bool] | None = None,
    ) -> asyncio.Future[T]:
        """The task computing `factory()` for `key`, started on first use. A failure (an
        exception, or a result `keep` rejects) is shared with those already waiting but not
        remembered, so a passing fault (a lost datagram, an overloaded server) is measured
        again later."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._settle(key, done, keep))
            if self.max_entries is not None and len(self._tasks) > self.max_entries:
                self._forget_oldest()
        return task

    async def once(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[T]],
        keep: Callable[[T], bool] | None = None,
    ) -> T:
        """The result of `factory()` for `key`, computed once (see `start`); a caller that is
        cancelled leaves the computation running for the others."""
        return await shared_result(self.start(key, factory, keep))

    def _settle(
        self, key: Hashable, task: asyncio.Future[Any], keep: Callable[[Any], bool] | None
    ) -> None:
        failed = task.cancelled() or task.exception() is not None
        if (failed or (keep is not None and not keep(task.result()))) and (
            self._tasks.get(key) is task
        ):
            del self._tasks[key]

    def _forget_oldest(self) -> None:
        """Drop the oldest finished entries down to 90 % of the limit (running ones stay)."""
        assert self.max_entries is not None
        excess = len(self._tasks) - int(self.max_entries * 0.9)
        for key in [k for k, t in self._tasks.items() if t.done()][:excess]:
            del self._tasks[key]

    def get(self, key: Hashable) -> asyncio.Future[Any] | None:
        """The task for `key` if one was started and not forgotten."""
        return self._tasks.get(key)

    def __len__(self) -> int:
        return len(self._tasks)

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()


SCAN_MEMO_ENTRIES = 50_000
"""Facts remembered per scan: zones and name servers recur across targets, a host's addresses
mostly do not, so older ones can go."""


@dataclass
class ScanShared:
    """Per-scan state: the network and caches shared by all targets of the scan."""

    net: Network
    options: ScanOptions
    memo: Memo = field(default_factory=lambda: Memo(SCAN_MEMO_ENTRIES))
    waits_counted: bool = field(init=False)
    """Per-destination limits make targets wait for turns, so waits are counted per target
    (v6pilot/net/waits.py); without limits that bookkeeping is skipped."""

    def __post_init__(self) -> None:
        self.waits_counted = isinstance(self.net, PoliteNetwork)

    async def once(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[T]],
        keep: Callable[[T], bool] | None = None,
    ) -> T:
        return await shared_result(self.start(key, factory, keep))

    def start(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[T]],
        keep: Callable[[T], bool] | None = None,
    ) -> asyncio.Future[T]:
        """The task computing `factory()` for `key` once per scan (see `Memo.start`). It
        counts its waits for turns on a `SharedWaits` of its own, which every target awaiting
        it through `shared_result` joins: none of them is charged for a wait it sits out."""
        if not self.waits_counted:
            return self.memo.start(key, factory, keep)
        task = self.memo.get(key)
        if task is None:
            waits = SharedWaits()
            task = self.memo.start(key, lambda: _counting_on(waits, factory), keep)
            register_shared(task, waits)
        return task


async def _counting_on(waits: SharedWaits, factory: Callable[[], Awaitable[T]]) -> T:
    TARGET_WAITS.set(waits)
    return await factory()


@dataclass
class TargetContext:
    """The input of every check: one target plus the scan's shared state."""

    target: Target
    shared: ScanShared
    memo: Memo = field(default_factory=Memo)
    _locals: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def net(self) -> Network:
        return self.shared.net

    @property
    def options(self) -> ScanOptions:
        return self.shared.options

    async def once(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[T]],
        keep: Callable[[T], bool] | None = None,
    ) -> T:
        return await self.memo.once(key, factory, keep)

    def local(self, key: Hashable, make: Callable[[], T]) -> T:
        """An object this target's checks share (a semaphore, say), made on first use."""
        try:
            value: T = self._locals[key]
        except KeyError:
            value = self._locals[key] = make()
        return value

    def start_check(self, check_id: str) -> asyncio.Future[CheckResult]:
        """The task running a check on this target, started on first use."""
        return self.memo.start(("check", check_id), lambda: _guarded(check_id, self))

    async def result(self, check_id: str) -> CheckResult:
        """Another check's result for this target, run once however many checks ask."""
        return await shared_result(self.start_check(check_id))


async def _guarded(check_id: str, ctx: TargetContext) -> CheckResult:
    """Run a check so that any failure becomes an `error` result instead of stopping the scan."""
    check = REGISTRY[check_id]
    missing = sorted(check.needs - ctx.net.routes())
    if missing:
        families = ", ".join(f"IPv{f}" for f in missing)
        return CheckResult.make(Status.ERROR, "check.no_route", check=check_id, families=families)
    try:
        return await check.fn(ctx)
    except V6PilotError as exc:
        return CheckResult.make(Status.ERROR, "check.error", check=check_id, error=str(exc))
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        return CheckResult.make(Status.ERROR, "check.crashed", check=check_id, error=detail)
