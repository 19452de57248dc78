"""Politeness: per-destination limits on what a scan sends, so that scanning many sites of one
hosting provider (or one DNS operator) never floods it, in one process or across workers.

`Throttle` applies `Limits` through a `Limiter` (local or Redis) and counts the waits it
imposes; `PoliteNetwork` wraps any `Network` and takes its turn before each call:

- `fetch`, `connect`, `smtp`: one of `ip_connections` slots of the destination, held for the
  call, then a turn at `ip_rate`; `fetch` also a turn at `domain_rate` for the registrable
  domain of the URL's host, whichever addresses it has.
- `query`: a turn at `dns_rate` for the server.
- `iterate`: passed through; the inner network paces each query of the iterative walk when
  built with `Throttle.dns_query` as its hook (`LiveNetwork(dns_throttle=...)`).
- `resolve`: passed through (it goes to the scanner's own resolvers, not to a destination).

IPv6 destinations are grouped by their `ipv6_prefix` network (a hoster commonly gives each
site its own address in one /64). A limit of 0 switches that limit off.

Waiting for a turn is not the target's fault: the time spent waiting is counted for the
targets concerned (`v6pilot.net.waits`), and the engine extends their deadlines by it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

import dns.message

from v6pilot.checks.domains import registrable_domain
from v6pilot.net.dns import RdataTypeLike, Resolution
from v6pilot.net.iterative import IterativeResult
from v6pilot.net.limits import Limiter, PolitenessError
from v6pilot.net.network import Network
from v6pilot.net.types import HttpResponse, SmtpReply, TcpOutcome
from v6pilot.net.waits import waiting

WAIT_THRESHOLD = 0.001
"""Seconds below which taking a turn does not count as a wait."""

IP_CONNECTIONS = "ip_connections"
IP_RATE = "ip_rate"
DOMAIN_RATE = "domain_rate"
DNS_RATE = "dns_rate"
SCOPES = (IP_CONNECTIONS, IP_RATE, DOMAIN_RATE, DNS_RATE)


@dataclass(frozen=True)
class Limits:
    """Per-destination limits (docs/scale.md, "Politeness", explains the defaults)."""

    ip_connections: int = 6
    """Connections open at once to one address (or IPv6 prefix)."""
    ip_rate: float = 20.0
    """Requests and connections a second to one address (or IPv6 prefix)."""
    domain_rate: float = 20.0
    """HTTP requests a second to the hosts of one registrable domain, over all its addresses."""
    dns_rate: float = 50.0
    """Queries a second to one DNS server address (or IPv6 prefix)."""
    ipv6_prefix: int = 64
    """IPv6 addresses in one network of this length count as one destination (128: each)."""

    def __post_init__(self) -> None:
        for name in ("ip_connections", "ip_rate", "domain_rate", "dns_rate"):
            if getattr(self, name) < 0:
                raise PolitenessError(f"limit {name} must be 0 (off) or more")
        if not 1 <= self.ipv6_prefix <= 128:
            raise PolitenessError("ipv6_prefix must be 1-128")

    def to_dict(self) -> dict[str, Any]:
        """The limits as JSON-ready data (stored with a run)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        """Limits from `to_dict` data; unknown keys are ignored, missing ones default."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def destination_key(address: str, ipv6_prefix: int) -> str:
    """The destination an address counts towards: the address itself (an IPv4-mapped IPv6
    address as IPv4), or its IPv6 network of length `ipv6_prefix`."""
    text = address.partition("%")[0].strip("[]")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if ipv6_prefix < 128:
            return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


@dataclass
class ScopeStats:
    """Turns taken under one scope of limits, and how many of them had to wait, how long."""

    turns: int = 0
    waits: int = 0
    waited_seconds: float = 0.0


WaitHook = Callable[[str, float], None]
"""Called as hook(scope, seconds) for each wait (e.g. `v6pilot.metrics.record_throttle`)."""


class Throttle:
    """`Limits` applied through a `Limiter`, with counters per scope (see `SCOPES`)."""

    def __init__(
        self, limits: Limits, limiter: Limiter, *, on_wait: WaitHook | None = None
    ) -> None:
        self.limits = limits
        self.limiter = limiter
        self.on_wait = on_wait
        self._stats = {scope: ScopeStats() for scope in SCOPES}

    def _count(self, scope: str, waited: float) -> None:
        stats = self._stats[scope]
        stats.turns += 1
        if waited >= WAIT_THRESHOLD:
            stats.waits += 1
            stats.waited_seconds += waited
            if self.on_wait is not None:
                self.on_wait(scope, waited)

    async def _pace(self, scope: str, key: str, per_second: float) -> None:
        if per_second > 0:
            with waiting():
                waited = await self.limiter.pace(f"{scope}:{key}", per_second)
            self._count(scope, waited)

    @asynccontextmanager
    async def destination(self, address: str, host: str | None = None) -> AsyncIterator[None]:
        """Hold a connection slot of `address` and take its turns (and `host`'s domain's)."""
        where = destination_key(address, self.limits.ipv6_prefix)
        async with AsyncExitStack() as stack:
            if self.limits.ip_connections > 0:
                key = f"{IP_CONNECTIONS}:{where}"
                with waiting():
                    waited = await stack.enter_async_context(
                        self.limiter.hold(key, self.limits.ip_connections)
                    )
                self._count(IP_CONNECTIONS, waited)
            await self._pace(IP_RATE, where, self.limits.ip_rate)
            if host:
                await self._pace(DOMAIN_RATE, registrable_domain(host), self.limits.domain_rate)
            yield

    async def dns_query(self, server: str) -> None:
        """Take a turn of DNS server `server` (the hook for iterative resolution)."""
        where = destination_key(server, self.limits.ipv6_prefix)
        await self._pace(DNS_RATE, where, self.limits.dns_rate)

    def stats(self) -> dict[str, ScopeStats]:
        """A snapshot of the counters, by scope."""
        return {scope: ScopeStats(**vars(s)) for scope, s in self._stats.items()}

    async def close(self) -> None:
        """Close the limiter."""
        await self.limiter.close()


class PoliteNetwork:
    """A `Network` that takes its turn with each destination before talking to it.

    Closing it closes the inner network and the throttle's limiter.
    """

    def __init__(self, inner: Network, throttle: Throttle) -> None:
        self.inner = inner
        self.throttle = throttle

    async def resolve(self, name: str, rdtype: RdataTypeLike) -> Resolution:
        """Unlimited: the scanner's own resolvers are not a destination."""
        return await self.inner.resolve(name, rdtype)

    async def query(self, server: str, name: str, rdtype: RdataTypeLike) -> dns.message.Message:
        """After a turn of `server`."""
        await self.throttle.dns_query(server)
        return await self.inner.query(server, name, rdtype)

    async def iterate(
        self, name: str, rdtype: RdataTypeLike, families: frozenset[int]
    ) -> IterativeResult:
        """Passed through: the inner network paces each query (`LiveNetwork(dns_throttle=)`)."""
        return await self.inner.iterate(name, rdtype, families)

    async def connect(self, address: str, port: int) -> TcpOutcome:
        """In a connection slot of `address`, after its turn."""
        async with self.throttle.destination(address):
            return await self.inner.connect(address, port)

    async def fetch(
        self,
        url: str,
        address: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        reuse: bool = False,
    ) -> HttpResponse:
        """In a connection slot of `address`, after its turn and the URL's domain's turn."""
        async with self.throttle.destination(address, urlsplit(url).hostname):
            return await self.inner.fetch(
                url, address, method=method, max_body=max_body, reuse=reuse
            )

    async def smtp(self, address: str, helo: str) -> SmtpReply:
        """In a connection slot of `address`, after its turn."""
        async with self.throttle.destination(address):
            return await self.inner.smtp(address, helo)

    def routes(self) -> frozenset[int]:
        return self.inner.routes()

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            await self.throttle.close()
