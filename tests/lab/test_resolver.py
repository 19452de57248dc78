"""The lab's recursive resolver: RD handling, answers, caching and SERVFAIL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from tests.net.dnshierarchy import ServedHierarchy, serve_hierarchy
from v6pilot.lab.resolver import RecursiveResolver, serve_resolver
from v6pilot.net.dns import query


@pytest.fixture
async def hierarchy() -> AsyncIterator[ServedHierarchy]:
    served = await serve_hierarchy()
    yield served
    served.close()


def resolver_for(served: ServedHierarchy) -> RecursiveResolver:
    return RecursiveResolver(served.hints, upstream_port=served.port, timeout=0.3)


async def ask(
    resolver: RecursiveResolver, name: str, rdtype: str = "A", rd: bool = True
) -> dns.message.Message:
    request = dns.message.make_query(name, rdtype, flags=dns.flags.RD if rd else 0)
    return dns.message.from_wire(await resolver.handle(request.to_wire()))


async def test_answers_recursive_queries_with_ra(hierarchy: ServedHierarchy) -> None:
    reply = await ask(resolver_for(hierarchy), "alias.good.test.")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.RA and not reply.flags & dns.flags.AA
    assert [r.rdtype for r in reply.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]


async def test_refuses_non_recursive_queries(hierarchy: ServedHierarchy) -> None:
    reply = await ask(resolver_for(hierarchy), "www.good.test.", rd=False)
    assert reply.rcode() == dns.rcode.REFUSED
    assert sum(hierarchy.queries.values()) == 0


async def test_positive_and_negative_answers_are_cached(hierarchy: ServedHierarchy) -> None:
    resolver = resolver_for(hierarchy)
    for name in ("www.good.test.", "nothing.good.test."):
        first = await ask(resolver, name)
        sent = sum(hierarchy.queries.values())
        again = await ask(resolver, name)
        assert sum(hierarchy.queries.values()) == sent, name
        assert again.rcode() == first.rcode()
        assert again.answer == first.answer and again.authority == first.authority
    assert (await ask(resolver, "nothing.good.test.")).rcode() == dns.rcode.NXDOMAIN


async def test_cached_ttls_count_down(hierarchy: ServedHierarchy) -> None:
    resolver = resolver_for(hierarchy)
    entry = await resolver.lookup(dns.name.from_text("www.good.test."), dns.rdatatype.A)
    entry.stored -= 100
    reply = await ask(resolver, "www.good.test.")
    assert reply.answer[0].ttl == 200
    assert entry.answer[0].ttl == 300, "the cached records themselves are not modified"


async def test_concurrent_identical_queries_resolve_once(hierarchy: ServedHierarchy) -> None:
    resolver = resolver_for(hierarchy)
    replies = await asyncio.gather(*(ask(resolver, "www.good.test.") for _ in range(10)))
    assert all(r.rcode() == dns.rcode.NOERROR and r.answer for r in replies)
    assert hierarchy.queries["root"] == 1
    assert hierarchy.queries["good1"] + hierarchy.queries["good2"] == 1


def servfail(wire: bytes, tcp: bool) -> bytes:
    response = dns.message.make_response(dns.message.from_wire(wire))
    response.set_rcode(dns.rcode.SERVFAIL)
    return response.to_wire()


async def test_servfail_when_iteration_fails_and_it_is_not_cached() -> None:
    broken = await serve_hierarchy(overrides={"root": servfail})
    try:
        resolver = resolver_for(broken)
        assert (await ask(resolver, "www.good.test.")).rcode() == dns.rcode.SERVFAIL
        asked = broken.queries["root"]
        assert (await ask(resolver, "www.good.test.")).rcode() == dns.rcode.SERVFAIL
    finally:
        broken.close()
    assert asked == 2, "both root addresses were tried"
    assert broken.queries["root"] == 2 * asked


async def test_serves_over_udp_and_tcp(hierarchy: ServedHierarchy) -> None:
    service = await serve_resolver(
        [("127.53.30.1", 0)], hierarchy.hints, upstream_port=hierarchy.port, timeout=0.3
    )
    port = service.listeners[0].port
    try:
        small = await query("www.good.test.", "A", "127.53.30.1", port=port, recursion_desired=True)
        big = await query("big.good.test.", "TXT", "127.53.30.1", port=port, recursion_desired=True)
    finally:
        await service.close()
    assert small.flags & dns.flags.RA and small.answer
    assert len(big.answer[0]) == 40
