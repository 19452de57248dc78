"""Iterative resolution over the miniature hierarchy: referrals, failures, families, caching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from tests.net.dnshierarchy import (
    LOOPBACK_HOSTS,
    NETNS_HOSTS,
    ServedHierarchy,
    build_zones,
    needs_netns,
    scratch_netns,
    serve_hierarchy,
    silent,
)
from v6pilot.lab.dnsserver import AuthoritativeServer, Responder
from v6pilot.net import dns as dns_client
from v6pilot.net.dns import PlainReply
from v6pilot.net.iterative import (
    DelegationCache,
    IterativeResult,
    Outcome,
    ZoneStep,
    resolve_iterative,
)
from v6pilot.net.netns import run_in_netns
from v6pilot.net.roothints import RootHints

BOTH = frozenset({4, 6})
V6 = frozenset({6})


@pytest.fixture
async def hierarchy() -> AsyncIterator[ServedHierarchy]:
    served = await serve_hierarchy()
    yield served
    served.close()


async def resolve(
    served: ServedHierarchy,
    name: str,
    rdtype: str = "A",
    families: frozenset[int] = BOTH,
    cache: DelegationCache | None = None,
    max_queries: int = 64,
) -> IterativeResult:
    return await resolve_iterative(
        name,
        rdtype,
        served.hints,
        families=families,
        port=served.port,
        timeout=0.3,
        cache=cache,
        max_queries=max_queries,
    )


def step(result: IterativeResult, zone: str) -> ZoneStep:
    return next(s for s in result.chain if s.zone == zone and not s.cached)


def outcomes(zone_step: ZoneStep) -> dict[str, Outcome]:
    return {server.name: server.outcome for server in zone_step.servers}


def answering(responder_zone: str) -> Responder:
    """A server holding only `responder_zone` (anything else is REFUSED)."""
    return AuthoritativeServer([build_zones(LOOPBACK_HOSTS)[responder_zone]]).handle


def without_aa(responder: Responder) -> Responder:
    """Wrap a server so that its answers lose the AA flag (like a cache answering)."""

    def respond(wire: bytes, tcp: bool) -> bytes:
        reply = responder(wire, tcp)
        assert isinstance(reply, bytes)
        message = dns.message.from_wire(reply)
        message.flags &= ~dns.flags.AA
        return message.to_wire()

    return respond


async def test_walks_root_tld_zone(hierarchy: ServedHierarchy) -> None:
    result = await resolve(hierarchy, "www.good.test.", "AAAA")
    assert result.ok and result.error == ""
    assert (result.rcode, result.records, result.cnames) == ("NOERROR", ["2001:db8::80"], [])
    assert [s.zone for s in result.chain] == [".", "test.", "good.test."]
    assert all(s.ok and not s.cached for s in result.chain)
    root = result.chain[0].servers[0]
    assert root.tries[0].address == "::1" and root.tries[0].outcome is Outcome.ANSWERED
    assert result.queries == 3


async def test_nxdomain_and_nodata_are_successful_answers(hierarchy: ServedHierarchy) -> None:
    missing = await resolve(hierarchy, "nothing.good.test.")
    assert missing.ok and missing.rcode == "NXDOMAIN" and missing.records == []
    assert [r.rdtype for r in missing.authority] == [dns.rdatatype.SOA]
    nodata = await resolve(hierarchy, "www.good.test.", "MX")
    assert nodata.ok and nodata.rcode == "NOERROR" and nodata.records == []


async def test_follows_cname_into_another_zone(hierarchy: ServedHierarchy) -> None:
    result = await resolve(hierarchy, "away.good.test.")
    assert result.ok
    assert result.cnames == ["www.glueless.test."]
    assert result.records == ["192.0.2.90"]
    assert [r.rdtype for r in result.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert "glueless.test." in [s.zone for s in result.chain]


async def test_cname_loop_fails(hierarchy: ServedHierarchy) -> None:
    result = await resolve(hierarchy, "loop1.good.test.")
    assert not result.ok and result.rcode == "SERVFAIL"
    assert "CNAME loop" in result.error


async def test_resolves_glueless_name_servers(hierarchy: ServedHierarchy) -> None:
    result = await resolve(hierarchy, "www.glueless.test.")
    assert result.ok and result.records == ["192.0.2.90"]
    (server,) = step(result, "glueless.test.").servers
    assert server.name == "ns.hosting.other."
    assert server.addresses == ["127.53.0.51"]
    assert server.outcome is Outcome.ANSWERED
    assert hierarchy.queries["other"] >= 1


async def test_refused_and_timeout_servers_are_skipped() -> None:
    served = await serve_hierarchy(overrides={"tld1": None, "good1": silent})
    try:
        result = await resolve(served, "www.good.test.")
    finally:
        served.close()
    assert result.ok and result.records == ["192.0.2.80"]
    assert outcomes(step(result, "test.")) == {
        "ns1.nic.test.": Outcome.REFUSED,
        "ns2.nic.test.": Outcome.ANSWERED,
    }
    assert outcomes(step(result, "good.test.")) == {
        "ns1.good.test.": Outcome.TIMEOUT,
        "ns2.good.test.": Outcome.ANSWERED,
    }
    timeout = step(result, "good.test.").servers[0].tries[0]
    assert "127.53.0.41" in timeout.detail and timeout.family == 4


async def test_out_of_bailiwick_glue_is_ignored() -> None:
    """test.'s servers may not say where ns.hosting.other. is; the resolver looks it up."""
    real = answering("test.")
    bogus = dns.rrset.from_text("ns.hosting.other.", 300, "IN", "A", "127.53.0.99")

    def poisoning(wire: bytes, tcp: bool) -> bytes:
        reply = real(wire, tcp)
        assert isinstance(reply, bytes)
        message = dns.message.from_wire(reply)
        message.additional.append(bogus)
        return message.to_wire()

    served = await serve_hierarchy(overrides={"tld1": poisoning, "tld2": poisoning})
    try:
        result = await resolve(served, "www.glueless.test.")
    finally:
        served.close()
    assert result.ok and result.records == ["192.0.2.90"]
    assert step(result, "glueless.test.").servers[0].addresses == ["127.53.0.51"]


async def test_out_of_zone_answer_records_are_ignored() -> None:
    """good.test.'s servers may not answer for www.glueless.test.; the resolver asks its zone."""
    real = answering("good.test.")
    bogus = dns.rrset.from_text("www.glueless.test.", 300, "IN", "A", "203.0.113.66")

    def poisoning(wire: bytes, tcp: bool) -> bytes:
        reply = real(wire, tcp)
        assert isinstance(reply, bytes)
        message = dns.message.from_wire(reply)
        message.answer.append(bogus)
        return message.to_wire()

    served = await serve_hierarchy(overrides={"good1": poisoning, "good2": poisoning})
    try:
        result = await resolve(served, "away.good.test.")
    finally:
        served.close()
    assert result.ok and result.records == ["192.0.2.90"]


@pytest.mark.parametrize(
    "lame", [answering("other."), without_aa(answering("good.test."))], ids=["refused", "no-aa"]
)
async def test_lame_server_is_skipped(lame: Responder) -> None:
    served = await serve_hierarchy(overrides={"good1": lame})
    try:
        result = await resolve(served, "www.good.test.")
    finally:
        served.close()
    assert result.ok and result.records == ["192.0.2.80"]
    assert outcomes(step(result, "good.test.")) == {
        "ns1.good.test.": Outcome.LAME,
        "ns2.good.test.": Outcome.ANSWERED,
    }


async def test_zone_without_working_server_fails_naming_zone_and_servers() -> None:
    served = await serve_hierarchy(overrides={"good1": silent, "good2": None})
    try:
        result = await resolve(served, "www.good.test.")
    finally:
        served.close()
    assert not result.ok and result.rcode == "SERVFAIL"
    assert result.error == (
        "zone good.test.: no name server reachable over IPv4 or IPv6 "
        "(ns1.good.test. 127.53.0.41 timeout; ns2.good.test. 127.53.0.42 refused)"
    )
    assert not result.chain[-1].ok


async def test_ipv6_only_cannot_use_a_tld_whose_servers_have_only_a(
    hierarchy: ServedHierarchy,
) -> None:
    result = await resolve(hierarchy, "www.v4only.", families=V6)
    assert not result.ok
    assert result.error == (
        "zone v4only.: no name server reachable over IPv6 "
        "(ns1.nic.v4only. has no AAAA glue; ns2.nic.v4only. has no AAAA glue)"
    )
    assert [s.zone for s in result.chain] == [".", "v4only."]
    assert result.chain[0].servers[0].tries[0].address == "::1"
    assert {s.outcome for s in result.chain[1].servers} == {Outcome.NO_ADDRESS}
    assert hierarchy.queries["v4only1"] == hierarchy.queries["v4only2"] == 0


async def test_query_budget_is_enforced(hierarchy: ServedHierarchy) -> None:
    result = await resolve(hierarchy, "www.good.test.", max_queries=2)
    assert not result.ok and result.queries == 2
    assert "gave up after 2 queries at zone good.test." in result.error


async def test_cache_reuses_zone_cuts_and_marks_cached_steps(hierarchy: ServedHierarchy) -> None:
    cache = DelegationCache()
    first = await resolve(hierarchy, "www.good.test.", cache=cache)
    second = await resolve(hierarchy, "alias.good.test.", cache=cache)
    assert first.ok and second.ok and second.records == ["192.0.2.80"]
    assert second.queries == 1
    assert [(s.zone, s.cached) for s in second.chain] == [
        (".", True),
        ("test.", True),
        ("good.test.", False),
    ]
    assert hierarchy.queries["root"] == 1
    v6_only = await resolve(hierarchy, "www.good.test.", families=V6, cache=cache)
    assert not v6_only.ok and "zone test." in v6_only.error, "cuts are cached per family set"


async def test_concurrent_identical_queries_are_sent_once(hierarchy: ServedHierarchy) -> None:
    cache = DelegationCache()
    results = await asyncio.gather(
        *(resolve(hierarchy, "www.good.test.", cache=cache) for _ in range(5))
    )
    assert all(r.ok and r.records == ["192.0.2.80"] for r in results)
    assert hierarchy.queries["root"] == 1
    assert hierarchy.queries["tld1"] + hierarchy.queries["tld2"] == 1


async def test_rejects_unknown_families() -> None:
    with pytest.raises(ValueError, match="families"):
        await resolve_iterative("x.", "A", RootHints([]), families=frozenset({5}))


@pytest.mark.lab
@needs_netns
def test_ipv6_only_resolution_over_real_ipv6_in_a_namespace() -> None:
    addresses = [a for host in NETNS_HOSTS.values() for a in host.addresses]

    async def exercise() -> tuple[IterativeResult, IterativeResult, IterativeResult]:
        served = await serve_hierarchy(NETNS_HOSTS, port=53)
        try:
            hints = served.hints
            return (
                await resolve_iterative("away.good.test.", "AAAA", hints, families=V6),
                await resolve_iterative("www.v4only.", "AAAA", hints, families=V6),
                await resolve_iterative("www.v4only.", "AAAA", hints, families=frozenset({4})),
            )
        finally:
            served.close()

    with scratch_netns("v6p-t-iterative", addresses) as ns:
        glueless, v4only, over_v4 = run_in_netns(ns, exercise)
    assert glueless.ok and glueless.cnames == ["www.glueless.test."]
    tries = [t for s in glueless.chain for server in s.servers for t in server.tries]
    assert tries and all(t.family == 6 for t in tries)
    assert not v4only.ok and v4only.error.startswith(
        "zone v4only.: no name server reachable over IPv6"
    )
    assert over_v4.ok and over_v4.records == ["2001:db8::70"]


def with_texts(result: IterativeResult) -> tuple[IterativeResult, list[str], list[str]]:
    """A result with its RRsets as text too (RRset equality ignores TTLs)."""
    return result, [r.to_text() for r in result.answer], [r.to_text() for r in result.authority]


async def test_plain_replies_give_the_results_full_parsing_gives(
    hierarchy: ServedHierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = [
        ("www.good.test.", "AAAA"),
        ("WwW.GoOd.TeSt.", "A"),
        ("alias.good.test.", "A"),
        ("away.good.test.", "AAAA"),
        ("missing.good.test.", "A"),
        ("nothing.good.test.", "AAAA"),
        ("www.good.test.", "MX"),
        ("x.wild.good.test.", "A"),
        ("www.glueless.test.", "A"),
        ("loop1.good.test.", "A"),
        ("www.v4only.", "AAAA"),
    ]
    plain_read = 0
    read_plain_reply = dns_client.read_plain_reply

    def counting(wire: bytes, question: bytes) -> PlainReply | None:
        nonlocal plain_read
        reply = read_plain_reply(wire, question)
        plain_read += reply is not None
        return reply

    monkeypatch.setattr(dns_client, "read_plain_reply", counting)
    plain = [with_texts(await resolve(hierarchy, *lookup)) for lookup in lookups]
    assert plain_read >= len(lookups)
    monkeypatch.setattr(dns_client, "read_plain_reply", lambda wire, question: None)
    parsed = [with_texts(await resolve(hierarchy, *lookup)) for lookup in lookups]
    assert plain == parsed
