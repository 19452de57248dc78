"""Scan runs and their results: start and finish a run, save each contract line idempotently,
and stream a run's results back, alone or joined with the inventory for aggregation. A run's
planned targets are kept too, so that an interrupted run can be resumed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Executable, Row, exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from v6pilot.inventory.model import AssetKind
from v6pilot.scoring.records import AssetRecord
from v6pilot.store.errors import StoreError
from v6pilot.store.models import (
    Asset,
    Organisation,
    Project,
    Region,
    RunStatus,
    RunTarget,
    ScanResult,
    ScanRun,
    asset_projects,
)

BATCH = 500
REPLACED_COLUMNS = ("asset_id", "url", "grade", "score", "result")


def create_run(
    session: Session,
    *,
    profile: str,
    rubric: str,
    options: Mapping[str, Any] | None = None,
    note: str | None = None,
    started_at: datetime | None = None,
) -> ScanRun:
    """A new run in state `running`, flushed so its id is known."""
    run = ScanRun(
        started_at=started_at or datetime.now(UTC),
        profile=profile,
        rubric=rubric,
        options=dict(options or {}),
        status=RunStatus.RUNNING,
        note=note,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> ScanRun:
    """The run `run_id`; StoreError when there is none."""
    run = session.get(ScanRun, run_id)
    if run is None:
        raise StoreError(f"no scan run {run_id}")
    return run


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: RunStatus = RunStatus.FINISHED,
    note: str | None = None,
    finished_at: datetime | None = None,
) -> ScanRun:
    """Mark the run finished (or failed), stamped now unless `finished_at` is given."""
    if status is RunStatus.RUNNING:
        raise StoreError("a run finishes as finished or failed, not running")
    run = get_run(session, run_id)
    run.status = status
    run.finished_at = finished_at or datetime.now(UTC)
    if note is not None:
        run.note = note
    return run


def reopen_run(session: Session, run_id: int) -> ScanRun:
    """Put run `run_id` back in state `running` (to resume it), keeping everything else."""
    run = get_run(session, run_id)
    run.status = RunStatus.RUNNING
    run.finished_at = None
    return run


def add_run_targets(
    session: Session, run_id: int, targets: Iterable[Mapping[str, Any]], *, batch: int = BATCH
) -> int:
    """Record the targets run `run_id` plans to scan, in order; each a mapping with `raw`,
    `host`, `url` and `asset_id` (or None). URLs must be unique within the run."""
    rows = (
        {
            "run_id": run_id,
            "raw": target["raw"],
            "host": target["host"],
            "url": target["url"],
            "asset_id": target.get("asset_id"),
        }
        for target in targets
    )
    count = 0
    while chunk := list(islice(rows, batch)):
        session.execute(insert(RunTarget), chunk)
        count += len(chunk)
    return count


def planned_targets(session: Session, run_id: int, *, batch: int = BATCH) -> Iterator[RunTarget]:
    """The targets run `run_id` planned, in plan order, fetched `batch` at a time."""
    query = (
        select(RunTarget)
        .where(RunTarget.run_id == run_id)
        .order_by(RunTarget.id)
        .execution_options(yield_per=batch)
    )
    yield from session.scalars(query)


def count_planned(session: Session, run_id: int) -> int:
    """How many targets run `run_id` planned (0 for a run recorded without its plan)."""
    query = select(func.count()).select_from(RunTarget).where(RunTarget.run_id == run_id)
    return session.scalar(query) or 0


def done_targets(session: Session, run_id: int) -> set[str]:
    """The URLs of the targets run `run_id` has a saved result for."""
    return set(session.scalars(select(ScanResult.url).where(ScanResult.run_id == run_id)))


def count_missing(session: Session, run_id: int) -> int:
    """How many planned targets of run `run_id` have no saved result yet."""
    saved = exists().where(ScanResult.run_id == run_id, ScanResult.url == RunTarget.url)
    query = select(func.count()).select_from(RunTarget).where(RunTarget.run_id == run_id, ~saved)
    return session.scalar(query) or 0


def latest_run_ids(
    session: Session, *, limit: int = 1, status: RunStatus | None = RunStatus.FINISHED
) -> list[int]:
    """The ids of the newest runs (by start time), newest first; any status when None."""
    query = select(ScanRun.id).order_by(ScanRun.started_at.desc(), ScanRun.id.desc()).limit(limit)
    if status is not None:
        query = query.where(ScanRun.status == status)
    return list(session.scalars(query))


def save_result(
    session: Session, run_id: int, result: Mapping[str, Any], asset_id: int | None = None
) -> None:
    """Store one contract line of run `run_id`; saving the same target again replaces it."""
    try:
        values = {
            "run_id": run_id,
            "asset_id": asset_id,
            "target": str(result["target"]),
            "url": str(result["url"]),
            "grade": result.get("grade"),
            "score": result.get("score"),
            "result": dict(result),
        }
    except KeyError as exc:
        raise StoreError(f"a scan result needs {exc.args[0]!r}") from exc
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        on_postgresql = postgresql.insert(ScanResult).values(values)
        replaced = {c: on_postgresql.excluded[c] for c in REPLACED_COLUMNS}
        upsert: Executable = on_postgresql.on_conflict_do_update(
            index_elements=["run_id", "target"], set_=replaced
        )
    elif dialect == "sqlite":
        on_sqlite = sqlite.insert(ScanResult).values(values)
        replaced = {c: on_sqlite.excluded[c] for c in REPLACED_COLUMNS}
        upsert = on_sqlite.on_conflict_do_update(index_elements=["run_id", "target"], set_=replaced)
    else:
        raise StoreError(f"results cannot be saved to a {dialect} database")
    session.execute(upsert)


def iter_results(session: Session, run_id: int, *, batch: int = BATCH) -> Iterator[ScanResult]:
    """The results of run `run_id` in the order saved, fetched `batch` at a time."""
    query = (
        select(ScanResult)
        .where(ScanResult.run_id == run_id)
        .order_by(ScanResult.id)
        .execution_options(yield_per=batch)
    )
    yield from session.scalars(query)


def _memberships(session: Session, asset_ids: set[int]) -> dict[int, list[tuple[str, str | None]]]:
    """Each asset's projects as (title, direction), in the order they were added."""
    found: dict[int, list[tuple[str, str | None]]] = {}
    if not asset_ids:
        return found
    query = (
        select(asset_projects.c.asset_id, Project.title, Project.direction)
        .join(Project, Project.id == asset_projects.c.project_id)
        .where(asset_projects.c.asset_id.in_(asset_ids))
        .order_by(asset_projects.c.asset_id, Project.id)
    )
    for asset_id, title, direction in session.execute(query):
        found.setdefault(asset_id, []).append((title, direction))
    return found


def _record(row: Row[Any], projects: list[tuple[str, str | None]]) -> AssetRecord:
    directions = dict.fromkeys(str(d) for _, d in projects if d is not None)
    return AssetRecord(
        asset_id=row.asset_id,
        target=row.target,
        kind=str(row.kind or AssetKind.WEBSITE),
        organisation=row.organisation,
        industry=str(row.industry) if row.industry else None,
        city=row.city,
        province=row.province,
        projects=tuple(title for title, _ in projects),
        directions=tuple(directions),
        result=row.result,
    )


def asset_records(session: Session, run_id: int, *, batch: int = BATCH) -> Iterator[AssetRecord]:
    """Every result of run `run_id` with its asset's groups, streamed `batch` at a time; an
    ad-hoc result (no asset) is a website with no groups."""
    query = (
        select(
            ScanResult.asset_id,
            ScanResult.target,
            ScanResult.result,
            Asset.kind,
            Organisation.name.label("organisation"),
            Organisation.industry,
            Region.city,
            Region.province,
        )
        .outerjoin(Asset, Asset.id == ScanResult.asset_id)
        .outerjoin(Organisation, Organisation.id == Asset.organisation_id)
        .outerjoin(Region, Region.id == Organisation.region_id)
        .where(ScanResult.run_id == run_id)
        .order_by(ScanResult.id)
        .execution_options(yield_per=batch)
    )
    for partition in session.execute(query).partitions():
        projects = _memberships(session, {r.asset_id for r in partition if r.asset_id is not None})
        for row in partition:
            yield _record(row, projects.get(row.asset_id, []))
