"""What every report is built from: group statistics, and optionally goals, changes and assets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from v6pilot.scoring.aggregate import GroupStats, Summary
from v6pilot.scoring.compare import RunComparison
from v6pilot.scoring.records import AssetRecord
from v6pilot.scoring.targets import TargetStatus


@dataclass(frozen=True)
class ReportData:
    """A run's summary (groups per level and overall) and the optional parts of a report.

    `assets` are the run's records, for the per-asset details (XLSX assets sheet, HTML).
    """

    summary: Summary
    run: str | None = None
    targets: Sequence[TargetStatus] = ()
    comparison: RunComparison | None = None
    assets: Sequence[AssetRecord] = ()

    def level(self, level: str | None = None) -> str:
        """`level` if the summary has it, or the summary's first level when None."""
        if level is None:
            if not self.summary.levels:
                raise ValueError("the summary has no level")
            return next(iter(self.summary.levels))
        if level not in self.summary.levels:
            raise ValueError(f"the summary has no level {level!r}: {list(self.summary.levels)}")
        return level

    def groups(self, level: str) -> list[GroupStats]:
        """The groups of `level`, sorted by name."""
        return self.summary.levels[level]
