"""Server processes inside a namespace: started in their own session (so their workers can be
ended with them), ready once their sockets listen, stopped by the PID we started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""Working directory of every daemon, so that `python -m bench.<module>` imports."""
START_TIMEOUT = 30.0
STOP_GRACE = 5.0


class DaemonError(RuntimeError):
    """A server process did not come up."""


def socket_name(address: str, port: int) -> str:
    """How `ss -n` prints a local address: `[v6]:port` or `v4:port`."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def listening(netns: str) -> set[tuple[str, str]]:
    """(netid, local address) of every bound UDP and listening TCP socket in `netns`."""
    out = subprocess.run(
        ["ip", "netns", "exec", netns, "ss", "-Hlntu"], capture_output=True, text=True, check=True
    ).stdout
    found = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5:
            found.add((fields[0], fields[4]))
    return found


@dataclass
class Daemon:
    """One server command run inside `netns`, ready when every `(netid, socket)` is bound."""

    name: str
    netns: str
    command: Sequence[str]
    sockets: set[tuple[str, str]]
    log: Path
    pid: int | None = field(default=None, init=False)

    def start(self) -> None:
        """Start the process and wait until it listens; its output goes to `log`."""
        with self.log.open("ab") as log:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, *self.command],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=REPO_ROOT,
            )
        self.pid = proc.pid
        deadline = time.monotonic() + START_TIMEOUT
        while not self.sockets <= listening(self.netns):
            if proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise DaemonError(f"{self.name} exited with {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                missing = sorted(self.sockets - listening(self.netns))
                raise DaemonError(
                    f"{self.name} not listening after {START_TIMEOUT:.0f} s: {missing}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM to the process group we started, SIGKILL after a grace period."""
        if self.pid is None:
            return
        pgid, self.pid = self.pid, None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pgid, os.WNOHANG)
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pgid, 0)

    def restart(self) -> None:
        """Stop and start again (for the resolver: a cold cache)."""
        self.stop()
        self.start()
