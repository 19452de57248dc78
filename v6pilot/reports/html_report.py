"""The printable HTML report of one level: group figures, then every asset needing work with
each problem and how to fix it, in Chinese and English (self-contained, autoescaped)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from v6pilot.checks.result import Status
from v6pilot.reports.columns import GROUP_COLUMNS, Kind
from v6pilot.reports.data import ReportData
from v6pilot.reports.labels import group_label, label
from v6pilot.reports.remedies import remedy
from v6pilot.scoring.aggregate import SCORE_METRICS, GroupStats, asset_score
from v6pilot.scoring.compare import Change, RunComparison
from v6pilot.scoring.records import AssetRecord
from v6pilot.scoring.targets import TargetStatus

SHOWN_STATUSES = (Status.FAIL.value, Status.WARN.value)
MISSING = "—"


def number(value: float | int | str | None, kind: Kind) -> str:
    """A figure as shown: fractions as percentages, scores with one decimal."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if kind is Kind.FRACTION:
        return f"{value:.1%}"
    if kind is Kind.SCORE:
        return f"{value:.1f}"
    return str(value)


@dataclass(frozen=True)
class Problem:
    """A failing or warning check of an asset, with how to fix it."""

    check: str
    status: str
    message: str
    message_zh: str
    remedy: str | None
    remedy_zh: str | None


@dataclass(frozen=True)
class AssetView:
    """An asset needing work, as the report shows it."""

    target: str
    grade: str | None
    score: str
    problems: list[Problem]


@dataclass(frozen=True)
class GroupSection:
    """A group's printable section: its figures and the assets needing work."""

    label: str
    cells: list[str]
    stats: GroupStats
    assets: list[AssetView]


def problems(record: AssetRecord) -> list[Problem]:
    """The asset's failing and warning checks with their messages and remedies."""
    found = []
    for check_id, check in record.result.get("checks", {}).items():
        status = check.get("status")
        if status in SHOWN_STATUSES:
            found.append(
                Problem(
                    check=check_id,
                    status=status,
                    message=str(check.get("message", "")),
                    message_zh=str(check.get("message_zh", "")),
                    remedy=remedy(check_id, status, "en"),
                    remedy_zh=remedy(check_id, status, "zh"),
                )
            )
    return found


def _cells(stats: GroupStats, name: str) -> list[str]:
    return [name if c.key == "name" else number(c.value(stats), c.kind) for c in GROUP_COLUMNS]


def _asset_order(record: AssetRecord) -> tuple[bool, float, str]:
    score = asset_score(record, None)
    return (score is None, score or 0.0, record.target)


def _sections(data: ReportData, level: str) -> list[GroupSection]:
    members: defaultdict[str, list[AssetRecord]] = defaultdict(list)
    for record in data.assets:
        if problems(record):
            for name in record.groups(level):
                members[name].append(record)
    sections = []
    for stats in data.groups(level):
        name = group_label(level, stats.name)
        assets = [
            AssetView(
                target=record.target,
                grade=record.result.get("grade"),
                score=number(asset_score(record, None), Kind.SCORE),
                problems=problems(record),
            )
            for record in sorted(members[stats.name], key=_asset_order)
        ]
        sections.append(GroupSection(name, _cells(stats, name), stats, assets))
    return sections


def _target_rows(targets: Sequence[TargetStatus]) -> list[dict[str, object]]:
    rows = []
    for status in targets:
        kind = Kind.SCORE if status.goal.indicator in SCORE_METRICS else Kind.FRACTION
        rows.append(
            {
                "status": status,
                "group": group_label(status.goal.level, status.goal.group),
                "threshold": number(status.goal.threshold, kind),
                "actual": number(status.actual, kind),
                "gap": number(status.gap, kind),
            }
        )
    return rows


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("v6pilot.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["zh"] = partial(label, lang="zh")
    env.globals["en"] = partial(label, lang="en")
    return env


def render_html(data: ReportData, level: str | None = None) -> str:
    """The report of one level (the summary's first by default) as one HTML page."""
    chosen = data.level(level)
    comparison: RunComparison | None = data.comparison
    overall_label = f"{label('level.overall', 'zh')} {label('level.overall', 'en')}"
    return (
        _environment()
        .get_template("report.html")
        .render(
            run=data.run,
            level=chosen,
            columns=[c.key for c in GROUP_COLUMNS],
            overall=_cells(data.summary.overall, overall_label),
            sections=_sections(data, chosen),
            targets=_target_rows(data.targets),
            changed=[a for a in comparison.assets if a.change is not Change.UNCHANGED]
            if comparison
            else [],
            has_assets=bool(data.assets),
        )
    )


def write_html(path: Path, data: ReportData, level: str | None = None) -> None:
    """Write the HTML report of one level to `path`."""
    path.write_text(render_html(data, level), "utf-8")
