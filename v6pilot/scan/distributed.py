"""Distributed scans: a run split into chunks that Celery workers scan with the asyncio engine,
each result saved to PostgreSQL as it comes. Messages are acknowledged only after a chunk is
done and saving a target twice replaces it, so a worker dying mid-chunk loses nothing (another
worker re-runs the chunk, skipping what was saved) and duplicates nothing."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

from celery import Celery
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from v6pilot.checks.context import ScanOptions, Target
from v6pilot.errors import V6PilotError
from v6pilot.metrics import QUEUE_DEPTH
from v6pilot.net.network import Network
from v6pilot.net.polite import Limits
from v6pilot.scan.session import (
    NetworkConfig,
    NetworkFactory,
    ScanPlan,
    options_from_json,
    options_to_json,
    results,
)
from v6pilot.scoring.rubric import Rubric, parse_rubric
from v6pilot.store.db import Store, database_url, make_engine
from v6pilot.store.models import RunStatus, ScanResult, ScanRun
from v6pilot.store.runs import (
    add_run_targets,
    count_missing,
    count_planned,
    create_run,
    finish_run,
    save_result,
)

TASK_NAME = "v6pilot.scan_chunk"
BROKER_ENV = "V6PILOT_BROKER"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
RESULT_BACKEND_ENV = "V6PILOT_RESULT_BACKEND"
QUEUE_ENV = "V6PILOT_QUEUE"
DEFAULT_QUEUE = "v6pilot"
VISIBILITY_ENV = "V6PILOT_VISIBILITY_TIMEOUT"
DEFAULT_VISIBILITY = 900
NETWORK_FACTORY_ENV = "V6PILOT_NETWORK_FACTORY"
DEFAULT_CHUNK_SIZE = 50
DEFAULT_CONCURRENCY = 50
DB_RETRIES = 10
DB_RETRY_MAX_SECONDS = 60


class DistributedError(V6PilotError):
    """A distributed scan cannot be submitted, or its run failed or did not finish in time."""


class ChunkItem(TypedDict):
    """One target of a chunk as it travels through the broker."""

    raw: str
    host: str
    url: str
    asset_id: int | None


@dataclass(frozen=True)
class Submitted:
    """A run whose chunks are queued: `expected` distinct targets in `chunks` messages."""

    run_id: int
    expected: int
    chunks: int


ConfiguredNetwork = Callable[[NetworkConfig, ScanOptions], Network]


def network_to_json(config: NetworkConfig) -> dict[str, Any]:
    """The network configuration as JSON-ready data, for the broker."""
    return {
        "resolvers": [list(r) for r in config.resolvers],
        "root_hints": str(config.root_hints) if config.root_hints else None,
        "ca_file": str(config.ca_file) if config.ca_file else None,
        "netns": config.netns,
        "limits": config.limits.to_dict() if config.limits else None,
        "limiter_url": config.limiter_url,
    }


def network_from_json(data: Mapping[str, Any]) -> NetworkConfig:
    """The network configuration back from `network_to_json` data."""
    return NetworkConfig(
        resolvers=tuple((str(ip), int(port)) for ip, port in data["resolvers"]),
        root_hints=Path(data["root_hints"]) if data["root_hints"] else None,
        ca_file=Path(data["ca_file"]) if data["ca_file"] else None,
        netns=data["netns"],
        limits=Limits.from_dict(data["limits"]) if data["limits"] else None,
        limiter_url=data["limiter_url"],
    )


def rubric_to_json(rubric: Rubric) -> dict[str, Any]:
    """The rubric as the document `parse_rubric` reads, so workers need no copy of its file."""
    return {
        "name": rubric.name,
        "points": dict(rubric.points),
        "not_applicable": sorted(rubric.not_applicable),
        "items": [asdict(item) for item in rubric.items],
        "bands": [asdict(band) for band in rubric.bands],
    }


def rubric_from_json(data: Mapping[str, Any]) -> Rubric:
    """The rubric back from `rubric_to_json` data."""
    return parse_rubric(dict(data))


def chunk_targets(
    targets: Iterable[Target], asset_ids: Mapping[str, int], size: int
) -> list[list[ChunkItem]]:
    """The targets in chunks of at most `size`, each URL once (a run plans each URL once),
    with its inventory asset id."""
    if size < 1:
        raise DistributedError(f"the chunk size must be at least 1, not {size}")
    seen: set[str] = set()
    items: list[ChunkItem] = []
    for target in targets:
        if target.url not in seen:
            seen.add(target.url)
            items.append(
                ChunkItem(
                    raw=target.raw,
                    host=target.host,
                    url=target.url,
                    asset_id=asset_ids.get(target.url),
                )
            )
    return [items[start : start + size] for start in range(0, len(items), size)]


def load_factory(spec: str) -> ConfiguredNetwork:
    """The function named `module:function`."""
    module_name, _, attribute = spec.partition(":")
    try:
        factory: ConfiguredNetwork = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise DistributedError(f"${NETWORK_FACTORY_ENV}={spec!r} names no function: {exc}") from exc
    return factory


def injected_network(config: NetworkConfig, options: ScanOptions) -> NetworkFactory | None:
    """The network tests put in place of the live one: the factory `$V6PILOT_NETWORK_FACTORY`
    names, called with the chunk's configuration; None (unset) means the scan's own network,
    live and, when the run has limits, polite through the shared limiter."""
    spec = os.environ.get(NETWORK_FACTORY_ENV)
    if not spec:
        return None
    factory = load_factory(spec)
    return lambda: factory(config, options)


def worker_store(db_url: str) -> Store:
    """A store on `db_url` that connects on first use, so a database outage surfaces as a
    retryable OperationalError; the submitter has already migrated it."""
    engine = make_engine(database_url(db_url))
    return Store(engine.url.render_as_string(hide_password=False), engine, sessionmaker(engine))


def saved_urls(session: Session, run_id: int, urls: list[str]) -> set[str]:
    """Which of `urls` already have a result in run `run_id`."""
    query = select(ScanResult.url).where(ScanResult.run_id == run_id, ScanResult.url.in_(urls))
    return set(session.scalars(query))


def finish_if_complete(store: Store, run_id: int) -> bool:
    """Mark the run finished once each planned target has a result; True when it is finished.
    The row lock lets concurrent workers and the waiting submitter race here safely."""
    with store.transaction() as session:
        run = session.get(ScanRun, run_id, with_for_update=True)
        if run is None:
            return False
        complete = count_planned(session, run_id) and not count_missing(session, run_id)
        if run.status is RunStatus.RUNNING and complete:
            finish_run(session, run_id)
        return run.status is RunStatus.FINISHED


def fail_run(store: Store, run_id: int, note: str) -> None:
    """Mark a still-running run failed, so waiting stops and other chunks are skipped."""
    with store.transaction() as session:
        run = session.get(ScanRun, run_id, with_for_update=True)
        if run is not None and run.status is RunStatus.RUNNING:
            finish_run(session, run_id, status=RunStatus.FAILED, note=note)


def scan_chunk(
    run_id: int,
    db_url: str,
    chunk: list[ChunkItem],
    options: Mapping[str, Any],
    network: Mapping[str, Any],
    rubric: Mapping[str, Any],
    *,
    concurrency: int,
) -> int:
    """Scan the chunk's targets not yet saved in run `run_id` on a fresh event loop, saving
    each result as it comes (one transaction each), then finish the run if it is complete. A
    run that is no longer running (finished, failed, deleted) is left alone. Returns how many
    targets were scanned."""
    store = worker_store(db_url)
    try:
        with store.transaction() as session:
            run = session.get(ScanRun, run_id)
            if run is None or run.status is not RunStatus.RUNNING:
                return 0
            done = saved_urls(session, run_id, [item["url"] for item in chunk])
        todo = [item for item in chunk if item["url"] not in done]
        asset_ids = {item["url"]: item["asset_id"] for item in todo}
        if todo:
            config = network_from_json(network)
            scan_options = options_from_json(options)
            plan = ScanPlan(
                targets=[Target(item["raw"], item["host"], item["url"]) for item in todo],
                problems=[],
                options=scan_options,
                rubric=rubric_from_json(rubric),
                network=config,
            )
            injected = injected_network(config, scan_options)
            for result in results(plan, concurrency=concurrency, network=injected):
                with store.transaction() as session:
                    save_result(session, run_id, result, asset_ids[result["url"]])
        finish_if_complete(store, run_id)
        return len(todo)
    finally:
        store.close()


def _scan_chunk_task(task: Any, run_id: int, db_url: str, *args: Any, **kwargs: Any) -> int:
    """The Celery task: retry while the database is unreachable; any other failure fails the
    run (its chunk cannot complete), then propagates so the worker logs it."""
    try:
        return scan_chunk(run_id, db_url, *args, **kwargs)
    except OperationalError as exc:
        countdown = min(DB_RETRY_MAX_SECONDS, 2**task.request.retries)
        raise task.retry(exc=exc, countdown=countdown, max_retries=DB_RETRIES) from exc
    except Exception as exc:
        store = worker_store(db_url)
        try:
            note = f"a chunk failed on {task.request.hostname}: {type(exc).__name__}: {exc}"
            fail_run(store, run_id, note)
        finally:
            store.close()
        raise


def make_app(
    broker: str | None = None,
    *,
    result_backend: str | None = None,
    queue: str | None = None,
    visibility_timeout: int | None = None,
) -> Celery:
    """A Celery app for distributed scans; each argument defaults to its environment variable
    ($V6PILOT_BROKER, $V6PILOT_RESULT_BACKEND, $V6PILOT_QUEUE, $V6PILOT_VISIBILITY_TIMEOUT).

    `visibility_timeout` (seconds, Redis only) is how long a delivered chunk may stay
    unacknowledged before Redis hands it to another worker: it must exceed the longest chunk,
    and it is how soon a dead worker's chunk is re-run.
    """
    broker_url = broker or os.environ.get(BROKER_ENV) or DEFAULT_BROKER
    backend = result_backend or os.environ.get(RESULT_BACKEND_ENV) or None
    queue_name = queue or os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE
    visibility = visibility_timeout or int(os.environ.get(VISIBILITY_ENV) or DEFAULT_VISIBILITY)
    app = Celery("v6pilot", broker=broker_url, backend=backend, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=backend is None,
        task_default_queue=queue_name,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, visibility // 10),
            "unacked_restore_throttle": 1,
            "unacked_key": f"{queue_name}.unacked",
            "unacked_index_key": f"{queue_name}.unacked_index",
            "unacked_mutex_key": f"{queue_name}.unacked_mutex",
        },
    )
    app.task(name=TASK_NAME, bind=True)(_scan_chunk_task)
    return app


def shared_limits(network: NetworkConfig, broker_url: str) -> NetworkConfig:
    """The network configuration workers get: per-destination limits, when set, are kept in
    Redis so that they hold across all workers (in the broker's Redis unless given)."""
    if network.limits is None or network.limiter_url is not None:
        return network
    if not broker_url.startswith(("redis://", "rediss://")):
        raise DistributedError(
            "per-destination limits across workers need a Redis limiter; the broker is not "
            "Redis, so name a Redis server for the limiter"
        )
    return replace(network, limiter_url=broker_url)


def submit(
    plan: ScanPlan,
    store: Store,
    *,
    app: Celery,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Submitted:
    """Create the run in `store` with its planned targets and queue them as chunks for the
    workers, who scan each chunk with at most `concurrency` targets in flight."""
    if store.engine.dialect.name != "postgresql":
        raise DistributedError(
            "a distributed scan needs a PostgreSQL database every worker reaches"
        )
    chunks = chunk_targets(plan.targets, plan.asset_ids, chunk_size)
    if not chunks:
        raise DistributedError("nothing to scan")
    expected = sum(len(chunk) for chunk in chunks)
    options = options_to_json(plan.options)
    network = network_to_json(shared_limits(plan.network, app.conf.broker_url))
    with store.transaction() as session:
        run_id = create_run(
            session,
            profile=plan.options.profile,
            rubric=plan.rubric.name,
            options={**options, "distributed": {"chunk_size": chunk_size, "chunks": len(chunks)}},
            note=f"distributed: {expected} targets in {len(chunks)} chunks",
        ).id
        add_run_targets(session, run_id, (item for chunk in chunks for item in chunk))
    task = app.tasks[TASK_NAME]
    shared = [options, network, rubric_to_json(plan.rubric)]
    try:
        for chunk in chunks:
            task.apply_async(
                args=[run_id, store.url, chunk, *shared], kwargs={"concurrency": concurrency}
            )
    except BrokerError as exc:
        fail_run(store, run_id, f"the broker refused the chunks: {exc}")
        raise DistributedError(f"cannot queue run {run_id} on the broker: {exc}") from exc
    return Submitted(run_id, expected, len(chunks))


def wait(
    store: Store,
    run_id: int,
    *,
    timeout: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    interval: float = 1.0,
) -> None:
    """Poll run `run_id` until each planned target has a result, then mark it finished.

    `progress(saved, planned)` is called whenever the count changes. Raises DistributedError
    when the run failed, or after `timeout` seconds; the queued chunks are still scanned then,
    and the worker saving the last result finishes the run.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    shown = -1
    while True:
        with store.transaction() as session:
            run = session.get(ScanRun, run_id)
            if run is None:
                raise DistributedError(f"no scan run {run_id}")
            status, note = run.status, run.note
            planned = count_planned(session, run_id)
            saved = planned - count_missing(session, run_id)
        QUEUE_DEPTH.set(planned - saved)
        if progress is not None and saved != shown:
            progress(saved, planned)
            shown = saved
        if status is RunStatus.FAILED:
            raise DistributedError(f"run {run_id} failed: {note}")
        if status is RunStatus.FINISHED:
            return
        if saved == planned and finish_if_complete(store, run_id):
            return
        if deadline is not None and time.monotonic() > deadline:
            raise DistributedError(
                f"run {run_id}: {saved} of {planned} results after {timeout:g} s; the workers "
                "carry on and the run is marked finished when its last result is saved"
            )
        time.sleep(interval)
