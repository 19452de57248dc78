"""Goals on the sample assets: met, not met and overdue, with the assets holding them back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.scoring.contract import sample
from v6pilot.scoring.targets import (
    Goal,
    GoalError,
    State,
    TargetStatus,
    evaluate_targets,
    load_goals,
    parse_goals,
)

TODAY = date(2025, 6, 1)
LATER = date(2025, 12, 31)
EARLIER = date(2025, 1, 31)


def evaluate(*goals: Goal) -> list[TargetStatus]:
    return evaluate_targets(list(goals), iter(sample()), TODAY)


def test_met_goal_lists_no_blockers() -> None:
    (status,) = evaluate(Goal("city", "Hangzhou", "share_reach_v6", 0.9, LATER))
    assert status.state is State.MET
    assert (status.actual, status.gap, status.assets) == (1.0, -0.1, 2)
    assert status.blockers == ()


def test_overdue_share_goal_names_the_failing_assets_and_messages() -> None:
    (status,) = evaluate(Goal("project", "P2", "share_reach_v6", 0.9, EARLIER))
    assert status.state is State.OVERDUE
    assert (status.actual, status.gap) == (0.6667, 0.2333)
    (blocker,) = status.blockers
    assert (blocker.target, blocker.asset_id, blocker.value) == ("a3.example", 3, 0.0)
    (failing,) = blocker.checks
    assert failing.check == "web.homepage_v6"
    assert failing.message == "homepage does not load over IPv6"
    assert failing.message_zh == "homepage does not load over IPv6 (zh)"


def test_min_score_lists_assets_below() -> None:
    (status,) = evaluate(Goal("industry", "finance", "min_score", 97, LATER))
    assert status.state is State.NOT_MET
    assert (status.actual, status.gap) == (96.0, 1.0)
    (blocker,) = status.blockers
    assert (blocker.target, blocker.value) == ("a5.example", 96.0)
    assert [c.check for c in blocker.checks] == ["web.links_l3"]
    assert blocker.checks[0].status == "warn"


def test_rate_indicator_blockers_are_below_the_threshold_lowest_first() -> None:
    (status,) = evaluate(Goal("overall", "overall", "indicator_6", 0.96))
    assert status.state is State.NOT_MET  # no deadline: never overdue
    assert status.actual == 0.8625
    assert [(b.target, b.value) for b in status.blockers] == [
        ("a2.example", 0.5),
        ("a6.example", 0.95),
    ]
    assert status.blockers[0].checks[0].message == "half the links fail"


def test_upper_bound_goal() -> None:
    (status,) = evaluate(Goal("overall", "overall", "share_unreachable", 0.1, comparison="<="))
    assert status.state is State.NOT_MET
    assert status.gap == 0.0667
    assert [b.target for b in status.blockers] == ["a4.example"]


def test_grade_share_blockers_explain_with_the_grading_checks() -> None:
    (status,) = evaluate(Goal("city", "Wenzhou", "share_v6_full", 1.0, LATER))
    assert [b.target for b in status.blockers] == ["a4.example", "a6.example"]
    a6 = status.blockers[1]
    assert {c.check for c in a6.checks} == {"web.subresources_v6"}


def test_a_group_without_assets_is_not_met() -> None:
    (status,) = evaluate(Goal("city", "Nowhere", "mean_score", 60, EARLIER))
    assert (status.state, status.actual, status.gap, status.assets) == (
        State.OVERDUE,
        None,
        None,
        0,
    )


def test_parse_goals_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "goals.yaml"
    path.write_text(
        """
- {level: industry, group: finance, indicator: share_reach_v6, threshold: 90%, deadline: 2025-12-31}
- {level: overall, indicator: min_score, threshold: 90}
- {level: city, group: Ningbo, indicator: share_v4_only, threshold: 0.1, comparison: "<="}
""",
        "utf-8",
    )
    goals = load_goals(path)
    assert goals == [
        Goal("industry", "finance", "share_reach_v6", 0.9, date(2025, 12, 31)),
        Goal("overall", "overall", "min_score", 90.0),
        Goal("city", "Ningbo", "share_v4_only", 0.1, None, "<="),
    ]


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (
            {"level": "city", "group": "x", "indicator": "speed", "threshold": 1},
            "unknown indicator",
        ),
        (
            {"level": "town", "group": "x", "indicator": "mean_score", "threshold": 1},
            "unknown level",
        ),
        ({"level": "city", "group": "x", "indicator": "share_aaaa", "threshold": 90}, "0..1"),
        ({"level": "city", "indicator": "share_aaaa", "threshold": 0.9}, "missing 'group'"),
        (
            {"level": "city", "group": "x", "indicator": "mean_score", "threshold": 1, "by": 1},
            "unknown keys",
        ),
        (
            {
                "level": "city",
                "group": "x",
                "indicator": "mean_score",
                "threshold": 1,
                "comparison": "==",
            },
            "comparison",
        ),
        (
            {
                "level": "city",
                "group": "x",
                "indicator": "mean_score",
                "threshold": 1,
                "deadline": "soon",
            },
            "goal 1",
        ),
    ],
)
def test_parse_goals_refuses_mistakes(entry: dict[str, object], complaint: str) -> None:
    with pytest.raises(GoalError, match=complaint):
        parse_goals([entry])


def test_goals_must_be_a_list() -> None:
    with pytest.raises(GoalError, match="list"):
        parse_goals({"level": "overall"})
