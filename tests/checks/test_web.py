"""The web.* checks against a scripted network: every status of docs/checks.md, and messages
that name the address, port and URL in both languages."""

from __future__ import annotations

import asyncio
import re
import string
from pathlib import Path

import pytest

from v6pilot import i18n
from v6pilot.checks import security, web
from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.result import CheckResult, Status
from v6pilot.errors import DnsTimeout, NetError, NetRefused, NetTimeout, TlsError
from v6pilot.net.mock import MockNetwork
from v6pilot.net.types import HttpResponse, TcpOutcome, TlsInfo

WWW = "www.good.test"
HOME = f"http://{WWW}/"
HTTPS_HOME = f"https://{WWW}/"
V4, V6, V6B = "192.0.2.10", "2001:db8::10", "2001:db8::11"
PORTAL, PORTAL_V4 = "portal.good.test", "192.0.2.20"
CERT, OTHER_CERT = "ab" * 32, "cd" * 32
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}
HTML = {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS}
PAGE = (
    "<!DOCTYPE html><html><head><title>示范区人民政府门户网站</title></head><body>"
    '<ul><li><a href="/p/1.html">政务公开</a></li><li><a href="/p/2.html">政务服务</a></li></ul>'
    + "".join(
        f"<p>第{i}条新闻 示范区推进IPv6规模部署 news item {i} of the portal</p>" for i in range(20)
    )
    + "</body></html>"
)
TEST_PAGE = (
    "<html><head><title>IPv6 test page</title></head><body>"
    "<h1>IPv6 测试页面</h1><p>This is the IPv6 test page.</p></body></html>"
)


def serve(
    net: MockNetwork,
    url: str,
    address: str,
    *,
    status: int = 200,
    body: str | bytes = PAGE,
    headers: dict[str, str] | None = None,
    elapsed: float = 0.01,
    cert: str = CERT,
) -> None:
    """Queue one response for `url` at `address` (https responses carry a verified certificate)."""
    data = body.encode() if isinstance(body, str) else body
    tls = TlsInfo(cert, verified=True) if url.startswith("https:") else None
    merged = {k.lower(): v for k, v in (HTML if headers is None else headers).items()}
    response = HttpResponse(url, address, status, merged, data, elapsed, tls=tls)
    net.pages.setdefault((url, address), []).append(response)


def redirect(net: MockNetwork, url: str, address: str, location: str) -> None:
    serve(net, url, address, status=301, body=b"", headers={"Location": location})


def site(v4: tuple[str, ...] = (V4,), v6: tuple[str, ...] = (V6,)) -> MockNetwork:
    """www.good.test: ports 80 and 443 open, http redirecting to https, the same page on both."""
    net = MockNetwork()
    net.add_host(WWW, v4=list(v4), v6=list(v6))
    for address in (*v4, *v6):
        for port in (80, 443):
            net.ports[(address, port)] = TcpOutcome.OPEN
        redirect(net, HOME, address, HTTPS_HOME)
        serve(net, HTTPS_HOME, address)
    return net


def black_hole(net: MockNetwork, address: str, outcome: TcpOutcome = TcpOutcome.TIMEOUT) -> None:
    """Make `address` unreachable: its ports give `outcome`, its requests fail accordingly."""
    for key in [k for k in net.ports if k[0] == address]:
        net.ports[key] = outcome
    for url, where in [k for k in net.pages if k[1] == address]:
        port = 443 if url.startswith("https:") else 80
        error: NetError = (
            NetTimeout(address, port, "connect timeout: no TCP connection within 5s")
            if outcome is TcpOutcome.TIMEOUT
            else NetRefused(address, port, "connection refused")
        )
        net.pages[(url, where)] = [error]


def context(net: MockNetwork, url: str = HOME, **options: object) -> TargetContext:
    shared = ScanShared(net, ScanOptions(allow_private=True, **options))  # type: ignore[arg-type]
    return TargetContext(Target(WWW, WWW, url), shared)


async def run(net: MockNetwork, check_id: str, url: str = HOME, **options: object) -> CheckResult:
    return await context(net, url, **options).result(check_id)


def assert_names(result: CheckResult, *parts: str) -> None:
    """Both the English and the Chinese message mention every one of `parts`."""
    for part in parts:
        assert part in result.message, (part, result.message)
        assert part in result.message_zh, (part, result.message_zh)


def fetches(net: MockNetwork, url: str | None = None) -> list[tuple[str, ...]]:
    return [c for c in net.calls if c[0] == "fetch" and (url is None or c[2] == url)]


# --- web.reach_v6 ---------------------------------------------------------------------------


async def test_reach_v6_passes_when_every_address_answers() -> None:
    result = await run(site(v6=(V6, V6B)), "web.reach_v6")
    assert result.status is Status.PASS
    assert result.value == {"addresses": {a: {80: "open", 443: "open"} for a in (V6, V6B)}}
    assert_names(result, WWW)


async def test_reach_v6_warns_when_some_addresses_answer() -> None:
    net = site(v6=(V6, V6B))
    black_hole(net, V6B, TcpOutcome.REFUSED)
    result = await run(net, "web.reach_v6")
    assert result.status is Status.WARN
    assert_names(result, f"[{V6B}]:80 refused", f"[{V6B}]:443 refused")
    assert V6 + "]" not in result.message


async def test_reach_v6_fails_when_no_address_answers() -> None:
    net = site()
    black_hole(net, V6)
    result = await run(net, "web.reach_v6")
    assert result.status is Status.FAIL
    assert_names(result, f"[{V6}]:80 timeout", f"[{V6}]:443 timeout")


async def test_reach_v6_fails_on_a_mapped_aaaa_and_says_why() -> None:
    net = site(v6=())
    net.add_record(WWW, "AAAA", ["::ffff:192.0.2.10"])
    result = await run(net, "web.reach_v6")
    assert result.status is Status.FAIL
    assert_names(result, WWW, "::ffff:192.0.2.10", "IPv4-mapped")
    assert not [c for c in net.calls if c[0] == "connect"]


async def test_reach_v6_fails_without_aaaa() -> None:
    result = await run(site(v6=()), "web.reach_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.reach_v6.no_aaaa"


async def test_reach_v6_is_an_error_when_the_resolver_fails() -> None:
    net = site()
    net.failing_names[WWW] = DnsTimeout("192.0.2.53", 53, "no answer", WWW)
    result = await run(net, "web.reach_v6")
    assert result.status is Status.ERROR
    assert_names(result, WWW, "192.0.2.53:53")


async def test_ports_are_probed_once_per_scan_for_all_checks() -> None:
    net = site()
    net.ports[(V6, 22)] = TcpOutcome.OPEN
    ctx = context(net, sec_ports=(22, 80, 443))
    checks = ("web.reach_v6", "web.port_parity", "web.tls_v6", "sec.port_parity")
    await asyncio.gather(*(ctx.result(c) for c in checks))
    connects = [c for c in net.calls if c[0] == "connect"]
    assert sorted(connects) == sorted(set(connects))
    assert ("connect", V6, "443") in connects


# --- web.port_parity ------------------------------------------------------------------------


async def test_port_parity_passes_when_ipv6_opens_what_ipv4_opens() -> None:
    result = await run(site(), "web.port_parity")
    assert result.status is Status.PASS
    assert result.value == {"v4": {80: [V4], 443: [V4]}, "v6": {80: [V6], 443: [V6]}}


async def test_port_parity_fails_when_443_is_ipv4_only() -> None:
    net = site(v6=(V6, V6B))
    net.ports[(V6B, 443)] = TcpOutcome.REFUSED
    result = await run(net, "web.port_parity")
    assert result.status is Status.FAIL
    assert result.value["v6"] == {80: [V6, V6B], 443: [V6]}
    assert_names(result, WWW, f"[{V6B}]:443 refused")


async def test_port_parity_is_info_when_no_web_port_is_open_over_ipv4() -> None:
    net = site()
    black_hole(net, V4)
    black_hole(net, V6)
    result = await run(net, "web.port_parity")
    assert result.status is Status.INFO
    assert_names(result, f"{V4}:80 timeout")


@pytest.mark.parametrize(("v4", "v6", "missing"), [((V4,), (), "IPv6"), ((), (V6,), "IPv4")])
async def test_port_parity_is_skipped_without_both_families(
    v4: tuple[str, ...], v6: tuple[str, ...], missing: str
) -> None:
    result = await run(site(v4=v4, v6=v6), "web.port_parity")
    assert result.status is Status.SKIPPED
    assert_names(result, WWW, missing)


# --- web.homepage_v6 ------------------------------------------------------------------------


async def test_homepage_v6_passes_through_the_https_redirect() -> None:
    net = site()
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.PASS
    value = result.value
    assert value["final_url"] == HTTPS_HOME
    assert value["status"] == 200
    assert [h["url"] for h in value["hops"]] == [HOME, HTTPS_HOME]
    assert value["hops"][0] == {"url": HOME, "address": V6, "status": 301, "error": ""}
    assert value["ipv4"] == {"ok": True, "status": 200, "final_url": HTTPS_HOME}
    assert_names(result, HTTPS_HOME, f"[{V6}]:443", "200")


async def test_homepage_v6_fails_on_a_mapped_aaaa_and_keeps_the_ipv4_outcome() -> None:
    net = site(v6=())
    net.add_record(WWW, "AAAA", ["::ffff:192.0.2.10"])
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.homepage_v6.no_aaaa"
    assert result.value["ipv4"]["ok"] is True
    assert_names(result, WWW, "::ffff:192.0.2.10", "IPv4-mapped")


async def test_homepage_v6_names_the_endpoint_that_refuses() -> None:
    net = site()
    black_hole(net, V6, TcpOutcome.REFUSED)
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.homepage_v6.connect_failed"
    assert_names(result, f"[{V6}]:80", HOME, "refused")


async def test_homepage_v6_reports_the_tls_failure_reason() -> None:
    net = site()
    reason = "certificate verification failed: hostname mismatch"
    net.pages[(HTTPS_HOME, V6)] = [TlsError(V6, 443, reason)]
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.homepage_v6.tls_failed"
    assert_names(result, f"[{V6}]:443", HTTPS_HOME, reason)


async def test_homepage_v6_reports_a_connection_reset_after_connecting() -> None:
    net = site()
    net.pages[(HOME, V6)] = [NetError(V6, 80, "connection reset while reading the response")]
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.homepage_v6.request_failed"
    assert_names(result, f"[{V6}]:80", "connection reset")


async def test_homepage_v6_fails_on_an_error_status() -> None:
    net = site()
    net.pages[(HOME, V6)] = []
    serve(net, HOME, V6, status=503, body="<h1>503 Service Unavailable</h1>")
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.value["status"] == 503
    assert_names(result, "HTTP 503", HOME, f"[{V6}]:80")


async def test_homepage_v6_fails_on_a_redirect_to_an_ipv4_only_host() -> None:
    net = site()
    net.add_host(PORTAL, v4=[PORTAL_V4])
    for address in (V4, V6):
        net.pages[(HOME, address)] = []
        redirect(net, HOME, address, f"http://{PORTAL}/")
    serve(net, f"http://{PORTAL}/", PORTAL_V4)
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.homepage_v6.redirect_no_aaaa"
    assert result.value["ipv4"] == {"ok": True, "status": 200, "final_url": f"http://{PORTAL}/"}
    assert_names(result, HOME, f"http://{PORTAL}/", PORTAL)


async def test_homepage_v6_fails_on_an_ipv4_literal_hop() -> None:
    net = site()
    net.pages[(HOME, V6)] = []
    redirect(net, HOME, V6, "http://192.0.2.99/")
    result = await run(net, "web.homepage_v6")
    assert result.code == "web.homepage_v6.v4_literal"
    assert_names(result, "http://192.0.2.99/")


async def test_homepage_v6_fails_on_a_redirect_loop_in_both_families() -> None:
    net = site()
    for address in (V4, V6):
        net.pages[(HTTPS_HOME, address)] = []
        redirect(net, HTTPS_HOME, address, "/loop/a")
        redirect(net, f"{HTTPS_HOME}loop/a", address, "/loop/b")
        redirect(net, f"{HTTPS_HOME}loop/b", address, "/loop/a")
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.homepage_v6.loop"
    assert result.value["ipv4"]["ok"] is False
    assert_names(result, f"{HTTPS_HOME}loop/a", HOME)


async def test_homepage_v6_fails_after_too_many_redirects() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    redirect(net, HTTPS_HOME, V6, "/1")
    for n in range(1, 5):
        redirect(net, f"{HTTPS_HOME}{n}", V6, f"/{n + 1}")
    result = await run(net, "web.homepage_v6", max_redirects=3)
    assert result.code == "web.homepage_v6.too_many_redirects"
    assert len(result.value["hops"]) == 4
    assert_names(result, f"{HTTPS_HOME}2", "4")


async def test_homepage_v6_is_an_error_when_the_resolver_fails() -> None:
    net = site()
    net.failing_names[WWW] = DnsTimeout("192.0.2.53", 53, "no answer", WWW)
    result = await run(net, "web.homepage_v6")
    assert result.status is Status.ERROR
    assert result.value["ipv4"]["ok"] is False


# --- web.homepage_success -------------------------------------------------------------------


async def test_homepage_success_is_skipped_unless_the_homepage_passed() -> None:
    net = site()
    black_hole(net, V6)
    result = await run(net, "web.homepage_success")
    assert result.status is Status.SKIPPED
    assert "fail" in result.message


async def test_homepage_success_sends_fresh_requests_without_retry() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    serve(net, HTTPS_HOME, V6)  # for web.homepage_v6
    for n in range(10):
        if n % 3 == 2:
            net.pages[(HTTPS_HOME, V6)].append(NetError(V6, 443, "connection reset"))
        else:
            serve(net, HTTPS_HOME, V6)
    serve(net, HTTPS_HOME, V6)
    result = await run(net, "web.homepage_success")
    assert result.status is Status.WARN
    assert result.value == {"probes": 10, "ok": 7, "rate": 0.7}
    assert len(fetches(net, HTTPS_HOME)) == 2 + 10  # both homepages, then one try per probe
    assert_names(result, HTTPS_HOME, f"[{V6}]:443", "connection reset")


async def test_homepage_success_passes_and_fails_by_rate() -> None:
    result = await run(site(), "web.homepage_success", success_probes=4)
    assert result.status is Status.PASS
    assert result.value == {"probes": 4, "ok": 4, "rate": 1.0}

    net = site()
    net.pages[(HTTPS_HOME, V6)].append(HttpResponse(HTTPS_HOME, V6, 500, {}, b"", 0.01))
    result = await run(net, "web.homepage_success")
    assert result.status is Status.FAIL
    assert result.value["ok"] == 0
    assert_names(result, "HTTP 500")


async def test_homepage_success_probes_the_homepages_address_five_at_a_time() -> None:
    class Slow(MockNetwork):
        in_flight = 0
        most = 0

        async def fetch(
            self,
            url: str,
            address: str,
            *,
            method: str = "GET",
            max_body: int | None = None,
            reuse: bool = False,
        ) -> HttpResponse:
            Slow.in_flight += 1
            Slow.most = max(Slow.most, Slow.in_flight)
            await asyncio.sleep(0.005)
            Slow.in_flight -= 1
            return await super().fetch(url, address, method=method, max_body=max_body)

    net = Slow()
    template = site(v6=(V6, V6B))
    net.records, net.ports, net.pages = template.records, template.ports, template.pages
    black_hole(net, V6)
    result = await run(net, "web.homepage_success", success_probes=12)
    assert result.status is Status.PASS
    assert Slow.most == 5
    probed = {c[3] for c in fetches(net, HTTPS_HOME)[-12:]}
    assert probed == {V6B}


# --- web.consistency ------------------------------------------------------------------------


async def test_consistency_passes_on_byte_identical_pages_without_fingerprinting() -> None:
    result = await run(site(), "web.consistency")
    assert result.status is Status.PASS
    assert result.value == {
        "similarity": 1.0,
        "text": None,
        "structure": None,
        "links": None,
        "identical": True,
        "v4_status": 200,
        "v6_status": 200,
    }


async def test_consistency_fingerprints_pages_that_differ_only_by_a_nonce() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    serve(net, HTTPS_HOME, V6, body=PAGE.replace("</body>", "<p>n0nce7f3a9c2e41b8d5</p></body>"))
    result = await run(net, "web.consistency")
    assert result.status is Status.PASS
    assert result.value["identical"] is False
    assert result.value["similarity"] >= 0.9
    assert result.value["structure"] is not None


async def test_consistency_passes_on_gbk_versus_utf8() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V4)] = []
    gbk = {**HTML, "Content-Type": "text/html; charset=GBK"}
    serve(net, HTTPS_HOME, V4, body=PAGE.encode("gbk"), headers=gbk)
    result = await run(net, "web.consistency")
    assert result.status is Status.PASS
    assert result.value["similarity"] == 1.0


async def test_consistency_fails_on_a_different_page() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    serve(net, HTTPS_HOME, V6, body=TEST_PAGE)
    result = await run(net, "web.consistency")
    assert result.status is Status.FAIL
    assert result.value["similarity"] < 0.5
    assert_names(result, HTTPS_HOME)


async def test_consistency_warns_on_a_partly_different_page() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    changed = PAGE
    for i in range(5):
        changed = changed.replace(f"news item {i} of", f"完全不同的内容 {i} 另外一条消息 of")
    serve(net, HTTPS_HOME, V6, body=changed)
    result = await run(net, "web.consistency")
    assert result.status is Status.WARN, result.value
    assert 0.7 <= result.value["similarity"] < 0.9


async def test_consistency_fails_on_a_different_final_status() -> None:
    net = site()
    net.pages[(HOME, V6)] = []
    serve(net, HOME, V6, status=503, body=PAGE)
    result = await run(net, "web.consistency")
    assert result.status is Status.FAIL
    assert result.code == "web.consistency.different_status"
    assert (result.value["v4_status"], result.value["v6_status"]) == (200, 503)
    assert_names(result, "503", "200", HOME, HTTPS_HOME)


@pytest.mark.parametrize(("v4", "v6", "family"), [((V4,), (), "IPv6"), ((), (V6,), "IPv4")])
async def test_consistency_is_skipped_when_a_family_reaches_no_page(
    v4: tuple[str, ...], v6: tuple[str, ...], family: str
) -> None:
    result = await run(site(v4=v4, v6=v6), "web.consistency")
    assert result.status is Status.SKIPPED
    assert_names(result, family, HOME)


# --- web.tls_v6 -----------------------------------------------------------------------------


async def test_tls_v6_passes_with_the_same_certificate() -> None:
    result = await run(site(), "web.tls_v6")
    assert result.status is Status.PASS
    assert result.value == {"v4_fingerprint": CERT, "v6_fingerprint": CERT, "error": None}
    assert_names(result, WWW, f"[{V6}]:443")


async def test_tls_v6_warns_on_another_valid_certificate() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    serve(net, HTTPS_HOME, V6, cert=OTHER_CERT)
    result = await run(net, "web.tls_v6")
    assert result.status is Status.WARN
    assert result.value["v6_fingerprint"] == OTHER_CERT
    assert_names(result, OTHER_CERT[:16], CERT[:16])


async def test_tls_v6_fails_when_the_certificate_does_not_verify_over_ipv6() -> None:
    net = site()
    reason = "certificate verification failed: self-signed certificate"
    net.pages[(HTTPS_HOME, V6)] = [TlsError(V6, 443, reason)]
    result = await run(net, "web.tls_v6")
    assert result.status is Status.FAIL
    assert result.value["v4_fingerprint"] == CERT
    assert result.value["v6_fingerprint"] is None
    assert_names(result, f"[{V6}]:443", reason)


async def test_tls_v6_fails_when_443_is_open_over_ipv4_only() -> None:
    net = site()
    net.ports[(V6, 443)] = TcpOutcome.REFUSED
    result = await run(net, "web.tls_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.tls_v6.closed_v6"
    assert_names(result, V4, f"[{V6}]:443 refused")


async def test_tls_v6_retries_a_transient_failure() -> None:
    net = site()
    flaky = [NetError(V6, 443, "connection reset")] * 2
    net.pages[(HTTPS_HOME, V6)] = [*flaky, *net.pages[(HTTPS_HOME, V6)]]
    result = await run(net, "web.tls_v6")
    assert result.status is Status.PASS


async def test_tls_v6_is_info_without_https_anywhere() -> None:
    net = site()
    for address in (V4, V6):
        net.ports[(address, 443)] = TcpOutcome.TIMEOUT
    result = await run(net, "web.tls_v6")
    assert result.status is Status.INFO
    assert_names(result, WWW)


async def test_tls_v6_is_skipped_without_a_usable_aaaa() -> None:
    result = await run(site(v6=()), "web.tls_v6")
    assert result.status is Status.SKIPPED
    assert_names(result, WWW)


async def test_tls_v6_passes_on_an_ipv6_only_site() -> None:
    result = await run(site(v4=()), "web.tls_v6")
    assert result.status is Status.PASS
    assert result.code == "web.tls_v6.pass_v6_only"
    assert result.value["v6_fingerprint"] == CERT


# --- web.redirect_v6 ------------------------------------------------------------------------


async def test_redirect_v6_passes_when_the_chain_completes() -> None:
    result = await run(site(), "web.redirect_v6")
    assert result.status is Status.PASS
    assert [h["status"] for h in result.value["hops"]] == [301, 200]
    assert_names(result, HOME, HTTPS_HOME)


async def test_redirect_v6_passes_on_a_final_error_status() -> None:
    net = site()
    net.pages[(HOME, V6)] = []
    serve(net, HOME, V6, status=503)
    assert (await run(net, "web.redirect_v6")).status is Status.PASS


async def test_redirect_v6_is_skipped_when_the_first_request_fails() -> None:
    net = site()
    black_hole(net, V6)
    result = await run(net, "web.redirect_v6")
    assert result.status is Status.SKIPPED
    assert_names(result, HOME, f"[{V6}]:80")


async def test_redirect_v6_fails_on_a_tls_failure_at_the_second_hop() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = [TlsError(V6, 443, "certificate verification failed: expired")]
    result = await run(net, "web.redirect_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.redirect_v6.tls_failed"
    assert result.value["hops"][1]["status"] is None
    assert_names(result, HTTPS_HOME, f"[{V6}]:443", "expired")


async def test_redirect_v6_fails_on_a_hop_to_an_ipv4_only_host() -> None:
    net = site()
    net.add_host(PORTAL, v4=[PORTAL_V4])
    net.pages[(HOME, V6)] = []
    redirect(net, HOME, V6, f"http://{PORTAL}/")
    result = await run(net, "web.redirect_v6")
    assert result.status is Status.FAIL
    assert result.code == "web.redirect_v6.redirect_no_aaaa"
    assert_names(result, PORTAL, HOME)


async def test_redirect_v6_fails_on_a_loop() -> None:
    net = site()
    net.pages[(HTTPS_HOME, V6)] = []
    redirect(net, HTTPS_HOME, V6, HOME)
    result = await run(net, "web.redirect_v6")
    assert result.code == "web.redirect_v6.loop"
    assert_names(result, HOME)


async def test_redirect_v6_fails_when_a_later_hop_is_refused() -> None:
    net = site()
    net.ports[(V6, 443)] = TcpOutcome.REFUSED
    net.pages[(HTTPS_HOME, V6)] = [NetRefused(V6, 443, "connection refused")]
    result = await run(net, "web.redirect_v6")
    assert result.code == "web.redirect_v6.connect_failed"
    assert_names(result, f"[{V6}]:443", "refused")


# --- web.perf_ratio -------------------------------------------------------------------------


def timed_site(v4_seconds: float, v6_seconds: float) -> MockNetwork:
    """A site whose two hops take the given total time per family."""
    net = site()
    for address, seconds in ((V4, v4_seconds), (V6, v6_seconds)):
        net.pages[(HOME, address)] = []
        net.pages[(HTTPS_HOME, address)] = []
        moved = {"Location": HTTPS_HOME}
        serve(net, HOME, address, status=301, body=b"", headers=moved, elapsed=seconds / 2)
        serve(net, HTTPS_HOME, address, elapsed=seconds / 2)
    return net


@pytest.mark.parametrize(
    ("v4", "v6", "status", "code"),
    [
        (0.05, 0.9, Status.PASS, "web.perf_ratio.converged"),
        (1.2, 1.5, Status.PASS, "web.perf_ratio.pass"),
        (1.0, 1.8, Status.WARN, "web.perf_ratio.warn"),
        (0.05, 1.55, Status.FAIL, "web.perf_ratio.fail"),
    ],
)
async def test_perf_ratio_statuses(v4: float, v6: float, status: Status, code: str) -> None:
    result = await run(timed_site(v4, v6), "web.perf_ratio")
    assert (result.status, result.code) == (status, code)
    assert result.value["v4_ms"] == pytest.approx(v4 * 1000)
    assert result.value["v6_ms"] == pytest.approx(v6 * 1000)
    assert result.value["ratio"] == pytest.approx((v6 - v4) / v4, abs=0.001)
    assert result.value["samples"] == (1 if status is Status.PASS else 2)
    assert_names(result, HOME, f"{v6 * 1000:.0f}")


async def test_perf_ratio_confirms_a_slow_sample_and_keeps_the_faster_time() -> None:
    net = timed_site(0.05, 1.55)
    serve(net, HOME, V6, status=301, body=b"", headers={"Location": HTTPS_HOME}, elapsed=0.03)
    serve(net, HTTPS_HOME, V6, elapsed=0.03)
    result = await run(net, "web.perf_ratio")
    assert (result.status, result.code) == (Status.PASS, "web.perf_ratio.converged")
    assert result.value["v6_ms"] == pytest.approx(60.0)
    assert result.value["samples"] == 2
    assert len(fetches(net, HTTPS_HOME)) == 4


async def test_perf_ratio_is_skipped_without_an_ipv6_page() -> None:
    net = site()
    black_hole(net, V6)
    result = await run(net, "web.perf_ratio")
    assert result.status is Status.SKIPPED
    assert_names(result, "IPv6", f"[{V6}]:80")


# --- catalogues -----------------------------------------------------------------------------

MY_CHECKS = (
    "web.reach_v6",
    "web.port_parity",
    "web.homepage_v6",
    "web.homepage_success",
    "web.consistency",
    "web.tls_v6",
    "web.redirect_v6",
    "web.perf_ratio",
    "sec.port_parity",
    "sec.headers_parity",
)
CHAIN_REASONS = (
    "redirect_no_aaaa",
    "v4_literal",
    "connect_failed",
    "tls_failed",
    "request_failed",
    "loop",
    "too_many_redirects",
)


def used_keys() -> set[str]:
    """Message keys named literally in the check modules, plus those built from a status or a
    redirect-chain failure reason."""
    sources = "".join(Path(m.__file__ or "").read_text("utf-8") for m in (web, security))
    literal = set(re.findall(r'"((?:web|sec)\.[a-z0-9_]+\.[a-z0-9_]+)"', sources))
    by_status = {
        f"{check}.{status}"
        for check in ("web.reach_v6", "web.homepage_success", "web.consistency", "web.perf_ratio")
        for status in ("pass", "warn", "fail")
    }
    by_reason = {
        f"{check}.{reason}"
        for check in ("web.homepage_v6", "web.redirect_v6")
        for reason in CHAIN_REASONS
    } | {
        f"{c}.{r}"
        for c in ("web.homepage_v6", "web.reach_v6")
        for r in ("no_aaaa", "lookup_failed")
    }
    no_final = {
        f"{c}.no_final_page" for c in ("web.consistency", "web.perf_ratio", "sec.headers_parity")
    }
    missing_family = {f"{c}.missing_family" for c in ("web.port_parity", "sec.port_parity")}
    return literal | by_status | by_reason | no_final | missing_family


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_used_message_exists_in_both_languages() -> None:
    keys = used_keys()
    assert len(keys) > 50
    for lang in i18n.LANGUAGES:
        missing = keys - set(i18n.catalogue(lang))
        assert not missing, (lang, sorted(missing))


def test_my_catalogue_entries_match_across_languages() -> None:
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh")
    mine = {k for k in en.keys() | zh.keys() if k.rsplit(".", 1)[0] in MY_CHECKS}
    assert mine == used_keys()
    for key in mine:
        assert placeholders(en[key]) == placeholders(zh[key]), key
