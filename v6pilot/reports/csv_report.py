"""The CSV report: one row per group of a level, then the overall row; English header."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from v6pilot.reports.columns import GROUP_COLUMNS, Column, Kind
from v6pilot.reports.data import ReportData
from v6pilot.scoring.aggregate import GroupStats

CSV_COLUMNS = (Column("level", Kind.TEXT), *GROUP_COLUMNS)


def csv_rows(data: ReportData, level: str | None = None) -> Iterator[list[str | int | float]]:
    """The header, each group's row and the overall row (shares as fractions, blanks for None)."""
    chosen = data.level(level)
    yield [c.key for c in CSV_COLUMNS]
    rows: list[GroupStats] = [*data.groups(chosen), data.summary.overall]
    for stats in rows:
        yield [_cell(c.value(stats)) for c in CSV_COLUMNS]


def _cell(value: str | int | float | None) -> str | int | float:
    return "" if value is None else value


def write_csv_to(handle: IO[str], data: ReportData, level: str | None = None) -> None:
    """Write the CSV report of one level to an open text handle."""
    csv.writer(handle).writerows(csv_rows(data, level))


def write_csv(path: Path, data: ReportData, level: str | None = None) -> None:
    """Write the CSV with a byte order mark, so spreadsheet programs read it as UTF-8."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        write_csv_to(handle, data, level)
