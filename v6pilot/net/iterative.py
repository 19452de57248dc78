"""Iterative DNS resolution from the root over chosen IP versions, recording every zone step.

Used by the `dns.chain_v6` check (IPv6 only: can a v6-only resolver reach every zone?) and by
the lab's recursive resolver (both families).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar, cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.SOA
import dns.rrset

from v6pilot.errors import NetError, NetRefused, NetTimeout, NetUnreachable
from v6pilot.net.dns import (
    NameKey,
    PlainReply,
    RdataTypeLike,
    chase_cnames,
    is_under,
    name_key,
    rrsets_at,
    to_name,
)
from v6pilot.net.dns import query_authoritative as query  # tests replace `query`
from v6pilot.net.roothints import RootHints, address_family

MAX_CNAME_HOPS = 8
MAX_LOOKUP_DEPTH = 4
PENALTY_SECONDS = 60.0
"""How long an address that timed out or was unreachable is tried after its zone's others."""

_ADDRESS_TYPES = {6: dns.rdatatype.AAAA, 4: dns.rdatatype.A}
_FAMILY_NAMES = {frozenset({6}): "IPv6", frozenset({4}): "IPv4", frozenset({4, 6}): "IPv4 or IPv6"}
_RECORD_NAMES = {frozenset({6}): "AAAA", frozenset({4}): "A", frozenset({4, 6}): "A or AAAA"}
_CNAME = dns.rdatatype.CNAME

K = TypeVar("K")
V = TypeVar("V")
Reply = dns.message.Message | PlainReply
"""A server's reply: parsed by dnspython, or a plain authoritative answer read without it."""


class Outcome(StrEnum):
    """What happened when one name server (address) was asked for a zone."""

    ANSWERED = "answered"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    LAME = "lame"
    SERVFAIL = "servfail"
    BAD_RESPONSE = "bad response"
    NO_ADDRESS = "no address in allowed family"
    NOT_TRIED = "not tried"


_TRANSPORT_FAILURES = frozenset(
    {Outcome.TIMEOUT, Outcome.REFUSED, Outcome.UNREACHABLE, Outcome.NO_ADDRESS, Outcome.NOT_TRIED}
)


@dataclass(slots=True)
class AddressTry:
    """One query to one address of a name server and how it ended."""

    address: str
    outcome: Outcome
    detail: str = ""

    @property
    def family(self) -> int:
        """4 or 6."""
        return address_family(self.address)


@dataclass(slots=True)
class ServerReport:
    """One name server of a zone: its known addresses, the tries made and the overall outcome."""

    name: str
    addresses: list[str]
    tries: list[AddressTry] = field(default_factory=list)
    outcome: Outcome = Outcome.NOT_TRIED
    note: str = ""


@dataclass(slots=True)
class ZoneStep:
    """One zone on the way to the answer with the name servers asked; `cached` if reused."""

    zone: str
    servers: list[ServerReport]
    cached: bool = False

    @property
    def ok(self) -> bool:
        """True when one of the zone's servers gave a usable answer or referral."""
        return any(server.outcome is Outcome.ANSWERED for server in self.servers)


@dataclass(slots=True)
class IterativeResult:
    """Outcome of an iterative resolution: the answer, the CNAMEs followed and the zone chain.

    `answer` holds the CNAME RRsets followed and then the final RRsets; `authority` the SOA of a
    negative answer. `rcode` is NOERROR (possibly with no data), NXDOMAIN, or SERVFAIL when
    `ok` is False, in which case `error` says which zone failed and why.
    """

    qname: str
    rdtype: str
    ok: bool
    rcode: str
    answer: list[dns.rrset.RRset]
    authority: list[dns.rrset.RRset]
    cnames: list[str]
    chain: list[ZoneStep]
    error: str
    queries: int

    @property
    def records(self) -> list[str]:
        """Text of the final records (without the CNAMEs that led to them)."""
        qtype = dns.rdatatype.from_text(self.rdtype)
        return [
            rdata.to_text()
            for rrset in self.answer
            if rrset.rdtype == qtype or (qtype == dns.rdatatype.ANY and rrset.rdtype != _CNAME)
            for rdata in rrset
        ]


@dataclass(slots=True)
class _NsEntry:
    """A name server of a delegation: host name and the addresses known from glue or hints."""

    name: dns.name.Name
    glue: list[str]
    text: str = field(init=False)
    """`name` as text, made once for every report of this server."""

    def __post_init__(self) -> None:
        self.text = self.name.to_text()


@dataclass(slots=True)
class _Delegation:
    """A zone cut: its name servers and the (cached) steps that led to it from the root."""

    zone: dns.name.Name
    servers: list[_NsEntry]
    path: tuple[ZoneStep, ...]
    zone_text: str = field(init=False)
    """`zone` as text, made once for every step through this cut."""

    def __post_init__(self) -> None:
        self.zone_text = self.zone.to_text()


@dataclass(slots=True)
class _HostAddresses:
    """Addresses found for a glueless name server, or a note on why there are none."""

    addresses: list[str]
    note: str


class DelegationCache:
    """Zone cuts and name server addresses learnt during a scan, keyed by the family set.

    Shared by every resolution of one event loop. It also merges concurrent identical queries
    into one and remembers addresses that recently failed so that they are tried last.
    `before_query(address)`, if given, is awaited before each query sent (politeness).
    """

    def __init__(
        self,
        *,
        max_ttl: float = 86400.0,
        max_entries: int = 200_000,
        before_query: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.max_ttl = max_ttl
        self.max_entries = max_entries
        self.before_query = before_query
        self._cuts: dict[tuple[frozenset[int], NameKey], tuple[float, _Delegation]] = {}
        self._hosts: dict[tuple[frozenset[int], NameKey], tuple[float, _HostAddresses]] = {}
        self._penalties: dict[str, float] = {}
        self._inflight: dict[tuple[str, int, NameKey, int], asyncio.Task[Reply]] = {}

    def closest_cut(self, families: frozenset[int], key: NameKey) -> _Delegation | None:
        """The deepest cached, unexpired zone cut at or above the name `key`."""
        now = time.monotonic()
        for start in range(len(key)):
            entry = self._cuts.get((families, key[start:]))
            if entry is not None and entry[0] > now:
                return entry[1]
        return None

    def store_cut(self, families: frozenset[int], delegation: _Delegation, ttl: float) -> None:
        """Remember a zone cut for `ttl` seconds (capped at `max_ttl`)."""
        _bounded_put(
            self._cuts,
            (families, name_key(delegation.zone)),
            (time.monotonic() + min(ttl, self.max_ttl), delegation),
            self.max_entries,
        )

    def host(self, families: frozenset[int], key: NameKey) -> _HostAddresses | None:
        """Cached addresses of the glueless name server `key`, if still fresh."""
        entry = self._hosts.get((families, key))
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def store_host(
        self, families: frozenset[int], key: NameKey, found: _HostAddresses, ttl: float
    ) -> None:
        """Remember a glueless name server's addresses for `ttl` seconds (capped)."""
        expires = time.monotonic() + min(ttl, self.max_ttl)
        _bounded_put(self._hosts, (families, key), (expires, found), self.max_entries)

    def penalize(self, address: str) -> None:
        """Mark `address` as failing so that it is tried after its zone's other servers."""
        _bounded_put(self._penalties, address, time.monotonic() + PENALTY_SECONDS, self.max_entries)

    def penalized(self, address: str) -> bool:
        """True while `address` is in its penalty period."""
        until = self._penalties.get(address)
        return until is not None and until > time.monotonic()

    async def query(
        self,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        address: str,
        port: int,
        timeout: float,
    ) -> Reply:
        """`net.dns.query_authoritative`, sharing one network query among identical concurrent
        ones."""
        key = (address, port, name_key(qname), rdtype)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._send(qname, rdtype, address, port, timeout))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    async def _send(
        self,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        address: str,
        port: int,
        timeout: float,
    ) -> Reply:
        """One query on the network, after `before_query` allows it."""
        if self.before_query is not None:
            await self.before_query(address)
        return await query(qname, rdtype, address, port=port, timeout=timeout)

    def _forget(
        self,
        key: tuple[str, int, NameKey, int],
        done: asyncio.Task[Reply],
    ) -> None:
        """Drop a finished in-flight query, marking its exception as seen if nobody awaited it."""
        self._inflight.pop(key, None)
        if not done.cancelled():
            done.exception()


def _bounded_put(table: dict[K, V], key: K, value: V, limit: int) -> None:
    """Insert into `table`, evicting the oldest entries once it holds `limit` of them."""
    table.pop(key, None)
    while len(table) >= limit:
        del table[next(iter(table))]
    table[key] = value


@dataclass(slots=True)
class _Budget:
    """Queries left for one resolution, shared with the name server lookups it starts."""

    limit: int
    used: int = 0


@dataclass(slots=True)
class _Answer:
    """An authoritative reply for a name (answer, NXDOMAIN or NODATA) from the servers of `zone`."""

    response: Reply
    zone: NameKey


@dataclass(slots=True)
class _Failure:
    """Resolution stopped; `error` is the human explanation."""

    error: str


async def resolve_iterative(
    qname: str | dns.name.Name,
    rdtype: RdataTypeLike,
    hints: RootHints,
    *,
    families: frozenset[int],
    timeout: float = 3.0,
    port: int = 53,
    cache: DelegationCache | None = None,
    max_queries: int = 64,
) -> IterativeResult:
    """Resolve `qname`/`rdtype` from the root hints, talking only over the IP versions `families`.

    Follows referrals (resolving glueless name servers itself), tries each server address in turn
    (moving on after a timeout, refusal, lame or SERVFAIL answer) and follows CNAMEs. `port` is the
    port of every server (53 except in tests); `max_queries` bounds all queries sent, including
    those for name server addresses. Never raises for network failures: see `ok` and `error`.
    """
    if not families or not families <= {4, 6}:
        raise ValueError(f"families must be a non-empty subset of {{4, 6}}, got {set(families)}")
    walk = _Walk(
        hints=hints,
        families=frozenset(families),
        timeout=timeout,
        port=port,
        cache=cache if cache is not None else DelegationCache(),
        budget=_Budget(max_queries),
        lookups=frozenset(),
    )
    return await walk.resolve(to_name(qname), dns.rdatatype.RdataType.make(rdtype))


@dataclass(slots=True)
class _Walk:
    """The state of one resolution (and of the name server lookups nested in it)."""

    hints: RootHints
    families: frozenset[int]
    timeout: float
    port: int
    cache: DelegationCache
    budget: _Budget
    lookups: frozenset[NameKey]

    async def resolve(
        self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> IterativeResult:
        """Resolve `qname`, restarting at each CNAME target the authoritative server left open."""
        chain: list[ZoneStep] = []
        answer: list[dns.rrset.RRset] = []
        cnames: list[str] = []
        current = qname
        seen = {name_key(qname)}
        for _ in range(MAX_CNAME_HOPS + 1):
            found = await self._resolve_name(current, qtype, chain)
            if isinstance(found, _Failure):
                return self._result(qname, qtype, chain, answer, cnames, found.error)
            response = found.response
            trusted = [r for r in response.answer if is_under(name_key(r.name), found.zone)]
            targets, final = chase_cnames(trusted, current, qtype)
            for owner in (current, *targets[:-1]):
                answer.extend(rrsets_at(trusted, owner, _CNAME))
            cnames.extend(target.to_text() for target in targets)
            records = rrsets_at(trusted, final, qtype)
            if records or not targets or response.rcode() == dns.rcode.NXDOMAIN:
                answer.extend(records)
                return self._result(qname, qtype, chain, answer, cnames, "", response)
            final_key = name_key(final)
            if final_key in seen:
                return self._result(
                    qname, qtype, chain, answer, cnames, f"CNAME loop at {final.to_text()}"
                )
            seen.add(final_key)
            current = final
        error = f"CNAME chain longer than {MAX_CNAME_HOPS} hops"
        return self._result(qname, qtype, chain, answer, cnames, error)

    def _result(
        self,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        chain: list[ZoneStep],
        answer: list[dns.rrset.RRset],
        cnames: list[str],
        error: str,
        response: Reply | None = None,
    ) -> IterativeResult:
        """Package the outcome; a `response` means success, otherwise `error` explains."""
        if response is None:
            rcode, authority = dns.rcode.SERVFAIL, []
        else:
            rcode = response.rcode()
            negative = rcode == dns.rcode.NXDOMAIN or not answer or answer[-1].rdtype == _CNAME
            authority = (
                [r for r in response.authority if r.rdtype == dns.rdatatype.SOA] if negative else []
            )
        return IterativeResult(
            qname=qname.to_text(),
            rdtype=dns.rdatatype.to_text(qtype),
            ok=response is not None,
            rcode=dns.rcode.to_text(rcode),
            answer=answer,
            authority=authority,
            cnames=cnames,
            chain=chain,
            error=error,
            queries=self.budget.used,
        )

    async def _resolve_name(
        self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType, chain: list[ZoneStep]
    ) -> _Answer | _Failure:
        """Walk down from the closest known zone cut to the server authoritative for `qname`."""
        key = name_key(qname)
        start = key[1:] if qtype == dns.rdatatype.DS and len(key) > 1 else key
        delegation = self.cache.closest_cut(self.families, start) or self._root()
        known = {step.zone for step in chain}
        chain.extend(step for step in delegation.path if step.zone not in known)
        while True:
            step, reply = await self._ask(delegation, qname, key, qtype)
            chain.append(step)
            if isinstance(reply, (_Answer, _Failure)):
                return reply
            ttl, child = reply
            child.path = (*delegation.path, dataclasses.replace(step, cached=True))
            self.cache.store_cut(self.families, child, ttl)
            delegation = child

    def _root(self) -> _Delegation:
        """The root zone's delegation built from the hints."""
        servers = [
            _NsEntry(dns.name.from_text(server.name), list(server.addresses))
            for server in self.hints.servers
        ]
        return _Delegation(dns.name.root, servers, ())

    async def _ask(
        self,
        delegation: _Delegation,
        qname: dns.name.Name,
        key: NameKey,
        qtype: dns.rdatatype.RdataType,
    ) -> tuple[ZoneStep, _Answer | _Failure | tuple[float, _Delegation]]:
        """Ask the zone's servers in turn until one answers or refers; report every try."""
        step = ZoneStep(
            zone=delegation.zone_text,
            servers=[ServerReport(e.text, list(e.glue)) for e in delegation.servers],
        )
        for index in self._server_order(delegation.servers):
            entry, report = delegation.servers[index], step.servers[index]
            addresses = self._usable(entry.glue)
            if not addresses:
                found = await self._lookup_host(entry.name, delegation.zone)
                report.addresses.extend(a for a in found.addresses if a not in report.addresses)
                report.note = found.note
                addresses = self._usable(found.addresses)
            if not addresses:
                report.outcome = Outcome.NO_ADDRESS
                continue
            for address in addresses:
                if self.budget.used >= self.budget.limit:
                    error = f"gave up after {self.budget.limit} queries at zone {step.zone}"
                    return step, _Failure(error)
                self.budget.used += 1
                attempt, reply = await self._try(address, delegation.zone, qname, key, qtype)
                report.tries.append(attempt)
                report.outcome = attempt.outcome
                if reply is not None:
                    return step, reply
        return step, _Failure(self._zone_failure(step))

    def _server_order(self, servers: Sequence[_NsEntry]) -> list[int]:
        """Indexes of `servers`: those with usable glue first, recently failing ones last."""

        def rank(index: int) -> tuple[bool, bool]:
            usable = self._usable(servers[index].glue)
            return (not usable, all(self.cache.penalized(a) for a in usable) and bool(usable))

        return sorted(range(len(servers)), key=rank)

    def _usable(self, addresses: Iterable[str]) -> list[str]:
        """The addresses in our families, IPv6 first and recently failing ones last."""
        return sorted(
            (a for a in addresses if address_family(a) in self.families),
            key=lambda a: (self.cache.penalized(a), address_family(a) != 6),
        )

    async def _try(
        self,
        address: str,
        zone: dns.name.Name,
        qname: dns.name.Name,
        key: NameKey,
        qtype: dns.rdatatype.RdataType,
    ) -> tuple[AddressTry, _Answer | tuple[float, _Delegation] | None]:
        """Query one address and classify the reply (answer, referral, or a failure outcome)."""
        try:
            response = await self.cache.query(qname, qtype, address, self.port, self.timeout)
        except NetError as exc:
            outcome = _transport_outcome(exc)
            if outcome is not Outcome.REFUSED:
                self.cache.penalize(address)
            return AddressTry(address, outcome, str(exc)), None
        rcode = response.rcode()
        if rcode == dns.rcode.SERVFAIL:
            return AddressTry(address, Outcome.SERVFAIL, "answered SERVFAIL"), None
        if rcode == dns.rcode.REFUSED:
            return AddressTry(address, Outcome.LAME, "answered REFUSED"), None
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            detail = f"answered {dns.rcode.to_text(rcode)}"
            return AddressTry(address, Outcome.BAD_RESPONSE, detail), None
        if isinstance(response, PlainReply) or response.flags & dns.flags.AA:
            return AddressTry(address, Outcome.ANSWERED), _Answer(response, name_key(zone))
        referral = _referral(response, zone, key) if rcode == dns.rcode.NOERROR else None
        if referral is None:
            return AddressTry(address, Outcome.LAME, "not authoritative and no referral"), None
        return AddressTry(address, Outcome.ANSWERED), referral

    async def _lookup_host(self, host: dns.name.Name, zone: dns.name.Name) -> _HostAddresses:
        """Find addresses in our families for a name server the referral gave no usable glue for.

        A server named inside the zone it serves could only be found through that very zone, so
        without glue it is unusable; other names are resolved (same families, shared budget).
        """
        wanted = _RECORD_NAMES[self.families]
        if host.is_subdomain(zone):
            where = "in the root hints" if zone == dns.name.root else "glue"
            return _HostAddresses([], f"has no {wanted} {where}")
        key = name_key(host)
        cached = self.cache.host(self.families, key)
        if cached is not None:
            return cached
        if key in self.lookups or len(self.lookups) >= MAX_LOOKUP_DEPTH:
            return _HostAddresses([], "address lookup loops back on itself")
        nested = dataclasses.replace(self, lookups=self.lookups | {key})
        results = await asyncio.gather(
            *(nested.resolve(host, _ADDRESS_TYPES[f]) for f in sorted(self.families, reverse=True))
        )
        found = _HostAddresses([a for r in results for a in r.records], "")
        if not found.addresses:
            found.note = "; ".join(_lookup_note(result) for result in results)
        if all(result.ok for result in results):
            self.cache.store_host(self.families, key, found, _ttl_of(results))
        return found

    def _zone_failure(self, step: ZoneStep) -> str:
        """Explain why no server of `step.zone` helped, naming each server and its problem."""
        transport_only = all(s.outcome in _TRANSPORT_FAILURES for s in step.servers)
        what = "reachable" if transport_only else "gave a usable answer"
        reasons = "; ".join(_server_reason(server) for server in step.servers)
        return (
            f"zone {step.zone}: no name server {what} over "
            f"{_FAMILY_NAMES[self.families]} ({reasons})"
        )


def _transport_outcome(exc: NetError) -> Outcome:
    """The try outcome for a network error."""
    if isinstance(exc, NetTimeout):
        return Outcome.TIMEOUT
    if isinstance(exc, NetRefused):
        return Outcome.REFUSED
    if isinstance(exc, NetUnreachable):
        return Outcome.UNREACHABLE
    return Outcome.BAD_RESPONSE


def _referral(
    response: dns.message.Message, zone: dns.name.Name, qkey: NameKey
) -> tuple[float, _Delegation] | None:
    """The (TTL, child delegation) of a downward referral from `zone` towards `qkey`, if valid.

    The child must lie strictly below `zone` and at or above the query name; glue is only
    taken for name servers inside `zone` (the bailiwick of the server that sent it). Servers
    are sorted by name since servers shuffle them: measurements should be reproducible.
    """
    if response.answer:
        return None
    zone_key = name_key(zone)
    for rrset in response.authority:
        if rrset.rdtype != dns.rdatatype.NS:
            continue
        child_key = name_key(rrset.name)
        if len(child_key) == len(zone_key) or not (
            is_under(qkey, child_key) and is_under(child_key, zone_key)
        ):
            continue
        servers = []
        for rdata in rrset:
            host = cast(dns.rdtypes.ANY.NS.NS, rdata).target
            host_key = name_key(host)
            glue = []
            if is_under(host_key, zone_key):
                glue = [
                    rd.to_text()
                    for extra in response.additional
                    if extra.rdtype in (dns.rdatatype.AAAA, dns.rdatatype.A)
                    and name_key(extra.name) == host_key
                    for rd in extra
                ]
            servers.append(_NsEntry(host, glue))
        servers.sort(key=lambda entry: name_key(entry.name))
        return float(rrset.ttl), _Delegation(rrset.name, servers, ())
    return None


def _lookup_note(result: IterativeResult) -> str:
    """Why an address lookup of a name server found nothing, e.g. `has no AAAA`."""
    if not result.ok:
        return f"{result.rdtype} lookup failed: {result.error}"
    if result.rcode == "NXDOMAIN":
        return "does not exist"
    return f"has no {result.rdtype}"


def _ttl_of(results: Sequence[IterativeResult]) -> float:
    """How long address lookups stay valid: smallest answer TTL, or SOA minimum if negative."""
    ttls = [float(rrset.ttl) for r in results for rrset in r.answer]
    for result in results:
        for soa in result.authority:
            minimum = cast(dns.rdtypes.ANY.SOA.SOA, soa[0]).minimum
            ttls.append(float(min(soa.ttl, minimum)))
    return min(ttls, default=0.0)


def _server_reason(server: ServerReport) -> str:
    """One server's part of a zone failure message."""
    if server.outcome is Outcome.NO_ADDRESS:
        return f"{server.name} {server.note}"
    if not server.tries:
        return f"{server.name} {server.outcome}"
    tries = ", ".join(f"{t.address} {t.outcome}" for t in server.tries)
    return f"{server.name} {tries}"
