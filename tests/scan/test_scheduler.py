from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from v6pilot.scan.scheduler import is_due, next_fire


def schedule(cron: str, last_started: datetime | None) -> Any:
    last = SimpleNamespace(started_at=last_started) if last_started else None
    return SimpleNamespace(cron=cron, last_run=last)


def test_next_fire_follows_the_cron_expression() -> None:
    monday_3am = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert next_fire("0 3 * * 1", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)) == monday_3am


def test_a_schedule_that_never_ran_is_due() -> None:
    assert is_due(schedule("0 3 * * 1", None), datetime(2026, 11, 26, tzinfo=UTC))


def test_due_only_once_the_cron_fired_after_the_last_run() -> None:
    weekly = schedule("0 3 * * 1", datetime(2026, 11, 23, 3, 0, 5, tzinfo=UTC))
    assert not is_due(weekly, datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    assert is_due(weekly, datetime(2026, 11, 30, 3, 0, tzinfo=UTC))


def test_naive_timestamps_from_the_database_count_as_utc() -> None:
    hourly = schedule("0 * * * *", datetime(2026, 11, 26, 10, 30))
    assert not is_due(hourly, datetime(2026, 11, 26, 10, 59, tzinfo=UTC))
    assert is_due(hourly, datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
