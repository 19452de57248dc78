"""Hand-made assets for scoring and report tests: contract lines scored and graded for real."""

from __future__ import annotations

from typing import Any

from v6pilot.checks.result import CheckResult, Status
from v6pilot.scoring.grade import grade
from v6pilot.scoring.records import AssetRecord
from v6pilot.scoring.rubric import load_rubric

RATED = ("web.homepage_success", "web.links_l2", "web.links_l3")


def check(status: str, rate: float | None = None, message: str = "") -> dict[str, Any]:
    """One check entry; rated checks carry `rate` in their value."""
    value: dict[str, Any] = {"rate": rate} if rate is not None else {}
    return {
        "status": status,
        "value": value,
        "message": message or f"{status} (en)",
        "message_zh": f"{message or status} (zh)",
    }


def all_pass() -> dict[str, dict[str, Any]]:
    """A website passing every scored check, with full rates."""
    checks = {
        check_id: check("pass")
        for check_id in ("dns.aaaa", "web.homepage_v6", "dns.chain_v6", "web.consistency")
    }
    checks |= {check_id: check("pass", 1.0) for check_id in RATED}
    checks["web.subresources_v6"] = check("pass")
    checks["web.homepage_v6"]["value"] = {"ipv4": {"ok": True}}
    return checks


def without_v6(ipv4_ok: bool) -> dict[str, dict[str, Any]]:
    """No usable AAAA and no IPv6 homepage; the rest skipped; the chain itself works."""
    checks = all_pass()
    checks["dns.aaaa"] = check("fail", message="host has no AAAA record")
    checks["web.homepage_v6"] = check("fail", message="homepage does not load over IPv6")
    checks["web.homepage_v6"]["value"] = {"ipv4": {"ok": ipv4_ok}}
    for check_id in (*RATED, "web.consistency", "web.subresources_v6"):
        checks[check_id] = check("skipped")
    return checks


def line(target: str, checks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The contract line of `target`: score by the default rubric, grade by the grading rules."""
    results = {
        check_id: CheckResult(Status(c["status"]), "", c["value"], c["message"], c["message_zh"])
        for check_id, c in checks.items()
    }
    return {
        "target": target,
        "url": f"http://{target}/",
        "profile": "full",
        "score": load_rubric().score(results),
        "grade": grade(results).value,
        "checks": checks,
    }


def asset(
    target: str,
    checks: dict[str, dict[str, Any]],
    *,
    asset_id: int = 1,
    organisation: str | None = None,
    industry: str | None = None,
    city: str | None = None,
    province: str | None = None,
    projects: tuple[str, ...] = (),
    directions: tuple[str, ...] = (),
) -> AssetRecord:
    return AssetRecord(
        asset_id=asset_id,
        target=target,
        kind="website",
        organisation=organisation,
        industry=industry,
        city=city,
        province=province,
        projects=projects,
        directions=directions,
        result=line(target, checks),
    )


def sample() -> list[AssetRecord]:
    """Six assets in 3 cities, 4 industries and 2 projects (a2 in both); see test_aggregate."""
    a2 = all_pass()
    a2["web.homepage_success"] = check("warn", 0.8)
    a2["dns.chain_v6"] = check("fail", message="chain breaks at zone cn")
    a2["web.links_l2"] = check("warn", 0.5, "half the links fail")
    a2["web.links_l3"] = check("info")
    a5 = all_pass()
    a5["web.links_l3"] = check("warn", 0.6, "some third-level links fail")
    a6 = all_pass()
    a6["web.homepage_success"] = check("pass", 0.9)
    a6["web.consistency"] = check("warn")
    a6["web.links_l2"] = check("pass", 0.95)
    a6["web.subresources_v6"] = check("fail", message="2 of 9 sub-resources do not load")
    return [
        asset(
            "a1.example",
            all_pass(),
            asset_id=1,
            city="Hangzhou",
            industry="finance",
            projects=("P1",),
        ),
        asset(
            "a2.example",
            a2,
            asset_id=2,
            city="Hangzhou",
            industry="education",
            projects=("P1", "P2"),
        ),
        asset(
            "a3.example",
            without_v6(ipv4_ok=True),
            asset_id=3,
            city="Ningbo",
            industry="government",
            projects=("P2",),
        ),
        asset(
            "a4.example",
            without_v6(ipv4_ok=False) | {"dns.aaaa": check("pass")},
            asset_id=4,
            city="Wenzhou",
            industry="healthcare",
        ),
        asset("a5.example", a5, asset_id=5, city="Ningbo", industry="finance", projects=("P1",)),
        asset("a6.example", a6, asset_id=6, city="Wenzhou", industry="education", projects=("P2",)),
    ]
