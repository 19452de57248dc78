from __future__ import annotations

import asyncio
import random
import socket
import struct

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from v6pilot.errors import DnsTimeout, NetRefused
from v6pilot.net.dns import PlainReply, read_plain_reply, resolve_shared
from v6pilot.net.dnsmux import UdpResolverClient
from v6pilot.net.dnswire import (
    AAAA,
    CNAME,
    NS,
    OPT,
    SOA,
    A,
    build_query,
    encode_name,
    question_bytes,
    read_answer,
    read_authoritative,
)


def reply_to(query: bytes, *records: tuple[str, str, str], rcode: int = 0) -> bytes:
    message = dns.message.from_wire(query)
    response = dns.message.make_response(message)
    response.set_rcode(rcode)
    for owner, rdtype, value in records:
        response.answer.append(dns.rrset.from_text(owner, 300, "IN", rdtype, value))
    return response.to_wire()


def test_query_is_what_dnspython_reads() -> None:
    query = build_query(4711, "www.Example.test", AAAA, rd=True, edns_payload=1232)
    message = dns.message.from_wire(query)
    assert message.id == 4711 and message.flags & dns.flags.RD
    assert str(message.question[0].name) == "www.Example.test." and message.payload == 1232


def test_cname_chain_and_addresses_are_read_with_compression() -> None:
    query = build_query(1, "www.example.test", AAAA, rd=True, edns_payload=1232)
    wire = reply_to(
        query,
        ("www.example.test.", "CNAME", "edge.cdn.test."),
        ("edge.cdn.test.", "AAAA", "2001:db8::1"),
        ("other.test.", "AAAA", "2001:db8::99"),
    )
    answer = read_answer(wire, question_bytes(query), "www.example.test", AAAA)
    assert answer is not None
    assert (answer.rcode, answer.cnames, answer.records) == (
        "NOERROR",
        ["edge.cdn.test."],
        ["2001:db8::1"],
    )


def test_nxdomain_and_other_types_and_other_questions() -> None:
    query = build_query(2, "nope.example.test", AAAA, rd=True, edns_payload=None)
    missing = read_answer(
        reply_to(query, rcode=3), question_bytes(query), "nope.example.test", AAAA
    )
    assert missing is not None and (missing.rcode, missing.records) == ("NXDOMAIN", [])
    mx = reply_to(query, ("nope.example.test.", "MX", "10 mail.example.test."))
    assert read_answer(mx, question_bytes(query), "nope.example.test", AAAA) is None
    other = build_query(2, "else.example.test", AAAA, rd=True, edns_payload=None)
    assert read_answer(reply_to(other), question_bytes(query), "nope.example.test", AAAA) is None
    assert read_answer(b"\x00\x02", question_bytes(query), "x", CNAME) is None


class OutOfOrderServer(asyncio.DatagramProtocol):
    """Answers every second query first, so replies arrive out of order."""

    def __init__(self) -> None:
        self.held: list[tuple[bytes, object]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: object) -> None:
        name = str(dns.message.from_wire(data).question[0].name)
        self.held.append((reply_to(data, (name, "AAAA", "2001:db8::" + name[1])), addr))
        if len(self.held) == 2:
            for wire, to in reversed(self.held):
                self.transport.sendto(wire, to)  # type: ignore[attr-defined]
            self.held.clear()


async def test_shared_socket_matches_replies_by_id() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        OutOfOrderServer, local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    client = UdpResolverClient("127.0.0.1", port)
    try:
        first, second = await asyncio.gather(
            resolve_shared(client, "a1.test", "AAAA", timeout=2),
            resolve_shared(client, "b2.test", "AAAA", timeout=2),
        )
        assert (first.records, second.records) == (["2001:db8::1"], ["2001:db8::2"])
    finally:
        client.close()
        transport.close()


async def test_refused_and_silent_servers() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    client = UdpResolverClient("127.0.0.1", closed)
    with pytest.raises(NetRefused):
        await resolve_shared(client, "a.test", "AAAA", timeout=2)
    client.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        client = UdpResolverClient("127.0.0.1", silent.getsockname()[1])
        with pytest.raises(DnsTimeout):
            await resolve_shared(client, "a.test", "AAAA", timeout=0.2)
        client.close()


def record(owner: bytes, rtype: int, ttl: int, rdata: bytes, rclass: int = 1) -> bytes:
    """One resource record, its owner already in wire form (maybe a pointer)."""
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def reply_wire(
    query: bytes, counts: tuple[int, int, int], *records: bytes, flags: int = 0x8400
) -> bytes:
    """A hand-made reply to `query` (same id and question) with the given section counts."""
    return (
        query[:2]
        + struct.pack("!HHHHH", flags, 1, *counts)
        + question_bytes(query)
        + b"".join(records)
    )


QUERY = build_query(7, "www.example.test", AAAA, rd=False, edns_payload=1232)
QUESTION = question_bytes(QUERY)
POINTER = b"\xc0\x0c"
"""A compression pointer to the question's name."""
ADDRESS = bytes(range(16))


def test_authoritative_answer_keeps_answer_and_soa_records() -> None:
    wire = reply_wire(
        QUERY,
        (2, 2, 1),
        record(POINTER, CNAME, 60, encode_name("Edge.example.test")),
        record(encode_name("edge.example.test"), AAAA, 2**31, ADDRESS),
        record(encode_name("example.test"), NS, 60, b"\x02ns" + b"\xc0\x10"),
        record(b"\xc0\x10", SOA, 30, b"\x02ns\xc0\x10\x00" + bytes(20)),
        record(b"\x00", OPT, 0, b"", rclass=1232),
    )
    reply = read_authoritative(wire, QUESTION)
    assert reply is not None and (reply.qid, reply.flags) == (7, 0x8400)
    assert [(r.owner, r.rtype, r.ttl, r.data) for r in reply.answer] == [
        ((b"www", b"example", b"test"), CNAME, 60, (b"Edge", b"example", b"test")),
        ((b"edge", b"example", b"test"), AAAA, 0, ADDRESS),
    ]
    (soa,) = reply.soa
    assert (soa.owner, soa.mname, soa.rname) == (
        (b"example", b"test"),
        (b"ns", b"example", b"test"),
        (),
    )


@pytest.mark.parametrize(
    ("why", "wire"),
    [
        (
            "not authoritative",
            reply_wire(QUERY, (1, 0, 0), record(POINTER, AAAA, 60, ADDRESS), flags=0x8000),
        ),
        ("truncated", reply_wire(QUERY, (0, 0, 0), flags=0x8600)),
        ("SERVFAIL", reply_wire(QUERY, (0, 0, 0), flags=0x8402)),
        ("not a response", reply_wire(QUERY, (0, 0, 0), flags=0x0400)),
        ("other opcode", reply_wire(QUERY, (0, 0, 0), flags=0xA400)),
        ("MX answer", reply_wire(QUERY, (1, 0, 0), record(POINTER, 15, 60, b"\x00\x0a\x00"))),
        ("class CH", reply_wire(QUERY, (1, 0, 0), record(POINTER, AAAA, 60, ADDRESS, rclass=3))),
        ("short address", reply_wire(QUERY, (1, 0, 0), record(POINTER, A, 60, b"\x01\x02\x03"))),
        ("address in authority", reply_wire(QUERY, (0, 1, 0), record(POINTER, A, 60, bytes(4)))),
        ("NS in answer", reply_wire(QUERY, (1, 0, 0), record(POINTER, NS, 60, b"\x00"))),
        (
            "CNAME with spare octet",
            reply_wire(QUERY, (1, 0, 0), record(POINTER, CNAME, 60, b"\x00\x00")),
        ),
        ("forward pointer", reply_wire(QUERY, (1, 0, 0), record(b"\xc0\x30", AAAA, 60, ADDRESS))),
        ("pointer to itself", reply_wire(QUERY, (1, 0, 0), record(b"\xc0\x22", AAAA, 60, ADDRESS))),
        ("bad label type", reply_wire(QUERY, (1, 0, 0), record(b"\x41x\x00", AAAA, 60, ADDRESS))),
        ("trailing octets", reply_wire(QUERY, (0, 0, 0)) + b"\x00"),
        ("cut short", reply_wire(QUERY, (1, 0, 0), record(POINTER, AAAA, 60, ADDRESS))[:-1]),
        ("count too high", reply_wire(QUERY, (2, 0, 0), record(POINTER, AAAA, 60, ADDRESS))),
        ("OPT in answer", reply_wire(QUERY, (1, 0, 0), record(b"\x00", OPT, 0, b""))),
        ("two OPTs", reply_wire(QUERY, (0, 0, 2), *[record(b"\x00", OPT, 0, b"")] * 2)),
        ("OPT option", reply_wire(QUERY, (0, 0, 1), record(b"\x00", OPT, 0, b"\x00\x03\x00\x00"))),
        ("extended rcode", reply_wire(QUERY, (0, 0, 1), record(b"\x00", OPT, 1 << 24, b""))),
        ("OPT not at root", reply_wire(QUERY, (0, 0, 1), record(POINTER, OPT, 0, b""))),
        (
            "other question",
            reply_wire(
                build_query(7, "ww.example.test", AAAA, rd=False, edns_payload=None), (0, 0, 0)
            ),
        ),
        ("short header", QUERY[:11]),
    ],
)
def test_other_replies_are_left_to_dnspython(why: str, wire: bytes) -> None:
    assert read_authoritative(wire, QUESTION) is None, why


def test_names_are_read_as_strictly_as_dnspython_reads_them() -> None:
    long_label = b"\x3f" + b"x" * 63
    too_long = long_label * 4 + b"\x00"
    fits = long_label * 3 + b"\x3dx" + b"x" * 60 + b"\x00"
    for name, accepted in ((too_long, False), (fits, True)):
        wire = reply_wire(QUERY, (1, 0, 0), record(name, AAAA, 60, ADDRESS))
        assert (read_authoritative(wire, QUESTION) is not None) is accepted
        try:
            dns.message.from_wire(wire)
        except dns.name.NameTooLong:
            assert not accepted
        else:
            assert accepted


def described(rrsets: list[dns.rrset.RRset]) -> list[tuple[object, ...]]:
    """Everything iterative resolution could read of RRsets, name case and TTL included."""
    return [(r.name.labels, r.rdclass, r.rdtype, r.ttl, r.to_text(), list(r)) for r in rrsets]


def same_as_dnspython(wire: bytes, question: bytes) -> PlainReply:
    """The plain reading of `wire`, checked against dnspython's reading of it."""
    plain = read_plain_reply(wire, question)
    assert plain is not None
    message = dns.message.from_wire(wire)
    assert (plain.id, plain.flags, plain.rcode()) == (message.id, message.flags, message.rcode())
    assert plain.answer == message.answer
    assert described(plain.answer) == described(message.answer)
    soa = [r for r in message.authority if r.rdtype == dns.rdatatype.SOA]
    assert described(plain.authority) == described(soa)
    return plain


def dnspython_reply(
    qname: str,
    rdtype: str,
    *sections: tuple[str, str],
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    edns: bool = True,
) -> tuple[bytes, bytes]:
    """A reply rendered by dnspython (compressed) and the question it answers; `sections` are
    (section name, record text) pairs, e.g. ("answer", "www.test. 60 IN A 192.0.2.1")."""
    query = dns.message.make_query(qname, rdtype, use_edns=edns, payload=1232, flags=0)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.set_rcode(rcode)
    for section, text in sections:
        getattr(response, section).append(dns.rrset.from_text(*text.split(maxsplit=4)))
    return response.to_wire(), question_bytes(query.to_wire())


GLUE = [
    ("authority", "good.test. 3600 IN NS ns1.good.test."),
    ("authority", "good.test. 3600 IN NS ns2.good.test."),
    ("additional", "ns1.good.test. 3600 IN AAAA 2001:db8:53::41"),
    ("additional", "ns2.good.test. 3600 IN AAAA 2001:db8:53::42"),
    ("additional", "ns1.good.test. 3600 IN A 192.0.2.41"),
]
SOA_RECORD = ("authority", "good.test. 300 IN SOA ns1.good.test. host.good.test. 7 3600 600 864 60")
PLAIN_REPLIES = {
    "address with NS and glue": dnspython_reply(
        "www.good.test.", "AAAA", ("answer", "www.good.test. 300 IN AAAA 2001:db8::80"), *GLUE
    ),
    "CNAME chain without EDNS": dnspython_reply(
        "alias.good.test.",
        "A",
        ("answer", "alias.good.test. 300 IN CNAME www.good.test."),
        ("answer", "www.good.test. 60 IN A 192.0.2.80"),
        ("answer", "www.good.test. 60 IN A 192.0.2.81"),
        edns=False,
    ),
    "CNAME out of the zone": dnspython_reply(
        "away.good.test.", "AAAA", ("answer", "away.good.test. 300 IN CNAME www.other.")
    ),
    "NODATA": dnspython_reply("www.good.test.", "AAAA", SOA_RECORD),
    "NXDOMAIN": dnspython_reply("nothing.good.test.", "A", SOA_RECORD, rcode=dns.rcode.NXDOMAIN),
    "0x20 case": dnspython_reply(
        "wWw.GoOd.TeSt.", "AAAA", ("answer", "www.good.test. 300 IN AAAA 2001:db8::80"), *GLUE
    ),
    "foreign answer": dnspython_reply(
        "www.good.test.",
        "A",
        ("answer", "www.good.test. 300 IN A 192.0.2.80"),
        ("answer", "www.evil.test. 300 IN A 203.0.113.6"),
    ),
}


@pytest.mark.parametrize("name", PLAIN_REPLIES)
def test_plain_replies_read_as_dnspython_reads_them(name: str) -> None:
    wire, question = PLAIN_REPLIES[name]
    plain = same_as_dnspython(wire, question)
    assert plain.answer or plain.authority


def test_case_merges_duplicates_and_ttls_as_dnspython() -> None:
    mixed = build_query(9, "WWW.example.test", A, rd=False, edns_payload=None)
    wire = reply_wire(
        mixed,
        (6, 1, 0),
        record(encode_name("www.Example.test"), A, 60, bytes(4)),
        record(encode_name("x.example.test"), CNAME, 60, encode_name("y.example.test")),
        record(encode_name("www.EXAMPLE.test"), A, 30, bytes(4)),
        record(encode_name("www.example.test"), A, 2**31, b"\x01\x02\x03\x04"),
        record(encode_name("x.example.test"), CNAME, 60, encode_name("z.example.test")),
        record(POINTER, A, 90, b"\x01\x02\x03\x05"),
        record(encode_name("Example.test"), SOA, 5, bytes(2) + bytes(range(20))),
    )
    plain = same_as_dnspython(wire, question_bytes(mixed))
    assert [len(rrset) for rrset in plain.answer] == [3, 1]
    assert plain.answer[0].name.labels[:2] == (b"www", b"Example") and plain.answer[0].ttl == 0


@pytest.mark.parametrize("name", PLAIN_REPLIES)
def test_damaged_replies_are_read_plainly_only_when_dnspython_agrees(name: str) -> None:
    """Random damage to each reply: whatever the plain reader still accepts, dnspython must
    read the same way (and not reject)."""
    wire, question = PLAIN_REPLIES[name]
    rng = random.Random(name)
    accepted = 0
    for _ in range(300):
        damaged = bytearray(wire)
        choice = rng.random()
        if choice < 0.7:
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        elif choice < 0.85:
            del damaged[rng.randrange(len(damaged)) :]
        else:
            damaged.insert(rng.randrange(len(damaged) + 1), rng.randrange(256))
        if read_plain_reply(bytes(damaged), question) is not None:
            same_as_dnspython(bytes(damaged), question)
            accepted += 1
    assert 0 < accepted < 300


def test_lone_soa_rrsets_are_fresh_copies() -> None:
    wire, question = PLAIN_REPLIES["NXDOMAIN"]
    first = same_as_dnspython(wire, question)
    first.authority[0].ttl = 1
    first.authority[0].clear()
    second = same_as_dnspython(wire, question)
    assert second.authority[0].ttl == 300 and len(second.authority[0]) == 1
