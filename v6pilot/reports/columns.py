"""The columns of a group table, shared by the CSV, XLSX and HTML reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from v6pilot.scoring.aggregate import INDICATOR_FIELDS, SHARE_FIELDS, GroupStats

GOOD_SHARES = frozenset({"share_aaaa", "share_reach_v6", "share_v6_full", *INDICATOR_FIELDS})
"""Fractions where more is better, coloured green >= 0.9, amber >= 0.6, red below."""


class Kind(StrEnum):
    """What a column holds, which decides its number format."""

    TEXT = "text"
    COUNT = "count"
    FRACTION = "fraction"
    SCORE = "score"


@dataclass(frozen=True)
class Column:
    """A column: `key` is its English header and names its label `report.column.<key>`."""

    key: str
    kind: Kind
    colour_from: tuple[float, float] | None = None
    """(green minimum, amber minimum) when the column is coloured by value."""

    def value(self, stats: GroupStats) -> str | int | float | None:
        """The column's cell for group `stats`."""
        if self.key == "name":
            return stats.name
        if self.key == "level":
            return stats.level
        if self.key == "assets":
            return stats.assets
        if self.key == "median_score":
            return stats.score_distribution.median
        return stats.metric(self.key)


SCORE_COLOURS = (90.0, 60.0)
SHARE_COLOURS = (0.9, 0.6)

GROUP_COLUMNS = (
    Column("name", Kind.TEXT),
    Column("assets", Kind.COUNT),
    *(Column(n, Kind.FRACTION, SHARE_COLOURS if n in GOOD_SHARES else None) for n in SHARE_FIELDS),
    Column("mean_score", Kind.SCORE, SCORE_COLOURS),
    Column("median_score", Kind.SCORE),
    Column("min_score", Kind.SCORE),
    *(Column(n, Kind.FRACTION, SHARE_COLOURS) for n in INDICATOR_FIELDS),
)
