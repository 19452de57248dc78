"""Facts several checks share, each measured once per target or once per scan.

A fact is measurement, not judgement: it records what happened (addresses, responses,
failures with their reasons) and leaves verdicts to the checks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from v6pilot.checks.context import TargetContext, shared_result
from v6pilot.errors import NetError, NetTimeout
from v6pilot.net.addresses import literal_version, unusable_reason
from v6pilot.net.types import HttpResponse

RECORD_TYPES = {4: "A", 6: "AAAA"}


@dataclass
class Addresses:
    """A host's addresses of one family: the usable ones, the rejected ones with reasons."""

    host: str
    family: int
    usable: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)
    error: str = ""
    nxdomain: bool = False

    @property
    def lookup_failed(self) -> bool:
        """The resolver gave no usable answer (as opposed to answering that the name is absent)."""
        return bool(self.error) and not self.nxdomain


async def addresses(ctx: TargetContext, host: str, family: int) -> Addresses:
    """The A (4) or AAAA (6) records of `host` through the scan's resolver, once per scan."""

    async def lookup() -> Addresses:
        found = Addresses(host, family)
        try:
            resolution = await ctx.net.resolve(host, RECORD_TYPES[family])
        except NetError as exc:
            found.error = str(exc)
            return found
        found.cnames = [c.rstrip(".") for c in resolution.cnames]
        if resolution.rcode == "NXDOMAIN":
            found.nxdomain = True
            found.error = f"{host} does not exist (NXDOMAIN)"
        for address in resolution.records:
            reason = unusable_reason(address, allow_private=ctx.options.allow_private)
            if reason is None:
                found.usable.append(address)
            else:
                found.rejected.append((address, reason))
        return found

    return await ctx.shared.once(
        ("addresses", host, family), lookup, keep=lambda found: not found.lookup_failed
    )


@dataclass
class Hop:
    """One request of a redirect chain: where it went, and what came back or went wrong."""

    url: str
    address: str | None
    status: int | None = None
    error: str = ""
    response: HttpResponse | None = None


@dataclass
class Chain:
    """The homepage fetched over one family, redirects followed hop by hop over that family."""

    family: int
    hops: list[Hop]
    final: HttpResponse | None
    error: str = ""

    @property
    def completed(self) -> bool:
        """A final non-redirect response was reached (whatever its status)."""
        return self.final is not None

    @property
    def ok(self) -> bool:
        """The chain ended in a 2xx response."""
        return self.final is not None and 200 <= self.final.status < 300

    @property
    def first_failed(self) -> bool:
        """Nothing came back for the very first request (no address, or no connection)."""
        return not self.hops or self.hops[0].status is None


async def fetch_from(
    ctx: TargetContext,
    url: str,
    family: int,
    *,
    max_body: int | None = None,
    reuse: bool = False,
) -> tuple[HttpResponse | None, str, str | None]:
    """Fetch `url` over `family`, trying the host's usable addresses in order.

    Returns (response, error, address used). An IP-literal host is used only if its family fits.
    A failed connection is retried once on the same address (not after a timeout). `reuse`
    allows a kept-alive connection (see `Network.fetch`).
    """
    host = urlsplit(url).hostname or ""
    literal_family = literal_version(host)
    if literal_family:
        if literal_family != family:
            return None, f"{host} is an IPv{literal_family} literal", None
        candidates = [host]
    else:
        found = await addresses(ctx, host, family)
        if not found.usable:
            reason = found.error or f"{host} has no usable {RECORD_TYPES[family]} record"
            if found.rejected:
                reason += " (" + "; ".join(f"{a}: {why}" for a, why in found.rejected) + ")"
            return None, reason, None
        candidates = found.usable
    errors = []
    for address in candidates:
        for attempt in (1, 2):
            try:
                response = await ctx.net.fetch(url, address, max_body=max_body, reuse=reuse)
            except NetTimeout as exc:
                errors.append(str(exc))
                break
            except NetError as exc:
                if attempt == 2:
                    errors.append(str(exc))
                continue
            return response, "", address
    return None, "; ".join(errors), candidates[-1]


async def follow(
    ctx: TargetContext,
    url: str,
    family: int,
    *,
    max_body: int | None = None,
    reuse: bool = False,
) -> Chain:
    """Fetch `url` over one family and follow redirects over the same family (on kept-alive
    connections if `reuse`; a homepage is always fetched on fresh ones)."""
    hops: list[Hop] = []
    seen: set[str] = set()
    current = url
    for _ in range(ctx.options.max_redirects + 1):
        if current in seen:
            return Chain(family, hops, None, f"redirect loop at {current}")
        seen.add(current)
        response, error, address = await fetch_from(
            ctx, current, family, max_body=max_body, reuse=reuse
        )
        hop = Hop(current, address, response.status if response else None, error, response)
        hops.append(hop)
        if response is None:
            return Chain(family, hops, None, f"{current}: {error}")
        location = response.location
        if location is None:
            return Chain(family, hops, response)
        current = urljoin(current, location)
    return Chain(family, hops, None, f"more than {ctx.options.max_redirects} redirects")


def start_homepage(ctx: TargetContext, family: int) -> asyncio.Future[Chain]:
    """The task fetching the target's homepage over one family, started once per target."""
    return ctx.memo.start(("homepage", family), lambda: follow(ctx, ctx.target.url, family))


async def homepage(ctx: TargetContext, family: int) -> Chain:
    """The target's homepage over one family, once per target."""
    return await shared_result(start_homepage(ctx, family))
