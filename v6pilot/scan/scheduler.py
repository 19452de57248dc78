"""Periodic rescans of the inventory: which schedules are due, running one, and what regressed
since that schedule's previous run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from croniter import croniter

from v6pilot.checks.context import ScanOptions
from v6pilot.scan import session as scan_session
from v6pilot.scoring.compare import AssetChange, Change, compare_runs
from v6pilot.store.db import Store
from v6pilot.store.models import Schedule
from v6pilot.store.recorder import RunRecorder
from v6pilot.store.runs import asset_records
from v6pilot.store.schedules import list_schedules, record_schedule_run, schedule_filter


@dataclass(frozen=True)
class ScheduledRun:
    """One finished scheduled scan and the assets that got worse since the previous one."""

    schedule: str
    run_id: int
    previous_run_id: int | None
    regressed: list[AssetChange]


def next_fire(cron: str, after: datetime) -> datetime:
    """The first time after `after` that `cron` fires (UTC)."""
    fire: datetime = croniter(cron, after).get_next(datetime)
    return fire


def is_due(schedule: Schedule, now: datetime) -> bool:
    """Due when it never ran, or when it has fired since its last run started."""
    last = schedule.last_run
    if last is None:
        return True
    started = last.started_at if last.started_at.tzinfo else last.started_at.replace(tzinfo=UTC)
    return next_fire(schedule.cron, started) <= now


def due_schedules(store: Store, now: datetime) -> list[str]:
    with store.transaction() as session:
        return [s.name for s in list_schedules(session) if is_due(s, now)]


def run_schedule(
    store: Store,
    name: str,
    *,
    network: scan_session.NetworkConfig,
    options: ScanOptions,
    concurrency: int,
    on_each: Callable[[], None] = lambda: None,
) -> ScheduledRun:
    """Scan the schedule's assets now, store the run, and compare it with the previous one."""
    with store.transaction() as session:
        schedule = next(s for s in list_schedules(session) if s.name == name)
        where, previous = schedule_filter(schedule), schedule.last_run_id
        profile = schedule.profile
    plan_options = replace(options, profile=profile)
    plan = scan_session.plan_inventory_scan(
        store, where, options=plan_options, network=network, rubric=None
    )
    recorder = RunRecorder(
        store,
        profile=profile,
        rubric=plan.rubric.name,
        expected=len(plan.targets),
        asset_ids=plan.asset_ids,
        note=f"schedule {name}",
    )
    scan_session.run(plan, concurrency=concurrency, writers=[recorder], on_each=on_each)
    with store.transaction() as session:
        record_schedule_run(session, name, recorder.run_id)
        new = list(asset_records(session, recorder.run_id))
        old = list(asset_records(session, previous)) if previous is not None else []
    regressed = compare_runs(old, new).changed(Change.REGRESSED) if old else []
    return ScheduledRun(name, recorder.run_id, previous, list(regressed))
