"""The XLSX report: a sheet per level with bilingual headers, coloured shares and an overall
row, then sheets of goals, changes and assets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from v6pilot.reports.columns import GROUP_COLUMNS, Kind
from v6pilot.reports.data import ReportData
from v6pilot.reports.labels import both, group_label, label, sheet_title
from v6pilot.scoring.aggregate import OVERALL, SCORE_METRICS, GroupStats
from v6pilot.scoring.compare import Change, RunComparison
from v6pilot.scoring.records import AssetRecord
from v6pilot.scoring.targets import BLOCKING, State, TargetStatus

FORMATS = {Kind.FRACTION: "0.0%", Kind.SCORE: "0.0", Kind.COUNT: "0", Kind.TEXT: "@"}
WIDTHS = {Kind.FRACTION: 14, Kind.SCORE: 12, Kind.COUNT: 10, Kind.TEXT: 28}
BLOCKERS_SHOWN = 50

GREEN = ("C6EFCE", "006100")
AMBER = ("FFEB9C", "9C5700")
RED = ("FFC7CE", "9C0006")
STATE_COLOURS = {State.MET: GREEN, State.NOT_MET: AMBER, State.OVERDUE: RED}
HEADER_ROWS = 2
FIRST_DATA_ROW = HEADER_ROWS + 1


def _fill(colours: tuple[str, str]) -> PatternFill:
    return PatternFill(start_color=colours[0], end_color=colours[0], fill_type="solid")


def _font(colours: tuple[str, str]) -> Font:
    return Font(color=colours[1])


@dataclass(frozen=True)
class Field:
    """A column of a sheet: its label key, cell format and width."""

    key: str
    number_format: str = "@"
    width: float = 14


def _header(sheet: Worksheet, columns: Sequence[Field]) -> None:
    """Chinese labels on row 1, English on row 2, frozen with the first column."""
    sheet.append([label(c.key, "zh") for c in columns])
    sheet.append([label(c.key, "en") for c in columns])
    for row in sheet.iter_rows(min_row=1, max_row=HEADER_ROWS):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"B{FIRST_DATA_ROW}"


def _rows(sheet: Worksheet, columns: Sequence[Field], rows: Iterable[Sequence[Any]]) -> None:
    for values in rows:
        sheet.append(list(values))
        for cell, column in zip(sheet[sheet.max_row], columns, strict=True):
            cell.number_format = column.number_format
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _colour_rules(sheet: Worksheet, column: int, green: float, amber: float) -> None:
    """Green >= `green`, amber >= `amber`, red below, on the column's numeric cells."""
    letter = get_column_letter(column)
    first = f"{letter}{FIRST_DATA_ROW}"
    cells = f"{first}:{letter}{max(sheet.max_row, FIRST_DATA_ROW)}"
    rules = (
        (f"AND(ISNUMBER({first}),{first}>={green})", GREEN),
        (f"AND(ISNUMBER({first}),{first}>={amber},{first}<{green})", AMBER),
        (f"AND(ISNUMBER({first}),{first}<{amber})", RED),
    )
    for formula, colours in rules:
        sheet.conditional_formatting.add(
            cells, FormulaRule(formula=[formula], fill=_fill(colours), font=_font(colours))
        )


def _group_sheet(
    book: Workbook, level: str, groups: Sequence[GroupStats], overall: GroupStats
) -> None:
    sheet = book.create_sheet(sheet_title(f"level.{level}"))
    columns = [Field(f"column.{c.key}", FORMATS[c.kind], WIDTHS[c.kind]) for c in GROUP_COLUMNS]
    _header(sheet, columns)

    def row(stats: GroupStats, name: str) -> list[Any]:
        """The cells of a group's row, its name shown as `name`."""
        return [name if c.key == "name" else c.value(stats) for c in GROUP_COLUMNS]

    _rows(sheet, columns, (row(g, group_label(level, g.name)) for g in groups))
    _rows(sheet, columns, [row(overall, both(f"level.{OVERALL}", " "))])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, column in enumerate(GROUP_COLUMNS, start=1):
        if column.colour_from:
            _colour_rules(sheet, index, *column.colour_from)


def _metric_format(indicator: str) -> str:
    return FORMATS[Kind.SCORE] if indicator in SCORE_METRICS else FORMATS[Kind.FRACTION]


def _blockers_text(status: TargetStatus) -> str:
    shown = [b.target for b in status.blockers[:BLOCKERS_SHOWN]]
    rest = len(status.blockers) - len(shown)
    return "\n".join(shown) + (f"\n… (+{rest})" if rest > 0 else "")


def _targets_sheet(book: Workbook, targets: Sequence[TargetStatus]) -> None:
    sheet = book.create_sheet(sheet_title("sheet.targets"))
    columns = [
        Field("column.level"),
        Field("column.group", width=20),
        Field("column.indicator", width=28),
        Field("column.comparison", width=8),
        Field("column.threshold", "General"),
        Field("column.deadline", "yyyy-mm-dd", 12),
        Field("column.state"),
        Field("column.actual", "General"),
        Field("column.gap", "General"),
        Field("column.assets", FORMATS[Kind.COUNT], 10),
        Field("column.blockers", width=40),
    ]
    _header(sheet, columns)
    for status in targets:
        goal = status.goal
        values = [
            both(f"level.{goal.level}", " "),
            group_label(goal.level, goal.group),
            both(f"column.{goal.indicator}", " "),
            goal.comparison,
            goal.threshold,
            goal.deadline,
            both(f"state.{status.state.value}", " "),
            status.actual,
            status.gap,
            status.assets,
            _blockers_text(status),
        ]
        _rows(sheet, columns, [values])
        row = sheet[sheet.max_row]
        for cell in (row[4], row[7], row[8]):
            cell.number_format = _metric_format(goal.indicator)
        row[6].fill = _fill(STATE_COLOURS[status.state])
        row[6].font = _font(STATE_COLOURS[status.state])


def _changes_sheet(book: Workbook, comparison: RunComparison) -> None:
    sheet = book.create_sheet(sheet_title("sheet.changes"))
    columns = [
        Field("column.target", width=30),
        Field("column.change"),
        Field("column.old_grade"),
        Field("column.new_grade"),
        Field("column.old_score", FORMATS[Kind.SCORE], 12),
        Field("column.new_score", FORMATS[Kind.SCORE], 12),
        Field("column.reasons", width=40),
        Field("column.check_changes", width=50),
    ]
    _header(sheet, columns)
    changed = (a for a in comparison.assets if a.change is not Change.UNCHANGED)
    _rows(
        sheet,
        columns,
        (
            [
                a.target,
                both(f"change.{a.change.value}", " "),
                _grade(a.old_grade),
                _grade(a.new_grade),
                a.old_score,
                a.new_score,
                "\n".join(both(f"reason.{r.value}", " ") for r in a.reasons),
                "\n".join(f"{c.check}: {c.old or '-'} → {c.new or '-'}" for c in a.checks),
            ]
            for a in changed
        ),
    )


def _grade(grade: str | None) -> str | None:
    return both(f"grade.{grade}", " ") if grade else None


def _problems(record: AssetRecord, lang: str) -> str:
    key = "message_zh" if lang == "zh" else "message"
    return "\n".join(
        f"{check_id}: {check.get(key, '')}"
        for check_id, check in record.result.get("checks", {}).items()
        if check.get("status") in BLOCKING
    )


def _assets_sheet(book: Workbook, assets: Sequence[AssetRecord]) -> None:
    sheet = book.create_sheet(sheet_title("sheet.assets"))
    columns = [
        Field("column.target", width=30),
        Field("column.kind", width=10),
        *(Field(f"level.{k}", width=18) for k in ("organisation", "industry", "city", "province")),
        Field("column.projects", width=18),
        Field("column.directions", width=18),
        Field("column.grade"),
        Field("column.score", FORMATS[Kind.SCORE], 10),
        Field("column.failing_checks", width=30),
        Field("column.problems_zh", width=60),
        Field("column.problems_en", width=60),
    ]
    _header(sheet, columns)
    _rows(
        sheet,
        columns,
        (
            [
                record.target,
                record.kind,
                record.organisation,
                record.industry,
                record.city,
                record.province,
                ", ".join(record.projects),
                ", ".join(record.directions),
                _grade(record.result.get("grade")),
                record.result.get("score"),
                "\n".join(
                    f"{check_id} ({check.get('status')})"
                    for check_id, check in record.result.get("checks", {}).items()
                    if check.get("status") in BLOCKING
                ),
                _problems(record, "zh"),
                _problems(record, "en"),
            ]
            for record in assets
        ),
    )


def build_workbook(data: ReportData, levels: Sequence[str] | None = None) -> Workbook:
    """A sheet per level (all the summary's levels by default), then goals, changes, assets.

    The goals, changes and assets sheets appear when the report data has them.
    """
    book = Workbook()
    book.remove(book.active)
    for level in levels if levels is not None else list(data.summary.levels):
        _group_sheet(book, level, data.groups(data.level(level)), data.summary.overall)
    if data.targets:
        _targets_sheet(book, data.targets)
    if data.comparison is not None:
        _changes_sheet(book, data.comparison)
    if data.assets:
        _assets_sheet(book, data.assets)
    return book


def write_xlsx(path: Path, data: ReportData, levels: Sequence[str] | None = None) -> None:
    """Write the workbook of `build_workbook` to `path`."""
    build_workbook(data, levels).save(path)
