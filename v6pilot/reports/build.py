"""Assembling a report from the store (a run, optionally a run to compare with, the goals) and
writing it in the format its file name asks for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from v6pilot.errors import V6PilotError
from v6pilot.reports.csv_report import write_csv
from v6pilot.reports.data import ReportData
from v6pilot.reports.html_report import write_html
from v6pilot.reports.json_report import write_json
from v6pilot.reports.xlsx_report import write_xlsx
from v6pilot.scoring.aggregate import summarise
from v6pilot.scoring.compare import compare_runs
from v6pilot.scoring.records import LEVELS
from v6pilot.scoring.rubric import Rubric
from v6pilot.scoring.targets import Goal, evaluate_targets
from v6pilot.store.db import Store
from v6pilot.store.goals import list_targets
from v6pilot.store.runs import asset_records, get_run, latest_run_ids


class ReportError(V6PilotError):
    """A report cannot be built or written as asked."""


def stored_goals(store: Store) -> list[Goal]:
    with store.transaction() as session:
        return [
            Goal(t.level, t.group_name, t.indicator, t.threshold, t.deadline)
            for t in list_targets(session)
        ]


def build_report(
    store: Store,
    *,
    run_id: int | None = None,
    compare_with: int | None = None,
    levels: Sequence[str] = LEVELS,
    rubric: Rubric | None = None,
    today: date | None = None,
) -> ReportData:
    """The report of run `run_id` (default: the newest finished run) from the store."""
    with store.transaction() as session:
        if run_id is None:
            newest = latest_run_ids(session)
            if not newest:
                raise ReportError("the database holds no finished scan run yet")
            run_id = newest[0]
        run = get_run(session, run_id)
        label = f"run {run.id} ({run.profile}, {run.started_at:%Y-%m-%d %H:%M})"
        records = list(asset_records(session, run_id))
        old = list(asset_records(session, compare_with)) if compare_with is not None else None
    goals = stored_goals(store)
    return ReportData(
        summary=summarise(records, levels, rubric),
        run=label,
        targets=evaluate_targets(goals, records, today or date.today(), rubric),
        comparison=compare_runs(old, records, levels=levels, rubric=rubric) if old else None,
        assets=records,
    )


def write_report(path: Path, data: ReportData, level: str | None = None) -> None:
    """Write `data` as .json, .csv, .xlsx or .html by the extension of `path`."""
    writers = {".json": write_json, ".csv": write_csv, ".html": write_html}
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            write_xlsx(path, data, [level] if level else None)
        elif suffix in writers:
            writers[suffix](path, data, level)
        else:
            raise ReportError(f"{path}: unknown report format; use .json, .csv, .xlsx or .html")
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc}") from exc
