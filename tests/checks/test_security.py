"""The sec.* checks against a scripted network: ports IPv6 exposes beyond IPv4, and protective
headers IPv6 responses drop or change."""

from __future__ import annotations

import pytest

from tests.checks.test_web import (
    HTML,
    HTTPS_HOME,
    PAGE,
    V4,
    V6,
    V6B,
    WWW,
    assert_names,
    black_hole,
    run,
    serve,
    site,
)
from v6pilot.checks.result import Status
from v6pilot.net.mock import MockNetwork
from v6pilot.net.types import TcpOutcome

PORTS = (22, 80, 443, 3306)


# --- sec.port_parity ------------------------------------------------------------------------


async def test_port_parity_passes_when_ipv6_opens_nothing_extra() -> None:
    net = site()
    net.ports[(V4, 22)] = TcpOutcome.OPEN
    result = await run(net, "sec.port_parity", sec_ports=PORTS)
    assert result.status is Status.PASS
    assert result.value == {"v6_only": [], "checked": list(PORTS)}
    assert_names(result, WWW, "4")


async def test_port_parity_passes_when_ipv6_is_closed_altogether() -> None:
    net = site()
    black_hole(net, V6)
    result = await run(net, "sec.port_parity", sec_ports=PORTS)
    assert result.status is Status.PASS


async def test_port_parity_fails_on_ports_open_over_ipv6_only() -> None:
    net = site(v6=(V6, V6B))
    net.ports[(V6, 22)] = TcpOutcome.OPEN
    net.ports[(V6B, 3306)] = TcpOutcome.OPEN
    net.ports[(V4, 3306)] = TcpOutcome.TIMEOUT
    result = await run(net, "sec.port_parity", sec_ports=PORTS)
    assert result.status is Status.FAIL
    assert result.value == {"v6_only": [22, 3306], "checked": list(PORTS)}
    assert_names(result, WWW, f"22 ({V6})", f"3306 ({V6B})", V4)


async def test_port_parity_uses_the_default_port_list() -> None:
    net = site()
    net.ports[(V6, 6379)] = TcpOutcome.OPEN
    result = await run(net, "sec.port_parity")
    assert result.status is Status.FAIL
    assert result.value["v6_only"] == [6379]
    assert 3389 in result.value["checked"]


@pytest.mark.parametrize(("v4", "v6", "missing"), [((V4,), (), "IPv6"), ((), (V6,), "IPv4")])
async def test_port_parity_is_skipped_without_both_families(
    v4: tuple[str, ...], v6: tuple[str, ...], missing: str
) -> None:
    net = site(v4=v4, v6=v6)
    result = await run(net, "sec.port_parity", sec_ports=PORTS)
    assert result.status is Status.SKIPPED
    assert_names(result, WWW, missing)
    assert not [c for c in net.calls if c[0] == "connect"]


# --- sec.headers_parity ---------------------------------------------------------------------


def with_v6_headers(headers: dict[str, str]) -> MockNetwork:
    """A site whose IPv6 homepage answers with `headers` instead of the IPv4 ones."""
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    serve(net, HTTPS_HOME, V6, headers=headers)
    return net


async def test_headers_parity_passes_on_the_same_headers() -> None:
    result = await run(site(), "sec.headers_parity")
    assert result.status is Status.PASS
    assert result.value["v4"] == result.value["v6"]
    assert result.value["v6"]["Strict-Transport-Security"] == "max-age=31536000"
    assert_names(result, "Strict-Transport-Security", HTTPS_HOME)


async def test_headers_parity_fails_when_ipv6_drops_hsts_and_csp() -> None:
    stripped = {
        k: v
        for k, v in HTML.items()
        if k not in ("Strict-Transport-Security", "Content-Security-Policy")
    }
    result = await run(with_v6_headers(stripped), "sec.headers_parity")
    assert result.status is Status.FAIL
    assert result.value["v6"]["Content-Security-Policy"] is None
    assert result.value["v4"]["Content-Security-Policy"] == "default-src 'self'"
    assert_names(result, "Strict-Transport-Security", "Content-Security-Policy", HTTPS_HOME)
    assert "X-Frame-Options" not in result.message


async def test_headers_parity_warns_on_a_different_value() -> None:
    changed = {**HTML, "X-Frame-Options": "DENY"}
    result = await run(with_v6_headers(changed), "sec.headers_parity")
    assert result.status is Status.WARN
    assert_names(result, "X-Frame-Options", "SAMEORIGIN", "DENY")


async def test_headers_parity_warns_on_a_header_only_ipv6_sends() -> None:
    net = site()
    without = {k: v for k, v in HTML.items() if k != "X-Content-Type-Options"}
    net.pages[(HTTPS_HOME, V4)] = []
    serve(net, HTTPS_HOME, V4, headers=without)
    result = await run(net, "sec.headers_parity")
    assert result.status is Status.WARN
    assert_names(result, "X-Content-Type-Options")


async def test_headers_parity_ignores_csp_nonces_and_spacing() -> None:
    net = site()
    for address, nonce in ((V4, "abc123"), (V6, "zyx987")):
        net.pages[(HTTPS_HOME, address)] = []
        csp = {**HTML, "Content-Security-Policy": f"script-src  'nonce-{nonce}' 'self'"}
        serve(net, HTTPS_HOME, address, headers=csp)
    result = await run(net, "sec.headers_parity")
    assert result.status is Status.PASS


async def test_headers_parity_passes_when_neither_family_sends_any() -> None:
    net = site()
    for address in (V4, V6):
        net.pages[(HTTPS_HOME, address)] = []
        serve(net, HTTPS_HOME, address, body=PAGE, headers={"Content-Type": "text/html"})
    result = await run(net, "sec.headers_parity")
    assert result.status is Status.PASS
    assert result.code == "sec.headers_parity.none"


async def test_headers_parity_is_skipped_without_an_ipv6_page() -> None:
    net = site()
    black_hole(net, V6)
    result = await run(net, "sec.headers_parity")
    assert result.status is Status.SKIPPED
    assert_names(result, "IPv6", f"[{V6}]:80")
