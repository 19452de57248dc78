"""The evaluation commands end to end: inventory, stored scans, targets, reports, schedules."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue

pytestmark = pytest.mark.lab
LAB_NETWORK = [
    "--netns",
    topology.CLIENT46,
    "--allow-private",
    "--root-hints",
    str(topology.STATE_DIR / "root.hints"),
    "--ca-file",
    str(topology.STATE_DIR / "ca.pem"),
]


def v6pilot(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "v6pilot.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={"COLUMNS": "200", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def restore_good(lab: Catalogue) -> Iterator[None]:
    yield
    topology.set_fault(lab, "good", "www", 6, active=False)


def test_inventory_scan_report_target_and_schedule(
    lab: Catalogue, tmp_path: Path, restore_good: None
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'eval.db'}"]
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "目标,类型,单位,单位类型,行业,省份,城市,城市级别,项目,方向\n"
        "www.good.test,网站,某市政府,政府机关,政府,浙江,杭州,省会城市,政务改造,重点行业\n"
        "www.no-aaaa.test,网站,某大学,高校,教育,浙江,杭州,省会城市,,\n"
        "www.subres-v4.test,网站,某银行,企业,金融,广东,深圳,计划单列市,政务改造,重点行业\n"
        "www.bad.test,网站,某大学,高校,银行业,浙江,杭州,省会城市,,\n",
        encoding="utf-8",
    )
    imported = v6pilot("inventory", "import", str(inventory), *db)
    assert "imported 3 row(s)" in imported
    assert "line 5" in imported and "行业" in imported

    scanned = v6pilot("scan", "--inventory", "--profile", "standard", *db, *LAB_NETWORK)
    assert "stored as run 1" in scanned
    v6pilot(
        "target",
        "add",
        "--level",
        "city",
        "--group",
        "杭州",
        "--indicator",
        "share_reach_v6",
        "--threshold",
        "0.95",
        "--deadline",
        "2030-12-31",
        *db,
    )

    report = tmp_path / "report.json"
    printed = v6pilot("report", "--by", "city", "--out", str(report), *db)
    groups = {g["name"]: g for g in json.loads(report.read_text())["groups"]}
    assert groups["杭州"]["assets"] == 2 and groups["杭州"]["share_reach_v6"] == 0.5
    assert groups["深圳"]["share_v6_partial"] == 1.0
    assert "not_met" in printed
    html = tmp_path / "report.html"
    v6pilot("report", "--by", "city", "--out", str(html), *db)
    assert "www.no-aaaa.test" in html.read_text()

    v6pilot("schedule", "add", "weekly", "--cron", "0 3 * * 1", "--profile", "quick", *db)
    first = v6pilot("schedule", "run", "--once", *db, *LAB_NETWORK)
    assert "schedule weekly: run 2, 0 regression(s)" in first
    topology.set_fault(lab, "good", "www", 6, active=True)
    v6pilot(
        "schedule",
        "add",
        "hourly",
        "--cron",
        "0 * * * *",
        "--profile",
        "quick",
        "--city",
        "杭州",
        *db,
    )
    second = v6pilot("schedule", "run", "--once", *db, *LAB_NETWORK)
    assert "schedule hourly: run 3" in second and "schedule weekly" not in second
    compared = tmp_path / "compare.json"
    v6pilot("report", "--run", "3", "--compare", "2", "--out", str(compared), *db)
    changes = json.loads(compared.read_text())["comparison"]
    assert [a["target"] for a in changes["assets"] if a["change"] == "regressed"] == [
        "www.good.test"
    ]
