"""The DNS client: UDP with TCP fallback, error mapping, and recursive lookups via a resolver."""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import AsyncIterator

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from tests.net.dnshierarchy import (
    LOOPBACK_HOSTS,
    NETNS_HOSTS,
    ServedHierarchy,
    build_zones,
    needs_netns,
    scratch_netns,
    serve_hierarchy,
    silent,
)
from v6pilot.errors import (
    DnsBadResponse,
    DnsError,
    DnsServFail,
    DnsTimeout,
    NetError,
    NetRefused,
    NetTimeout,
    NetUnreachable,
    V6PilotError,
)
from v6pilot.lab.dnsserver import AuthoritativeServer, DnsListener, Responder, listen_dns
from v6pilot.lab.resolver import serve_resolver
from v6pilot.net.dns import (
    PlainReply,
    Resolution,
    chase_cnames,
    query,
    query_authoritative,
    resolve,
)
from v6pilot.net.dnsmux import UdpServerClient
from v6pilot.net.dnswire import build_query_wire
from v6pilot.net.netns import run_in_netns

GOOD = build_zones(LOOPBACK_HOSTS)["good.test."]


@pytest.fixture
async def good_server() -> AsyncIterator[DnsListener]:
    listener = await listen_dns("127.53.20.1", 0, AuthoritativeServer([GOOD]).handle)
    yield listener
    listener.close()


async def test_udp_query_gets_the_authoritative_answer(good_server: DnsListener) -> None:
    reply = await query("www.good.test.", "AAAA", "127.53.20.1", port=good_server.port)
    assert reply.flags & dns.flags.AA
    assert not reply.flags & dns.flags.RD
    assert [rd.to_text() for rd in reply.answer[0]] == ["2001:db8::80"]


async def test_truncated_udp_answer_is_retried_over_tcp(good_server: DnsListener) -> None:
    port = good_server.port
    full = await query("big.good.test.", "TXT", "127.53.20.1", port=port)
    assert not full.flags & dns.flags.TC and len(full.answer[0]) == 40
    cut = await query("big.good.test.", "TXT", "127.53.20.1", port=port, tcp_fallback=False)
    assert cut.flags & dns.flags.TC and not cut.answer


async def test_recursion_desired_sets_rd() -> None:
    seen: list[int] = []

    def record_flags(wire: bytes, tcp: bool) -> bytes:
        request = dns.message.from_wire(wire)
        seen.append(request.flags)
        return dns.message.make_response(request).to_wire()

    listener = await listen_dns("127.53.20.2", 0, record_flags)
    try:
        await query("a.test.", "A", "127.53.20.2", port=listener.port, recursion_desired=True)
        await query("a.test.", "A", "127.53.20.2", port=listener.port)
    finally:
        listener.close()
    assert [bool(flags & dns.flags.RD) for flags in seen] == [True, False]


async def test_silent_server_raises_dns_timeout_naming_it() -> None:
    listener = await listen_dns("127.53.20.3", 0, silent)
    try:
        started = time.monotonic()
        with pytest.raises(DnsTimeout) as caught:
            await query("www.good.test.", "A", "127.53.20.3", port=listener.port, timeout=0.2)
    finally:
        listener.close()
    assert 0.15 < time.monotonic() - started < 1.0
    error = caught.value
    assert isinstance(error, NetTimeout) and isinstance(error, DnsError)
    assert (error.address, error.port, error.qname) == (
        "127.53.20.3",
        listener.port,
        "www.good.test. A",
    )
    assert f"127.53.20.3:{listener.port}" in str(error) and "www.good.test. A" in str(error)


async def test_closed_port_raises_net_refused(good_server: DnsListener) -> None:
    """Nothing listens on 127.53.20.4: the ICMP port unreachable surfaces immediately."""
    started = time.monotonic()
    with pytest.raises(NetRefused, match=r"127\.53\.20\.4:\d+: connection refused"):
        await query("www.good.test.", "A", "127.53.20.4", port=good_server.port, timeout=2.0)
    assert time.monotonic() - started < 1.0


async def test_garbage_reply_raises_bad_response() -> None:
    listener = await listen_dns("127.53.20.5", 0, lambda wire, tcp: wire[:2] + b"\x80\x00junk")
    try:
        with pytest.raises(DnsBadResponse, match="bad response"):
            await query("www.good.test.", "A", "127.53.20.5", port=listener.port, timeout=0.5)
    finally:
        listener.close()


def test_errors_name_the_endpoint_and_survive_pickling() -> None:
    errors: list[NetError] = [
        NetRefused("2001:db8::53", 53, "connection refused"),
        DnsTimeout("192.0.2.53", 5353, "no answer within 3s", "www.example. AAAA"),
    ]
    assert str(errors[0]) == "[2001:db8::53]:53: connection refused"
    assert str(errors[1]) == "DNS query www.example. AAAA to 192.0.2.53:5353: no answer within 3s"
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert isinstance(copy, V6PilotError)


def test_chase_cnames_follows_the_chain_in_any_order() -> None:
    answer = [
        dns.rrset.from_text("b.test.", 60, "IN", "CNAME", "c.test."),
        dns.rrset.from_text("c.test.", 60, "IN", "A", "192.0.2.1"),
        dns.rrset.from_text("A.test.", 60, "IN", "CNAME", "b.test."),
    ]
    targets, final = chase_cnames(answer, dns.name.from_text("a.test."), dns.rdatatype.A)
    assert [t.to_text() for t in targets] == ["b.test.", "c.test."]
    assert final == dns.name.from_text("c.test.")
    none, same = chase_cnames(answer, dns.name.from_text("a.test."), dns.rdatatype.CNAME)
    assert none == [] and same == dns.name.from_text("a.test.")


@pytest.fixture
async def hierarchy() -> AsyncIterator[ServedHierarchy]:
    bed = await serve_hierarchy()
    yield bed
    bed.close()


async def test_resolve_through_a_recursive_resolver(hierarchy: ServedHierarchy) -> None:
    service = await serve_resolver(
        [("127.53.20.10", 0)], hierarchy.hints, upstream_port=hierarchy.port, timeout=0.5
    )
    port = service.listeners[0].port
    try:
        alias = await resolve("alias.good.test", "A", "127.53.20.10", port=port)
        away = await resolve("away.good.test.", "A", "127.53.20.10", port=port)
        nothing = await resolve("nothing.good.test.", "AAAA", "127.53.20.10", port=port)
    finally:
        await service.close()
    assert alias == Resolution(
        "alias.good.test.", "A", "NOERROR", ["www.good.test."], ["192.0.2.80"]
    )
    assert away.cnames == ["www.glueless.test."] and away.records == ["192.0.2.90"]
    assert (nothing.rcode, nothing.records) == ("NXDOMAIN", [])


async def test_resolve_raises_on_servfail_and_refused(hierarchy: ServedHierarchy) -> None:
    rootless = await serve_hierarchy(overrides={"root": None})
    service = await serve_resolver(
        [("127.53.20.11", 0)], rootless.hints, upstream_port=rootless.port, timeout=0.3
    )
    port = service.listeners[0].port
    try:
        with pytest.raises(DnsServFail, match=r"127\.53\.20\.11:\d+: answered SERVFAIL"):
            await resolve("www.good.test.", "A", "127.53.20.11", port=port)
    finally:
        await service.close()
        rootless.close()
    authoritative = LOOPBACK_HOSTS["good1"].v4
    assert authoritative is not None
    with pytest.raises(DnsBadResponse, match="answered REFUSED"):
        await resolve("www.example.", "A", authoritative, port=hierarchy.port)


@pytest.mark.lab
@needs_netns
def test_ipv6_transport_and_unreachable_inside_a_namespace() -> None:
    """Real IPv6 over a namespace's lo; addresses without a route fail fast as unreachable."""
    server6 = NETNS_HOSTS["good1"].v6
    assert server6 is not None

    async def exercise() -> tuple[dns.message.Message, list[NetError]]:
        listener = await listen_dns(server6, 53, AuthoritativeServer([GOOD]).handle)
        try:
            reply = await query("www.good.test.", "AAAA", server6)
            errors: list[NetError] = []
            for nowhere in ("2001:db8:ffff::1", "198.51.100.1"):
                try:
                    await query("www.good.test.", "A", nowhere, timeout=1.0)
                except NetError as exc:
                    errors.append(exc)
            return reply, errors
        finally:
            listener.close()

    with scratch_netns("v6p-t-dns", [server6]) as ns:
        reply, errors = run_in_netns(ns, exercise)
    assert reply.flags & dns.flags.AA and reply.rcode() == dns.rcode.NOERROR
    assert [type(e) for e in errors] == [NetUnreachable, NetUnreachable]
    assert "[2001:db8:ffff::1]:53" in str(errors[0]) and "198.51.100.1:53" in str(errors[1])


def message_text(reply: dns.message.Message) -> str:
    """A message as text without its id (which differs between two queries)."""
    return reply.to_text().split("\n", 1)[1]


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [
        ("www.good.test.", "AAAA"),
        ("WwW.gOOd.test.", "A"),
        ("alias.good.test.", "A"),
        ("missing.good.test.", "A"),
        ("nothing.good.test.", "AAAA"),
        ("www.good.test.", "MX"),
        ("x.wild.good.test.", "A"),
    ],
)
async def test_authoritative_query_reads_plain_replies_as_query_does(
    good_server: DnsListener, name: str, rdtype: str
) -> None:
    qname, qtype = dns.name.from_text(name), dns.rdatatype.from_text(rdtype)
    port = good_server.port
    plain = await query_authoritative(qname, qtype, "127.53.20.1", port=port)
    full = await query(qname, qtype, "127.53.20.1", port=port)
    assert isinstance(plain, PlainReply)
    assert (plain.flags, plain.rcode()) == (full.flags, full.rcode())
    assert [r.to_text() for r in plain.answer] == [r.to_text() for r in full.answer]
    assert plain.answer == full.answer
    assert plain.authority == [r for r in full.authority if r.rdtype == dns.rdatatype.SOA]
    assert UdpServerClient._open_clients == {}, "the socket closes once no query waits"


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [("www.sub.good.test.", "A"), ("big.good.test.", "TXT"), ("www.other.", "A")],
    ids=["referral", "truncated", "refused"],
)
async def test_authoritative_query_returns_other_replies_parsed(
    good_server: DnsListener, name: str, rdtype: str
) -> None:
    port = good_server.port
    qname, qtype = dns.name.from_text(name), dns.rdatatype.from_text(rdtype)
    other = await query_authoritative(qname, qtype, "127.53.20.1", port=port)
    full = await query(qname, qtype, "127.53.20.1", port=port)
    assert isinstance(other, dns.message.Message)
    assert not other.flags & dns.flags.TC
    assert message_text(other) == message_text(full)


@pytest.mark.parametrize(
    "responder",
    [
        lambda wire, tcp: wire[:2] + b"\x80\x00junk",
        lambda wire, tcp: reply_to_other_question(wire),
    ],
    ids=["garbage", "other question"],
)
async def test_authoritative_query_reports_bad_replies_as_query_does(
    responder: Responder,
) -> None:
    listener = await listen_dns("127.53.20.6", 0, responder)
    qname, qtype = dns.name.from_text("www.good.test."), dns.rdatatype.A
    errors = []
    try:
        for ask in (query, query_authoritative):
            with pytest.raises(DnsBadResponse) as caught:
                await ask(qname, qtype, "127.53.20.6", port=listener.port, timeout=0.5)
            errors.append(str(caught.value))
    finally:
        listener.close()
    assert errors[0] == errors[1] and "bad response" in errors[0]


def reply_to_other_question(wire: bytes) -> bytes:
    """An authoritative answer with the query's id for another name."""
    request = dns.message.from_wire(wire)
    other = dns.message.make_query("www.other.", "A")
    other.id = request.id
    response = dns.message.make_response(other)
    response.flags |= dns.flags.AA
    return response.to_wire()


async def test_authoritative_query_fails_as_query_does() -> None:
    """Silence and refusal raise the same errors, concurrent queries sharing one socket."""
    listener = await listen_dns("127.53.20.7", 0, silent)
    qname, qtype = dns.name.from_text("www.good.test."), dns.rdatatype.AAAA
    try:
        outcomes = []
        for server in ("127.53.20.7", "127.53.20.8"):
            for ask in (query, query_authoritative):
                replies = await asyncio.gather(
                    *(ask(qname, qtype, server, port=listener.port, timeout=0.2) for _ in range(2)),
                    return_exceptions=True,
                )
                outcomes.append({(type(e), str(e)) for e in replies})
    finally:
        listener.close()
    timeouts, timeouts_shared, refusals, refusals_shared = outcomes
    assert timeouts == timeouts_shared and [t for t, _ in timeouts] == [DnsTimeout]
    assert refusals == refusals_shared and [t for t, _ in refusals] == [NetRefused]
    assert UdpServerClient._open_clients == {}


def test_authoritative_query_sends_what_query_sends() -> None:
    qname = dns.name.from_text("WwW.good.test.")
    expected = dns.message.make_query(qname, "AAAA", use_edns=True, payload=1232, flags=0)
    sent = build_query_wire(
        expected.id, b"\x03WwW\x04good\x04test\x00", 28, rd=False, edns_payload=1232
    )
    assert sent == expected.to_wire()
