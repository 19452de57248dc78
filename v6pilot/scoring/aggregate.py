"""Group statistics over scanned assets: shares, scores and the national indicators per group.

Every figure is a mean of a per-asset reading (1/0 for a share, a rate, a score) over the assets
where it was measured, so a run of any size is summarised in one pass with memory per group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from v6pilot.checks.result import CheckResult, Status
from v6pilot.scoring.grade import Grade
from v6pilot.scoring.records import LEVELS, AssetRecord
from v6pilot.scoring.rubric import Band, Rubric, load_rubric

OVERALL = "overall"
"""The level and name of the row summarising the whole set."""

STATUS_SHARES = {"share_aaaa": "dns.aaaa", "share_reach_v6": "web.homepage_v6"}
GRADE_SHARES = {f"share_{g.value}": g.value for g in Grade}
SHARE_FIELDS = (*STATUS_SHARES, *GRADE_SHARES)

STATUS_INDICATORS = {1: "dns.aaaa", 2: "web.homepage_v6", 4: "dns.chain_v6", 5: "web.consistency"}
RATE_INDICATORS = {3: "web.homepage_success", 6: "web.links_l2", 7: "web.links_l3"}
INDICATOR_CHECKS = dict(sorted({**STATUS_INDICATORS, **RATE_INDICATORS}.items()))
INDICATOR_FIELDS = tuple(f"indicator_{n}" for n in INDICATOR_CHECKS)

SCORE_METRICS = frozenset({"mean_score", "min_score"})
METRICS = (*SHARE_FIELDS, "mean_score", "min_score", *INDICATOR_FIELDS)
"""Every group figure a goal or a ranking can name."""

LOWER_IS_BETTER = frozenset({"share_v4_only", "share_unreachable"})

NOT_MEASURED = frozenset({Status.INFO.value})
UNRATED = frozenset({Status.INFO.value, Status.SKIPPED.value})


def check_status(record: AssetRecord, check_id: str) -> str | None:
    """The status of `check_id` in the asset's result, or None when it was not run."""
    check = record.result.get("checks", {}).get(check_id)
    return check.get("status") if isinstance(check, dict) else None


def check_rate(record: AssetRecord, check_id: str) -> float | None:
    """The measured `rate` in a check's value, or None when it was not measured."""
    check = record.result.get("checks", {}).get(check_id)
    if not isinstance(check, dict) or check.get("status") in UNRATED:
        return None
    value = check.get("value")
    rate = value.get("rate") if isinstance(value, dict) else None
    return float(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) else None


def _passed(record: AssetRecord, check_id: str) -> float | None:
    status = check_status(record, check_id)
    if status is None or status in NOT_MEASURED:
        return None
    return 1.0 if status == Status.PASS.value else 0.0


def check_results(record: AssetRecord) -> dict[str, CheckResult]:
    """The asset's stored checks as results a rubric can score."""
    results = {}
    for check_id, check in record.result.get("checks", {}).items():
        try:
            status = Status(check.get("status"))
        except ValueError:
            continue
        results[check_id] = CheckResult(
            status=status,
            code="",
            value=check.get("value"),
            message=check.get("message", ""),
            message_zh=check.get("message_zh", ""),
        )
    return results


def asset_score(record: AssetRecord, rubric: Rubric | None) -> float | None:
    """The asset's score by `rubric`, or the stored score when no rubric is given."""
    if rubric is not None:
        return rubric.score(check_results(record))
    score = record.result.get("score")
    return float(score) if isinstance(score, int | float) else None


@dataclass(frozen=True)
class Reading:
    """One asset's contribution to every group figure: None where it was not measured."""

    values: dict[str, float | None]
    score: float | None

    def metric(self, name: str) -> float | None:
        """The asset's own value for a group metric (its score for mean_score and min_score)."""
        if name in SCORE_METRICS:
            return self.score
        return self.values[name]


def read_asset(record: AssetRecord, rubric: Rubric | None = None) -> Reading:
    """The per-asset readings every group figure is a mean of."""
    values: dict[str, float | None] = {}
    for name, check_id in STATUS_SHARES.items():
        values[name] = _passed(record, check_id)
    grade = record.result.get("grade")
    for name, grade_value in GRADE_SHARES.items():
        values[name] = None if grade is None else float(grade == grade_value)
    for number, check_id in INDICATOR_CHECKS.items():
        reading = check_rate if number in RATE_INDICATORS else _passed
        values[f"indicator_{number}"] = reading(record, check_id)
    return Reading(values, asset_score(record, rubric))


@dataclass(frozen=True)
class BandCount:
    """How many of a group's scores fall in one rubric band."""

    name: str
    name_zh: str
    min: float
    count: int


@dataclass(frozen=True)
class ScoreDistribution:
    """How a group's scores spread: counts per rubric band, and quartiles (linear method)."""

    scored: int
    bands: tuple[BandCount, ...]
    minimum: float | None
    q1: float | None
    median: float | None
    q3: float | None
    maximum: float | None


@dataclass(frozen=True)
class GroupStats:
    """A group's figures; shares and rates are fractions 0..1, None when nothing was measured."""

    level: str
    name: str
    assets: int
    share_aaaa: float | None
    share_reach_v6: float | None
    share_v6_full: float | None
    share_v6_partial: float | None
    share_v4_only: float | None
    share_unreachable: float | None
    mean_score: float | None
    score_distribution: ScoreDistribution
    indicators: dict[int, float | None]

    def metric(self, name: str) -> float | None:
        """The figure called `name` in METRICS."""
        if name == "min_score":
            return self.score_distribution.minimum
        if name in INDICATOR_FIELDS:
            return self.indicators[int(name.removeprefix("indicator_"))]
        if name in METRICS:
            value: float | None = getattr(self, name)
            return value
        raise KeyError(f"unknown metric {name!r}; choose one of {', '.join(METRICS)}")


def _quantile(histogram: Sequence[tuple[float, int]], count: int, fraction: float) -> float:
    """The `fraction` quantile of the scores in a sorted (score, count) histogram."""
    position = fraction * (count - 1)
    lower_index = int(position)

    def nth(index: int) -> float:
        seen = 0
        for score, times in histogram:
            seen += times
            if index < seen:
                return score
        return histogram[-1][0]

    lower = nth(lower_index)
    upper = nth(min(lower_index + 1, count - 1))
    return round(lower + (upper - lower) * (position - lower_index), 2)


@cache
def _default_bands() -> tuple[Band, ...]:
    return load_rubric().bands


def rubric_bands(rubric: Rubric | None) -> tuple[Band, ...]:
    """The score bands of `rubric`, or of the default rubric."""
    return rubric.bands if rubric is not None else _default_bands()


@dataclass
class StatsBuilder:
    """Accumulates readings of one group; the histogram of scores (0.1 steps) keeps it small."""

    bands: tuple[Band, ...]
    assets: int = 0
    sums: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: Counter[str] = field(default_factory=Counter)
    scores: Counter[float] = field(default_factory=Counter)

    def add(self, reading: Reading) -> None:
        """Count one asset's readings in this group."""
        self.assets += 1
        for name, value in reading.values.items():
            if value is not None:
                self.sums[name] += value
                self.counts[name] += 1
        if reading.score is not None:
            self.scores[round(reading.score, 1)] += 1
            self.sums["score"] += reading.score
            self.counts["score"] += 1

    def mean(self, name: str, digits: int = 4) -> float | None:
        """The mean of reading `name` over the assets where it was measured."""
        count = self.counts[name]
        return round(self.sums[name] / count, digits) if count else None

    def distribution(self) -> ScoreDistribution:
        """Band counts and quartiles of the scores seen so far."""
        histogram = sorted(self.scores.items())
        scored = sum(self.scores.values())
        per_band: Counter[str] = Counter()
        for score, times in histogram:
            per_band[next(b.name for b in self.bands if score >= b.min)] += times
        bands = tuple(BandCount(b.name, b.name_zh, b.min, per_band[b.name]) for b in self.bands)
        if not scored:
            return ScoreDistribution(0, bands, None, None, None, None, None)
        q1, median, q3 = (_quantile(histogram, scored, f) for f in (0.25, 0.5, 0.75))
        return ScoreDistribution(scored, bands, histogram[0][0], q1, median, q3, histogram[-1][0])

    def stats(self, level: str, name: str) -> GroupStats:
        """The group's figures so far, under `level` and `name`."""
        return GroupStats(
            level=level,
            name=name,
            assets=self.assets,
            share_aaaa=self.mean("share_aaaa"),
            share_reach_v6=self.mean("share_reach_v6"),
            share_v6_full=self.mean("share_v6_full"),
            share_v6_partial=self.mean("share_v6_partial"),
            share_v4_only=self.mean("share_v4_only"),
            share_unreachable=self.mean("share_unreachable"),
            mean_score=self.mean("score", 2),
            score_distribution=self.distribution(),
            indicators={n: self.mean(f"indicator_{n}") for n in INDICATOR_CHECKS},
        )


@dataclass(frozen=True)
class Summary:
    """Groups per level (sorted by name) and the overall row of the whole set."""

    levels: dict[str, list[GroupStats]]
    overall: GroupStats


class Summariser:
    """Feeds assets into the groups of several levels and the overall row, one asset at a time."""

    def __init__(self, levels: Sequence[str], rubric: Rubric | None) -> None:
        unknown = [level for level in levels if level not in LEVELS]
        if unknown:
            raise ValueError(f"unknown level(s) {unknown}; choose from {', '.join(LEVELS)}")
        self.rubric = rubric
        self.bands = rubric_bands(rubric)
        self.groups: dict[str, dict[str, StatsBuilder]] = {level: {} for level in levels}
        self.overall = StatsBuilder(self.bands)

    def add(self, record: AssetRecord) -> Reading:
        """Count `record` overall and in each of its groups; its readings are returned."""
        reading = read_asset(record, self.rubric)
        self.overall.add(reading)
        for level, builders in self.groups.items():
            for name in record.groups(level):
                builders.setdefault(name, StatsBuilder(self.bands)).add(reading)
        return reading

    def summary(self) -> Summary:
        """The figures of every group seen so far, groups sorted by name."""
        levels = {
            level: [builders[name].stats(level, name) for name in sorted(builders)]
            for level, builders in self.groups.items()
        }
        return Summary(levels, self.overall.stats(OVERALL, OVERALL))


def summarise(
    records: Iterable[AssetRecord], levels: Sequence[str] = LEVELS, rubric: Rubric | None = None
) -> Summary:
    """Group statistics at each of `levels` plus the overall row, in one pass over `records`."""
    summariser = Summariser(levels, rubric)
    for record in records:
        summariser.add(record)
    return summariser.summary()


def aggregate(
    records: Iterable[AssetRecord], level: str, rubric: Rubric | None = None
) -> list[GroupStats]:
    """The statistics of every group at `level`, sorted by name (use `summarise` for overall).

    An asset counts in each of its groups (two projects: both); an asset without a group at
    this level counts in none. Scores are re-computed with `rubric` when one is given.
    """
    return summarise(records, (level,), rubric).levels[level]


@dataclass(frozen=True)
class Ranked:
    """A group's place in a ranking (None: not measured) and the value it was ranked by."""

    rank: int | None
    value: float | None
    group: GroupStats


def rank(groups: Iterable[GroupStats], key: str = "mean_score") -> list[Ranked]:
    """Groups best first by metric `key`; equal values share a rank (1, 2, 2, 4).

    Lower is better for the v4_only and unreachable shares. Groups where `key` was not
    measured come last, without a rank.
    """
    lower_better = key in LOWER_IS_BETTER
    rows = [(g.metric(key), g) for g in groups]
    measured = sorted(
        ((v, g) for v, g in rows if v is not None),
        key=lambda row: (row[0] if lower_better else -row[0], row[1].name),
    )
    ranked: list[Ranked] = []
    for position, (value, group) in enumerate(measured, start=1):
        tied = bool(ranked) and ranked[-1].value == value
        ranked.append(Ranked(ranked[-1].rank if tied else position, value, group))
    unranked = sorted((g for v, g in rows if v is None), key=lambda g: g.name)
    return ranked + [Ranked(None, None, g) for g in unranked]
