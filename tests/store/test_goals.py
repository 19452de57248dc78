"""Goals: add, read, list, update, delete; duplicates and unknown levels refused."""

from __future__ import annotations

from datetime import date

import pytest

from v6pilot.store import Store, StoreError
from v6pilot.store.goals import add_target, delete_target, get_target, list_targets, update_target

EDUCATION = {
    "level": "industry",
    "group": "education",
    "indicator": "share_reach_v6",
    "threshold": 0.95,
    "deadline": date(2023, 12, 31),
}


def test_goal_lifecycle(store: Store) -> None:
    with store.transaction() as session:
        goal_id = add_target(session, **EDUCATION).id  # type: ignore[arg-type]
        add_target(
            session,
            level="city",
            group="深圳市",
            indicator="share_reach_v6",
            threshold=0.9,
            deadline=date(2024, 6, 30),
        )
    with store.transaction() as session:
        assert [g.group_name for g in list_targets(session)] == ["education", "深圳市"]
        assert [g.id for g in list_targets(session, level="industry")] == [goal_id]
        update_target(session, goal_id, threshold=0.98, deadline=date(2024, 12, 31))
    with store.transaction() as session:
        goal = get_target(session, goal_id)
        assert (goal.threshold, goal.deadline) == (0.98, date(2024, 12, 31))
        assert delete_target(session, goal_id) is True
        assert delete_target(session, goal_id) is False
        assert [g.group_name for g in list_targets(session)] == ["深圳市"]


def test_a_duplicate_goal_is_refused(store: Store) -> None:
    with store.transaction() as session:
        add_target(session, **EDUCATION)  # type: ignore[arg-type]
        with pytest.raises(StoreError, match="exists"):
            add_target(session, **EDUCATION)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"level": "galaxy"}, "goal level 'galaxy'"), ({"threshold": float("nan")}, "finite")],
)
def test_a_bad_goal_is_refused(store: Store, changes: dict[str, object], message: str) -> None:
    with store.transaction() as session, pytest.raises(StoreError, match=message):
        add_target(session, **{**EDUCATION, **changes})  # type: ignore[arg-type]


def test_a_missing_goal_is_a_store_error(store: Store) -> None:
    with store.transaction() as session, pytest.raises(StoreError, match="no goal 7"):
        get_target(session, 7)
