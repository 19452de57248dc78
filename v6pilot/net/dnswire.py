"""DNS wire format for the hot path: building queries and reading plain address answers
without dnspython's object model, which costs about 150 µs a query.

Anything beyond an answer of A, AAAA and CNAME records (or no answer at all) is left to
dnspython: `read_answer` and `read_authoritative` return None and the caller parses the
message fully.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

A, NS, CNAME, SOA, AAAA, OPT = 1, 2, 5, 6, 28, 41
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_SOA_NUMBERS = struct.Struct("!IIIII")
IN = 1
MAX_POINTERS = 16
"""Compression pointers dnspython follows in one name before it gives up on the message."""
MAX_TTL = 0x7FFFFFFF
"""TTLs above this are read as 0 (RFC 2181), as dnspython does."""

Labels = tuple[bytes, ...]
"""A name's labels as on the wire, case kept, without the empty root label."""
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name: str) -> bytes:
    """A domain name (ASCII, absolute or not) in wire format."""
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".") if label]
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


def build_query(qid: int, qname: str, qtype: int, *, rd: bool, edns_payload: int | None) -> bytes:
    """One query message: header, question, and an OPT record when `edns_payload` is set."""
    return build_query_wire(qid, encode_name(qname), qtype, rd=rd, edns_payload=edns_payload)


def build_query_wire(
    qid: int, qname: bytes, qtype: int, *, rd: bool, edns_payload: int | None
) -> bytes:
    """`build_query` for a name already in wire format."""
    flags = 0x0100 if rd else 0
    header = _HEADER.pack(qid, flags, 1, 0, 0, 1 if edns_payload else 0)
    question = qname + struct.pack("!HH", qtype, IN)
    opt = b"\x00" + struct.pack("!HHIH", OPT, edns_payload, 0, 0) if edns_payload else b""
    return header + question + opt


def question_bytes(query: bytes) -> bytes:
    """The question section of a query built by `build_query` (to match replies against)."""
    end = query.index(b"\x00", 12) + 5
    return query[12:end]


def _read_name(wire: bytes, offset: int) -> tuple[str, int]:
    """The name at `offset` (compression followed) and the offset just after it."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        length = wire[offset]
        if length & 0xC0 == 0xC0:
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | wire[offset + 1]
            jumps += 1
            if jumps > 32:
                raise ValueError("compression loop")
            continue
        if length == 0:
            name = ".".join(labels).lower() + "."
            return name, (end if end >= 0 else offset + 1)
        labels.append(wire[offset + 1 : offset + 1 + length].decode("ascii"))
        offset += 1 + length


@dataclass(slots=True)
class Answer:
    """What a plain address answer says: rcode, truncation, CNAMEs followed, final records."""

    rcode: str
    truncated: bool
    cnames: list[str]
    records: list[str]


def read_answer(wire: bytes, question: bytes, qname: str, qtype: int) -> Answer | None:
    """Decode a reply whose answer holds only A, AAAA and CNAME records; None otherwise
    (also for a reply to another question, which the caller then treats as bad)."""
    try:
        _, flags, qdcount, ancount, _, _ = _HEADER.unpack_from(wire)
        if qdcount != 1 or wire[12 : 12 + len(question)].lower() != question.lower():
            return None
        offset = 12 + len(question)
        by_owner: dict[str, list[tuple[int, bytes | str]]] = {}
        for _ in range(ancount):
            owner, offset = _read_name(wire, offset)
            rtype, _, _, length = _RR.unpack_from(wire, offset)
            offset += _RR.size
            if rtype == CNAME:
                data: bytes | str = _read_name(wire, offset)[0]
            elif rtype in (A, AAAA):
                data = wire[offset : offset + length]
            else:
                return None
            by_owner.setdefault(owner, []).append((rtype, data))
            offset += length
    except (IndexError, struct.error, ValueError, UnicodeDecodeError):
        return None
    current, cnames = qname.lower().rstrip(".") + ".", []
    for _ in range(len(by_owner) + 1):
        step = next((d for t, d in by_owner.get(current, []) if t == CNAME), None)
        if step is None or qtype == CNAME:
            break
        current = str(step)
        cnames.append(current)
    records = [
        str(ipaddress.ip_address(bytes(d)))
        for t, d in by_owner.get(current, [])
        if t == qtype and isinstance(d, bytes)
    ]
    rcode = RCODES.get(flags & 0xF, str(flags & 0xF))
    return Answer(rcode, bool(flags & 0x0200), cnames, records)


class _NotPlain(ValueError):
    """The reply is not of the plain authoritative kind (or dnspython would reject it)."""


def _read_labels(wire: bytes, offset: int, limit: int) -> tuple[Labels, int]:
    """The labels of the name at `offset` and the offset just after it, read as strictly as
    dnspython reads names: labels and the pointer octets before `limit`, each pointer before
    the last one followed and before the start of the part just read, at most `MAX_POINTERS`
    of them, 255 octets in all. Anything else raises `_NotPlain`."""
    labels: list[bytes] = []
    start = lowest = offset
    end = -1
    hops = 0
    size = 1
    while True:
        if offset >= limit:
            raise _NotPlain("name runs past its end")
        length = wire[offset]
        if length == 0:
            break
        if length < 64:
            stop = offset + 1 + length
            if stop > limit:
                raise _NotPlain("label runs past its end")
            labels.append(wire[offset + 1 : stop])
            size += 1 + length
            offset = stop
        elif length >= 0xC0 and offset + 1 < limit:
            target = ((length & 0x3F) << 8) | wire[offset + 1]
            hops += 1
            if target >= lowest or hops > MAX_POINTERS:
                raise _NotPlain("bad compression pointer")
            if end < 0:
                end = offset + 2
            limit = start
            lowest = start = offset = target
        else:
            raise _NotPlain("bad label type")
    if size > 255:
        raise _NotPlain("name too long")
    return tuple(labels), (end if end >= 0 else offset + 1)


@dataclass(slots=True)
class WireRecord:
    """A record kept from a plain authoritative reply: owner, type, TTL (as dnspython reads it)
    and data: the address octets of A and AAAA records, the target of a CNAME."""

    owner: Labels
    rtype: int
    ttl: int
    data: bytes | Labels


@dataclass(slots=True)
class WireSoa:
    """An SOA record kept from a plain authoritative reply."""

    owner: Labels
    ttl: int
    mname: Labels
    rname: Labels
    numbers: tuple[int, int, int, int, int]
    """Serial, refresh, retry, expire and minimum."""


@dataclass(slots=True)
class Authoritative:
    """A plain authoritative reply: id, flags, the answer's records and the authority's SOA
    records in wire order (the authority's NS and the additional records are checked, not kept)."""

    qid: int
    flags: int
    answer: list[WireRecord]
    soa: list[WireSoa]


_PLAIN_FLAGS_MASK = 0xFE00
_PLAIN_FLAGS = 0x8400
"""QR and AA set, opcode QUERY, TC clear."""
_PLAIN_RCODES = (0, 3)
"""NOERROR and NXDOMAIN."""
_ANSWER, _AUTHORITY, _ADDITIONAL = 1, 2, 3
_ADDRESS_LENGTHS = {A: 4, AAAA: 16}


def read_authoritative(wire: bytes, question: bytes) -> Authoritative | None:
    """Decode an authoritative NOERROR or NXDOMAIN reply to `question` (see `question_bytes`)
    whose answer holds only A, AAAA and CNAME records, authority only NS and SOA records and
    additional only A, AAAA and one OPT without options or extended rcode. None for any other
    reply, including every reply dnspython would refuse to read: the caller parses it fully."""
    try:
        return _read_authoritative(wire, question)
    except (IndexError, struct.error, _NotPlain):
        return None


def _read_authoritative(wire: bytes, question: bytes) -> Authoritative | None:
    """`read_authoritative`, raising `_NotPlain` (or a decoding error) on what it rejects late."""
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    offset = 12 + len(question)
    if (
        flags & _PLAIN_FLAGS_MASK != _PLAIN_FLAGS
        or flags & 0xF not in _PLAIN_RCODES
        or qdcount != 1
        or wire[12:offset].lower() != question.lower()
    ):
        return None
    size = len(wire)
    reply = Authoritative(qid, flags, [], [])
    has_opt = False
    for section, count in ((_ANSWER, ancount), (_AUTHORITY, nscount), (_ADDITIONAL, arcount)):
        for _ in range(count):
            owner, offset = _read_labels(wire, offset, size)
            rtype, rclass, ttl, length = _RR.unpack_from(wire, offset)
            offset += _RR.size
            stop = offset + length
            if stop > size:
                raise _NotPlain("record runs past the message")
            if rtype == OPT:
                if section != _ADDITIONAL or has_opt or owner or length or ttl >> 24:
                    raise _NotPlain("OPT record of another kind")
                has_opt = True
            elif rclass != IN:
                raise _NotPlain("record of another class")
            else:
                ttl = 0 if ttl > MAX_TTL else ttl
                _read_record(wire, section, owner, rtype, ttl, offset, stop, reply)
            offset = stop
    if offset != size:
        raise _NotPlain("trailing octets")
    return reply


def _read_record(
    wire: bytes,
    section: int,
    owner: Labels,
    rtype: int,
    ttl: int,
    offset: int,
    stop: int,
    reply: Authoritative,
) -> None:
    """Check one record of class IN (its data from `offset` to `stop`), keeping it in `reply`
    if iterative resolution reads it; a record of a type not expected there raises `_NotPlain`."""
    if rtype in _ADDRESS_LENGTHS and section != _AUTHORITY:
        if stop - offset != _ADDRESS_LENGTHS[rtype]:
            raise _NotPlain("address of the wrong length")
        if section == _ANSWER:
            reply.answer.append(WireRecord(owner, rtype, ttl, wire[offset:stop]))
    elif rtype == CNAME and section == _ANSWER:
        reply.answer.append(WireRecord(owner, rtype, ttl, _read_rdata_name(wire, offset, stop)))
    elif rtype == NS and section == _AUTHORITY:
        _read_rdata_name(wire, offset, stop)
    elif rtype == SOA and section == _AUTHORITY:
        mname, offset = _read_labels(wire, offset, stop)
        rname, offset = _read_labels(wire, offset, stop)
        if stop - offset != _SOA_NUMBERS.size:
            raise _NotPlain("SOA of the wrong length")
        numbers = _SOA_NUMBERS.unpack_from(wire, offset)
        reply.soa.append(WireSoa(owner, ttl, mname, rname, numbers))
    else:
        raise _NotPlain("record of another type")


def _read_rdata_name(wire: bytes, offset: int, stop: int) -> Labels:
    """The name that makes up the whole record data from `offset` to `stop`."""
    labels, end = _read_labels(wire, offset, stop)
    if end != stop:
        raise _NotPlain("record data longer than its name")
    return labels
