"""The event loop scans run on: uvloop's, which keeps sockets, timers and callbacks in C
(libuv), where asyncio's own loop spends a large share of a busy scanner's CPU; and the
garbage collector tuned for a scan's way of allocating."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")

GC_THRESHOLDS = (50_000, 20, 100)
"""A scan allocates millions of short-lived objects while it keeps tens of thousands of facts.
With Python's default thresholds (700, 10, 10) the collector ran a full collection about every
1.5 s on the benchmark, 40 % of the CPU time, in pauses of up to 0.7 s that read as slow IPv6
homepages in web.perf_ratio. Young garbage is still collected; a full collection now comes
after about 100 million allocations instead of 70,000."""


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a fresh uvloop event loop, like `asyncio.run`, with the
    collector tuned for scanning (what exists before the scan is frozen out of its sight)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
