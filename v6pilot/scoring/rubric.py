"""The scoring rubric: which checks count towards the 0-100 IPv6 support score, and how much."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from v6pilot.checks.result import CheckResult
from v6pilot.errors import V6PilotError


class RubricError(V6PilotError):
    """A rubric file is unreadable or inconsistent."""


@dataclass(frozen=True)
class Item:
    check: str
    weight: float
    indicator: int | None = None
    from_value: str | None = None


@dataclass(frozen=True)
class Band:
    name: str
    name_zh: str
    min: float


@dataclass(frozen=True)
class Rubric:
    name: str
    points: dict[str, float]
    not_applicable: frozenset[str]
    items: tuple[Item, ...]
    bands: tuple[Band, ...]

    def share(self, item: Item, result: CheckResult) -> float | None:
        """The share (0..1) of an item's weight a result earns, or None if not applicable."""
        status = result.status.value
        if status in self.not_applicable:
            return None
        if item.from_value and status != "skipped" and isinstance(result.value, dict):
            number = result.value.get(item.from_value)
            if isinstance(number, int | float):
                return min(max(float(number), 0.0), 1.0)
        return self.points.get(status, 0.0)

    def score(self, results: dict[str, CheckResult]) -> float | None:
        """The 0-100 score over the items the scan measured; None when none applies."""
        earned = total = 0.0
        for item in self.items:
            result = results.get(item.check)
            if result is None:
                continue
            share = self.share(item, result)
            if share is None:
                continue
            earned += share * item.weight
            total += item.weight
        return round(100 * earned / total, 1) if total else None

    def band(self, score: float) -> Band:
        return next(b for b in self.bands if score >= b.min)


def parse_rubric(doc: dict[str, Any]) -> Rubric:
    try:
        rubric = Rubric(
            name=str(doc["name"]),
            points={str(k): float(v) for k, v in doc["points"].items()},
            not_applicable=frozenset(doc.get("not_applicable", ())),
            items=tuple(Item(**item) for item in doc["items"]),
            bands=tuple(
                sorted((Band(**b) for b in doc["bands"]), key=lambda b: b.min, reverse=True)
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RubricError(f"invalid rubric: {exc!r}") from exc
    if not rubric.items or any(i.weight < 0 for i in rubric.items):
        raise RubricError("a rubric needs items with non-negative weights")
    if not rubric.bands or rubric.bands[-1].min > 0:
        raise RubricError("a rubric's bands must reach down to a minimum of 0")
    return rubric


def load_rubric(path: Path | None = None) -> Rubric:
    """The rubric in `path`, or the shipped default (docs/scoring.md explains it)."""
    if path is None:
        text = resources.files("v6pilot.scoring").joinpath("default_rubric.yaml").read_text("utf-8")
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise RubricError(f"cannot read rubric {path}: {exc}") from exc
    return parse_rubric(yaml.safe_load(text))
