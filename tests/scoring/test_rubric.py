from __future__ import annotations

from pathlib import Path

import pytest

from v6pilot.checks.result import CheckResult, Status
from v6pilot.scoring.grade import Grade, grade
from v6pilot.scoring.rubric import RubricError, load_rubric


def result(status: str, value: object = None) -> CheckResult:
    return CheckResult(Status(status), "test", value)


ALL_PASS = {
    "dns.aaaa": result("pass"),
    "web.homepage_v6": result("pass", {"ipv4": {"ok": True}}),
    "web.homepage_success": result("pass", {"rate": 1.0}),
    "dns.chain_v6": result("pass"),
    "web.consistency": result("pass"),
    "web.links_l2": result("pass", {"rate": 1.0}),
    "web.links_l3": result("pass", {"rate": 1.0}),
}


def test_default_rubric_weights_the_seven_indicators() -> None:
    rubric = load_rubric()
    assert sum(i.weight for i in rubric.items) == 100
    assert sorted(i.indicator for i in rubric.items) == [1, 2, 3, 4, 5, 6, 7]
    assert rubric.score(ALL_PASS) == 100.0


def test_rates_and_warnings_earn_partial_points() -> None:
    rubric = load_rubric()
    results = dict(ALL_PASS)
    results["web.links_l2"] = result("warn", {"rate": 0.7})
    results["web.consistency"] = result("warn")
    assert rubric.score(results) == 100 - 15 * 0.3 - 15 * 0.5


def test_not_applicable_and_unmeasured_items_leave_the_denominator() -> None:
    rubric = load_rubric()
    quick = {k: ALL_PASS[k] for k in ("dns.aaaa", "web.homepage_v6", "web.consistency")}
    quick["dns.aaaa"] = result("fail")
    assert rubric.score(quick) == round(100 * 35 / 50, 1)
    quick["web.links_l2"] = result("info", {"rate": None})
    assert rubric.score(quick) == round(100 * 35 / 50, 1)
    assert rubric.score({}) is None


def test_bands() -> None:
    rubric = load_rubric()
    assert [rubric.band(s).name for s in (95, 90, 80, 10)] == [
        "excellent",
        "excellent",
        "good",
        "poor",
    ]


def test_user_rubric_and_bad_rubrics(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "name: aaaa-only\npoints: {pass: 1, fail: 0}\nitems: [{check: dns.aaaa, weight: 1}]\n"
        "bands: [{name: ok, name_zh: 好, min: 0}]\n"
    )
    assert load_rubric(path).score({"dns.aaaa": result("pass")}) == 100.0
    path.write_text("name: broken\nitems: []\n")
    with pytest.raises(RubricError):
        load_rubric(path)
    with pytest.raises(RubricError, match="cannot read"):
        load_rubric(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Grade.V6_FULL),
        ({"web.subresources_v6": result("fail")}, Grade.V6_PARTIAL),
        ({"dns.chain_v6": result("fail")}, Grade.V6_PARTIAL),
        ({"web.consistency": result("fail")}, Grade.V6_PARTIAL),
        ({"web.consistency": result("skipped")}, Grade.V6_FULL),
        ({"web.homepage_v6": result("fail", {"ipv4": {"ok": True}})}, Grade.V4_ONLY),
        ({"web.homepage_v6": result("fail", {"ipv4": {"ok": False}})}, Grade.UNREACHABLE),
        ({"web.homepage_v6": result("fail", {"ipv4": {"ok": None}})}, Grade.V4_ONLY),
    ],
)
def test_grades(changes: dict[str, CheckResult], expected: Grade) -> None:
    assert grade(ALL_PASS | changes) is expected


def test_a_check_the_scanner_could_not_run_does_not_cost_the_full_grade() -> None:
    not_measured = CheckResult(Status.ERROR, "check.no_route")
    assert grade(ALL_PASS | {"web.consistency": not_measured}) is Grade.V6_FULL
    assert grade(ALL_PASS | {"web.consistency": result("error")}) is Grade.V6_PARTIAL
