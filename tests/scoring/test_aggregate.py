"""Group statistics of six hand-made assets, every figure worked out by hand."""

from __future__ import annotations

import pytest

from tests.scoring.contract import all_pass, asset, check, sample
from v6pilot.scoring.aggregate import OVERALL, GroupStats, aggregate, rank, summarise
from v6pilot.scoring.rubric import parse_rubric


def by_name(groups: list[GroupStats]) -> dict[str, GroupStats]:
    return {g.name: g for g in groups}


def test_overall_row_by_hand() -> None:
    overall = summarise(sample()).overall
    assert (overall.level, overall.name, overall.assets) == (OVERALL, OVERALL, 6)
    assert overall.share_aaaa == 0.8333  # all but a3
    assert overall.share_reach_v6 == 0.6667  # a1, a2, a5, a6
    assert (overall.share_v6_full, overall.share_v6_partial) == (0.3333, 0.3333)
    assert (overall.share_v4_only, overall.share_unreachable) == (0.1667, 0.1667)
    assert overall.mean_score == 67.43  # (100 + 72.8 + 15 + 30 + 96 + 90.8) / 6
    assert overall.indicators == {
        1: 0.8333,
        2: 0.6667,
        3: 0.925,  # (1 + 0.8 + 1 + 0.9) / 4, only where the homepage loaded over IPv6
        4: 0.8333,  # a2's chain fails
        5: 0.5,  # a1, a2, a5 pass; a6 warns; a3 and a4 skipped count as not passing
        6: 0.8625,  # (1 + 0.5 + 1 + 0.95) / 4
        7: 0.8667,  # (1 + 0.6 + 1) / 3: a2 has no third-level links (info)
    }


def test_score_distribution_bands_and_quartiles() -> None:
    distribution = summarise(sample()).overall.score_distribution
    counts = {b.name: b.count for b in distribution.bands}
    assert counts == {"excellent": 3, "good": 0, "fair": 1, "poor": 2}
    assert [b.name_zh for b in distribution.bands] == ["优秀", "良好", "一般", "较差"]
    # sorted scores 15, 30, 72.8, 90.8, 96, 100; linear interpolation between ranks
    assert (distribution.minimum, distribution.maximum) == (15.0, 100.0)
    assert (distribution.q1, distribution.median, distribution.q3) == (40.7, 81.8, 94.7)
    assert distribution.scored == 6


def test_cities() -> None:
    cities = by_name(aggregate(sample(), "city"))
    assert list(cities) == ["Hangzhou", "Ningbo", "Wenzhou"]
    hangzhou, ningbo, wenzhou = cities.values()
    assert (hangzhou.assets, hangzhou.mean_score) == (2, 86.4)
    assert (hangzhou.share_v6_full, hangzhou.share_v6_partial) == (0.5, 0.5)
    assert hangzhou.indicators[3] == 0.9
    assert hangzhou.indicators[4] == 0.5
    assert hangzhou.indicators[6] == 0.75
    assert hangzhou.indicators[7] == 1.0
    assert (ningbo.share_aaaa, ningbo.share_v4_only, ningbo.mean_score) == (0.5, 0.5, 55.5)
    assert ningbo.indicators[3] == 1.0  # a3 has no IPv6 homepage: not measured
    assert ningbo.indicators[7] == 0.6
    assert (wenzhou.share_reach_v6, wenzhou.share_unreachable) == (0.5, 0.5)
    assert wenzhou.mean_score == 60.4


def test_industries() -> None:
    industries = by_name(aggregate(sample(), "industry"))
    assert sorted(industries) == ["education", "finance", "government", "healthcare"]
    assert industries["finance"].mean_score == 98.0
    assert industries["education"].mean_score == 81.8
    assert industries["government"].share_reach_v6 == 0.0
    assert industries["healthcare"].indicators[3] is None  # nothing measured


def test_an_asset_in_two_projects_counts_in_both() -> None:
    projects = by_name(aggregate(sample(), "project"))
    assert (projects["P1"].assets, projects["P2"].assets) == (3, 3)
    assert projects["P1"].mean_score == 89.6  # a1, a2, a5
    assert projects["P2"].mean_score == 59.53  # a2, a3, a6
    assert projects["P2"].share_v4_only == 0.3333


def test_an_asset_without_a_group_only_counts_overall() -> None:
    summary = summarise(sample(), ("project",))
    assert sum(g.assets for g in summary.levels["project"]) == 6  # a4 none, a2 twice
    assert summary.overall.assets == 6


def test_a_rubric_rescores_without_touching_grades() -> None:
    only_aaaa = parse_rubric(
        {
            "name": "aaaa",
            "points": {"pass": 1, "fail": 0},
            "items": [{"check": "dns.aaaa", "weight": 1}],
            "bands": [{"name": "all", "name_zh": "全部", "min": 0}],
        }
    )
    overall = summarise(sample(), rubric=only_aaaa).overall
    assert overall.mean_score == 83.33
    assert [(b.name, b.count) for b in overall.score_distribution.bands] == [("all", 6)]
    assert overall.share_v6_full == 0.3333


def test_single_pass_over_a_generator() -> None:
    summary = summarise(iter(sample()), ("city", "industry"))
    assert len(summary.levels["city"]) == 3
    assert len(summary.levels["industry"]) == 4


def test_empty_set_measures_nothing() -> None:
    overall = summarise([]).overall
    assert overall.assets == 0
    assert overall.mean_score is None
    assert overall.share_aaaa is None
    assert overall.score_distribution.median is None


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        aggregate(sample(), "country")


def scored_groups() -> list[GroupStats]:
    """Cities x (80) and y (90 and 70: 80) tie, z scores 90, w has no scored check."""
    ninety = all_pass() | {"web.homepage_success": check("fail", 0.0)}
    eighty = ninety | {"web.links_l3": check("fail", 0.0)}
    seventy = all_pass() | {"dns.aaaa": check("fail"), "dns.chain_v6": check("fail")}
    records = [
        asset("x1", eighty, city="x"),
        asset("y1", ninety, city="y"),
        asset("y2", seventy, city="y"),
        asset("z1", ninety, city="z"),
        asset("w1", {"web.perf_ratio": check("pass")}, city="w"),
    ]
    return aggregate(records, "city")


def test_rank_ties_share_a_rank() -> None:
    groups = scored_groups()
    assert {g.name: g.mean_score for g in groups} == {"w": None, "x": 80.0, "y": 80.0, "z": 90.0}
    ranked = rank(groups)
    assert [(r.rank, r.group.name, r.value) for r in ranked] == [
        (1, "z", 90.0),
        (2, "x", 80.0),
        (2, "y", 80.0),
        (None, "w", None),
    ]


def test_rank_lower_is_better_for_v4_only() -> None:
    cities = aggregate(sample(), "city")
    ranked = rank(cities, key="share_v4_only")
    assert [(r.rank, r.group.name) for r in ranked] == [
        (1, "Hangzhou"),
        (1, "Wenzhou"),
        (3, "Ningbo"),
    ]


def test_rank_by_indicator() -> None:
    ranked = rank(aggregate(sample(), "city"), key="indicator_2")
    assert [(r.rank, r.group.name, r.value) for r in ranked] == [
        (1, "Hangzhou", 1.0),
        (2, "Ningbo", 0.5),
        (2, "Wenzhou", 0.5),
    ]
