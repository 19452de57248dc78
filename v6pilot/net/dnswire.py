"""DNS wire format for the hot path: building queries and reading plain address answers
without dnspython's object model, which costs about 150 µs a query.

Anything beyond an answer of A, AAAA and CNAME records (or no answer at all) is left to
dnspython: `read_answer` returns None and the caller parses the message fully.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

A, NS, CNAME, SOA, AAAA, OPT = 1, 2, 5, 6, 28, 41
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name: str) -> bytes:
    """A domain name (ASCII, absolute or not) in wire format."""
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".") if label]
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


def build_query(qid: int, qname: str, qtype: int, *, rd: bool, edns_payload: int | None) -> bytes:
    """One query message: header, question, and an OPT record when `edns_payload` is set."""
    flags = 0x0100 if rd else 0
    header = _HEADER.pack(qid, flags, 1, 0, 0, 1 if edns_payload else 0)
    question = encode_name(qname) + struct.pack("!HH", qtype, 1)
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
