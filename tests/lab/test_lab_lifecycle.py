"""`lab down` cleans up completely, even after the daemons crashed or `up` was half done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from v6pilot.lab import probe, topology
from v6pilot.lab.catalogue import Catalogue
from v6pilot.net import netns

pytestmark = pytest.mark.lab


def test_status_shows_every_host_up(lab: Catalogue) -> None:
    hosts = topology.status()
    assert [h.name for h in hosts] == list(topology.NAMESPACES)
    assert all(h.present for h in hosts)
    health = probe.health(lab)
    failing = [(ns, name) for ns, checks in health.items() for name, ok in checks if not ok]
    assert failing == []
    assert set(health) == set(topology.NAMESPACES)


def test_down_after_crash_leaves_nothing_behind(lab: Catalogue) -> None:
    pids = json.loads((topology.STATE_DIR / "pids.json").read_text())
    os.kill(pids["web"], signal.SIGKILL)
    stray = subprocess.Popen(["ip", "netns", "exec", topology.CLIENT46, "sleep", "600"])
    deadline = time.monotonic() + 5
    while stray.pid not in netns.pids_in(topology.CLIENT46) and time.monotonic() < deadline:
        time.sleep(0.02)
    (topology.STATE_DIR / "pids.json").unlink()

    removed = topology.down()

    assert sorted(removed) == sorted(topology.NAMESPACES)
    assert [ns for ns in topology.NAMESPACES if netns.exists(ns)] == []
    assert not topology.alive(stray.pid)
    assert not topology.STATE_DIR.exists()
    assert not any((netns.ETC_NETNS / ns).exists() for ns in topology.NAMESPACES)
    assert not topology.alive(pids["dns"])
    topology.up(lab)


def test_down_after_half_built_up(lab: Catalogue) -> None:
    topology.down()
    netns.ip("netns", "add", topology.ROUTER)
    netns.ip("netns", "add", topology.CLIENT6)

    assert sorted(topology.down()) == sorted([topology.ROUTER, topology.CLIENT6])
    assert [ns for ns in topology.NAMESPACES if netns.exists(ns)] == []
    topology.up(lab)
