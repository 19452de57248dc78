"""Time spent waiting for turns of per-destination limits, kept per target: waiting is not
the target's fault, so the engine extends the target's deadline by it (docs/scale.md).

The clock in effect is found through the context variable `TARGET_WAITS`: the engine sets a
target's `WaitClock` for its checks, and a once-per-scan task gets a `SharedWaits` of its own
(`register_shared`), which runs the clocks of every target awaiting the task (`joined`) while
it waits.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class Waits:
    """Something that counts waits: `begin` and `end` bracket one wait, and waits may overlap."""

    def begin(self) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Count the time spent in this block as waiting."""
        self.begin()
        try:
            yield
        finally:
            self.end()


class WaitClock(Waits):
    """One target's clock: the wall time during which at least one of its tasks waited for a
    turn (overlapping waits count once)."""

    def __init__(self) -> None:
        self._waiting = 0
        self._since = 0.0
        self._total = 0.0

    def begin(self) -> None:
        if self._waiting == 0:
            self._since = time.monotonic()
        self._waiting += 1

    def end(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self._total += time.monotonic() - self._since

    @property
    def active(self) -> bool:
        """Some wait is in progress."""
        return self._waiting > 0

    def seconds(self) -> float:
        """Seconds waited so far, a wait in progress included."""
        if self._waiting:
            return self._total + time.monotonic() - self._since
        return self._total


class SharedWaits(Waits):
    """The waits of a task several targets await: while it waits, every joined `Waits` does."""

    def __init__(self) -> None:
        self._waiting = 0
        self._joined: list[Waits] = []

    def begin(self) -> None:
        self._waiting += 1
        if self._waiting == 1:
            for waits in self._joined:
                waits.begin()

    def end(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            for waits in self._joined:
                waits.end()

    @contextmanager
    def joined(self, waits: Waits) -> Iterator[None]:
        """Let `waits` wait along with this task for the length of the block."""
        self._joined.append(waits)
        if self._waiting:
            waits.begin()
        try:
            yield
        finally:
            self._joined.remove(waits)
            if self._waiting:
                waits.end()


TARGET_WAITS: ContextVar[Waits | None] = ContextVar("v6pilot_target_waits", default=None)
"""Where the waits of the code running in this context count (None: nowhere)."""

_SHARED: weakref.WeakKeyDictionary[Any, SharedWaits] = weakref.WeakKeyDictionary()


@contextmanager
def waiting() -> Iterator[None]:
    """Count the block as waiting for whoever the current context waits for."""
    waits = TARGET_WAITS.get()
    if waits is None:
        yield
    else:
        with waits.waiting():
            yield


def register_shared(task: Any, waits: SharedWaits) -> None:
    """Record the `SharedWaits` a shared task counts its waits on (the task sets it as its
    `TARGET_WAITS`), so that those awaiting the task can join it."""
    _SHARED[task] = waits


def waits_of(task: Any) -> SharedWaits | None:
    """The `SharedWaits` of a shared task, if it has one."""
    return _SHARED.get(task)
