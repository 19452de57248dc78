"""Link depth and sub-resources: do the pages behind the IPv6 homepage, and what it loads,
work over IPv6 too (national indicators 6 and 7: second- and third-level link success)?

Every fetch is a GET over IPv6 with a small body cap, redirects followed over IPv6; a target has
at most FETCH_SLOTS of them in flight, and the caps in `ScanOptions` bound the crawl, so an
endless link maze ends like any other site.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from v6pilot.checks import facts
from v6pilot.checks.context import TargetContext
from v6pilot.checks.domains import registrable_domain
from v6pilot.checks.html import (
    Document,
    Resource,
    absolute_url,
    is_html,
    parse_css,
    parse_html,
)
from v6pilot.checks.registry import checks_for, register
from v6pilot.checks.result import CheckResult, Status
from v6pilot.net.addresses import literal_version
from v6pilot.net.types import HttpResponse

FETCH_SLOTS = 10
LINK_BODY = 256 * 1024
"""Enough of a second-level page to find its links, when web.links_l3 wants them."""
LEAF_BODY = 1024
"""Pages whose links nobody reads, and sub-resources, are only loaded, never read."""
STYLESHEET_BODY = 256 * 1024
PASS_RATE = 0.90
WARN_RATE = 0.50
FAILURES_IN_MESSAGE = 3


@dataclass(frozen=True, slots=True)
class Fetched:
    """Where a GET for `url`, redirects followed over one family, ended."""

    url: str
    response: HttpResponse | None
    """The final, non-redirect response; None when the chain broke (see `error`)."""
    error: str = ""
    first_hop_failed: bool = False

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.status < 400

    @property
    def reason(self) -> str:
        """Why the URL does not load: the chain's error or the final HTTP status."""
        if self.response is None:
            return self.error
        return f"HTTP {self.response.status}" if self.response.status >= 400 else ""


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    """One tested link: whether it loaded over IPv6, and the internal links of its page."""

    url: str
    ok: bool
    reason: str
    final_url: str | None
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecondLevel:
    """The second-level crawl of one target, kept for the third level."""

    outcomes: tuple[LinkOutcome, ...]
    capped: bool
    seen: frozenset[str]
    """The homepage's URLs and every internal link on it, tested or cut by the cap."""


@dataclass(frozen=True, slots=True)
class ResourceOutcome:
    """One sub-resource over IPv6; a stylesheet also lists what it references."""

    url: str
    ok: bool
    reason: str
    v4_only: bool
    references: tuple[Resource, ...] = ()


def fetch_slots(ctx: TargetContext) -> asyncio.Semaphore:
    """The target's bound on concurrent link and sub-resource fetches, shared by all checks."""
    return ctx.local("links.fetch_slots", lambda: asyncio.Semaphore(FETCH_SLOTS))


async def fetch_following(ctx: TargetContext, url: str, family: int, max_body: int) -> Fetched:
    """GET `url` over `family` with a body cap, following redirects over the same family, on
    kept-alive connections (a site's links and resources share a few, as in a browser)."""
    async with fetch_slots(ctx):
        chain = await facts.follow(ctx, url, family, max_body=max_body, reuse=True)
    if chain.final is not None:
        return Fetched(url, chain.final)
    if chain.first_failed:
        error = chain.hops[0].error if chain.hops else chain.error
        return Fetched(url, None, error, first_hop_failed=True)
    last = chain.hops[-1]
    if last.status is None:
        return Fetched(url, None, f"redirected to {last.url}: {last.error}")
    return Fetched(url, None, chain.error)


async def v6_homepage(ctx: TargetContext) -> tuple[HttpResponse | None, Status]:
    """The final IPv6 homepage response if web.homepage_v6 passed, and that check's status."""
    verdict = await ctx.result("web.homepage_v6")
    if verdict.status is not Status.PASS:
        return None, verdict.status
    return (await facts.homepage(ctx, 6)).final, verdict.status


def internal_links(links: Iterable[str], domain: str) -> list[str]:
    """The links (normalised, as `absolute_url` returns them) whose host belongs to registrable
    domain `domain`."""
    return [u for u in links if registrable_domain(normalised_host(u)) == domain]


def normalised_host(url: str) -> str:
    """The host of a URL `absolute_url` returned, IPv6 without brackets: what urlsplit would
    find, for a URL known to hold no user info and to end its authority with a `/`."""
    start = url.find("://") + 3
    end = url.find("/", start)
    authority = url[start:end] if end >= 0 else url[start:]
    if authority.startswith("["):
        return authority[1 : authority.find("]")]
    return authority.partition(":")[0]


@cache
def reads_second_level(profile: str) -> bool:
    """Whether a scan of `profile` runs web.links_l3, the only reader of second-level pages'
    links; other scans only load those pages."""
    return any(check.id == "web.links_l3" for check in checks_for(profile))


def page_links(page: HttpResponse) -> tuple[str, ...]:
    """The links of a response that is an HTML page (none for other content)."""
    if not is_html(page.content_type):
        return ()
    return parse_html(page.body, page.url, page.content_type).links


async def homepage_document(ctx: TargetContext, homepage: HttpResponse) -> Document:
    """The IPv6 homepage parsed, once per target (empty when it is not HTML)."""

    async def parse() -> Document:
        if not is_html(homepage.content_type):
            return Document((), ())
        return parse_html(homepage.body, homepage.url, homepage.content_type)

    return await ctx.once("links.homepage_document", parse)


async def second_level(ctx: TargetContext, homepage: HttpResponse) -> SecondLevel:
    """The internal links of the IPv6 homepage, each fetched over IPv6 (and read for its own
    links if the scan runs web.links_l3), once per target."""

    async def crawl() -> SecondLevel:
        chain = await facts.homepage(ctx, 6)
        home = {ctx.target.url, *(h.url for h in chain.hops)}
        home |= {n for n in (absolute_url(u, u) for u in home) if n is not None}
        document = await homepage_document(ctx, homepage)
        candidates = [u for u in internal_links(document.links, _domain(ctx)) if u not in home]
        tested = candidates[: ctx.options.max_links_l2]
        read = reads_second_level(ctx.options.profile)
        max_body = LINK_BODY if read else LEAF_BODY
        outcomes = await asyncio.gather(*(_test_link(ctx, u, max_body, read=read) for u in tested))
        return SecondLevel(
            tuple(outcomes), len(candidates) > len(tested), frozenset(home | set(candidates))
        )

    return await ctx.once("links.second_level", crawl)


async def _test_link(ctx: TargetContext, url: str, max_body: int, *, read: bool) -> LinkOutcome:
    """Fetch one link over IPv6; with `read`, keep the internal links of the page it loads."""
    fetched = await fetch_following(ctx, url, 6, max_body)
    page = fetched.response
    if page is None or not fetched.ok:
        return LinkOutcome(url, False, fetched.reason, page.url if page else None)
    links = tuple(internal_links(page_links(page), _domain(ctx))) if read else ()
    return LinkOutcome(url, True, "", page.url, links)


def _domain(ctx: TargetContext) -> str:
    return registrable_domain(ctx.target.host)


def rate_links(check_id: str, outcomes: Iterable[LinkOutcome], capped: bool) -> CheckResult:
    """A link level's verdict: pass from PASS_RATE, warn from WARN_RATE, else fail."""
    tested = list(outcomes)
    failed = [o for o in tested if not o.ok]
    total, ok = len(tested), len(tested) - len(failed)
    rate = ok / total
    value = {
        "total": total,
        "ok": ok,
        "rate": round(rate, 4),
        "failed": [{"url": o.url, "reason": o.reason} for o in failed],
        "capped": capped,
    }
    if rate >= PASS_RATE:
        return CheckResult.make(
            Status.PASS, f"{check_id}.pass", value, total=total, ok=ok, rate=rate
        )
    status = Status.WARN if rate >= WARN_RATE else Status.FAIL
    return CheckResult.make(
        status,
        f"{check_id}.{status.value}",
        value,
        total=total,
        ok=ok,
        rate=rate,
        failures=summarise((o.url, o.reason) for o in failed),
    )


def no_links_value() -> dict[str, Any]:
    """The value of a link level with nothing to test."""
    return {"total": 0, "ok": 0, "rate": None, "failed": [], "capped": False}


def summarise(failures: Iterable[tuple[str, str]]) -> str:
    """The first few `url (reason)` pairs for a message, with a count of the rest."""
    items = [f"{url} ({reason})" for url, reason in failures]
    shown = "; ".join(items[:FAILURES_IN_MESSAGE])
    rest = len(items) - FAILURES_IN_MESSAGE
    return f"{shown}; +{rest}" if rest > 0 else shown


@register("web.links_l2", profile="standard", indicator=6, needs=(6,))
async def links_l2(ctx: TargetContext) -> CheckResult:
    """Indicator 6: share of the IPv6 homepage's internal links that load over IPv6."""
    homepage, status = await v6_homepage(ctx)
    if homepage is None:
        return CheckResult.make(
            Status.SKIPPED, "web.links_l2.homepage_not_v6", homepage_status=status.value
        )
    level = await second_level(ctx, homepage)
    if not level.outcomes:
        return CheckResult.make(
            Status.INFO, "web.links_l2.no_links", no_links_value(), url=homepage.url
        )
    return rate_links("web.links_l2", level.outcomes, level.capped)


@register("web.links_l3", profile="full", indicator=7, needs=(6,))
async def links_l3(ctx: TargetContext) -> CheckResult:
    """Indicator 7: share of the new internal links of loaded second-level pages that load."""
    homepage, _ = await v6_homepage(ctx)
    level = await second_level(ctx, homepage) if homepage is not None else None
    loaded = [o for o in level.outcomes if o.ok] if level is not None else []
    if level is None or not loaded:
        return CheckResult.make(Status.SKIPPED, "web.links_l3.no_l2_page")
    seen = level.seen | {o.final_url for o in loaded if o.final_url}
    candidates = [u for u in dict.fromkeys(u for o in loaded for u in o.links) if u not in seen]
    tested = candidates[: ctx.options.max_links_l3]
    if not tested:
        return CheckResult.make(
            Status.INFO, "web.links_l3.no_links", no_links_value(), pages=len(loaded)
        )
    outcomes = await asyncio.gather(*(_test_link(ctx, u, LEAF_BODY, read=False) for u in tested))
    return rate_links("web.links_l3", outcomes, len(candidates) > len(tested))


async def is_v4_only(ctx: TargetContext, url: str) -> bool:
    """Whether `url`'s host is an IPv4 literal, or has usable A but no usable AAAA records."""
    host = urlsplit(url).hostname or ""
    if literal := literal_version(host):
        return literal == 4
    if (await facts.addresses(ctx, host, 6)).usable:
        return False
    return bool((await facts.addresses(ctx, host, 4)).usable)


async def load_resource(ctx: TargetContext, resource: Resource) -> ResourceOutcome:
    """One sub-resource over IPv6, once per scan; a stylesheet is also read for its references,
    over IPv4 when it does not load over IPv6, so what it pulls in is still found."""

    async def load() -> ResourceOutcome:
        max_body = STYLESHEET_BODY if resource.stylesheet else LEAF_BODY
        fetched = await fetch_following(ctx, resource.url, 6, max_body)
        v4_only = fetched.first_hop_failed and await is_v4_only(ctx, resource.url)
        references: tuple[Resource, ...] = ()
        if resource.stylesheet:
            sheet = fetched if fetched.ok else await fetch_following(ctx, resource.url, 4, max_body)
            if sheet.ok and sheet.response is not None:
                response = sheet.response
                references = parse_css(response.body, response.url, response.content_type)
        return ResourceOutcome(resource.url, fetched.ok, fetched.reason, v4_only, references)

    return await ctx.shared.once(("links.resource_v6", resource), load)


async def load_resources(
    ctx: TargetContext, found: tuple[Resource, ...]
) -> tuple[list[ResourceOutcome], bool]:
    """Load `found` and, wave by wave, what its stylesheets reference, up to the cap.

    Returns the outcomes and whether the cap cut the list.
    """
    seen: set[str] = set()
    outcomes: list[ResourceOutcome] = []
    capped = False

    def admit(candidates: Iterable[Resource]) -> list[Resource]:
        nonlocal capped
        wave = []
        for resource in candidates:
            if resource.url in seen:
                continue
            if len(seen) >= ctx.options.max_subresources:
                capped = True
                break
            seen.add(resource.url)
            wave.append(resource)
        return wave

    wave = admit(found)
    while wave:
        loaded = await asyncio.gather(*(load_resource(ctx, r) for r in wave))
        outcomes += loaded
        wave = admit(r for o in loaded for r in o.references)
    return outcomes, capped


@register("web.subresources_v6", profile="standard", needs=(6,))
async def subresources_v6(ctx: TargetContext) -> CheckResult:
    """Every script, stylesheet, image, font, frame and medium of the IPv6 homepage over IPv6."""
    page, status = await v6_homepage(ctx)
    if page is None:
        return CheckResult.make(
            Status.SKIPPED, "web.subresources_v6.homepage_not_v6", homepage_status=status.value
        )
    found = (await homepage_document(ctx, page)).resources
    outcomes, capped = await load_resources(ctx, found)
    v4_only = [o.url for o in outcomes if o.v4_only]
    failed = [o for o in outcomes if not o.ok and not o.v4_only]
    ok = sum(o.ok for o in outcomes)
    value = {
        "total": len(outcomes),
        "ok": ok,
        "v4_only": v4_only,
        "failed": [{"url": o.url, "reason": o.reason} for o in failed],
        "capped": capped,
    }
    if not outcomes:
        return CheckResult.make(Status.PASS, "web.subresources_v6.none", value, url=page.url)
    if ok == len(outcomes):
        return CheckResult.make(Status.PASS, "web.subresources_v6.pass", value, total=ok)
    bad = [(o.url, o.reason) for o in outcomes if not o.ok]
    return CheckResult.make(
        Status.FAIL,
        "web.subresources_v6.fail",
        value,
        total=len(outcomes),
        bad=len(bad),
        v4_only=len(v4_only),
        failures=summarise(bad),
    )
