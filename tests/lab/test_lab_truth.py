"""The lab is trusted only once these pass: every scenario's claimed behaviour, checked from the
lab's own clients with independent means (raw sockets, plain dnspython, hand-written HTTP)."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import dns.asyncquery
import dns.flags
import dns.message
import dns.rdatatype
import pytest

from tests.lab.probes import HttpReply, dns_outcome, http_get, tcp_outcome
from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue, Endpoint, Host, Scenario, load_catalogue
from v6pilot.net.netns import run_in_netns

pytestmark = pytest.mark.lab
T = TypeVar("T")
SCENARIOS = [s.id for s in load_catalogue().scenarios]
PROBED_PORTS = (22, 25, 80, 443, 3306)


def client(family: int) -> str:
    """IPv4 is probed from the dual-stack client, IPv6 from the IPv6-only one."""
    return topology.CLIENT46 if family == 4 else topology.CLIENT6


def run(ns: str, fn: Callable[[], Awaitable[T]]) -> T:
    return run_in_netns(ns, fn)


def ca_file() -> str:
    return str(topology.STATE_DIR / "ca.pem")


def expected_tcp(endpoint: Endpoint, port: int) -> str:
    if endpoint.state == "drop":
        return "timeout"
    return "open" if port in endpoint.listening_ports else "refused"


def test_ipv6_only_client_has_no_ipv4_at_all(lab: Catalogue) -> None:
    addrs = subprocess.run(
        ["ip", "-n", topology.CLIENT6, "-4", "addr"], capture_output=True, text=True, check=True
    ).stdout
    routes = subprocess.run(
        ["ip", "-n", topology.CLIENT6, "-4", "route", "show", "table", "all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "inet " not in addrs
    assert routes.strip() == ""
    targets = [h.v4.address for _, h in lab.web_hosts() if h.v4 is not None][:20]

    async def attempt() -> list[str]:
        return await asyncio.gather(*(tcp_outcome(a, 80) for a in targets))

    assert set(run(topology.CLIENT6, attempt)) == {"unreachable"}


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_web_endpoints_behave_as_declared(lab: Catalogue, scenario_id: str) -> None:
    scenario = lab.scenario(scenario_id)
    for family in (4, 6):
        endpoints = [
            e for h in scenario.hosts() for e in h.endpoints if e.family == family and not e.mapped
        ]
        if not endpoints:
            continue
        cases = [(e, p) for e in endpoints for p in (PROBED_PORTS if e.state != "drop" else (80,))]

        async def probe(cases: list[tuple[Endpoint, int]] = cases) -> list[str]:
            return await asyncio.gather(*(tcp_outcome(e.address, p) for e, p in cases))

        outcomes = run(client(family), probe)
        for (endpoint, port), outcome in zip(cases, outcomes, strict=True):
            assert outcome == expected_tcp(endpoint, port), (endpoint.address, port)


def _ns_cases(scenario: Scenario) -> list[tuple[str, Endpoint]]:
    return [
        (zone.name, e) for zone in scenario.zones for ns in zone.nameservers for e in ns.endpoints
    ]


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_name_servers_behave_as_declared(lab: Catalogue, scenario_id: str) -> None:
    for zone, endpoint in _ns_cases(lab.scenario(scenario_id)):
        probe = partial(dns_outcome, endpoint.address, f"{zone}.", "SOA")
        outcome, reply = run(client(endpoint.family), probe)
        expected = {"up": "answered", "drop": "timeout", "refuse": "refused"}[endpoint.state]
        assert outcome == expected, (zone, endpoint.address)
        if reply is not None:
            assert reply.flags & dns.flags.AA
            assert reply.answer[0].rdtype == dns.rdatatype.SOA


def _expected_records(host: Host) -> dict[str, set[str]]:
    if host.cname:
        return {"CNAME": {host.cname + "."}}
    return {
        "A": {host.v4.address} if host.v4 else set(),
        "AAAA": {str(ipaddress.ip_address(host.v6.address))} if host.v6 else set(),
    }


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_zone_records_match_catalogue(lab: Catalogue, scenario_id: str) -> None:
    scenario = lab.scenario(scenario_id)
    for zone in scenario.zones:
        server = next(ns.v4 for ns in zone.nameservers if ns.v4 and ns.v4.state == "up")
        for host in zone.hosts:
            for rdtype, expected in _expected_records(host).items():
                ask = partial(dns_outcome, server.address, f"{host.fqdn}.", rdtype)
                outcome, reply = run(topology.CLIENT46, ask)
                assert outcome == "answered"
                wanted = dns.rdatatype.from_text(rdtype)
                found = {
                    r.to_text() for rrset in reply.answer if rrset.rdtype == wanted for r in rrset
                }
                if rdtype == "AAAA":
                    found = {str(ipaddress.ip_address(a)) for a in found}
                assert found == expected, (host.fqdn, rdtype)


async def walk_ipv6_only(root: str, qname: str) -> tuple[bool, str]:
    """Follow referrals from a root server using IPv6 glue only: (answered, last zone reached)."""
    server, zone = root, "."
    for _ in range(8):
        outcome, reply = await dns_outcome(server, qname, "AAAA")
        if outcome != "answered" or reply is None:
            return False, zone
        if reply.flags & dns.flags.AA:
            return True, zone
        cuts = [rr for rr in reply.authority if rr.rdtype == dns.rdatatype.NS]
        if not cuts:
            return False, zone
        zone = cuts[0].name.to_text()
        glue = [r.address for rr in reply.additional if rr.rdtype == dns.rdatatype.AAAA for r in rr]
        if not glue:
            return False, zone
        server = glue[0]
    return False, zone


@pytest.mark.parametrize(
    ("qname", "resolves", "stops_at"),
    [
        ("www.good.test.", True, "good.test."),
        ("www.chain-broken.example.", False, "example."),
        ("edge.cdn-v4ns.test.", False, "cdn-v4ns.test."),
        ("www.ns-v6-dead.test.", False, "ns-v6-dead.test."),
    ],
)
def test_delegation_chain_over_ipv6_only(
    lab: Catalogue, qname: str, resolves: bool, stops_at: str
) -> None:
    root = lab.root_servers[0].v6
    assert root is not None
    answered, zone = run(topology.CLIENT6, lambda: walk_ipv6_only(root.address, qname))
    assert (answered, zone) == (resolves, stops_at)


def test_resolver_serves_the_ipv6_only_client(lab: Catalogue) -> None:
    resolver = lab.resolver.v6
    assert resolver is not None
    good = lab.scenario("good").zone.host("www").v6
    assert good is not None

    async def ask(name: str) -> object:
        query = dns.message.make_query(name, "AAAA")
        return await dns.asyncquery.udp(query, resolver.address, timeout=5)

    reply = run(topology.CLIENT6, lambda: ask("www.good.test."))
    assert [r.address for rr in reply.answer for r in rr] == [good.address]
    broken = run(topology.CLIENT6, lambda: ask("www.chain-broken.example."))
    assert broken.rcode() == 0 and broken.answer


def _www(lab: Catalogue, scenario_id: str, family: int) -> tuple[str, str]:
    scenario = lab.scenario(scenario_id)
    host = scenario.zone.host("www")
    endpoint = host.v4 if family == 4 else host.v6
    assert endpoint is not None
    return endpoint.address, host.fqdn


def fetch(
    lab: Catalogue, scenario_id: str, family: int, path: str = "/", tls: bool = True, **kw: object
) -> HttpReply:
    address, name = _www(lab, scenario_id, family)
    ca = ca_file() if tls else None
    return run(client(family), lambda: http_get(address, name, path, tls_ca=ca, **kw))


def test_lab_ca_verifies_good_site_over_ipv6(lab: Catalogue) -> None:
    reply = fetch(lab, "good", 6)
    assert reply.status == 200
    assert b"<html" in reply.body.lower()


def test_wrong_certificate_only_over_ipv6(lab: Catalogue) -> None:
    assert fetch(lab, "v6-wrong-cert", 4).status == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(lab, "v6-wrong-cert", 6)


def test_same_page_over_both_families(lab: Catalogue) -> None:
    assert fetch(lab, "good", 4).body == fetch(lab, "good", 6).body


def test_plain_http_redirects_to_https(lab: Catalogue) -> None:
    reply = fetch(lab, "good", 6, tls=False)
    assert reply.status == 301
    assert reply.headers["location"].startswith("https://www.good.test/")


def test_different_content_over_ipv6(lab: Catalogue) -> None:
    assert fetch(lab, "v6-diff-content", 4).body != fetch(lab, "v6-diff-content", 6).body


def test_error_status_over_ipv6_only(lab: Catalogue) -> None:
    assert fetch(lab, "v6-error-status", 4).status == 200
    assert fetch(lab, "v6-error-status", 6).status == 503


def test_ipv6_is_slower_by_the_declared_delay(lab: Catalogue) -> None:
    assert fetch(lab, "v6-slow", 6).seconds >= 1.5
    assert fetch(lab, "v6-slow", 4).seconds < 1.0


def test_flaky_fails_one_homepage_request_in_three(lab: Catalogue) -> None:
    address, name = _www(lab, "v6-flaky", 6)

    async def six_requests() -> list[bool]:
        outcomes = []
        for _ in range(6):
            try:
                outcomes.append((await http_get(address, name)).status == 200)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                outcomes.append(False)
        return outcomes

    assert run(topology.CLIENT6, six_requests).count(False) == 2


def test_huge_body_is_200_mib(lab: Catalogue) -> None:
    reply = fetch(lab, "huge-body", 6, max_body=1)
    assert int(reply.headers["content-length"]) == 200 * 1024 * 1024


def test_gbk_page_declares_and_uses_gbk(lab: Catalogue) -> None:
    reply = fetch(lab, "gbk", 6)
    assert "gbk" in reply.headers["content-type"].lower()
    text = reply.body.decode("gbk")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")


def test_dynamic_page_changes_between_requests(lab: Catalogue) -> None:
    assert fetch(lab, "nonces", 6).body != fetch(lab, "nonces", 6).body


def test_redirect_loop(lab: Catalogue) -> None:
    first = fetch(lab, "redirect-loop", 4)
    second = fetch(lab, "redirect-loop", 4, path=first.headers["location"])
    third = fetch(lab, "redirect-loop", 4, path=second.headers["location"])
    assert {first.status, second.status, third.status} <= {301, 302, 307, 308}
    assert third.headers["location"] == first.headers["location"]


def test_redirect_to_ipv4_only_host(lab: Catalogue) -> None:
    reply = fetch(lab, "redirect-v4", 6, tls=False)
    assert reply.status in (301, 302)
    portal = lab.scenario("redirect-v4").zone.host("portal")
    assert portal.fqdn in reply.headers["location"] and portal.v6 is None


def test_links_point_at_ipv4_only_host(lab: Catalogue) -> None:
    old = lab.scenario("links-l2").zone.host("old")
    body = fetch(lab, "links-l2", 6).body.decode()
    assert body.count(f"//{old.fqdn}/") == 3 and old.v6 is None


def test_subresources_from_ipv4_only_host(lab: Catalogue) -> None:
    static = lab.scenario("subres-v4").zone.host("static")
    assert f"//{static.fqdn}/" in fetch(lab, "subres-v4", 6).body.decode()
    assert static.v6 is None


def test_ipv4_literal_in_page(lab: Catalogue) -> None:
    address, _ = _www(lab, "v4-literal", 4)
    assert f"//{address}/" in fetch(lab, "v4-literal", 6).body.decode()


def test_security_headers_missing_over_ipv6(lab: Catalogue) -> None:
    v4, v6 = fetch(lab, "headers-v6", 4), fetch(lab, "headers-v6", 6)
    assert "strict-transport-security" in v4.headers
    assert "strict-transport-security" not in v6.headers
    assert "content-security-policy" not in v6.headers


async def smtp_dialogue(address: str) -> tuple[str, str]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(address, 25), 2)
    banner = (await reader.readline()).decode()
    writer.write(b"EHLO probe.test\r\n")
    lines = []
    while True:
        line = (await asyncio.wait_for(reader.readline(), 2)).decode()
        lines.append(line)
        if line[3:4] != "-":
            break
    writer.write(b"QUIT\r\n")
    writer.close()
    return banner, lines[-1]


def test_smtp_over_ipv6(lab: Catalogue) -> None:
    mail = lab.scenario("good").zone.host("mail").v6
    assert mail is not None
    banner, ehlo = run(topology.CLIENT6, lambda: smtp_dialogue(mail.address))
    assert banner.startswith("220 ") and ehlo.startswith("250 ")
    closed = lab.scenario("smtp-v6-closed").zone.host("mail").v6
    assert closed is not None
    assert run(topology.CLIENT6, lambda: tcp_outcome(closed.address, 25)) == "refused"
