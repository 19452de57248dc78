"""The lab's authoritative DNS server: answers, referrals, negative answers, truncation."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from tests.net.dnshierarchy import LOOPBACK_HOSTS, build_zones
from v6pilot.lab.dnsserver import AuthoritativeServer, serve_dns
from v6pilot.net.dns import query

ZONES = build_zones(LOOPBACK_HOSTS)


@pytest.fixture(scope="module")
def server() -> AuthoritativeServer:
    return AuthoritativeServer([ZONES["test."], ZONES["good.test."]])


def ask(
    server: AuthoritativeServer,
    name: str,
    rdtype: str,
    *,
    tcp: bool = False,
    payload: int | None = 1232,
) -> dns.message.Message:
    request = dns.message.make_query(
        name, rdtype, use_edns=payload is not None, payload=payload, flags=0
    )
    reply = dns.message.from_wire(server.handle(request.to_wire(), tcp))
    assert reply.id == request.id and reply.flags & dns.flags.QR
    return reply


def texts(section: list[dns.rrset.RRset]) -> set[str]:
    return {line for rrset in section for line in rrset.to_text().splitlines()}


def test_authoritative_answer_has_aa(server: AuthoritativeServer) -> None:
    reply = ask(server, "www.good.test.", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA
    assert texts(reply.answer) == {"www.good.test. 300 IN AAAA 2001:db8::80"}


def test_names_are_case_insensitive(server: AuthoritativeServer) -> None:
    reply = ask(server, "WWW.Good.TEST.", "A")
    assert [rd.to_text() for rd in reply.answer[0]] == ["192.0.2.80"]


def test_referral_carries_ns_and_in_bailiwick_glue_without_aa(server: AuthoritativeServer) -> None:
    reply = ask(server, "host.sub.good.test.", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.flags & dns.flags.AA
    assert not reply.answer
    assert texts(reply.authority) == {
        "sub.good.test. 300 IN NS ns.sub.good.test.",
        "sub.good.test. 300 IN NS ns.elsewhere.example.",
    }
    assert texts(reply.additional) == {
        "ns.sub.good.test. 300 IN A 198.51.100.53",
        "ns.sub.good.test. 300 IN AAAA 2001:db8:5b::53",
    }


def test_closest_enclosing_zone_answers(server: AuthoritativeServer) -> None:
    """A server holding both test. and good.test. answers good.test. names itself."""
    reply = ask(server, "www.good.test.", "A")
    assert reply.flags & dns.flags.AA
    referral = ask(server, "www.glueless.test.", "A")
    assert texts(referral.authority) == {"glueless.test. 300 IN NS ns.hosting.other."}
    assert not referral.additional


def test_nxdomain_has_soa_with_negative_ttl(server: AuthoritativeServer) -> None:
    reply = ask(server, "nope.good.test.", "A")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.flags & dns.flags.AA
    (soa,) = reply.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.ttl == 60


def test_nodata_and_empty_non_terminal_are_noerror_with_soa(server: AuthoritativeServer) -> None:
    for name, rdtype in (("www.good.test.", "MX"), ("ent.good.test.", "A")):
        reply = ask(server, name, rdtype)
        assert reply.rcode() == dns.rcode.NOERROR, name
        assert not reply.answer
        assert [r.rdtype for r in reply.authority] == [dns.rdatatype.SOA]


def test_refused_outside_its_zones(server: AuthoritativeServer) -> None:
    reply = ask(server, "www.example.", "A")
    assert reply.rcode() == dns.rcode.REFUSED
    assert not reply.flags & dns.flags.AA


def test_in_zone_cname_is_chased(server: AuthoritativeServer) -> None:
    reply = ask(server, "alias.good.test.", "A")
    assert [r.rdtype for r in reply.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert texts(reply.answer) == {
        "alias.good.test. 300 IN CNAME www.good.test.",
        "www.good.test. 300 IN A 192.0.2.80",
    }


def test_cname_to_missing_in_zone_name_is_nxdomain(server: AuthoritativeServer) -> None:
    reply = ask(server, "missing.good.test.", "A")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert [r.rdtype for r in reply.answer] == [dns.rdatatype.CNAME]


def test_cname_leaving_the_zone_stops_at_the_cname(server: AuthoritativeServer) -> None:
    reply = ask(server, "away.good.test.", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert texts(reply.answer) == {"away.good.test. 300 IN CNAME www.glueless.test."}


def test_cname_loop_terminates(server: AuthoritativeServer) -> None:
    reply = ask(server, "loop1.good.test.", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert len(reply.answer) == 2


def test_wildcard_is_synthesized_for_the_query_name(server: AuthoritativeServer) -> None:
    reply = ask(server, "anything.wild.good.test.", "A")
    assert texts(reply.answer) == {"anything.wild.good.test. 300 IN A 192.0.2.81"}


def test_large_udp_answer_is_truncated_and_complete_over_tcp(server: AuthoritativeServer) -> None:
    udp = ask(server, "big.good.test.", "TXT")
    assert udp.flags & dns.flags.TC
    tcp = ask(server, "big.good.test.", "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC
    assert len(tcp.answer[0]) == 40


def test_udp_limit_follows_edns_payload(server: AuthoritativeServer) -> None:
    """www answers fit in 512 bytes; the 40 TXT records need more than 512 and than 1232."""
    plain = ask(server, "www.good.test.", "A", payload=None)
    assert plain.edns == -1 and not plain.flags & dns.flags.TC
    request = dns.message.make_query("big.good.test.", "TXT", use_edns=0, payload=4096)
    wire = server.handle(request.to_wire(), False)
    assert len(wire) <= 1232
    assert dns.message.from_wire(wire).flags & dns.flags.TC


def test_edns_is_answered_with_edns(server: AuthoritativeServer) -> None:
    assert ask(server, "www.good.test.", "A").edns == 0
    request = dns.message.make_query("www.good.test.", "A", use_edns=1)
    reply = dns.message.from_wire(server.handle(request.to_wire(), False))
    assert reply.rcode() == dns.rcode.BADVERS


def test_malformed_queries(server: AuthoritativeServer) -> None:
    assert server.handle(b"\x12", False) == b""
    garbage = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff"
    reply = dns.message.from_wire(server.handle(garbage, False))
    assert reply.id == 0xABCD and reply.rcode() == dns.rcode.FORMERR
    response = dns.message.make_response(dns.message.make_query("www.good.test.", "A"))
    assert server.handle(response.to_wire(), False) == b"", "never answer a response"


def test_repeated_query_is_answered_from_the_reply_cache_with_its_own_id() -> None:
    server = AuthoritativeServer([ZONES["good.test."]], reply_cache_size=1)
    first = dns.message.make_query("www.good.test.", "A", id=1)
    second = dns.message.make_query("www.good.test.", "A", id=2)
    other = dns.message.make_query("www.good.test.", "AAAA", id=3)
    one, two = server.handle(first.to_wire()), server.handle(second.to_wire())
    assert two[:2] == b"\x00\x02" and one[2:] == two[2:]
    three = dns.message.from_wire(server.handle(other.to_wire()))
    assert three.id == 3 and three.answer[0].rdtype == dns.rdatatype.AAAA
    again = dns.message.from_wire(server.handle(second.to_wire()))
    assert again.answer[0].rdtype == dns.rdatatype.A, "evicted entries are recomputed"


def test_relativized_zones_are_served_with_absolute_names() -> None:
    zone = dns.zone.from_text(
        "$TTL 60\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\nw CNAME ns\n",
        origin="rel.test.",
    )
    reply = ask(AuthoritativeServer([zone]), "w.rel.test.", "A")
    assert texts(reply.answer) == {
        "w.rel.test. 60 IN CNAME ns.rel.test.",
        "ns.rel.test. 60 IN A 192.0.2.53",
    }


async def test_serves_udp_and_tcp_on_each_binding() -> None:
    """Different addresses serve different zone sets; TC makes the client fall back to TCP."""
    root = AuthoritativeServer([ZONES["."]])
    good = AuthoritativeServer([ZONES["good.test."]])
    listeners = await serve_dns([("127.53.9.1", 0, root)])
    port = listeners[0].port
    listeners += await serve_dns([("127.53.9.2", port, good)])
    try:
        referral = await query("www.good.test.", "A", "127.53.9.1", port=port)
        assert texts(referral.authority) == {
            "test. 300 IN NS ns1.nic.test.",
            "test. 300 IN NS ns2.nic.test.",
        }
        big = await query("big.good.test.", "TXT", "127.53.9.2", port=port)
        assert big.flags & dns.flags.AA and len(big.answer[0]) == 40
        truncated = await query(
            "big.good.test.", "TXT", "127.53.9.2", port=port, tcp_fallback=False
        )
        assert truncated.flags & dns.flags.TC
        missing = await query("www.example.", "A", "127.53.9.1", port=port)
        assert missing.rcode() == dns.rcode.NXDOMAIN and missing.flags & dns.flags.AA
        not_served = await query("x.test.", "A", "127.53.9.2", port=port)
        assert not_served.rcode() == dns.rcode.REFUSED
    finally:
        for listener in listeners:
            listener.close()
