"""Registrable domains decide which links are internal: public suffix list, offline."""

from __future__ import annotations

import pytest

from v6pilot.checks.domains import registrable_domain


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("a.b.gov.cn", "b.gov.cn"),
        ("www.b.gov.cn", "b.gov.cn"),
        ("www.gov.cn", "www.gov.cn"),  # gov.cn itself is a public suffix
        ("news.example.com.cn", "example.com.cn"),
        ("www.good.test", "good.test"),  # .test is unknown to the list: last label is the suffix
        ("deep.www.links-l2.test", "links-l2.test"),
        ("old.good.example", "good.example"),
        ("WWW.Good.Test.", "good.test"),
        ("www.xn--0zw220abodfoq.test", "xn--0zw220abodfoq.test"),
        (
            "www.xn--fiqa61au8b7zsevnm8ak20mc4a87e.xn--fiqs8s",
            "xn--fiqa61au8b7zsevnm8ak20mc4a87e.xn--fiqs8s",
        ),
        ("a.b.xn--55qx5d.cn", "b.xn--55qx5d.cn"),  # 公司.cn is a suffix
        ("host1.good.test", "good.test"),
        ("1.2.3", "2.3"),  # ends in a digit but is no IP literal
        ("999.1.1.1", "1.1"),
        ("1.2.3.4.", "1.2.3.4"),
        ("FE80::1%eth0", "fe80::1%eth0"),
    ],
)
def test_registrable_domain(host: str, expected: str) -> None:
    assert registrable_domain(host) == expected


@pytest.mark.parametrize("host", ["gov.cn", "localhost", "203.0.113.5", "2001:db8::1"])
def test_suffixes_single_labels_and_ip_literals_are_their_own_domain(host: str) -> None:
    assert registrable_domain(host) == host


def test_bracketed_ipv6_literal_loses_its_brackets() -> None:
    assert registrable_domain("[2001:db8::1]") == "2001:db8::1"


def test_a_host_asked_again_is_answered_from_memory() -> None:
    registrable_domain("www.memo.test")
    hits = registrable_domain.cache_info().hits

    assert registrable_domain("www.memo.test") == "memo.test"
    assert registrable_domain.cache_info().hits == hits + 1
