"""A recorded scan SIGKILLed at random moments and started again with the same run id finishes
with every target exactly once, in the database and in its JSON-lines file, and no partial
result anywhere (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scan.test_resume import QUICK, plan
from tests.store.backends import postgres_schema
from v6pilot.scan.resume import start_run
from v6pilot.store import open_store
from v6pilot.store.models import RunStatus
from v6pilot.store.runs import done_targets, get_run, iter_results

TARGETS = 300
CONCURRENCY = 30
SEED = 20250601
ROOT = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {"target", "url", "profile", "score", "grade", "checks"}
CHECK_KEYS = {"status", "value", "message", "message_zh"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
    else:
        with postgres_schema() as url:
            yield url


def runner(url: str, run_id: int, out: Path, seed: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.scan.resume_runner", url, str(run_id), str(out)]
    return subprocess.Popen(
        [*command, str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def complete_lines(out: Path) -> list[dict[str, object]]:
    """The file's newline-terminated lines, parsed (a partial last line is left out)."""
    if not out.exists():
        return []
    data = out.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines()]


def lines_in(out: Path) -> int:
    """How many newline-terminated lines `out` holds so far."""
    return out.read_bytes().count(b"\n") if out.exists() else 0


def kill_at_random(process: subprocess.Popen[str], out: Path, rng: random.Random) -> None:
    """SIGKILL `process` at a random moment: early (while it opens the run and starts
    scanning) or once a random share of the remaining targets is written."""
    if rng.random() < 0.3:
        time.sleep(rng.uniform(0.0, 0.3))
    else:
        written = lines_in(out)
        goal = written + rng.randint(1, max(1, (TARGETS - written) // 2))
        deadline = time.monotonic() + 15
        while lines_in(out) < goal and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.communicate()


def assert_contract_line(result: dict[str, object]) -> None:
    assert set(result) == CONTRACT_KEYS and result["profile"] == "quick"
    checks = result["checks"]
    assert isinstance(checks, dict) and set(checks) == set(QUICK)
    assert all(set(check) == CHECK_KEYS for check in checks.values())


def test_killed_scans_resume_to_every_target_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    out = tmp_path / "results.jsonl"
    with open_store(database_url) as store:
        recorded = start_run(store, plan(TARGETS), concurrency=CONCURRENCY)
    planned = {target.url for target in recorded.plan.targets}
    progress = []
    for kill in range(rng.randint(3, 5)):
        process = runner(database_url, recorded.run_id, out, kill)
        assert process.stdout is not None
        assert process.stdout.readline().startswith("resuming"), process.communicate()
        kill_at_random(process, out, rng)
        with open_store(database_url) as store, store.transaction() as session:
            progress.append(len(done_targets(session, recorded.run_id)))
        written = Counter(str(line["url"]) for line in complete_lines(out))
        assert all(count == 1 for count in written.values()) and set(written) <= planned
    assert any(0 < done < TARGETS for done in progress), progress
    final = runner(database_url, recorded.run_id, out, 99)
    stdout, stderr = final.communicate(timeout=60)
    assert final.returncode == 0 and stdout.startswith("resuming"), stderr

    with open_store(database_url) as store, store.transaction() as session:
        assert get_run(session, recorded.run_id).status is RunStatus.FINISHED
        results = [
            (row.url, row.target, row.result) for row in iter_results(session, recorded.run_id)
        ]
    assert len(results) == TARGETS and {url for url, _, _ in results} == planned
    for url, target, result in results:
        assert (result["url"], result["target"]) == (url, target)
        assert_contract_line(result)
    lines = out.read_text("utf-8").splitlines(keepends=True)
    assert all(text.endswith("\n") for text in lines)
    parsed = [json.loads(text) for text in lines]
    assert len(parsed) == TARGETS and {line["url"] for line in parsed} == planned
    for result in parsed:
        assert_contract_line(result)
