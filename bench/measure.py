"""Running one measured child process: wall time, and CPU time and peak RSS of that process
alone.

CPU and peak RSS come from GNU time wrapped around the command: a child forked from the
harness would inherit the harness's own resident set as its high-water mark.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"
TIME_FORMAT = "%U %S %M"


@dataclass(frozen=True)
class Measured:
    """How one process ran: exit code, wall seconds, CPU seconds, peak RSS in MB."""

    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "returncode": self.returncode,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


def combined(runs: Sequence[Measured]) -> Measured:
    """Processes run one after another as one: summed times, the largest RSS, worst exit code."""
    return Measured(
        returncode=max((abs(r.returncode) for r in runs), default=0),
        wall_s=sum(r.wall_s for r in runs),
        cpu_s=sum(r.cpu_s for r in runs),
        peak_rss_mb=max((r.peak_rss_mb for r in runs), default=0.0),
    )


def _read_time_output(path: Path) -> tuple[float, float]:
    """(CPU seconds, peak RSS MB) from GNU time's output, whose last line is TIME_FORMAT."""
    lines = path.read_text().strip().splitlines()
    user, system, rss_kb = lines[-1].split()
    return float(user) + float(system), int(rss_kb) / 1024


def run_measured(
    command: Sequence[str],
    *,
    stdout: Path,
    stdin: Path | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Measured:
    """Run `command` (stdin from a file, stdout to a file, stderr to ours) and measure it.

    `on_start` gets the PID of the GNU time wrapper, whose only child is `command`. Both run
    in a process group of their own, killed as a whole if we are interrupted.
    """
    usage = stdout.with_suffix(".time")
    wrapped = [GNU_TIME, "-f", TIME_FORMAT, "-o", str(usage), *command]
    with contextlib.ExitStack() as files:
        out = files.enter_context(stdout.open("wb"))
        inp = files.enter_context((stdin or Path(os.devnull)).open("rb"))
        started = time.monotonic()
        proc = subprocess.Popen(wrapped, stdin=inp, stdout=out, start_new_session=True)
        try:
            if on_start is not None:
                on_start(proc.pid)
            returncode = proc.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        wall = time.monotonic() - started
    cpu, rss = _read_time_output(usage)
    return Measured(returncode=returncode, wall_s=wall, cpu_s=cpu, peak_rss_mb=rss)
