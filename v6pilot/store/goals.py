"""Goals (the `Target` table): at a level, a group must reach a threshold of an indicator by
a deadline. Create, read, update and delete them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from v6pilot.scoring.records import LEVELS
from v6pilot.store.errors import StoreError
from v6pilot.store.models import Target

GOAL_LEVELS = ("overall", *LEVELS)
"""Levels a goal can be set at: `all` is the whole inventory, the rest as in aggregation."""


def _checked_threshold(threshold: float) -> float:
    if not math.isfinite(threshold):
        raise StoreError(f"a goal's threshold must be a finite number, not {threshold}")
    return threshold


def add_target(
    session: Session, *, level: str, group: str, indicator: str, threshold: float, deadline: date
) -> Target:
    """A new goal, flushed so its id is known; StoreError if it exists or `level` is unknown."""
    if level not in GOAL_LEVELS:
        raise StoreError(f"goal level {level!r} is not one of: {', '.join(GOAL_LEVELS)}")
    existing = session.scalar(
        select(Target).where(
            Target.level == level,
            Target.group_name == group,
            Target.indicator == indicator,
            Target.deadline == deadline,
        )
    )
    if existing is not None:
        raise StoreError(
            f"goal {level}/{group}/{indicator} by {deadline} exists (id {existing.id})"
        )
    goal = Target(
        level=level,
        group_name=group,
        indicator=indicator,
        threshold=_checked_threshold(threshold),
        deadline=deadline,
    )
    session.add(goal)
    session.flush()
    return goal


def get_target(session: Session, target_id: int) -> Target:
    """The goal `target_id`; StoreError when there is none."""
    goal = session.get(Target, target_id)
    if goal is None:
        raise StoreError(f"no goal {target_id}")
    return goal


def list_targets(
    session: Session,
    *,
    level: str | None = None,
    group: str | None = None,
    indicator: str | None = None,
) -> Sequence[Target]:
    """The goals matching the given fields, by deadline, level, group and indicator."""
    query = select(Target).order_by(
        Target.deadline, Target.level, Target.group_name, Target.indicator
    )
    if level is not None:
        query = query.where(Target.level == level)
    if group is not None:
        query = query.where(Target.group_name == group)
    if indicator is not None:
        query = query.where(Target.indicator == indicator)
    return session.scalars(query).all()


def update_target(
    session: Session,
    target_id: int,
    *,
    threshold: float | None = None,
    deadline: date | None = None,
) -> Target:
    """Change a goal's threshold and/or deadline."""
    goal = get_target(session, target_id)
    if threshold is not None:
        goal.threshold = _checked_threshold(threshold)
    if deadline is not None:
        goal.deadline = deadline
    return goal


def delete_target(session: Session, target_id: int) -> bool:
    """Delete a goal; False when there was none."""
    goal = session.get(Target, target_id)
    if goal is None:
        return False
    session.delete(goal)
    session.flush()
    return True
