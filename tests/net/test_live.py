"""LiveNetwork on loopback: resolver fallback, direct and iterative queries, fetch and connect."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.zone
import pytest

from tests.net.dnshierarchy import ServedHierarchy, serve_hierarchy
from v6pilot.errors import DnsServFail, NetRefused
from v6pilot.lab.dnsserver import AuthoritativeServer, DnsListener, listen_dns
from v6pilot.net.live import LiveNetwork, parse_resolver, system_resolvers
from v6pilot.net.network import Network
from v6pilot.net.types import TcpOutcome

ZONE = dns.zone.from_text(
    "\n".join(
        [
            "$TTL 300",
            "example.test. SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60",
            "example.test. NS ns.example.test.",
            "ns.example.test. A 127.0.0.1",
            "www.example.test. CNAME web.example.test.",
            "web.example.test. AAAA 2001:db8::80",
        ]
    ),
    origin="example.test.",
    relativize=False,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        (" 192.0.2.53:5353 ", ("192.0.2.53", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
        ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
        ("[2001:db8::53]", ("2001:db8::53", 53)),
    ],
)
def test_parse_resolver_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize(
    "text", ["dns.example", "192.0.2.53:0", "192.0.2.53:x", "[192.0.2.53]:53", "[::1", "[::1]x"]
)
def test_parse_resolver_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match="bad resolver"):
        parse_resolver(text)


def test_system_resolvers_reads_nameserver_lines(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# comment\nsearch example\nnameserver 192.0.2.53\nnameserver ::1\nnameserver x\n"
    )
    assert system_resolvers(conf) == [("192.0.2.53", 53), ("::1", 53)]
    assert system_resolvers(tmp_path / "missing") == [("127.0.0.1", 53)]


@pytest.fixture
async def authoritative() -> AsyncIterator[DnsListener]:
    listener = await listen_dns("127.0.0.1", 0, AuthoritativeServer([ZONE]).handle)
    yield listener
    listener.close()


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_resolve_follows_cnames(authoritative: DnsListener) -> None:
    net = LiveNetwork(resolvers=[("127.0.0.1", authoritative.port)], timeout=1.0)
    resolution = await net.resolve("www.example.test", "AAAA")
    assert (resolution.rcode, resolution.cnames, resolution.records) == (
        "NOERROR",
        ["web.example.test."],
        ["2001:db8::80"],
    )


async def test_resolve_falls_to_the_next_resolver_on_transport_errors(
    authoritative: DnsListener,
) -> None:
    silent = await listen_dns("127.0.0.1", 0, lambda wire, tcp: b"")
    try:
        resolvers = [
            ("127.0.0.1", closed_udp_port()),
            ("127.0.0.1", silent.port),
            ("127.0.0.1", authoritative.port),
        ]
        net = LiveNetwork(resolvers=resolvers, timeout=0.3)
        resolution = await net.resolve("web.example.test", "AAAA")
    finally:
        silent.close()
    assert resolution.records == ["2001:db8::80"]


async def test_resolve_raises_the_last_error_when_no_resolver_answers() -> None:
    net = LiveNetwork(resolvers=[("127.0.0.1", closed_udp_port())], timeout=0.5)
    with pytest.raises(NetRefused):
        await net.resolve("www.example.test", "A")


async def test_servfail_is_an_answer_not_a_reason_to_move_on(
    authoritative: DnsListener,
) -> None:
    def servfail(wire: bytes, tcp: bool) -> bytes:
        reply = dns.message.make_response(dns.message.from_wire(wire))
        reply.set_rcode(dns.rcode.SERVFAIL)
        return reply.to_wire()

    failing = await listen_dns("127.0.0.1", 0, servfail)
    try:
        resolvers = [("127.0.0.1", failing.port), ("127.0.0.1", authoritative.port)]
        with pytest.raises(DnsServFail):
            await LiveNetwork(resolvers=resolvers, timeout=0.5).resolve("web.example.test", "A")
    finally:
        failing.close()


async def test_query_is_non_recursive_to_the_given_server(authoritative: DnsListener) -> None:
    net = LiveNetwork(resolvers=[("192.0.2.1", 53)], dns_port=authoritative.port, timeout=1.0)
    reply = await net.query("127.0.0.1", "web.example.test", "AAAA")
    assert reply.flags & dns.flags.AA
    assert not reply.flags & dns.flags.RD
    assert [rd.to_text() for rd in reply.answer[0]] == ["2001:db8::80"]


@pytest.fixture
async def hierarchy() -> AsyncIterator[ServedHierarchy]:
    served = await serve_hierarchy()
    yield served
    served.close()


async def test_iterate_shares_one_delegation_cache(hierarchy: ServedHierarchy) -> None:
    net = LiveNetwork(
        resolvers=[("192.0.2.1", 53)],
        root_hints=hierarchy.hints,
        dns_port=hierarchy.port,
        timeout=1.0,
    )
    first = await net.iterate("www.good.test.", "A", frozenset({4}))
    root_queries = hierarchy.queries["root"]
    second = await net.iterate("alias.good.test.", "A", frozenset({4}))
    assert (first.ok, first.records) == (True, ["192.0.2.80"])
    assert (second.ok, second.records) == (True, ["192.0.2.80"])
    assert root_queries > 0
    assert hierarchy.queries["root"] == root_queries


async def test_fetch_and_connect_use_the_pinned_address() -> None:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "::1", 0)
    port = server.sockets[0].getsockname()[1]
    net: Network = LiveNetwork(resolvers=[("192.0.2.1", 53)], timeout=1.0)
    try:
        response = await net.fetch(f"http://www.example.test:{port}/", "::1")
        outcome = await net.connect("::1", port)
    finally:
        await net.close()
        server.close()
        await server.wait_closed()
    assert response.status == 204
    assert seen[0].startswith(b"GET / HTTP/1.1\r\nHost: www.example.test:")
    assert outcome is TcpOutcome.OPEN


def test_an_empty_resolver_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one resolver"):
        LiveNetwork(resolvers=[])


async def test_at_most_max_sockets_connections_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from v6pilot.net import live
    from v6pilot.net.types import TcpOutcome

    in_flight = peak = 0

    async def slow_connect(address: str, port: int, timeout: float) -> TcpOutcome:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return TcpOutcome.OPEN

    monkeypatch.setattr(live.tcp, "connect", slow_connect)
    network = live.LiveNetwork(resolvers=[("127.0.0.1", 53)], max_sockets=4)
    outcomes = await asyncio.gather(*(network.connect("127.0.0.1", 80) for _ in range(20)))
    assert outcomes == [TcpOutcome.OPEN] * 20 and peak == 4
