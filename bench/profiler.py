"""Sampling a running scan with py-spy, and summarising where its CPU time goes."""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

TOP_FRAMES = 15
OWN_CODE = "(v6pilot/"
"""How py-spy's raw frames name v6pilot's files: `function (v6pilot/module.py)`."""


class Sampler:
    """Records `seconds` of py-spy samples of a process after `delay` seconds, in a thread."""

    def __init__(self, py_spy: str, seconds: float, delay: float, output: Path) -> None:
        self.py_spy = py_spy
        self.seconds = seconds
        self.delay = delay
        self.output = output
        self._done = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    def attach(self, pid: int) -> None:
        """Start sampling `pid` and its child processes once the delay has passed."""
        self._thread = threading.Thread(target=self._record, args=(pid,), daemon=True)
        self._thread.start()

    def _record(self, pid: int) -> None:
        if self._done.wait(self.delay):
            return
        command = [
            self.py_spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
            "--nolineno", "--duration", str(int(self.seconds)), "--format", "raw",
            "--output", str(self.output),
        ]  # fmt: skip
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._proc.wait()

    def finish(self) -> None:
        """Stop sampling (the target has ended) and wait for py-spy to write its file."""
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=self.seconds + 30)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def summarise(raw: Path, top: int = TOP_FRAMES) -> dict[str, Any]:
    """Top functions by self samples, and v6pilot's own functions by inclusive samples (which
    check or layer the time goes to), as shares of all samples of busy (non-idle) threads."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f.strip() for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in {f for f in frames if OWN_CODE in f}:
            inclusive[frame] += count

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"frame": frame, "share": round(n / total, 4)} for frame, n in counter.most_common(top)
        ]

    return {"samples": total, "self": shares(own), "inclusive": shares(inclusive)}
