"""Installing what the benchmark needs: Debian packages for the servers and the peer tools,
and py-spy into the venv when profiling is asked for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

DEBIAN_COMMANDS = {
    "nginx": "nginx-light",
    "nsd": "nsd",
    "unbound": "unbound",
    "adnshost": "adns-tools",
    "curl": "curl",
    "ss": "iproute2",
    "time": "time",
}


def missing_debian_packages() -> list[str]:
    """The Debian packages whose command is not on PATH."""
    return sorted({pkg for cmd, pkg in DEBIAN_COMMANDS.items() if shutil.which(cmd) is None})


def ensure_debian_packages() -> list[str]:
    """apt-get install whatever is missing (update first); returns what was installed."""
    missing = missing_debian_packages()
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
            check=True,
            env=env,
        )
    return missing


def py_spy() -> str:
    """The path of py-spy, pip-installing it into this interpreter's environment if needed."""
    venv_bin = os.path.dirname(sys.executable)
    found = shutil.which("py-spy", path=venv_bin)
    if found is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
        found = shutil.which("py-spy", path=venv_bin)
    if found is None:
        raise RuntimeError("py-spy could not be installed")
    return found
