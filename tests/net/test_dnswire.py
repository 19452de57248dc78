from __future__ import annotations

import asyncio
import socket

import dns.message
import dns.rrset
import pytest

from v6pilot.errors import DnsTimeout, NetRefused
from v6pilot.net.dns import resolve_shared
from v6pilot.net.dnsmux import UdpResolverClient
from v6pilot.net.dnswire import AAAA, CNAME, build_query, question_bytes, read_answer


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
