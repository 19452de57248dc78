"""Resumable runs: the plan is recorded with the run, a resumed run scans only what has no
result, the run finishes only when complete, and JSON-lines output is repaired and continued."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests.scan.resume_runner import DelayedNetwork
from tests.store.backends import session_store, store
from v6pilot.checks.context import ScanOptions
from v6pilot.checks.registry import checks_for
from v6pilot.net.polite import Limits
from v6pilot.scan.output import JsonLinesAppender, OutputError, repair_json_lines
from v6pilot.scan.resume import resume_run, start_run, unique_targets
from v6pilot.scan.session import NetworkConfig, ScanError, ScanPlan
from v6pilot.scan.targets import parse_target
from v6pilot.scoring.rubric import load_rubric
from v6pilot.store import Store
from v6pilot.store.models import RunStatus
from v6pilot.store.recorder import RunRecorder
from v6pilot.store.runs import (
    count_missing,
    create_run,
    done_targets,
    get_run,
    iter_results,
    save_result,
)

__all__ = ["session_store", "store"]

QUICK = [check.id for check in checks_for("quick")]


def plan(count: int, **network: Any) -> ScanPlan:
    targets = [parse_target(f"site{i}.example.test", allow_private=True) for i in range(count)]
    return ScanPlan(
        targets=targets,
        problems=[],
        options=ScanOptions(profile="quick", timeout=1.0, allow_private=True, sec_ports=(80,)),
        rubric=load_rubric(),
        network=NetworkConfig(**network),
    )


def line(url: str, target: str = "t") -> dict[str, Any]:
    return {"target": target, "url": url, "profile": "quick", "score": 1.0, "grade": "x"}


def scan_lines(store: Store, run_id: int) -> dict[str, dict[str, Any]]:
    with store.transaction() as session:
        return {r.url: r.result for r in iter_results(session, run_id)}


def test_unique_targets_keep_the_first_of_each_url() -> None:
    first, again, other = (
        parse_target(t, allow_private=True)
        for t in ("a.example.test", "http://a.example.test/", "b.example.test")
    )
    assert unique_targets([first, again, other, first]) == [first, other]


def test_a_run_is_recorded_with_its_settings_and_plan(store: Store) -> None:
    limits = Limits(ip_connections=2, ip_rate=5.0)
    original = plan(3, resolvers=(("2001:db8::53", 53),), limits=limits)
    original.targets.append(parse_target("http://site0.example.test/", allow_private=True))
    started = start_run(store, original, concurrency=7, note="季度")
    assert (started.planned, started.remaining, started.fresh) == (3, 3, True)
    resumed = resume_run(store, started.run_id)
    assert (resumed.planned, resumed.remaining, resumed.concurrency) == (3, 3, 7)
    assert resumed.plan.targets == started.plan.targets
    assert resumed.plan.options == original.options
    assert resumed.plan.network == original.network
    assert resumed.plan.rubric == original.rubric
    assert resume_run(store, started.run_id, concurrency=3).concurrency == 3


def test_resuming_scans_only_what_has_no_result(store: Store) -> None:
    started = start_run(store, plan(12), concurrency=4)
    urls = [t.url for t in started.plan.targets]
    with store.transaction() as session:
        for url in urls[:5]:
            save_result(session, started.run_id, line(url, url))
    resumed = resume_run(store, started.run_id)
    assert [t.url for t in resumed.plan.targets] == urls[5:]
    assert resumed.run(network=lambda: DelayedNetwork(1)) == 7
    stored = scan_lines(store, started.run_id)
    assert set(stored) == set(urls)
    assert all(stored[url]["grade"] == "x" for url in urls[:5])
    assert all(set(stored[url]["checks"]) == set(QUICK) for url in urls[5:])
    with store.transaction() as session:
        run = get_run(session, started.run_id)
        assert run.status is RunStatus.FINISHED and run.note is None


def test_a_run_missing_results_ends_failed_and_reopens(store: Store) -> None:
    started = start_run(store, plan(4), concurrency=4)
    recorder = RunRecorder.resume(store, started.run_id)
    recorder.write(line(started.plan.targets[0].url))
    recorder.close()
    with store.transaction() as session:
        run = get_run(session, started.run_id)
        assert run.status is RunStatus.FAILED and run.finished_at is not None
        assert run.note == "interrupted with 3 of 4 targets left"
        assert count_missing(session, started.run_id) == 3
    again = RunRecorder.resume(store, started.run_id)
    assert (again.expected, again.saved) == (4, 1)
    with store.transaction() as session:
        run = get_run(session, started.run_id)
        assert run.status is RunStatus.RUNNING and run.finished_at is None


def test_a_finished_run_is_left_as_it_is(store: Store, tmp_path: Path) -> None:
    started = start_run(store, plan(3), concurrency=3)
    started.run(network=lambda: DelayedNetwork(2))
    with store.transaction() as session:
        finished_at = get_run(session, started.run_id).finished_at
    out = tmp_path / "late.jsonl"
    assert resume_run(store, started.run_id).run(out=out) == 0
    with store.transaction() as session:
        run = get_run(session, started.run_id)
        assert run.status is RunStatus.FINISHED and run.finished_at == finished_at
    assert {json.loads(x)["url"] for x in out.read_text().splitlines()} == {
        t.url for t in started.plan.targets
    }


def test_a_run_without_a_recorded_plan_cannot_be_resumed(store: Store) -> None:
    with store.transaction() as session:
        run_id = create_run(session, profile="quick", rubric="default").id
    with pytest.raises(ScanError, match=f"run {run_id} was not recorded with its plan"):
        resume_run(store, run_id)


def test_a_changed_rubric_is_refused(store: Store, tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.yaml"
    default = resources.files("v6pilot.scoring").joinpath("default_rubric.yaml")
    rubric.write_text(default.read_text("utf-8"), "utf-8")
    original = plan(2)
    original.rubric_file = rubric
    started = start_run(store, original, concurrency=2)
    rubric.write_text(default.read_text("utf-8").replace("name: ", "name: changed-", 1), "utf-8")
    with pytest.raises(ScanError, match="scored with rubric"):
        resume_run(store, started.run_id)


def test_repair_cuts_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    whole = json.dumps(line("http://a.test/")) + "\n" + json.dumps(line("http://b.test/")) + "\n"
    path.write_text(whole + '{"target": "c", "url": "http://c.te', "utf-8")
    assert repair_json_lines(path) == {"http://a.test/", "http://b.test/"}
    assert path.read_text("utf-8") == whole
    path.write_text(whole + "not json\n", "utf-8")
    with pytest.raises(OutputError, match=r"out\.jsonl:3 is not a scan result line"):
        repair_json_lines(path)


def test_the_appender_skips_targets_already_written(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    appender = JsonLinesAppender(path, {"http://a.test/"})
    for url in ("http://a.test/", "http://b.test/", "http://b.test/"):
        appender.write(line(url))
    appender.close()
    assert [json.loads(x)["url"] for x in path.read_text("utf-8").splitlines()] == [
        "http://b.test/"
    ]


def test_resumed_output_ends_with_every_target_once(store: Store, tmp_path: Path) -> None:
    started = start_run(store, plan(10), concurrency=4)
    urls = [t.url for t in started.plan.targets]
    with store.transaction() as session:
        for url in urls[:4]:
            save_result(session, started.run_id, line(url, url))
    out = tmp_path / "out.jsonl"
    ahead = [json.dumps(line(urls[i], urls[i])) for i in (0, 5)]
    out.write_text("\n".join(ahead) + "\n" + '{"url": "partial', "utf-8")
    assert resume_run(store, started.run_id).run(out=out, network=lambda: DelayedNetwork(3)) == 6
    written = [json.loads(x)["url"] for x in out.read_text("utf-8").splitlines()]
    assert sorted(written) == sorted(urls) and len(written) == len(urls)
    with store.transaction() as session:
        assert done_targets(session, started.run_id) == set(urls)


def test_resumed_output_of_other_targets_or_format_is_refused(store: Store, tmp_path: Path) -> None:
    started = start_run(store, plan(2), concurrency=2)
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps(line("http://elsewhere.test/")) + "\n", "utf-8")
    with pytest.raises(OutputError, match="did not plan"):
        resume_run(store, started.run_id).run(out=other)
    with pytest.raises(OutputError, match=r"only \.jsonl output can be continued"):
        resume_run(store, started.run_id).run(out=tmp_path / "out.csv")
    with store.transaction() as session:
        assert get_run(session, started.run_id).status is RunStatus.RUNNING
