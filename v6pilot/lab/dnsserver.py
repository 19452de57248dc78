"""Authoritative DNS server of the lab: answers from in-memory zones over UDP and TCP."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.SOA
import dns.rrset
import dns.zone

from v6pilot.errors import LabError, format_endpoint
from v6pilot.net.dns import NameKey, is_under, name_key

log = logging.getLogger(__name__)

MAX_UDP_PAYLOAD = 1232
"""Largest UDP reply we send even if the client's EDNS payload allows more."""
PLAIN_UDP_LIMIT = 512
TCP_IDLE_TIMEOUT = 10.0
MAX_CNAME_CHASE = 8
BIND_ATTEMPTS = 5
"""Tries at finding a port free for both UDP and TCP when asked for port 0."""

Responder = Callable[[bytes, bool], bytes | Awaitable[bytes]]
"""Turns a query (wire format, came over TCP?) into a reply; an empty reply means none."""

_WILDCARD = b"*"
_ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


@dataclass(slots=True)
class _ZoneIndex:
    """A zone prepared for fast lookups: RRsets with absolute names keyed by case-folded labels."""

    origin: dns.name.Name
    key: NameKey
    rrsets: dict[NameKey, dict[int, dns.rrset.RRset]]
    names: set[NameKey]
    cuts: set[NameKey]
    negative_soa: dns.rrset.RRset


def _index_zone(zone: dns.zone.Zone) -> _ZoneIndex:
    """Index `zone` once so that queries never walk or copy zone data."""
    origin = zone.origin
    if origin is None:
        raise LabError("a zone without origin cannot be served")
    zone_key = name_key(origin)
    rrsets: dict[NameKey, dict[int, dns.rrset.RRset]] = {}
    names: set[NameKey] = set()
    for name, rdataset in zone.iterate_rdatasets():
        owner = name.derelativize(origin)
        rdatas: Iterable[dns.rdata.Rdata] = rdataset
        if zone.relativize:
            rdatas = [_absolute(rdata, origin) for rdata in rdataset]
        rrset = dns.rrset.from_rdata_list(owner, rdataset.ttl, list(rdatas))
        key = name_key(owner)
        rrsets.setdefault(key, {})[rdataset.rdtype] = rrset
        names.update(key[start:] for start in range(len(key) - len(zone_key) + 1))
    soa = rrsets.get(zone_key, {}).get(dns.rdatatype.SOA)
    if soa is None:
        raise LabError(f"zone {origin} has no SOA record at its apex")
    minimum = cast(dns.rdtypes.ANY.SOA.SOA, soa[0]).minimum
    negative_soa = dns.rrset.from_rdata_list(soa.name, min(soa.ttl, minimum), list(soa))
    cuts = {
        key for key, by_type in rrsets.items() if dns.rdatatype.NS in by_type and key != zone_key
    }
    return _ZoneIndex(origin, zone_key, rrsets, names, cuts, negative_soa)


def _absolute(rdata: dns.rdata.Rdata, origin: dns.name.Name) -> dns.rdata.Rdata:
    """`rdata` with any names it holds made absolute against `origin`."""
    wire = cast(bytes, rdata.to_wire(origin=origin))
    return dns.rdata.from_wire(rdata.rdclass, rdata.rdtype, wire, 0, len(wire))


class AuthoritativeServer:
    """Answers queries authoritatively for a fixed set of zones (indexed once, at construction)."""

    def __init__(self, zones: Sequence[dns.zone.Zone], *, reply_cache_size: int = 50_000) -> None:
        self._zones: dict[NameKey, _ZoneIndex] = {}
        for zone in zones:
            index = _index_zone(zone)
            self._zones[index.key] = index
        self._reply_cache_size = reply_cache_size
        self._replies: dict[tuple[bytes, bool], bytes] = {}

    def handle(self, query_wire: bytes, tcp: bool = False) -> bytes:
        """Reply to one query in wire format; b"" when it deserves no reply at all.

        UDP replies larger than the client's EDNS payload (512 bytes without EDNS) are truncated
        with TC set so that the client retries over TCP. The zones never change, so the reply to
        a byte-identical query (bar its id) is cached: parsing and rendering dominate the cost.
        """
        key = (query_wire[2:], tcp)
        cached = self._replies.get(key)
        if cached is not None:
            return query_wire[:2] + cached
        request = parse_query(query_wire)
        if not isinstance(request, dns.message.Message):
            return request
        response = dns.message.make_response(request, our_payload=MAX_UDP_PAYLOAD)
        rcode = check_query(request)
        if rcode is not None:
            response.set_rcode(rcode)
            return render_reply(request, response, tcp)
        try:
            self._respond(request, response)
        except Exception:
            log.exception("answering %s failed", request.question[0])
            response = dns.message.make_response(request, our_payload=MAX_UDP_PAYLOAD)
            response.set_rcode(dns.rcode.SERVFAIL)
            return render_reply(request, response, tcp)
        reply = render_reply(request, response, tcp)
        if len(self._replies) >= self._reply_cache_size:
            del self._replies[next(iter(self._replies))]
        self._replies[key] = reply[2:]
        return reply

    def _respond(self, request: dns.message.Message, response: dns.message.Message) -> None:
        """Fill `response` for the single question of `request`."""
        question = request.question[0]
        qname, qtype = question.name, question.rdtype
        if question.rdclass != dns.rdataclass.IN or qtype in (
            dns.rdatatype.AXFR,
            dns.rdatatype.IXFR,
        ):
            response.set_rcode(dns.rcode.REFUSED)
            return
        key = name_key(qname)
        zone = self._zone_for(key[1:]) if qtype == dns.rdatatype.DS and len(key) > 1 else None
        zone = zone or self._zone_for(key)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return
        cut = _cut_on_path(zone, key, qtype)
        if cut is not None:
            _refer(zone, cut, response)
            return
        response.flags |= dns.flags.AA
        _answer(zone, qname, key, qtype, response)

    def _zone_for(self, key: NameKey) -> _ZoneIndex | None:
        """The closest enclosing zone of the name `key` that this server serves."""
        for start in range(len(key)):
            zone = self._zones.get(key[start:])
            if zone is not None:
                return zone
        return None


def _cut_on_path(zone: _ZoneIndex, key: NameKey, qtype: int) -> NameKey | None:
    """The topmost delegation point of `zone` at or above `key` (DS at a cut is the parent's)."""
    for depth in range(len(zone.key) + 1, len(key) + 1):
        candidate = key[len(key) - depth :]
        if candidate in zone.cuts and not (depth == len(key) and qtype == dns.rdatatype.DS):
            return candidate
    return None


def _refer(zone: _ZoneIndex, cut: NameKey, response: dns.message.Message) -> None:
    """Fill a referral to the child zone at `cut`: its NS set plus the glue the zone holds."""
    ns_rrset = zone.rrsets[cut][dns.rdatatype.NS]
    response.authority.append(ns_rrset)
    for rdata in ns_rrset:
        by_type = zone.rrsets.get(name_key(cast(dns.rdtypes.ANY.NS.NS, rdata).target), {})
        response.additional.extend(by_type[t] for t in _ADDRESS_TYPES if t in by_type)


def _answer(
    zone: _ZoneIndex,
    qname: dns.name.Name,
    key: NameKey,
    qtype: int,
    response: dns.message.Message,
) -> None:
    """Fill an authoritative answer, chasing CNAMEs while their targets stay in `zone`."""
    seen = {key}
    for _ in range(MAX_CNAME_CHASE):
        node = zone.rrsets.get(key)
        if node is None and key not in zone.names:
            node = _wildcard(zone, qname, key)
            if node is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(zone.negative_soa)
                return
        if node is None:
            break
        if qtype == dns.rdatatype.ANY:
            response.answer.extend(node.values())
            return
        rrset = node.get(qtype)
        if rrset is not None:
            response.answer.append(rrset)
            return
        cname = node.get(dns.rdatatype.CNAME)
        if cname is None or qtype == dns.rdatatype.CNAME:
            break
        response.answer.append(cname)
        qname = cast(dns.rdtypes.ANY.CNAME.CNAME, cname[0]).target
        key = name_key(qname)
        if key in seen or not is_under(key, zone.key) or _cut_on_path(zone, key, qtype):
            return
        seen.add(key)
    response.authority.append(zone.negative_soa)


def _wildcard(
    zone: _ZoneIndex, qname: dns.name.Name, key: NameKey
) -> dict[int, dns.rrset.RRset] | None:
    """RRsets synthesized for `qname` from the wildcard at its closest encloser, if any."""
    for start in range(1, len(key) - len(zone.key) + 1):
        encloser = key[start:]
        if encloser in zone.names:
            source = zone.rrsets.get((_WILDCARD, *encloser))
            if source is None:
                return None
            return {
                rdtype: dns.rrset.from_rdata_list(qname, rrset.ttl, list(rrset))
                for rdtype, rrset in source.items()
            }
    return None


def parse_query(wire: bytes) -> dns.message.Message | bytes:
    """The query in `wire`, or the reply to send instead (FORMERR, or b"" to stay silent)."""
    try:
        request = dns.message.from_wire(wire)
    except dns.message.ShortHeader:
        return b""
    except Exception:  # untrusted input: any parse failure is the client's format error
        return _formerr(wire)
    if request.flags & dns.flags.QR:
        return b""
    return request


def check_query(request: dns.message.Message) -> dns.rcode.Rcode | None:
    """The error rcode for a query we cannot answer (opcode, question count, EDNS version)."""
    if request.opcode() != dns.opcode.QUERY:
        return dns.rcode.NOTIMP
    if len(request.question) != 1:
        return dns.rcode.FORMERR
    if request.edns > 0:
        return dns.rcode.BADVERS
    return None


def render_reply(request: dns.message.Message, response: dns.message.Message, tcp: bool) -> bytes:
    """Render `response`; over UDP truncate (TC) to what the client accepts."""
    if tcp:
        limit = 65535
    elif request.edns >= 0:
        limit = max(PLAIN_UDP_LIMIT, min(request.payload, MAX_UDP_PAYLOAD))
    else:
        limit = PLAIN_UDP_LIMIT
    return response.to_wire(max_size=limit, prefer_truncation=True)


def _formerr(wire: bytes) -> bytes:
    """A header-only FORMERR reply echoing the id and opcode of an unparseable query."""
    if wire[2] & 0x80:
        return b""
    flags = 0x8000 | (wire[2] & 0x78) << 8 | dns.rcode.FORMERR
    return wire[:2] + flags.to_bytes(2, "big") + bytes(8)


@dataclass(eq=False)
class DnsListener:
    """The UDP and TCP endpoints of one DNS service address; `close()` stops both."""

    address: str
    port: int
    udp: asyncio.DatagramTransport
    tcp: asyncio.Server
    connections: set[asyncio.StreamWriter] = field(default_factory=set)

    def close(self) -> None:
        """Stop listening and drop open TCP connections."""
        self.udp.close()
        self.tcp.close()
        for writer in self.connections:
            writer.close()

    async def wait_closed(self) -> None:
        """Wait until the TCP listener has shut down."""
        await self.tcp.wait_closed()


class _UdpProtocol(asyncio.DatagramProtocol):
    """Feeds each datagram to the responder and sends its reply back to the sender."""

    def __init__(self, respond: Responder) -> None:
        self._respond = respond
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.Future[bytes]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self._respond(data, False)
        if isinstance(reply, bytes):
            self._send(reply, addr)
            return
        future = asyncio.ensure_future(reply)
        self._pending.add(future)
        future.add_done_callback(lambda done: self._finish(done, addr))

    def error_received(self, exc: Exception) -> None:
        """ICMP errors about clients that went away are expected; nothing to do."""

    def _finish(self, done: asyncio.Future[bytes], addr: tuple[str | int, ...]) -> None:
        self._pending.discard(done)
        if done.cancelled():
            return
        if done.exception() is not None:
            log.error("DNS responder failed", exc_info=done.exception())
            return
        self._send(done.result(), addr)

    def _send(self, reply: bytes, addr: tuple[str | int, ...]) -> None:
        if reply and self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)


async def _serve_tcp_connection(
    respond: Responder,
    connections: set[asyncio.StreamWriter],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Answer length-prefixed queries on one TCP connection until it closes or idles out."""
    connections.add(writer)
    try:
        while True:
            header = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_TIMEOUT)
            wire = await asyncio.wait_for(
                reader.readexactly(int.from_bytes(header, "big")), TCP_IDLE_TIMEOUT
            )
            reply = respond(wire, True)
            if not isinstance(reply, bytes):
                reply = await reply
            if not reply:
                break
            writer.write(len(reply).to_bytes(2, "big") + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
        pass
    finally:
        connections.discard(writer)
        writer.close()


async def listen_dns(address: str, port: int, respond: Responder) -> DnsListener:
    """Bind UDP and TCP on `address`:`port` (port 0: one free port for both) for `respond`."""
    attempt = 1
    while True:
        try:
            return await _bind(address, port, respond)
        except OSError as exc:
            if port == 0 and exc.errno == errno.EADDRINUSE and attempt < BIND_ATTEMPTS:
                attempt += 1
                continue
            endpoint = format_endpoint(address, port)
            raise LabError(f"cannot serve DNS on {endpoint}: {exc.strerror or exc}") from exc


async def _bind(address: str, port: int, respond: Responder) -> DnsListener:
    """Bind UDP first (learning the port if 0), then TCP on the same port."""
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(
        lambda: _UdpProtocol(respond), local_addr=(address, port)
    )
    bound_port = cast(int, udp.get_extra_info("sockname")[1])
    connections: set[asyncio.StreamWriter] = set()
    try:
        tcp = await asyncio.start_server(
            lambda r, w: _serve_tcp_connection(respond, connections, r, w), address, bound_port
        )
    except OSError:
        udp.close()
        raise
    return DnsListener(address, bound_port, udp, tcp, connections)


async def serve_dns(
    bindings: Sequence[tuple[str, int, AuthoritativeServer]],
) -> list[DnsListener]:
    """Serve each (address, port) over UDP and TCP with its own authoritative server."""
    listeners: list[DnsListener] = []
    try:
        for address, port, server in bindings:
            listeners.append(await listen_dns(address, port, server.handle))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners
