"""What the figures were measured on and with: machine, software versions, git revision, date."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION_COMMANDS = {
    "nginx": ["nginx", "-v"],
    "nsd": ["nsd", "-v"],
    "unbound": ["unbound", "-V"],
    "adnshost": ["adnshost", "--version"],
    "curl": ["curl", "--version"],
}


def _first_line(command: list[str]) -> str:
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable: {exc}"
    return (
        (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) else ""
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor()


def _memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def git_sha(short: bool = False) -> str:
    """HEAD of the repository (read only), `unknown` outside a checkout."""
    command = ["git", "-C", str(REPO_ROOT), "rev-parse", *(["--short"] if short else []), "HEAD"]
    proc = subprocess.run(command, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "unknown"


def _git_dirty() -> bool:
    proc = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    )
    return bool(proc.stdout.strip())


def machine_info() -> dict[str, Any]:
    """Everything needed to compare two runs fairly."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "git_dirty": _git_dirty(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "tools": {name: _first_line(cmd) for name, cmd in VERSION_COMMANDS.items()},
    }
