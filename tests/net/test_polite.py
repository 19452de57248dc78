"""Politeness: per-destination connection slots and rates, locally and shared through Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable

import dns.message
import dns.name
import dns.rdatatype
import pytest

from v6pilot.checks.context import ScanOptions
from v6pilot.net import iterative
from v6pilot.net.limits import LocalLimiter, PolitenessError, RedisLimiter, open_limiter
from v6pilot.net.live import ROUTE_PROBES, LiveNetwork, has_route
from v6pilot.net.mock import MockNetwork
from v6pilot.net.polite import (
    DNS_RATE,
    DOMAIN_RATE,
    IP_CONNECTIONS,
    IP_RATE,
    Limits,
    PoliteNetwork,
    Throttle,
    destination_key,
)
from v6pilot.net.types import HttpResponse
from v6pilot.scan.session import NetworkConfig, network_config, scan_network

REDIS_URL = os.environ.get("V6PILOT_TEST_REDIS", "redis://127.0.0.1:6379/0")
OFF = Limits(ip_connections=0, ip_rate=0, domain_rate=0, dns_rate=0)


class InFlight(MockNetwork):
    """Answers every fetch after `delay` (those to `blocked` addresses once `release` is set),
    counting calls in flight per address."""

    def __init__(self, delay: float = 0.01) -> None:
        super().__init__()
        self.delay = delay
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.blocked: set[str] = set()
        self.release = asyncio.Event()

    async def fetch(
        self,
        url: str,
        address: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        reuse: bool = False,
    ) -> HttpResponse:
        self.now[address] += 1
        self.peak[address] = max(self.peak[address], self.now[address])
        try:
            await asyncio.sleep(self.delay)
            if address in self.blocked:
                await self.release.wait()
            return HttpResponse(url, address, 200, {}, b"", self.delay)
        finally:
            self.now[address] -= 1


def polite(inner: MockNetwork, limits: Limits) -> PoliteNetwork:
    return PoliteNetwork(inner, Throttle(limits, LocalLimiter()))


async def timed(*calls: Awaitable[object]) -> float:
    started = time.monotonic()
    await asyncio.gather(*calls)
    return time.monotonic() - started


async def test_connections_to_one_address_never_exceed_the_limit() -> None:
    inner = InFlight(delay=0.005)
    net = polite(inner, Limits(ip_connections=5, ip_rate=0, domain_rate=0))
    fetches = [net.fetch(f"http://s{i}.example.cn/", "2001:db8::1") for i in range(50)]
    results = await asyncio.gather(*fetches)
    assert len(results) == 50 and inner.peak["2001:db8::1"] == 5
    stats = net.throttle.stats()[IP_CONNECTIONS]
    assert stats.turns == 50 and stats.waits >= 40


async def test_the_rate_per_address_spaces_requests() -> None:
    net = polite(InFlight(delay=0), Limits(ip_connections=0, ip_rate=100, domain_rate=0))
    seconds = await timed(*(net.fetch(f"http://s{i}.example.cn/", "192.0.2.1") for i in range(120)))
    assert seconds >= 1.15
    assert net.throttle.stats()[IP_RATE].turns == 120


async def test_other_addresses_are_not_held_up_by_a_busy_one() -> None:
    inner = InFlight(delay=0)
    inner.blocked.add("192.0.2.1")
    net = polite(inner, Limits(ip_connections=1, ip_rate=5, domain_rate=0))
    stuck = [
        asyncio.ensure_future(net.fetch("http://a.example.cn/", "192.0.2.1")) for _ in range(3)
    ]
    await asyncio.sleep(0.05)
    assert inner.now["192.0.2.1"] == 1
    others = [net.fetch("http://b.example.cn/", f"198.51.100.{i}") for i in range(1, 11)]
    assert await timed(*others) < 0.1
    assert not any(task.done() for task in stuck)
    inner.release.set()
    assert len(await asyncio.gather(*stuck)) == 3


async def test_the_domain_rate_applies_across_addresses() -> None:
    net = polite(InFlight(delay=0), Limits(ip_connections=0, ip_rate=0, domain_rate=50))
    same_domain = [net.fetch(f"http://h{i}.example.com.cn/", f"2001:db8:{i}::1") for i in range(30)]
    assert await timed(*same_domain) >= 0.55
    other_domains = [net.fetch(f"http://www.site{i}.cn/", f"2001:db8:{i}::1") for i in range(30)]
    assert await timed(*other_domains) < 0.2
    assert net.throttle.stats()[DOMAIN_RATE].waits >= 28


async def test_ipv6_addresses_of_one_prefix_share_their_slots() -> None:
    inner = InFlight(delay=0.005)
    net = polite(inner, Limits(ip_connections=2, ip_rate=0, domain_rate=0, ipv6_prefix=64))
    await asyncio.gather(
        *(net.fetch("http://a.example.cn/", f"2001:db8::{i:x}") for i in range(1, 21))
    )
    assert net.throttle.stats()[IP_CONNECTIONS].waits >= 15
    assert destination_key("2001:db8::1", 64) == destination_key("2001:db8::ffff", 64)
    assert destination_key("2001:db8::1", 128) != destination_key("2001:db8::2", 128)
    assert destination_key("::ffff:192.0.2.7", 64) == "192.0.2.7"


async def test_waits_are_reported_to_the_hook() -> None:
    seen: list[tuple[str, float]] = []
    throttle = Throttle(
        Limits(ip_connections=0, ip_rate=0, domain_rate=0, dns_rate=50),
        LocalLimiter(),
        on_wait=lambda scope, seconds: seen.append((scope, seconds)),
    )
    net = PoliteNetwork(MockNetwork(), throttle)
    for _ in range(3):
        with pytest.raises(Exception, match="no answer"):
            await net.query("2001:db8::53", "example.cn.", "NS")
    assert [scope for scope, _ in seen] == [DNS_RATE, DNS_RATE]
    assert all(0.005 < seconds < 0.05 for _, seconds in seen)
    stats = throttle.stats()[DNS_RATE]
    assert (stats.turns, stats.waits) == (3, 2)


async def test_limits_of_zero_are_off_and_bad_limits_refused() -> None:
    net = polite(InFlight(delay=0), OFF)
    assert await timed(*(net.fetch("http://a.cn/", "192.0.2.1") for _ in range(200))) < 0.2
    assert all(s.turns == 0 for s in net.throttle.stats().values())
    with pytest.raises(PolitenessError, match="ip_rate"):
        Limits(ip_rate=-1)
    with pytest.raises(PolitenessError, match="ipv6_prefix"):
        Limits(ipv6_prefix=0)
    assert Limits.from_dict({**Limits(ip_rate=3).to_dict(), "unknown": 1}) == Limits(ip_rate=3)


async def test_iterative_queries_wait_for_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []

    async def fake_query(
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        address: str,
        *,
        port: int,
        timeout: float,
    ) -> dns.message.Message:
        order.append(f"sent {address}")
        return dns.message.make_query(qname, rdtype)

    async def hook(address: str) -> None:
        order.append(f"turn {address}")

    monkeypatch.setattr(iterative, "query", fake_query)
    cache = iterative.DelegationCache(before_query=hook)
    name = dns.name.from_text("example.cn.")
    await cache.query(name, dns.rdatatype.NS, "2001:db8::53", 53, 1.0)
    assert order == ["turn 2001:db8::53", "sent 2001:db8::53"]


def test_open_limiter_picks_the_backend() -> None:
    assert isinstance(open_limiter(None), LocalLimiter)
    with pytest.raises(PolitenessError, match="not a Redis URL"):
        open_limiter("http://user:secret@127.0.0.1/")


async def test_an_unreachable_redis_is_a_politeness_error_without_password() -> None:
    limiter = RedisLimiter("redis://:secret@127.0.0.1:1/0")
    try:
        with pytest.raises(PolitenessError, match=r"127\.0\.0\.1:1") as caught:
            await limiter.pace("k", 10)
        assert "secret" not in str(caught.value)
    finally:
        await limiter.close()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A fresh key prefix on the test Redis, its keys deleted afterwards."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} ($V6PILOT_TEST_REDIS) is not reachable: {exc}")
    prefix = f"v6p-test:{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_two_redis_limiters_share_slots_and_turns(redis_prefix: str) -> None:
    first = RedisLimiter(REDIS_URL, prefix=redis_prefix, max_poll_seconds=0.01)
    second = RedisLimiter(REDIS_URL, prefix=redis_prefix, max_poll_seconds=0.01)
    in_flight = peak = 0

    async def work(limiter: RedisLimiter) -> None:
        nonlocal in_flight, peak
        async with limiter.hold("ip:192.0.2.1", 3):
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1

    try:
        await asyncio.gather(*(work(first if i % 2 else second) for i in range(20)))
        assert peak == 3
        turns = [(first if i % 2 else second).pace("ip:192.0.2.1", 100) for i in range(60)]
        assert await timed(*turns) >= 0.57
    finally:
        await first.close()
        await second.close()


HOLDER = """
import asyncio, sys
from v6pilot.net.limits import RedisLimiter

async def main() -> None:
    limiter = RedisLimiter(sys.argv[1], prefix=sys.argv[2], lease_seconds=0.6)
    async with limiter.hold("ip:192.0.2.1", 1):
        print("held", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_killed_workers_slot_frees_itself(redis_prefix: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, REDIS_URL, redis_prefix], stdout=subprocess.PIPE, text=True
    )
    limiter = RedisLimiter(REDIS_URL, prefix=redis_prefix, max_poll_seconds=0.01)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        await asyncio.sleep(0.5)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2), limiter.hold("ip:192.0.2.1", 1):
                pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        async with asyncio.timeout(2), limiter.hold("ip:192.0.2.1", 1) as waited:
            assert waited < 1.0
        assert time.monotonic() - killed < 1.0
    finally:
        holder.kill()
        holder.wait()
        await limiter.close()


async def test_a_scan_network_is_polite_when_limits_are_set() -> None:
    if not has_route(ROUTE_PROBES[6]):
        pytest.skip("this machine has no IPv6 route, so no live scan network can be built")
    options = ScanOptions()
    plain = scan_network(NetworkConfig(resolvers=(("127.0.0.1", 53),)), options)
    assert isinstance(plain, LiveNetwork)
    config = NetworkConfig(resolvers=(("127.0.0.1", 53),), limits=Limits(dns_rate=7))
    net = scan_network(config, options)
    try:
        assert isinstance(net, PoliteNetwork) and isinstance(net.inner, LiveNetwork)
        assert net.throttle.limits.dns_rate == 7
        assert isinstance(net.throttle.limiter, LocalLimiter)
    finally:
        await net.close()
        await plain.close()
    with pytest.raises(PolitenessError, match="not a Redis URL"):
        network_config([], None, None, None, limits=Limits(), limiter_url="http://x/")
