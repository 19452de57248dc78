"""Run comparison: each asset classified with its reasons, and each group's counts and deltas."""

from __future__ import annotations

from tests.scoring.contract import all_pass, asset, check, without_v6
from v6pilot.scoring.compare import Change, CheckChange, Reason, compare_runs
from v6pilot.scoring.records import AssetRecord


def runs() -> tuple[list[AssetRecord], list[AssetRecord]]:
    """Old and new runs of seven targets in two cities; see each test for the story."""
    full = all_pass()
    partial = full | {"web.subresources_v6": check("fail", message="a script is IPv4-only")}
    minus_five = full | {"web.links_l3": check("warn", 0.5)}  # 95: 5 points less
    minus_four = full | {"web.links_l3": check("warn", 0.6)}  # 96: 4 points less
    old = [
        asset("worse.example", full, city="East"),
        asset("better.example", without_v6(ipv4_ok=True), city="East"),
        asset("same.example", full, city="West"),
        asset("drop5.example", full, city="West"),
        asset("drop4.example", full, city="West"),
        asset("gone.example", full, city="East"),
    ]
    new = [
        asset("worse.example", partial, city="East"),
        asset("better.example", full, city="East"),
        asset("same.example", full, city="West"),
        asset("drop5.example", minus_five, city="West"),
        asset("drop4.example", minus_four, city="West"),
        asset("new.example", without_v6(ipv4_ok=True), city="West"),
    ]
    return old, new


def test_each_asset_is_classified_with_reasons() -> None:
    old, new = runs()
    changes = {c.target: c for c in compare_runs(old, new, levels=("city",)).assets}
    worse = changes["worse.example"]
    assert worse.change is Change.REGRESSED
    assert worse.reasons == (Reason.GRADE_WORSE,)
    assert (worse.old_grade, worse.new_grade) == ("v6_full", "v6_partial")
    assert worse.checks == (CheckChange("web.subresources_v6", "pass", "fail"),)

    better = changes["better.example"]
    assert better.change is Change.IMPROVED
    assert better.reasons == (
        Reason.GRADE_BETTER,
        Reason.GAINED_HOMEPAGE_V6,
        Reason.GAINED_AAAA,
        Reason.SCORE_RISE,
    )
    assert CheckChange("dns.aaaa", "fail", "pass") in better.checks
    assert CheckChange("web.consistency", "skipped", "pass") in better.checks

    assert changes["same.example"].change is Change.UNCHANGED
    assert changes["same.example"].checks == ()
    assert changes["new.example"].change is Change.NEW
    assert changes["gone.example"].change is Change.GONE
    assert changes["gone.example"].old_score == 100.0


def test_a_drop_of_five_points_regresses_four_does_not() -> None:
    old, new = runs()
    changes = {c.target: c for c in compare_runs(old, new, levels=("city",)).assets}
    assert changes["drop5.example"].change is Change.REGRESSED
    assert changes["drop5.example"].reasons == (Reason.SCORE_DROP,)
    assert changes["drop4.example"].change is Change.UNCHANGED
    assert changes["drop4.example"].checks == (CheckChange("web.links_l3", "pass", "warn"),)


def test_losing_ipv6_regresses_even_when_the_grade_holds() -> None:
    unreachable_v6 = without_v6(ipv4_ok=False) | {"dns.aaaa": check("pass")}
    no_aaaa = without_v6(ipv4_ok=False)
    comparison = compare_runs(
        [asset("t.example", unreachable_v6)], [asset("t.example", no_aaaa)], levels=()
    )
    (change,) = comparison.assets
    assert (change.old_grade, change.new_grade) == ("unreachable", "unreachable")
    assert change.change is Change.REGRESSED
    assert Reason.LOST_AAAA in change.reasons


def test_regressions_win_over_improvements() -> None:
    before = all_pass() | {"web.links_l2": check("fail", 0.0)}  # 85, v6_full
    after = all_pass() | {"web.subresources_v6": check("fail")}  # 100, v6_partial
    (change,) = compare_runs([asset("t", before)], [asset("t", after)], levels=()).assets
    assert change.change is Change.REGRESSED
    assert change.reasons == (Reason.GRADE_WORSE,)


def test_group_counts_and_deltas() -> None:
    old, new = runs()
    comparison = compare_runs(old, new, levels=("city",))
    east, west = comparison.levels["city"]
    assert (east.name, west.name) == ("East", "West")
    assert east.counts == {
        Change.IMPROVED: 1,
        Change.REGRESSED: 1,
        Change.UNCHANGED: 0,
        Change.NEW: 0,
        Change.GONE: 1,
    }
    assert west.counts[Change.REGRESSED] == 1
    assert west.counts[Change.UNCHANGED] == 2
    assert west.counts[Change.NEW] == 1
    # East: old worse, better, gone = 2 of 3 full; new worse, better = 1 of 2 full
    assert east.deltas["share_v6_full"] == round(0.5 - 0.6667, 4)
    assert east.deltas["share_reach_v6"] == round(1.0 - 0.6667, 4)
    # West: old mean 100; new (100 + 95 + 96 + 15) / 4 = 76.5
    assert west.deltas["mean_score"] == -23.5
    assert west.deltas["indicator_1"] == -0.25
    assert comparison.overall.counts[Change.REGRESSED] == 2
    assert len(comparison.changed(Change.IMPROVED)) == 1
