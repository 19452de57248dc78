"""One scanned asset with everything aggregation groups by: the input of every report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS = ("organisation", "industry", "city", "province", "project", "direction")


@dataclass(frozen=True)
class AssetRecord:
    """An asset's latest result in one run, with the groups it belongs to.

    `result` is the scan contract line (score, grade, checks: {id: {status, value, message}}),
    so any rubric can be re-applied. An asset may belong to several projects (and directions).
    `asset_id` is None for an ad-hoc target scanned outside the inventory (it has no groups).
    """

    asset_id: int | None
    target: str
    kind: str
    organisation: str | None
    industry: str | None
    city: str | None
    province: str | None
    projects: tuple[str, ...]
    directions: tuple[str, ...]
    result: dict[str, Any]

    def groups(self, level: str) -> tuple[str, ...]:
        """The names of this asset's groups at `level` (none when the field is empty)."""
        if level == "project":
            return self.projects
        if level == "direction":
            return self.directions
        value = getattr(self, level)
        return (value,) if value else ()
