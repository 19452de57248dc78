"""CPU time used by the lab's servers, to show whether they or the scanner were the bottleneck."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from v6pilot.net import netns

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    """utime + stime of one process in seconds; 0 if it is gone."""
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return 0.0


def namespace_cpu_seconds(name: str) -> float:
    """CPU seconds used so far by every process now running in namespace `name`."""
    return sum(_process_cpu(pid) for pid in netns.pids_in(name))
