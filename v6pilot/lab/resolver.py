"""Recursive resolver of the lab: iterative resolution from the lab's root hints, with a cache."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset

from v6pilot.lab.dnsserver import (
    MAX_UDP_PAYLOAD,
    DnsListener,
    check_query,
    listen_dns,
    parse_query,
    render_reply,
)
from v6pilot.net.dns import NameKey, name_key
from v6pilot.net.iterative import DelegationCache, IterativeResult, resolve_iterative
from v6pilot.net.roothints import RootHints

log = logging.getLogger(__name__)

BOTH_FAMILIES = frozenset({4, 6})
MAX_TTL = 3600
"""Longest time a positive answer is cached, whatever its records' TTL."""
MAX_NEGATIVE_TTL = 300
"""Longest time NXDOMAIN / NODATA is cached (RFC 2308 negative caching, capped)."""
MAX_ENTRIES = 100_000

_CacheKey = tuple[NameKey, int]


@dataclass(slots=True)
class CachedAnswer:
    """A resolved answer and until when (monotonic clock) it may be served."""

    rcode: dns.rcode.Rcode
    answer: list[dns.rrset.RRset]
    authority: list[dns.rrset.RRset]
    stored: float
    expires: float


class RecursiveResolver:
    """Answers recursive (RD) queries by iterating from the root over IPv4 and IPv6."""

    def __init__(
        self,
        hints: RootHints,
        *,
        upstream_port: int = 53,
        timeout: float = 2.0,
        max_ttl: int = MAX_TTL,
        max_negative_ttl: int = MAX_NEGATIVE_TTL,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.hints = hints
        self.upstream_port = upstream_port
        self.timeout = timeout
        self.max_ttl = max_ttl
        self.max_negative_ttl = max_negative_ttl
        self.max_entries = max_entries
        self._delegations = DelegationCache(max_ttl=max_ttl)
        self._answers: dict[_CacheKey, CachedAnswer] = {}
        self._inflight: dict[_CacheKey, asyncio.Task[CachedAnswer]] = {}

    async def handle(self, query_wire: bytes, tcp: bool = False) -> bytes:
        """Reply to one query in wire format (RA set); b"" when it deserves no reply at all."""
        request = parse_query(query_wire)
        if not isinstance(request, dns.message.Message):
            return request
        response = dns.message.make_response(
            request, recursion_available=True, our_payload=MAX_UDP_PAYLOAD
        )
        rcode = check_query(request)
        if rcode is None:
            rcode = await self._fill(request, response)
        response.set_rcode(rcode)
        return render_reply(request, response, tcp)

    async def _fill(
        self, request: dns.message.Message, response: dns.message.Message
    ) -> dns.rcode.Rcode:
        """Put the (cached or freshly resolved) answer into `response` and return its rcode."""
        question = request.question[0]
        if not request.flags & dns.flags.RD or question.rdclass != dns.rdataclass.IN:
            return dns.rcode.REFUSED
        if question.rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            return dns.rcode.REFUSED
        try:
            entry = await self.lookup(question.name, question.rdtype)
        except Exception:
            log.exception("resolving %s failed", question)
            return dns.rcode.SERVFAIL
        elapsed = int(time.monotonic() - entry.stored)
        response.answer.extend(_aged(entry.answer, elapsed))
        response.authority.extend(_aged(entry.authority, elapsed))
        return entry.rcode

    async def lookup(self, qname: dns.name.Name, rdtype: int) -> CachedAnswer:
        """The answer for `qname`/`rdtype`, from cache or by one shared iterative resolution."""
        key = (name_key(qname), rdtype)
        cached = self._answers.get(key)
        if cached is not None and cached.expires > time.monotonic():
            return cached
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._resolve(qname, rdtype, key))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    async def _resolve(self, qname: dns.name.Name, rdtype: int, key: _CacheKey) -> CachedAnswer:
        """Resolve iteratively and cache the outcome unless it failed."""
        result = await resolve_iterative(
            qname,
            dns.rdatatype.RdataType(rdtype),
            self.hints,
            families=BOTH_FAMILIES,
            timeout=self.timeout,
            port=self.upstream_port,
            cache=self._delegations,
        )
        now = time.monotonic()
        if not result.ok:
            log.info("SERVFAIL for %s %s: %s", result.qname, result.rdtype, result.error)
            return CachedAnswer(dns.rcode.SERVFAIL, [], [], now, now)
        rcode = dns.rcode.Rcode.from_text(result.rcode)
        ttl = self._ttl(result)
        entry = CachedAnswer(rcode, result.answer, result.authority, now, now + ttl)
        if ttl > 0:
            self._answers.pop(key, None)
            while len(self._answers) >= self.max_entries:
                del self._answers[next(iter(self._answers))]
            self._answers[key] = entry
        return entry

    def _ttl(self, result: IterativeResult) -> int:
        """Cache lifetime: the smallest record TTL, or the SOA's negative TTL; both capped.

        A negative answer without SOA is not cached (RFC 2308).
        """
        final = [r for r in result.answer if r.rdtype != dns.rdatatype.CNAME]
        if final:
            return min(self.max_ttl, *(r.ttl for r in result.answer))
        negative = [
            min(soa.ttl, cast(dns.rdtypes.ANY.SOA.SOA, soa[0]).minimum) for soa in result.authority
        ]
        if not negative:
            return 0
        return min(self.max_negative_ttl, *negative, *(r.ttl for r in result.answer))

    async def close(self) -> None:
        """Cancel resolutions still running."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _aged(rrsets: Sequence[dns.rrset.RRset], elapsed: int) -> list[dns.rrset.RRset]:
    """`rrsets` with their TTLs lowered by the seconds spent in the cache (copies if needed)."""
    if elapsed <= 0:
        return list(rrsets)
    aged = []
    for rrset in rrsets:
        copy = rrset.copy()
        copy.ttl = max(0, rrset.ttl - elapsed)
        aged.append(copy)
    return aged


@dataclass(eq=False)
class ResolverService:
    """A running recursive resolver: its listeners and the resolver they share."""

    resolver: RecursiveResolver
    listeners: list[DnsListener]

    async def close(self) -> None:
        """Stop listening and cancel resolutions in progress."""
        for listener in self.listeners:
            listener.close()
        for listener in self.listeners:
            await listener.wait_closed()
        await self.resolver.close()


async def serve_resolver(
    addresses: Sequence[tuple[str, int]],
    hints: RootHints,
    *,
    upstream_port: int = 53,
    timeout: float = 2.0,
) -> ResolverService:
    """Serve one shared recursive resolver over UDP and TCP on every (address, port)."""
    resolver = RecursiveResolver(hints, upstream_port=upstream_port, timeout=timeout)
    listeners: list[DnsListener] = []
    try:
        for address, port in addresses:
            listeners.append(await listen_dns(address, port, resolver.handle))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return ResolverService(resolver, listeners)
