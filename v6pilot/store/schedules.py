"""Schedules: recurring scans of the inventory assets matching a filter, by cron expression.
Create, read, update, record their last run and delete them."""

from __future__ import annotations

from collections.abc import Sequence

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from v6pilot.store.assets import AssetFilter
from v6pilot.store.errors import StoreError
from v6pilot.store.models import Schedule
from v6pilot.store.runs import get_run


def checked_cron(expression: str) -> str:
    """`expression` with single spaces if it has the five fields of a cron schedule."""
    parts = expression.split()
    if len(parts) != 5 or not croniter.is_valid(" ".join(parts)):
        raise StoreError(f"{expression!r} is not a cron expression (minute hour day month weekday)")
    return " ".join(parts)


def schedule_filter(schedule: Schedule) -> AssetFilter:
    """Which assets the schedule scans."""
    return AssetFilter.from_dict(schedule.inventory_filter)


def get_schedule(session: Session, name: str) -> Schedule:
    """The schedule `name`; StoreError when there is none."""
    schedule = session.scalar(select(Schedule).where(Schedule.name == name))
    if schedule is None:
        raise StoreError(f"no schedule {name!r}")
    return schedule


def add_schedule(
    session: Session,
    *,
    name: str,
    cron: str,
    profile: str,
    where: AssetFilter | None = None,
) -> Schedule:
    """A new schedule, flushed so its id is known; StoreError if the name is taken."""
    if session.scalar(select(Schedule.id).where(Schedule.name == name)) is not None:
        raise StoreError(f"schedule {name!r} exists")
    schedule = Schedule(
        name=name,
        cron=checked_cron(cron),
        profile=profile,
        inventory_filter=(where or AssetFilter()).to_dict(),
    )
    session.add(schedule)
    session.flush()
    return schedule


def list_schedules(session: Session) -> Sequence[Schedule]:
    """Every schedule, by name."""
    return session.scalars(select(Schedule).order_by(Schedule.name)).all()


def update_schedule(
    session: Session,
    name: str,
    *,
    cron: str | None = None,
    profile: str | None = None,
    where: AssetFilter | None = None,
) -> Schedule:
    """Change a schedule's cron expression, profile and/or asset filter."""
    schedule = get_schedule(session, name)
    if cron is not None:
        schedule.cron = checked_cron(cron)
    if profile is not None:
        schedule.profile = profile
    if where is not None:
        schedule.inventory_filter = where.to_dict()
    return schedule


def record_schedule_run(session: Session, name: str, run_id: int) -> Schedule:
    """Remember `run_id` as the schedule's latest run."""
    schedule = get_schedule(session, name)
    schedule.last_run = get_run(session, run_id)
    return schedule


def delete_schedule(session: Session, name: str) -> bool:
    """Delete a schedule; False when there was none."""
    schedule = session.scalar(select(Schedule).where(Schedule.name == name))
    if schedule is None:
        return False
    session.delete(schedule)
    session.flush()
    return True
