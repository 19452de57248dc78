"""Two real Celery workers (separate processes) scan one run from Redis into PostgreSQL; one is
SIGKILLed while it holds a half-done chunk, and every target still ends up with exactly one
result. The workers scan a scripted network (tests/scan/fake_network.py): no traffic leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from kombu import Connection
from sqlalchemy import select

from tests.scan.fake_network import LOG_ENV, STALL_AFTER_ENV
from tests.store.backends import postgres_schema
from v6pilot.checks.context import ScanOptions
from v6pilot.scan.distributed import NETWORK_FACTORY_ENV, VISIBILITY_ENV, make_app, submit, wait
from v6pilot.scan.session import NetworkConfig, plan_scan
from v6pilot.store import Store, open_store
from v6pilot.store.models import RunStatus, ScanResult, ScanRun

BROKERS = {
    "redis": ("V6PILOT_TEST_REDIS", "redis://127.0.0.1:6379/0"),
    "rabbitmq": ("V6PILOT_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//"),
}
REPO = Path(__file__).resolve().parents[2]
TARGETS = 400
CHUNK_SIZE = 20
STALL_AFTER = 5
VISIBILITY_SECONDS = 4


def broker_unreachable(url: str) -> str | None:
    """Why the broker at `url` cannot be used, or None when it can."""
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return str(exc)
    return None


def forget_queue(url: str, queue: str) -> None:
    """Delete what the test's queue left on the broker."""
    if url.startswith("redis"):
        client = redis.Redis.from_url(url)
        try:
            for key in client.scan_iter(match=f"*{queue}*"):
                client.delete(key)
        finally:
            client.close()
    else:
        with Connection(url) as connection:
            connection.default_channel.queue_delete(queue)
            connection.default_channel.exchange_delete(queue)


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A broker URL and a queue of its own, removed afterwards."""
    variable, default = BROKERS[request.param]
    url = os.environ.get(variable) or default
    reason = broker_unreachable(url)
    if reason is not None:
        pytest.skip(f"{request.param} at {url} (${variable}) is not reachable: {reason}")
    queue = f"v6p-test-{uuid.uuid4().hex[:12]}"
    yield url, queue
    forget_queue(url, queue)


@pytest.fixture
def pg_store() -> Iterator[Store]:
    with postgres_schema() as url, open_store(url) as opened:
        yield opened


class Workers:
    """Worker processes this test started, each the leader of its own process group."""

    def __init__(self, broker: tuple[str, str], logs: Path) -> None:
        self.broker, self.queue = broker
        self.logs = logs
        self.scanned = logs / "scanned.log"
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            NETWORK_FACTORY_ENV: "tests.scan.fake_network:make_network",
            LOG_ENV: str(self.scanned),
            VISIBILITY_ENV: str(VISIBILITY_SECONDS),
            **(extra_env or {}),
        }
        command = [
            sys.executable,
            "-m",
            "v6pilot.scan.worker",
            f"--broker={self.broker}",
            f"--queue={self.queue}",
            "--concurrency=1",
            f"--hostname={name}-{self.queue}@%h",
        ]
        with (self.logs / f"{name}.log").open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started[name] = process
        return process

    def scanned_by(self) -> dict[int, dict[str, set[str]]]:
        """Per process group, the hosts its networks served and the ones they stalled on."""
        found: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        if self.scanned.exists():
            for line in self.scanned.read_text().splitlines():
                group, host, fate = line.split()
                found[int(group)][fate].add(host)
        return found

    def output(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.logs / f'{name}.log').read_text()[-3000:]}"
            for name in self.started
        )

    def stop_all(self) -> None:
        """Kill every worker still running, with its pool processes, and reap it."""
        for process in self.started.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(broker: tuple[str, str], pg_store: Store, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(broker, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def until(done: Callable[[], bool], seconds: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}\n{workers.output()}")
        time.sleep(0.1)


def saved_targets(store: Store, run_id: int) -> list[str]:
    with store.transaction() as session:
        return list(session.scalars(select(ScanResult.target).where(ScanResult.run_id == run_id)))


def test_a_worker_killed_mid_chunk_loses_nothing_and_duplicates_nothing(
    pg_store: Store, broker: tuple[str, str], workers: Workers
) -> None:
    url, queue = broker
    names = [f"t{i:03d}.scale.example.cn" for i in range(TARGETS)]
    options = ScanOptions(profile="quick", allow_private=True, timeout=1.0)
    plan = plan_scan(names, None, options=options, network=NetworkConfig(), rubric=None)
    app = make_app(url, queue=queue, visibility_timeout=VISIBILITY_SECONDS)
    submitted = submit(plan, pg_store, app=app, chunk_size=CHUNK_SIZE, concurrency=5)
    assert (submitted.expected, submitted.chunks) == (TARGETS, TARGETS // CHUNK_SIZE)

    victim = workers.start("victim", {STALL_AFTER_ENV: str(STALL_AFTER)})

    def victim_stuck_mid_chunk() -> bool:
        mine = workers.scanned_by()[victim.pid]
        saved = set(saved_targets(pg_store, submitted.run_id))
        return bool(mine["stalled"]) and len(mine["served"]) == STALL_AFTER <= len(
            mine["served"] & saved
        )

    until(victim_stuck_mid_chunk, 30, "the victim to save part of a chunk and stall", workers)
    survivor = workers.start("survivor")
    until(
        lambda: len(saved_targets(pg_store, submitted.run_id)) >= STALL_AFTER + 2 * CHUNK_SIZE,
        30,
        "the survivor to save two chunks",
        workers,
    )
    os.killpg(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=10) == -signal.SIGKILL

    wait(pg_store, submitted.run_id, timeout=60, interval=0.2)

    assert sorted(saved_targets(pg_store, submitted.run_id)) == names
    with pg_store.transaction() as session:
        run = session.get(ScanRun, submitted.run_id)
        assert run is not None and run.status is RunStatus.FINISHED
    scanned = workers.scanned_by()
    by_victim, by_survivor = scanned[victim.pid], scanned[survivor.pid]
    assert by_victim["stalled"] <= by_survivor["served"], "the dead worker's chunk was re-run"
    assert not by_victim["served"] & by_survivor["served"], "saved targets were not rescanned"
    assert survivor.poll() is None, workers.output()
