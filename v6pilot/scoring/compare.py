"""Comparing two runs: which assets improved or regressed, why, and how each group moved."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from v6pilot.checks.result import Status
from v6pilot.scoring.aggregate import (
    INDICATOR_FIELDS,
    OVERALL,
    SHARE_FIELDS,
    GroupStats,
    Summariser,
    asset_score,
)
from v6pilot.scoring.grade import Grade
from v6pilot.scoring.records import LEVELS, AssetRecord
from v6pilot.scoring.rubric import Rubric

GRADE_ORDER = {g.value: rank for rank, g in enumerate(reversed(Grade))}
"""Higher is better: v6_full > v6_partial > v4_only > unreachable."""

SCORE_STEP = 5.0
"""A score change of at least this many points improves or regresses an asset by itself."""

DELTA_METRICS = (*SHARE_FIELDS, "mean_score", *INDICATOR_FIELDS)


class Change(StrEnum):
    """How an asset moved between two runs."""

    IMPROVED = "improved"
    REGRESSED = "regressed"
    UNCHANGED = "unchanged"
    NEW = "new"
    GONE = "gone"


class Reason(StrEnum):
    """Why an asset counts as regressed or improved."""

    GRADE_WORSE = "grade_worse"
    LOST_HOMEPAGE_V6 = "lost_homepage_v6"
    LOST_AAAA = "lost_aaaa"
    SCORE_DROP = "score_drop"
    GRADE_BETTER = "grade_better"
    GAINED_HOMEPAGE_V6 = "gained_homepage_v6"
    GAINED_AAAA = "gained_aaaa"
    SCORE_RISE = "score_rise"


@dataclass(frozen=True)
class CheckChange:
    """A check whose status differs between the runs (None: not run in that run)."""

    check: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Snapshot:
    """What the comparison keeps of an asset: grade, score, statuses and groups."""

    grade: str | None
    score: float | None
    statuses: dict[str, str]
    groups: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class AssetChange:
    """One target's change between the runs, with its reasons and changed checks."""

    target: str
    change: Change
    old_grade: str | None
    new_grade: str | None
    old_score: float | None
    new_score: float | None
    reasons: tuple[Reason, ...]
    checks: tuple[CheckChange, ...]


@dataclass(frozen=True)
class GroupDelta:
    """A group's changes: assets per Change, and new minus old of every share and mean."""

    level: str
    name: str
    counts: dict[Change, int]
    deltas: dict[str, float | None]
    old: GroupStats | None
    new: GroupStats | None


@dataclass(frozen=True)
class RunComparison:
    """Every asset's change, each group's movement per level, and the overall movement."""

    assets: list[AssetChange]
    levels: dict[str, list[GroupDelta]]
    overall: GroupDelta

    def changed(self, change: Change) -> list[AssetChange]:
        """The assets that moved in the way `change`."""
        return [a for a in self.assets if a.change is change]


def snapshot(record: AssetRecord, levels: Sequence[str], rubric: Rubric | None) -> Snapshot:
    """What the comparison keeps of `record`, so an old run need not stay in memory."""
    checks = record.result.get("checks", {})
    return Snapshot(
        grade=record.result.get("grade"),
        score=asset_score(record, rubric),
        statuses={check_id: str(c.get("status")) for check_id, c in checks.items()},
        groups={level: record.groups(level) for level in levels},
    )


def _status_reasons(old: Snapshot, new: Snapshot) -> tuple[list[Reason], list[Reason]]:
    worse: list[Reason] = []
    better: list[Reason] = []
    before, after = old.statuses.get("web.homepage_v6"), new.statuses.get("web.homepage_v6")
    if before is not None and after is not None:
        if before == Status.PASS and after != Status.PASS:
            worse.append(Reason.LOST_HOMEPAGE_V6)
        if before != Status.PASS and after == Status.PASS:
            better.append(Reason.GAINED_HOMEPAGE_V6)
    aaaa = (old.statuses.get("dns.aaaa"), new.statuses.get("dns.aaaa"))
    if aaaa == (Status.PASS, Status.FAIL):
        worse.append(Reason.LOST_AAAA)
    if aaaa == (Status.FAIL, Status.PASS):
        better.append(Reason.GAINED_AAAA)
    return worse, better


def classify(old: Snapshot, new: Snapshot) -> tuple[Change, tuple[Reason, ...]]:
    """Regressed when anything got worse (it wins over improvements), else improved or not."""
    worse, better = _status_reasons(old, new)
    if old.grade in GRADE_ORDER and new.grade in GRADE_ORDER:
        step = GRADE_ORDER[new.grade] - GRADE_ORDER[old.grade]
        if step < 0:
            worse.insert(0, Reason.GRADE_WORSE)
        if step > 0:
            better.insert(0, Reason.GRADE_BETTER)
    if old.score is not None and new.score is not None:
        moved = round(new.score - old.score, 1)
        if moved <= -SCORE_STEP:
            worse.append(Reason.SCORE_DROP)
        if moved >= SCORE_STEP:
            better.append(Reason.SCORE_RISE)
    if worse:
        return Change.REGRESSED, tuple(worse)
    if better:
        return Change.IMPROVED, tuple(better)
    return Change.UNCHANGED, ()


def check_changes(old: Snapshot | None, new: Snapshot | None) -> tuple[CheckChange, ...]:
    """Every check whose status differs, in check id order."""
    before = old.statuses if old else {}
    after = new.statuses if new else {}
    return tuple(
        CheckChange(check_id, before.get(check_id), after.get(check_id))
        for check_id in sorted(before.keys() | after.keys())
        if before.get(check_id) != after.get(check_id)
    )


def _asset_change(target: str, old: Snapshot | None, new: Snapshot | None) -> AssetChange:
    reasons: tuple[Reason, ...] = ()
    if old is None or new is None:
        change = Change.NEW if old is None else Change.GONE
    else:
        change, reasons = classify(old, new)
    return AssetChange(
        target=target,
        change=change,
        old_grade=old.grade if old else None,
        new_grade=new.grade if new else None,
        old_score=old.score if old else None,
        new_score=new.score if new else None,
        reasons=reasons,
        checks=check_changes(old, new),
    )


def _delta(old: GroupStats | None, new: GroupStats | None) -> dict[str, float | None]:
    deltas: dict[str, float | None] = {}
    for name in DELTA_METRICS:
        before = old.metric(name) if old else None
        after = new.metric(name) if new else None
        deltas[name] = None if before is None or after is None else round(after - before, 4)
    return deltas


def _group_delta(
    level: str,
    name: str,
    counts: Counter[Change],
    old: GroupStats | None,
    new: GroupStats | None,
) -> GroupDelta:
    return GroupDelta(level, name, {c: counts[c] for c in Change}, _delta(old, new), old, new)


def compare_runs(
    old: Iterable[AssetRecord],
    new: Iterable[AssetRecord],
    *,
    levels: Sequence[str] = LEVELS,
    rubric: Rubric | None = None,
) -> RunComparison:
    """Each asset's change from `old` to `new` (matched by target) and each group's movement.

    An asset counts in its groups of the new run (a gone asset: of the old run). Scores are
    re-computed with `rubric` for both runs when one is given.
    """
    before_stats, after_stats = Summariser(levels, rubric), Summariser(levels, rubric)
    previous: dict[str, Snapshot] = {}
    for record in old:
        before_stats.add(record)
        previous[record.target] = snapshot(record, levels, rubric)
    changes: list[AssetChange] = []
    counts: dict[tuple[str, str], Counter[Change]] = {}
    overall: Counter[Change] = Counter()

    def count(change: AssetChange, where: Snapshot) -> None:
        """Count `change` overall and in the groups of `where`."""
        overall[change.change] += 1
        for level, names in where.groups.items():
            for name in names:
                counts.setdefault((level, name), Counter())[change.change] += 1

    for record in new:
        after_stats.add(record)
        current = snapshot(record, levels, rubric)
        change = _asset_change(record.target, previous.pop(record.target, None), current)
        changes.append(change)
        count(change, current)
    for target, gone in previous.items():
        change = _asset_change(target, gone, None)
        changes.append(change)
        count(change, gone)
    before, after = before_stats.summary(), after_stats.summary()
    groups: dict[str, list[GroupDelta]] = {}
    for level in levels:
        old_groups = {g.name: g for g in before.levels[level]}
        new_groups = {g.name: g for g in after.levels[level]}
        groups[level] = [
            _group_delta(
                level,
                name,
                counts.get((level, name), Counter()),
                old_groups.get(name),
                new_groups.get(name),
            )
            for name in sorted(old_groups.keys() | new_groups.keys())
        ]
    return RunComparison(
        assets=sorted(changes, key=lambda c: c.target),
        levels=groups,
        overall=_group_delta(OVERALL, OVERALL, overall, before.overall, after.overall),
    )
