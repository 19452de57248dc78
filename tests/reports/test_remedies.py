"""Every check has specific advice in both languages; passing checks need none."""

from __future__ import annotations

import pytest

from v6pilot.checks.registry import load_all
from v6pilot.i18n import catalogue
from v6pilot.reports.remedies import remedy

DOCUMENTED = (
    "dns.aaaa",
    "dns.ns_aaaa",
    "dns.ns_reach_v6",
    "dns.chain_v6",
    "dns.mx_aaaa",
    "mail.smtp_v6",
    "web.reach_v6",
    "web.port_parity",
    "web.homepage_v6",
    "web.homepage_success",
    "web.consistency",
    "web.tls_v6",
    "web.redirect_v6",
    "web.perf_ratio",
    "web.links_l2",
    "web.links_l3",
    "web.subresources_v6",
    "sec.port_parity",
    "sec.headers_parity",
)


@pytest.mark.parametrize("check_id", DOCUMENTED)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_documented_check_has_failure_advice(check_id: str, lang: str) -> None:
    advice = remedy(check_id, "fail", lang)
    assert advice is not None
    assert len(advice) > 40
    assert advice != remedy("dns.aaaa" if check_id != "dns.aaaa" else "web.reach_v6", "fail", lang)


def test_every_registered_check_has_advice() -> None:
    assert {c for c in load_all() if remedy(c, "fail") is None} == set()


def test_warning_advice_is_its_own_or_the_failures() -> None:
    assert remedy("dns.ns_aaaa", "warn") == catalogue("en")["remedy.dns.ns_aaaa.warn"]
    assert remedy("web.redirect_v6", "warn") == remedy("web.redirect_v6", "fail")


def test_statuses_without_advice_and_generic_ones() -> None:
    assert remedy("dns.aaaa", "pass") is None
    assert remedy("dns.aaaa", "info") is None
    assert remedy("custom.check", "fail") is None
    assert remedy("dns.aaaa", "error") == catalogue("en")["remedy.error"]
    assert remedy("web.links_l2", "skipped", "zh") == catalogue("zh")["remedy.skipped"]
