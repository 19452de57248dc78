"""The `v6pilot scan` command end to end, run from inside the lab's clients."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue

pytestmark = pytest.mark.lab


def v6pilot_in(namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    lab_options = [
        "--allow-private",
        "--root-hints",
        str(topology.STATE_DIR / "root.hints"),
        "--ca-file",
        str(topology.STATE_DIR / "ca.pem"),
    ]
    command = [sys.executable, "-m", "v6pilot.cli", "scan", *lab_options, *args]
    return subprocess.run(
        ["ip", "netns", "exec", namespace, *command],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scan_writes_the_contract_and_reports_bad_lines(lab: Catalogue, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text("www.good.test\n# a comment\nftp://www.good.test/\nwww.测试网站.test\n")
    out = tmp_path / "out.jsonl"
    proc = v6pilot_in(
        topology.CLIENT46, "-i", str(targets), "--profile", "quick", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{targets}:3" in proc.stdout
    results = {r["target"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(results) == {"www.good.test", "www.测试网站.test"}
    good = results["www.good.test"]
    assert set(good) == {"target", "url", "profile", "score", "grade", "checks"}
    assert good["grade"] == "v6_full" and good["profile"] == "quick" and good["score"] == 100.0
    check = good["checks"]["dns.aaaa"]
    assert set(check) == {"status", "value", "message", "message_zh"}


def test_scan_prints_a_table_without_out(lab: Catalogue) -> None:
    proc = v6pilot_in(topology.CLIENT6, "www.no-aaaa.test", "--profile", "quick")
    assert proc.returncode == 0, proc.stderr
    assert "v4_only" in proc.stdout and "dns.aaaa" in proc.stdout
