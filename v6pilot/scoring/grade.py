"""The IPv6 grade of a target: v6_full, v6_partial, v4_only or unreachable (docs/scoring.md)."""

from __future__ import annotations

from enum import StrEnum

from v6pilot.checks.result import CheckResult, Status


class Grade(StrEnum):
    V6_FULL = "v6_full"
    V6_PARTIAL = "v6_partial"
    V4_ONLY = "v4_only"
    UNREACHABLE = "unreachable"


FULL_REQUIRES = ("web.subresources_v6", "web.redirect_v6", "dns.chain_v6", "web.consistency")
"""Checks that must not fail (when measured) for a working IPv6 homepage to be v6_full."""


def _ok(result: CheckResult | None) -> bool:
    """Not failed; a check the scanner could not run for lack of an IP version is no failure."""
    if result is None or result.code == "check.no_route":
        return True
    return result.status not in (Status.FAIL, Status.ERROR)


def grade(results: dict[str, CheckResult]) -> Grade:
    """Grade a target from its check results.

    The homepage check's value carries the IPv4 outcome too, so "unreachable" (not even over
    IPv4) is told apart from "v4_only". A different page over IPv6 (consistency failing) is
    not full IPv6 support, whatever else works.
    """
    homepage = results.get("web.homepage_v6")
    if homepage is None or homepage.status is not Status.PASS:
        value = homepage.value if homepage is not None and isinstance(homepage.value, dict) else {}
        ipv4 = value.get("ipv4") or {}
        if ipv4.get("ok") is None and "ipv4" in value:
            return Grade.V4_ONLY
        return Grade.V4_ONLY if ipv4.get("ok") else Grade.UNREACHABLE
    if all(_ok(results.get(check)) for check in FULL_REQUIRES):
        return Grade.V6_FULL
    return Grade.V6_PARTIAL
