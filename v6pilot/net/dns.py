"""DNS client: one query to one server (UDP, TCP on truncation) with errors mapped to v6pilot's."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.SOA
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rrset

from v6pilot.errors import DnsBadResponse, DnsServFail, DnsTimeout
from v6pilot.net.dnsmux import UdpResolverClient, UdpServerClient, query_socket_error
from v6pilot.net.dnswire import (
    Authoritative,
    Labels,
    WireRecord,
    WireSoa,
    build_query,
    build_query_wire,
    question_bytes,
    read_answer,
    read_authoritative,
)

NameKey = tuple[bytes, ...]
RdataTypeLike = dns.rdatatype.RdataType | str

EDNS_PAYLOAD = 1232
"""EDNS UDP payload we advertise: the DNS flag day 2020 value, safe from IP fragmentation."""

_BACKEND = dns.asyncbackend.get_backend("asyncio")
_CNAME = dns.rdatatype.CNAME


def name_key(name: dns.name.Name) -> NameKey:
    """Case-folded labels of `name`: a cheap hashable key, unlike dnspython's Python-level hash."""
    return tuple(label.lower() for label in name.labels)


def is_under(key: NameKey, ancestor: NameKey) -> bool:
    """Whether the name `key` equals or lies below the name `ancestor` (both from `name_key`)."""
    return len(key) >= len(ancestor) and key[len(key) - len(ancestor) :] == ancestor


def to_name(name: str | dns.name.Name) -> dns.name.Name:
    """`name` as an absolute dnspython name (text is taken as absolute even without a final dot)."""
    return name if isinstance(name, dns.name.Name) else dns.name.from_text(name)


async def query(
    qname: str | dns.name.Name,
    rdtype: RdataTypeLike,
    server: str,
    *,
    port: int = 53,
    timeout: float = 3.0,
    tcp_fallback: bool = True,
    recursion_desired: bool = False,
    edns_payload: int | None = EDNS_PAYLOAD,
) -> dns.message.Message:
    """Send one query to `server` over UDP, retrying over TCP if the reply is truncated.

    The address family follows `server`. `timeout` bounds UDP and TCP together. The reply is
    returned whatever its rcode; transport failures raise `NetError` subclasses naming the server.
    `edns_payload=None` sends a plain (non-EDNS) query, limiting UDP replies to 512 bytes.
    """
    request = dns.message.make_query(
        qname,
        rdtype,
        use_edns=edns_payload is not None,
        payload=edns_payload,
        flags=dns.flags.RD if recursion_desired else 0,
    )
    deadline = time.monotonic() + timeout
    with _query_errors(qname, rdtype, server, port, timeout):
        try:
            return await _udp(request, server, port, timeout, tcp_fallback)
        except dns.message.Truncated:
            remaining = max(deadline - time.monotonic(), 0.0)
            return await dns.asyncquery.tcp(request, server, remaining, port)


@contextlib.contextmanager
def _query_errors(
    qname: str | dns.name.Name, rdtype: RdataTypeLike, server: str, port: int, timeout: float
) -> Iterator[None]:
    """Turn the failures of a query into `NetError` subclasses naming the server and query."""
    try:
        yield
    except (dns.exception.Timeout, TimeoutError) as exc:
        raise DnsTimeout(
            server, port, f"no answer within {timeout:g}s", _what(qname, rdtype)
        ) from exc
    except OSError as exc:
        raise query_socket_error(server, port, exc) from exc
    except (dns.exception.DNSException, EOFError) as exc:
        detail = f"bad response: {str(exc) or type(exc).__name__}"
        raise DnsBadResponse(server, port, detail, _what(qname, rdtype)) from exc


async def _udp(
    request: dns.message.Message, server: str, port: int, timeout: float, tcp_fallback: bool
) -> dns.message.Message:
    """Query over a connected UDP socket, so ICMP port/host unreachable surface as errors."""
    family = dns.inet.af_for_address(server)
    sock = await _BACKEND.make_socket(family, socket.SOCK_DGRAM, 0, None, (server, port))
    async with sock:
        return await dns.asyncquery.udp(
            request,
            server,
            timeout,
            port,
            ignore_unexpected=True,
            raise_on_truncation=tcp_fallback,
            sock=sock,
        )


@dataclass(slots=True)
class PlainReply:
    """A plain authoritative reply read without dnspython's message parser (see
    `dnswire.read_authoritative`): what the `dns.message.Message` of the same reply holds in
    `id`, `flags`, `rcode()` and `answer`, and of its `authority` the SOA RRsets only."""

    id: int
    flags: int
    answer: list[dns.rrset.RRset]
    authority: list[dns.rrset.RRset]

    def rcode(self) -> dns.rcode.Rcode:
        """The reply's rcode (never extended: such replies are not plain)."""
        return dns.rcode.from_flags(self.flags, 0)


async def query_authoritative(
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    server: str,
    *,
    port: int = 53,
    timeout: float = 3.0,
) -> dns.message.Message | PlainReply:
    """`query` without recursion, over the server's shared UDP socket (`UdpServerClient`).

    A plain authoritative reply comes back as a `PlainReply`, built without dnspython's
    message parser; any other reply is parsed and checked as `query` does (truncated ones are
    asked again over TCP) and returned as a message. Failures raise what `query` raises.
    """
    deadline = time.monotonic() + timeout
    client = UdpServerClient.for_server(server, port)
    qid = client.new_id()
    request = build_query_wire(qid, _wire_name(qname), rdtype, rd=False, edns_payload=EDNS_PAYLOAD)
    try:
        wire = await client.ask(request, timeout, "")
    except DnsTimeout as exc:
        # The query's text costs more than sending it: made only when needed.
        raise DnsTimeout(server, port, exc.detail, _what(qname, rdtype)) from None
    plain = read_plain_reply(wire, question_bytes(request))
    if plain is not None:
        return plain
    message = dns.message.make_query(qname, rdtype, use_edns=True, payload=EDNS_PAYLOAD, flags=0)
    message.id = qid
    with _query_errors(qname, rdtype, server, port, timeout):
        try:
            response = dns.message.from_wire(wire, raise_on_truncation=True)
        except dns.message.Truncated:
            remaining = max(deadline - time.monotonic(), 0.0)
            return await dns.asyncquery.tcp(message, server, remaining, port)
        if not message.is_response(response):
            raise dns.query.BadResponse
        return response


def _wire_name(name: dns.name.Name) -> bytes:
    """An absolute name in uncompressed wire format."""
    return b"".join(bytes((len(label),)) + label for label in name.labels)


_IN = dns.rdataclass.IN


def read_plain_reply(wire: bytes, question: bytes) -> PlainReply | None:
    """The reply `wire` to `question` (see `dnswire.question_bytes`) if it is a plain
    authoritative one, its RRsets grouped, ordered and merged as `dns.message.from_wire` does."""
    plain = read_authoritative(wire, question)
    return _plain_reply(plain) if plain is not None else None


def _plain_reply(plain: Authoritative) -> PlainReply:
    """The dnspython form of a plain reply's records."""
    answer: dict[tuple[Labels, int], dns.rrset.RRset] = {}
    for record in plain.answer:
        rdtype = dns.rdatatype.RdataType(record.rtype)
        _add(answer, record.owner, rdtype, _rdata(record, rdtype), record.ttl)
    if len(plain.soa) == 1:
        return PlainReply(plain.qid, plain.flags, list(answer.values()), [_soa_rrset(plain.soa[0])])
    authority: dict[tuple[Labels, int], dns.rrset.RRset] = {}
    for soa in plain.soa:
        _add(authority, soa.owner, dns.rdatatype.SOA, _soa_rdata(soa), soa.ttl)
    return PlainReply(plain.qid, plain.flags, list(answer.values()), list(authority.values()))


SOA_RRSETS_KEPT = 4096
"""Lone SOA RRsets kept for copying; all are dropped when full (one per zone is the norm)."""
_soa_rrsets: dict[tuple[Labels, int, Labels, Labels, tuple[int, ...]], dns.rrset.RRset] = {}


def _soa_rrset(soa: WireSoa) -> dns.rrset.RRset:
    """The RRset of a lone SOA record: a copy of the one built for the same record before, if
    kept. A zone's negative answers all carry the same SOA, and building its RRset (hashing the
    record into the set) costs more than reading the whole reply."""
    key = (soa.owner, soa.ttl, soa.mname, soa.rname, soa.numbers)
    rrset = _soa_rrsets.get(key)
    if rrset is None:
        if len(_soa_rrsets) >= SOA_RRSETS_KEPT:
            _soa_rrsets.clear()
        rrset = _soa_rrsets[key] = dns.rrset.RRset(_name(soa.owner), _IN, dns.rdatatype.SOA)
        rrset.add(_soa_rdata(soa), soa.ttl)
    return rrset.copy()


def _soa_rdata(soa: WireSoa) -> dns.rdata.Rdata:
    """The dnspython rdata of an SOA record."""
    return dns.rdtypes.ANY.SOA.SOA(
        _IN, dns.rdatatype.SOA, _name(soa.mname), _name(soa.rname), *soa.numbers
    )


def _rdata(record: WireRecord, rdtype: dns.rdatatype.RdataType) -> dns.rdata.Rdata:
    """The dnspython rdata of an A, AAAA or CNAME record."""
    if rdtype == dns.rdatatype.A:
        return dns.rdtypes.IN.A.A(_IN, rdtype, record.data)
    if rdtype == dns.rdatatype.AAAA:
        return dns.rdtypes.IN.AAAA.AAAA(_IN, rdtype, record.data)
    return dns.rdtypes.ANY.CNAME.CNAME(_IN, rdtype, _name(cast(Labels, record.data)))


def _add(
    section: dict[tuple[Labels, int], dns.rrset.RRset],
    owner: Labels,
    rdtype: dns.rdatatype.RdataType,
    rdata: dns.rdata.Rdata,
    ttl: int,
) -> None:
    """Add one record to the RRset of its owner (compared without case) and type."""
    key = (tuple(label.lower() for label in owner), rdtype)
    rrset = section.get(key)
    if rrset is None:
        rrset = section[key] = dns.rrset.RRset(_name(owner), _IN, rdtype)
    rrset.add(rdata, ttl)


def _name(labels: Labels) -> dns.name.Name:
    """The absolute dnspython name of wire labels."""
    return dns.name.Name((*labels, b""))


def _what(qname: str | dns.name.Name, rdtype: RdataTypeLike) -> str:
    """`qname` and `rdtype` as text for error messages, e.g. `www.example. AAAA`."""
    type_text = rdtype if isinstance(rdtype, str) else dns.rdatatype.to_text(rdtype)
    return f"{qname} {type_text}"


def chase_cnames(
    answer: Sequence[dns.rrset.RRset], qname: dns.name.Name, rdtype: int
) -> tuple[list[dns.name.Name], dns.name.Name]:
    """Follow the CNAME chain for `qname` within `answer`: (targets in order, final owner name).

    Asking for CNAME itself follows nothing; a looping chain stops once every CNAME was used.
    """
    targets: list[dns.name.Name] = []
    if rdtype == _CNAME:
        return targets, qname
    current = name_key(qname)
    final = qname
    for _ in range(len(answer)):
        step = next((r for r in answer if r.rdtype == _CNAME and name_key(r.name) == current), None)
        if step is None:
            break
        final = cast(dns.rdtypes.ANY.CNAME.CNAME, step[0]).target
        targets.append(final)
        current = name_key(final)
    return targets, final


def rrsets_at(
    section: Sequence[dns.rrset.RRset], owner: dns.name.Name, rdtype: int
) -> list[dns.rrset.RRset]:
    """RRsets of `rdtype` (every type for ANY) owned by `owner` in a message section."""
    key = name_key(owner)
    return [
        r
        for r in section
        if (r.rdtype == rdtype or rdtype == dns.rdatatype.ANY) and name_key(r.name) == key
    ]


@dataclass(slots=True)
class Resolution:
    """Outcome of a recursive lookup: rcode, CNAME chain followed and the final records as text."""

    name: str
    rdtype: str
    rcode: str
    cnames: list[str]
    records: list[str]


async def resolve(
    name: str | dns.name.Name,
    rdtype: RdataTypeLike,
    resolver: str,
    *,
    port: int = 53,
    timeout: float = 3.0,
) -> Resolution:
    """Ask the recursive `resolver` (RD=1) for `name`/`rdtype`, following CNAMEs in the answer.

    NOERROR and NXDOMAIN are results (records empty for NXDOMAIN or NODATA); SERVFAIL raises
    `DnsServFail` and any other rcode `DnsBadResponse`.
    """
    qname = to_name(name)
    qtype = dns.rdatatype.RdataType.make(rdtype)
    response = await query(
        qname, qtype, resolver, port=port, timeout=timeout, recursion_desired=True
    )
    return _resolution(response, qname, qtype, resolver, port)


def _resolution(
    response: dns.message.Message,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    resolver: str,
    port: int,
) -> Resolution:
    """The Resolution a recursive resolver's reply says, or the error its rcode means."""
    rcode = response.rcode()
    _check_rcode(dns.rcode.to_text(rcode), resolver, port, _what(qname, qtype))
    targets, final = chase_cnames(response.answer, qname, qtype)
    records = [
        rdata.to_text() for rrset in rrsets_at(response.answer, final, qtype) for rdata in rrset
    ]
    return Resolution(
        name=qname.to_text(),
        rdtype=dns.rdatatype.to_text(qtype),
        rcode=dns.rcode.to_text(rcode),
        cnames=[target.to_text() for target in targets],
        records=records,
    )


def _check_rcode(rcode: str, resolver: str, port: int, what: str) -> None:
    if rcode == "SERVFAIL":
        raise DnsServFail(resolver, port, "answered SERVFAIL", what)
    if rcode not in ("NOERROR", "NXDOMAIN"):
        raise DnsBadResponse(resolver, port, f"answered {rcode}", what)


async def resolve_shared(
    client: UdpResolverClient, name: str, rdtype: RdataTypeLike, *, timeout: float = 3.0
) -> Resolution:
    """`resolve` over the resolver's shared UDP socket, reading plain address answers without
    dnspython; anything else (other record types, truncation, non-ASCII) takes `resolve`."""
    qtype = dns.rdatatype.RdataType.make(rdtype)
    if not name.isascii():
        return await resolve(name, qtype, client.server, port=client.port, timeout=timeout)
    qname = name if name.endswith(".") else name + "."
    what = f"{qname} {dns.rdatatype.to_text(qtype)}"
    query = build_query(client.new_id(), qname, qtype, rd=True, edns_payload=EDNS_PAYLOAD)
    wire = await client.ask(query, timeout, what)
    answer = read_answer(wire, question_bytes(query), qname, qtype)
    if answer is not None and not answer.truncated:
        _check_rcode(answer.rcode, client.server, client.port, what)
        return Resolution(
            qname.lower(), dns.rdatatype.to_text(qtype), answer.rcode, answer.cnames, answer.records
        )
    if answer is not None:
        return await resolve(name, qtype, client.server, port=client.port, timeout=timeout)
    try:
        response = dns.message.from_wire(wire)
    except dns.exception.DNSException as exc:
        raise DnsBadResponse(client.server, client.port, f"bad response: {exc}", what) from exc
    if response.flags & dns.flags.TC:
        return await resolve(name, qtype, client.server, port=client.port, timeout=timeout)
    return _resolution(response, to_name(qname), qtype, client.server, client.port)
