"""Goals such as "finance share_reach_v6 >= 0.9 by 2025-12-31": met, not met or overdue, and
which assets hold each one back."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from v6pilot.checks.result import Status
from v6pilot.errors import V6PilotError
from v6pilot.scoring.aggregate import (
    GRADE_SHARES,
    INDICATOR_CHECKS,
    INDICATOR_FIELDS,
    METRICS,
    OVERALL,
    SCORE_METRICS,
    STATUS_SHARES,
    StatsBuilder,
    read_asset,
    rubric_bands,
)
from v6pilot.scoring.grade import FULL_REQUIRES
from v6pilot.scoring.records import LEVELS, AssetRecord
from v6pilot.scoring.rubric import Rubric, load_rubric

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
FRACTION_METRICS = frozenset(METRICS) - SCORE_METRICS
BLOCKING = frozenset({Status.FAIL.value, Status.WARN.value, Status.ERROR.value})
GRADE_BLOCKING = frozenset({Status.FAIL.value, Status.ERROR.value})
"""A warning does not cost a grade (see grade.py), so it does not explain a grade share."""
GOAL_KEYS = frozenset({"level", "group", "indicator", "threshold", "deadline", "comparison"})


class GoalError(V6PilotError):
    """A goal is malformed: unknown level, indicator or comparison, or a bad threshold."""


class State(StrEnum):
    """Where a goal stands: met, not met yet, or not met after its deadline."""

    MET = "met"
    NOT_MET = "not_met"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Goal:
    """A target for one group's metric; `level` "overall" means the whole set."""

    level: str
    group: str
    indicator: str
    threshold: float
    deadline: date | None = None
    comparison: str = ">="

    def __post_init__(self) -> None:
        if self.level != OVERALL and self.level not in LEVELS:
            raise GoalError(f"unknown level {self.level!r}; choose from overall, {_all(LEVELS)}")
        if self.indicator not in METRICS:
            raise GoalError(f"unknown indicator {self.indicator!r}; choose from {_all(METRICS)}")
        if self.comparison not in COMPARISONS:
            raise GoalError(f"unknown comparison {self.comparison!r}; use {_all(COMPARISONS)}")
        if self.indicator in FRACTION_METRICS and not 0 <= self.threshold <= 1:
            raise GoalError(
                f"{self.indicator} is a fraction 0..1: write 0.9 or '90%', not {self.threshold:g}"
            )

    def holds(self, value: float) -> bool:
        """Whether `value` meets the threshold by the goal's comparison."""
        return COMPARISONS[self.comparison](value, self.threshold)

    def covers(self, record: AssetRecord) -> bool:
        """Whether `record` belongs to the goal's group."""
        return self.level == OVERALL or self.group in record.groups(self.level)


def _all(names: Iterable[str]) -> str:
    return ", ".join(names)


@dataclass(frozen=True)
class FailingCheck:
    """A check that explains a blocker, with its messages in both languages."""

    check: str
    status: str
    message: str
    message_zh: str


@dataclass(frozen=True)
class Blocker:
    """An asset whose own value misses the threshold, with the checks that explain why."""

    target: str
    asset_id: int | None
    value: float
    checks: tuple[FailingCheck, ...]


@dataclass(frozen=True)
class TargetStatus:
    """A goal's state; `gap` is how far the actual value is short (negative: the margin)."""

    goal: Goal
    state: State
    actual: float | None
    gap: float | None
    assets: int
    blockers: tuple[Blocker, ...]


def explaining_checks(indicator: str, rubric: Rubric) -> tuple[tuple[str, ...], frozenset[str]]:
    """The checks, and their statuses, that explain an asset's shortfall on `indicator`."""
    if indicator in STATUS_SHARES:
        return (STATUS_SHARES[indicator],), BLOCKING
    if indicator in INDICATOR_FIELDS:
        return (INDICATOR_CHECKS[int(indicator.removeprefix("indicator_"))],), BLOCKING
    if indicator in GRADE_SHARES:
        return ("dns.aaaa", "web.homepage_v6", *FULL_REQUIRES), GRADE_BLOCKING
    return tuple(item.check for item in rubric.items), BLOCKING


def failing_checks(
    record: AssetRecord, check_ids: Sequence[str], statuses: frozenset[str] = BLOCKING
) -> tuple[FailingCheck, ...]:
    """Those of `check_ids` in one of `statuses` on the asset, with their messages."""
    checks = record.result.get("checks", {})
    found = []
    for check_id in check_ids:
        check = checks.get(check_id)
        if isinstance(check, dict) and check.get("status") in statuses:
            found.append(
                FailingCheck(
                    check_id,
                    str(check["status"]),
                    str(check.get("message", "")),
                    str(check.get("message_zh", "")),
                )
            )
    return tuple(found)


def _state(goal: Goal, actual: float | None, today: date) -> State:
    if actual is not None and goal.holds(actual):
        return State.MET
    if goal.deadline is not None and today > goal.deadline:
        return State.OVERDUE
    return State.NOT_MET


def _gap(goal: Goal, actual: float | None) -> float | None:
    if actual is None:
        return None
    short = goal.threshold - actual if goal.comparison.startswith(">") else actual - goal.threshold
    return round(short, 4)


def evaluate_targets(
    goals: Sequence[Goal],
    records: Iterable[AssetRecord],
    today: date,
    rubric: Rubric | None = None,
) -> list[TargetStatus]:
    """Each goal's state on `today`, in one pass over `records` (scores by `rubric` if given).

    Blockers are listed for goals not met: the covered assets whose own value (1/0 for a share,
    the rate, the score) misses the threshold, lowest value first.
    """
    bands = rubric_bands(rubric)
    explained_by = rubric or load_rubric()
    builders = [StatsBuilder(bands) for _ in goals]
    candidates: list[list[Blocker]] = [[] for _ in goals]
    for record in records:
        covering = [i for i, goal in enumerate(goals) if goal.covers(record)]
        if not covering:
            continue
        reading = read_asset(record, rubric)
        for i in covering:
            builders[i].add(reading)
            value = reading.metric(goals[i].indicator)
            if value is not None and not goals[i].holds(value):
                why = failing_checks(record, *explaining_checks(goals[i].indicator, explained_by))
                candidates[i].append(Blocker(record.target, record.asset_id, value, why))
    statuses = []
    for goal, builder, blockers in zip(goals, builders, candidates, strict=True):
        actual = builder.stats(goal.level, goal.group).metric(goal.indicator)
        state = _state(goal, actual, today)
        held_back = () if state is State.MET else tuple(sorted(blockers, key=_blocker_order))
        statuses.append(
            TargetStatus(goal, state, actual, _gap(goal, actual), builder.assets, held_back)
        )
    return statuses


def _blocker_order(blocker: Blocker) -> tuple[float, str]:
    return (blocker.value, blocker.target)


def _threshold(raw: Any) -> float:
    if isinstance(raw, str) and raw.strip().endswith("%"):
        return float(raw.strip().removesuffix("%")) / 100
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"not a number: {raw!r}")
    return float(raw)


def _deadline(raw: Any) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    return date.fromisoformat(str(raw))


def parse_goals(doc: Any) -> list[Goal]:
    """Goals from a list of mappings with level, group, indicator, threshold and optionally
    deadline (YYYY-MM-DD) and comparison (>=, >, <=, <); a threshold may be written "90%"."""
    if not isinstance(doc, list):
        raise GoalError("goals must be a list of mappings")
    goals = []
    for number, entry in enumerate(doc, start=1):
        if not isinstance(entry, dict):
            raise GoalError(f"goal {number}: not a mapping")
        unknown = entry.keys() - GOAL_KEYS
        if unknown:
            raise GoalError(f"goal {number}: unknown keys {sorted(unknown)}")
        try:
            level = str(entry["level"])
            goals.append(
                Goal(
                    level=level,
                    group=str(entry.get("group", OVERALL) if level == OVERALL else entry["group"]),
                    indicator=str(entry["indicator"]),
                    threshold=_threshold(entry["threshold"]),
                    deadline=_deadline(entry.get("deadline")),
                    comparison=str(entry.get("comparison", ">=")),
                )
            )
        except KeyError as exc:
            raise GoalError(f"goal {number}: missing {exc.args[0]!r}") from exc
        except (ValueError, GoalError) as exc:
            raise GoalError(f"goal {number}: {exc}") from exc
    return goals


def load_goals(path: Path) -> list[Goal]:
    """The goals in a YAML file (see `parse_goals`)."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GoalError(f"cannot read goals {path}: {exc}") from exc
    return parse_goals(doc)
