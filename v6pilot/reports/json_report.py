"""The JSON report: one level's groups, the overall row, goals and changes; shares 0..1."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from v6pilot.reports.data import ReportData
from v6pilot.scoring.compare import Change, GroupDelta, RunComparison
from v6pilot.scoring.targets import TargetStatus


def plain(obj: Any) -> Any:
    """Dataclasses, enums, dates and mappings as JSON values (mapping keys become strings)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(plain(k)): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(item) for item in obj]
    return obj


def target_json(status: TargetStatus) -> dict[str, Any]:
    """A goal's fields flattened next to its state, actual value, gap and blockers."""
    return {
        **plain(status.goal),
        "state": status.state.value,
        "actual": status.actual,
        "gap": status.gap,
        "assets": status.assets,
        "blockers": plain(status.blockers),
    }


def _delta_json(delta: GroupDelta) -> dict[str, Any]:
    return {
        "level": delta.level,
        "name": delta.name,
        "counts": plain(delta.counts),
        "deltas": delta.deltas,
    }


def comparison_json(comparison: RunComparison, level: str) -> dict[str, Any]:
    """Counts and deltas overall and per group at `level`, and every asset that changed."""
    return {
        "overall": _delta_json(comparison.overall),
        "groups": [_delta_json(d) for d in comparison.levels.get(level, [])],
        "assets": [plain(a) for a in comparison.assets if a.change is not Change.UNCHANGED],
    }


def build_json(data: ReportData, level: str | None = None) -> dict[str, Any]:
    """The report of one level (the summary's first by default) as JSON-ready data."""
    chosen = data.level(level)
    return {
        "run": data.run,
        "level": chosen,
        "groups": [plain(g) for g in data.groups(chosen)],
        "overall": plain(data.summary.overall),
        "targets": [target_json(t) for t in data.targets],
        "comparison": comparison_json(data.comparison, chosen) if data.comparison else None,
    }


def write_json(path: Path, data: ReportData, level: str | None = None) -> None:
    """Write the JSON report of one level to `path` (UTF-8, Chinese unescaped)."""
    path.write_text(
        json.dumps(build_json(data, level), ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
