"""Schedules: add, read, update, record a run, delete; cron expressions checked."""

from __future__ import annotations

import pytest

from v6pilot.inventory.model import Direction, Industry
from v6pilot.store import Store, StoreError
from v6pilot.store.assets import AssetFilter
from v6pilot.store.runs import create_run
from v6pilot.store.schedules import (
    add_schedule,
    checked_cron,
    delete_schedule,
    get_schedule,
    list_schedules,
    record_schedule_run,
    schedule_filter,
    update_schedule,
)

EDUCATION = AssetFilter(industry=Industry.EDUCATION, province="北京市")


def test_schedule_lifecycle(store: Store) -> None:
    with store.transaction() as session:
        add_schedule(session, name="nightly", cron="0  3 * * *", profile="quick", where=EDUCATION)
        add_schedule(session, name="audit", cron="0 0 1 */3 *", profile="full")
        run_id = create_run(session, profile="quick", rubric="default").id
    with store.transaction() as session:
        assert [s.name for s in list_schedules(session)] == ["audit", "nightly"]
        nightly = get_schedule(session, "nightly")
        assert nightly.cron == "0 3 * * *"
        assert schedule_filter(nightly) == EDUCATION
        update_schedule(
            session, "nightly", profile="standard", where=AssetFilter(direction=Direction.IOT)
        )
        record_schedule_run(session, "nightly", run_id)
    with store.transaction() as session:
        nightly = get_schedule(session, "nightly")
        assert (nightly.profile, nightly.last_run_id) == ("standard", run_id)
        assert schedule_filter(nightly) == AssetFilter(direction=Direction.IOT)
        assert delete_schedule(session, "nightly") is True
        assert delete_schedule(session, "nightly") is False
        assert [s.name for s in list_schedules(session)] == ["audit"]


def test_a_taken_name_is_refused(store: Store) -> None:
    with store.transaction() as session:
        add_schedule(session, name="nightly", cron="0 3 * * *", profile="quick")
        with pytest.raises(StoreError, match="'nightly' exists"):
            add_schedule(session, name="nightly", cron="0 4 * * *", profile="quick")


def test_recording_a_missing_run_is_refused(store: Store) -> None:
    with store.transaction() as session:
        add_schedule(session, name="nightly", cron="0 3 * * *", profile="quick")
        with pytest.raises(StoreError, match="no scan run 5"):
            record_schedule_run(session, "nightly", 5)


@pytest.mark.parametrize("expression", ["0 3 * *", "every night", "0 3 * * * *", "0 3 * * $"])
def test_a_malformed_cron_expression_is_refused(expression: str) -> None:
    with pytest.raises(StoreError, match="not a cron expression"):
        checked_cron(expression)
