"""DNS client: one query to one server (UDP, TCP on truncation) with errors mapped to v6pilot's."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rrset

from v6pilot.errors import (
    DnsBadResponse,
    DnsServFail,
    DnsTimeout,
    NetError,
    NetRefused,
    NetUnreachable,
)
from v6pilot.net.dnsmux import UdpResolverClient
from v6pilot.net.dnswire import build_query, question_bytes, read_answer

NameKey = tuple[bytes, ...]
RdataTypeLike = dns.rdatatype.RdataType | str

EDNS_PAYLOAD = 1232
"""EDNS UDP payload we advertise: the DNS flag day 2020 value, safe from IP fragmentation."""

_UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}
)
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
    try:
        try:
            return await _udp(request, server, port, timeout, tcp_fallback)
        except dns.message.Truncated:
            remaining = max(deadline - time.monotonic(), 0.0)
            return await dns.asyncquery.tcp(request, server, remaining, port)
    except (dns.exception.Timeout, TimeoutError) as exc:
        raise DnsTimeout(
            server, port, f"no answer within {timeout:g}s", _what(qname, rdtype)
        ) from exc
    except ConnectionRefusedError as exc:
        raise NetRefused(server, port, "connection refused") from exc
    except OSError as exc:
        if exc.errno in _UNREACHABLE_ERRNOS:
            raise NetUnreachable(server, port, exc.strerror or str(exc)) from exc
        raise NetError(server, port, str(exc)) from exc
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
