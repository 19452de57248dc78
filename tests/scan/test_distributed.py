"""Distributed scans without a broker: chunking, what travels in messages, the chunk task's
idempotency and failure handling, and submit + wait with Celery in eager mode."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.scan.fake_network import ScriptedNetwork
from tests.store.backends import postgres_schema, session_store, store
from v6pilot.checks.context import ScanOptions, Target
from v6pilot.net.polite import Limits
from v6pilot.scan.distributed import (
    DB_RETRIES,
    NETWORK_FACTORY_ENV,
    TASK_NAME,
    ChunkItem,
    DistributedError,
    Submitted,
    _scan_chunk_task,
    chunk_targets,
    load_factory,
    make_app,
    network_from_json,
    network_to_json,
    rubric_from_json,
    rubric_to_json,
    scan_chunk,
    shared_limits,
    submit,
    wait,
)
from v6pilot.scan.session import (
    NetworkConfig,
    ScanPlan,
    options_from_json,
    options_to_json,
    plan_scan,
)
from v6pilot.scan.worker import worker_argv
from v6pilot.scoring.rubric import load_rubric
from v6pilot.store import Store, open_store
from v6pilot.store.models import RunStatus, ScanResult, ScanRun
from v6pilot.store.runs import add_run_targets, create_run, finish_run, get_run, save_result

__all__ = ["session_store", "store"]

FAKE_FACTORY = "tests.scan.fake_network:make_network"
OPTIONS = ScanOptions(profile="quick", allow_private=True, timeout=1.0)


@pytest.fixture
def fake_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NETWORK_FACTORY_ENV, FAKE_FACTORY)


@pytest.fixture
def pg_store() -> Iterator[Store]:
    with postgres_schema() as url, open_store(url) as opened:
        yield opened


def hosts(count: int) -> list[str]:
    return [f"t{i:03d}.scale.example.cn" for i in range(count)]


def items(names: list[str]) -> list[ChunkItem]:
    return [ChunkItem(raw=n, host=n, url=f"http://{n}/", asset_id=None) for n in names]


def new_run(store: Store, planned: list[str]) -> int:
    """A running run that plans to scan `planned`."""
    with store.transaction() as session:
        run_id = create_run(session, profile="quick", rubric="default").id
        add_run_targets(session, run_id, items(planned))
        return run_id


def run_chunk(store: Store, run_id: int, chunk: list[ChunkItem]) -> int:
    return scan_chunk(
        run_id,
        store.url,
        chunk,
        options_to_json(OPTIONS),
        network_to_json(NetworkConfig()),
        rubric_to_json(load_rubric()),
        concurrency=4,
    )


def stored(store: Store, run_id: int) -> dict[str, dict[str, Any]]:
    with store.transaction() as session:
        rows = session.scalars(select(ScanResult).where(ScanResult.run_id == run_id))
        return {row.target: row.result for row in rows}


def status(store: Store, run_id: int) -> tuple[RunStatus, str | None]:
    with store.transaction() as session:
        run = get_run(session, run_id)
        return run.status, run.note


def test_chunks_hold_each_target_once_with_its_asset_id() -> None:
    targets = [Target(n, n, f"http://{n}/") for n in hosts(7)]
    same_url = Target(hosts(7)[2].upper(), hosts(7)[2], targets[2].url)
    chunks = chunk_targets([*targets, same_url], {"http://t004.scale.example.cn/": 44}, 3)
    assert [[item["raw"] for item in chunk] for chunk in chunks] == [
        hosts(7)[0:3],
        hosts(7)[3:6],
        hosts(7)[6:7],
    ]
    assert [item["asset_id"] for item in chunks[1]] == [None, 44, None]
    with pytest.raises(DistributedError, match="at least 1"):
        chunk_targets(targets, {}, 0)


def test_options_network_and_rubric_survive_the_json_broker(tmp_path: Any) -> None:
    options = ScanOptions(profile="full", timeout=2.5, sec_ports=(22, 443), allow_private=True)
    config = NetworkConfig(
        (("2001:db8::53", 5353),),
        tmp_path / "hints",
        None,
        "v6p-t-x",
        Limits(ip_rate=5.0),
        "redis://127.0.0.1:6379/1",
    )
    rubric = load_rubric()

    def through_json(data: dict[str, Any]) -> Any:
        return json.loads(json.dumps(data))

    assert options_from_json(through_json(options_to_json(options))) == options
    assert network_from_json(through_json(network_to_json(config))) == config
    assert rubric_from_json(through_json(rubric_to_json(rubric))) == rubric


def test_limits_are_shared_through_the_brokers_redis_unless_told_otherwise() -> None:
    polite = NetworkConfig(limits=Limits())
    assert shared_limits(polite, "redis://q:6379/0").limiter_url == "redis://q:6379/0"
    elsewhere = NetworkConfig(limits=Limits(), limiter_url="redis://l:6379/2")
    assert shared_limits(elsewhere, "amqp://q//") == elsewhere
    assert shared_limits(NetworkConfig(), "amqp://q//") == NetworkConfig()
    with pytest.raises(DistributedError, match="Redis limiter"):
        shared_limits(polite, "amqp://q//")


def test_a_network_factory_must_name_a_function() -> None:
    assert load_factory(FAKE_FACTORY).__name__ == "make_network"
    with pytest.raises(DistributedError, match="names no function"):
        load_factory("tests.scan.fake_network:no_such_thing")


@pytest.mark.usefixtures("fake_network")
def test_a_chunk_saves_every_target_once_and_skips_what_was_saved(store: Store) -> None:
    names = hosts(6)
    run_id = new_run(store, hosts(10))
    earlier = {"target": names[0], "url": f"http://{names[0]}/", "grade": "earlier"}
    with store.transaction() as session:
        save_result(session, run_id, earlier)

    assert run_chunk(store, run_id, items(names)) == 5
    results = stored(store, run_id)
    assert sorted(results) == names
    assert results[names[0]] == earlier
    assert {r["grade"] for t, r in results.items() if t != names[0]} == {"v6_full"}
    assert status(store, run_id) == (RunStatus.RUNNING, None)

    assert run_chunk(store, run_id, items(names)) == 0
    assert stored(store, run_id) == results


@pytest.mark.usefixtures("fake_network")
def test_the_chunk_completing_a_run_finishes_it(store: Store) -> None:
    run_id = new_run(store, hosts(5))
    run_chunk(store, run_id, items(hosts(3)))
    assert status(store, run_id)[0] is RunStatus.RUNNING
    run_chunk(store, run_id, items(hosts(5)[3:]))
    assert status(store, run_id)[0] is RunStatus.FINISHED


@pytest.mark.usefixtures("fake_network")
def test_chunks_of_a_run_that_stopped_are_skipped(store: Store) -> None:
    run_id = new_run(store, hosts(3))
    with store.transaction() as session:
        finish_run(session, run_id, status=RunStatus.FAILED, note="stopped")
    assert run_chunk(store, run_id, items(hosts(3))) == 0
    assert stored(store, run_id) == {}


def test_a_chunk_that_fails_fails_its_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NETWORK_FACTORY_ENV, "tests.scan.fake_network:missing")
    run_id = new_run(store, hosts(2))
    app = make_app("memory://")
    args = [
        run_id,
        store.url,
        items(hosts(2)),
        options_to_json(OPTIONS),
        network_to_json(NetworkConfig()),
        rubric_to_json(load_rubric()),
    ]
    outcome = app.tasks[TASK_NAME].apply(args=args, kwargs={"concurrency": 2})
    assert isinstance(outcome.result, DistributedError)
    state, note = status(store, run_id)
    assert state is RunStatus.FAILED
    assert note is not None and "names no function" in note


class RetryLater(Exception):
    """What the stand-in task's `retry` returns, for the task body to raise."""


def test_a_database_outage_is_retried_without_failing_the_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = new_run(store, hosts(2))

    def outage(*args: Any, **kwargs: Any) -> int:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    def retry(*, exc: Exception, countdown: float, max_retries: int) -> RetryLater:
        return RetryLater(countdown, max_retries)

    task = SimpleNamespace(request=SimpleNamespace(retries=3, hostname="w1"), retry=retry)
    monkeypatch.setattr("v6pilot.scan.distributed.scan_chunk", outage)
    with pytest.raises(RetryLater) as raised:
        _scan_chunk_task(task, run_id, store.url, items(hosts(2)), {}, {}, {}, concurrency=2)
    assert raised.value.args == (8, DB_RETRIES)
    assert status(store, run_id) == (RunStatus.RUNNING, None)


def plan(names: list[str]) -> ScanPlan:
    return plan_scan(names, None, options=OPTIONS, network=NetworkConfig(), rubric=None)


@pytest.mark.usefixtures("fake_network")
def test_submit_and_wait_scan_every_target_once_in_eager_mode(pg_store: Store) -> None:
    app = make_app("memory://")
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    names = hosts(25)
    submitted = submit(plan([*names, names[0]]), pg_store, app=app, chunk_size=10, concurrency=4)
    assert submitted == Submitted(submitted.run_id, expected=25, chunks=3)
    seen: list[tuple[int, int]] = []
    wait(pg_store, submitted.run_id, timeout=5, progress=lambda *p: seen.append(p))
    assert seen == [(25, 25)]
    assert sorted(stored(pg_store, submitted.run_id)) == names
    with pg_store.transaction() as session:
        run = session.get(ScanRun, submitted.run_id)
        assert run is not None
        assert (run.status, run.profile, run.options["distributed"]["chunks"]) == (
            RunStatus.FINISHED,
            "quick",
            3,
        )


def test_submit_needs_postgresql(tmp_path: Any) -> None:
    with (
        open_store(f"sqlite:///{tmp_path / 'v6pilot.db'}") as sqlite_store,
        pytest.raises(DistributedError, match="PostgreSQL"),
    ):
        submit(plan(hosts(2)), sqlite_store, app=make_app("memory://"))


def test_wait_reports_progress_then_gives_up(store: Store) -> None:
    run_id = new_run(store, hosts(3))
    with store.transaction() as session:
        save_result(session, run_id, {"target": hosts(1)[0], "url": f"http://{hosts(1)[0]}/"})
    seen: list[tuple[int, int]] = []
    with pytest.raises(DistributedError, match="1 of 3 results"):
        wait(store, run_id, timeout=0.2, interval=0.05, progress=lambda *p: seen.append(p))
    assert seen == [(1, 3)]
    assert status(store, run_id)[0] is RunStatus.RUNNING


def test_wait_stops_when_the_run_failed(store: Store) -> None:
    run_id = new_run(store, hosts(3))
    with store.transaction() as session:
        finish_run(session, run_id, status=RunStatus.FAILED, note="no IPv6 route")
    with pytest.raises(DistributedError, match="no IPv6 route"):
        wait(store, run_id, timeout=5)


def test_the_app_acknowledges_late_and_prefetches_one_json_message() -> None:
    conf = make_app("memory://", queue="scans-a", visibility_timeout=60).conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost) == (True, True)
    assert (conf.worker_prefetch_multiplier, conf.task_serializer, conf.accept_content) == (
        1,
        "json",
        ["json"],
    )
    assert conf.task_default_queue == "scans-a"
    assert conf.broker_transport_options["visibility_timeout"] == 60
    assert conf.broker_transport_options["unacked_key"] == "scans-a.unacked"


def test_a_worker_runs_one_process_per_core_by_default() -> None:
    argv = worker_argv(queue="scans-a", concurrency=None, hostname="w1@%h", loglevel="INFO")
    assert f"--concurrency={os.cpu_count()}" in argv
    assert {"--queues=scans-a", "--hostname=w1@%h"} <= set(argv)


def test_the_scripted_network_serves_then_stalls() -> None:
    net = ScriptedNetwork(stall_after=1)
    net._meet("a.example.cn")
    net._meet("b.example.cn")
    assert (net.served, net.stalled) == (["a.example.cn"], {"b.example.cn"})
