"""Scan runs and results: lifecycle, idempotent saves, streaming, joins with the inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from v6pilot.inventory.model import AssetKind, Direction, Industry, InventoryRow
from v6pilot.scoring.records import AssetRecord
from v6pilot.store import Store, StoreError
from v6pilot.store.assets import upsert_inventory_row
from v6pilot.store.models import Asset, RunStatus, ScanResult
from v6pilot.store.runs import (
    asset_records,
    create_run,
    finish_run,
    get_run,
    iter_results,
    latest_run_ids,
    save_result,
)


def line(target: str, score: float | None = 80.0, grade: str = "v6_partial") -> dict[str, Any]:
    """A scan contract line as `v6pilot scan` writes it."""
    return {
        "target": target,
        "url": f"http://{target}/",
        "profile": "standard",
        "score": score,
        "grade": grade,
        "checks": {
            "dns.aaaa": {
                "status": "pass",
                "value": ["2001:db8::1"],
                "message": "has AAAA",
                "message_zh": "有AAAA记录",
            }
        },
    }


def _new_run(store: Store, **fields: Any) -> int:
    with store.transaction() as session:
        return create_run(session, profile="standard", rubric="default", **fields).id


def test_a_run_starts_running_and_finishes(store: Store) -> None:
    run_id = _new_run(store, options={"concurrency": 50}, note="季度检查")
    with store.transaction() as session:
        run = get_run(session, run_id)
        assert (run.status, run.finished_at, run.options) == (
            RunStatus.RUNNING,
            None,
            {"concurrency": 50},
        )
        finish_run(session, run_id, status=RunStatus.FAILED, note="interrupted")
    with store.transaction() as session:
        run = get_run(session, run_id)
        assert run.status is RunStatus.FAILED and run.note == "interrupted"
        assert run.finished_at is not None and run.finished_at.tzinfo is not None
        assert run.started_at <= run.finished_at


def test_a_missing_run_is_a_store_error(store: Store) -> None:
    with store.transaction() as session, pytest.raises(StoreError, match="no scan run 99"):
        finish_run(session, 99)


def test_a_run_cannot_finish_as_running(store: Store) -> None:
    run_id = _new_run(store)
    with store.transaction() as session, pytest.raises(StoreError, match="not running"):
        finish_run(session, run_id, status=RunStatus.RUNNING)


def test_saving_the_same_target_twice_keeps_one_row_with_the_latest(store: Store) -> None:
    run_id = _new_run(store)
    with store.transaction() as session:
        save_result(session, run_id, line("www.example.cn", score=40.0, grade="v4_only"))
    with store.transaction() as session:
        save_result(session, run_id, line("www.example.cn", score=95.5, grade="v6_full"))
    with store.transaction() as session:
        results = list(iter_results(session, run_id))
    assert [(r.target, r.score, r.grade) for r in results] == [("www.example.cn", 95.5, "v6_full")]
    assert results[0].result == line("www.example.cn", score=95.5, grade="v6_full")


def test_the_same_target_in_two_runs_is_two_rows(store: Store) -> None:
    first, second = _new_run(store), _new_run(store)
    with store.transaction() as session:
        save_result(session, first, line("www.example.cn"))
        save_result(session, second, line("www.example.cn"))
        assert session.scalar(select(func.count()).select_from(ScanResult)) == 2


def test_a_result_without_target_is_a_store_error(store: Store) -> None:
    run_id = _new_run(store)
    with store.transaction() as session, pytest.raises(StoreError, match="needs 'url'"):
        save_result(session, run_id, {"target": "www.example.cn"})


def test_results_stream_in_saved_order_across_batches(store: Store) -> None:
    run_id = _new_run(store)
    targets = [f"www.s{n}.cn" for n in range(7)]
    with store.transaction() as session:
        for target in targets:
            save_result(session, run_id, line(target, score=None))
    with store.transaction() as session:
        assert [r.target for r in iter_results(session, run_id, batch=3)] == targets


def test_latest_run_ids_newest_first_by_status(store: Store) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    ids = [_new_run(store, started_at=start + timedelta(days=n)) for n in range(3)]
    with store.transaction() as session:
        finish_run(session, ids[0])
        finish_run(session, ids[1])
        assert latest_run_ids(session) == [ids[1]]
        assert latest_run_ids(session, limit=5) == [ids[1], ids[0]]
        assert latest_run_ids(session, limit=5, status=None) == [ids[2], ids[1], ids[0]]


def _inventory(store: Store) -> dict[str, int]:
    rows = [
        InventoryRow(
            target="www.pku.edu.cn",
            kind=AssetKind.WEBSITE,
            organisation="北京大学",
            industry=Industry.EDUCATION,
            province="北京市",
            city="北京市",
            project=project,
            direction=direction,
        )
        for project, direction in (("单栈", Direction.IPV6_ONLY), ("物联网平台", Direction.IOT))
    ]
    rows.append(InventoryRow(target="example.cn", kind=AssetKind.DOMAIN, organisation="某公司"))
    with store.transaction() as session:
        return {r.target: upsert_inventory_row(session, r).id for r in rows}


def test_asset_records_carry_every_group_of_the_asset(store: Store) -> None:
    assets = _inventory(store)
    run_id = _new_run(store)
    with store.transaction() as session:
        save_result(session, run_id, line("www.pku.edu.cn"), assets["www.pku.edu.cn"])
        save_result(session, run_id, line("example.cn"), assets["example.cn"])
        save_result(session, run_id, line("adhoc.example.net"))
    with store.transaction() as session:
        records = list(asset_records(session, run_id, batch=2))
    assert records == [
        AssetRecord(
            asset_id=assets["www.pku.edu.cn"],
            target="www.pku.edu.cn",
            kind="website",
            organisation="北京大学",
            industry="education",
            city="北京市",
            province="北京市",
            projects=("单栈", "物联网平台"),
            directions=("ipv6_only", "iot"),
            result=line("www.pku.edu.cn"),
        ),
        AssetRecord(
            asset_id=assets["example.cn"],
            target="example.cn",
            kind="domain",
            organisation="某公司",
            industry=None,
            city=None,
            province=None,
            projects=(),
            directions=(),
            result=line("example.cn"),
        ),
        AssetRecord(
            asset_id=None,
            target="adhoc.example.net",
            kind="website",
            organisation=None,
            industry=None,
            city=None,
            province=None,
            projects=(),
            directions=(),
            result=line("adhoc.example.net"),
        ),
    ]
    assert records[0].groups("project") == ("单栈", "物联网平台")


def test_asset_records_of_another_run_are_not_mixed_in(store: Store) -> None:
    first, second = _new_run(store), _new_run(store)
    with store.transaction() as session:
        save_result(session, first, line("a.example.cn"))
        save_result(session, second, line("b.example.cn"))
        assert [r.target for r in asset_records(session, second)] == ["b.example.cn"]


def test_deleting_an_asset_keeps_its_results_as_ad_hoc(store: Store) -> None:
    assets = _inventory(store)
    run_id = _new_run(store)
    with store.transaction() as session:
        save_result(session, run_id, line("example.cn"), assets["example.cn"])
    with store.transaction() as session:
        session.delete(session.get_one(Asset, assets["example.cn"]))
    with store.transaction() as session:
        assert [r.asset_id for r in iter_results(session, run_id)] == [None]
