"""Web checks: is the site reachable over IPv6, does its homepage load there, reliably, fast,
securely and with the same content as over IPv4 (docs/checks.md, `web.*` rows)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from v6pilot.checks import facts
from v6pilot.checks.context import TargetContext, shared_result, shared_results
from v6pilot.checks.decode import decode_html
from v6pilot.checks.registry import register
from v6pilot.checks.result import CheckResult, Status
from v6pilot.checks.similarity import Similarity, similarity
from v6pilot.errors import NetError, format_endpoint
from v6pilot.net.addresses import literal_version
from v6pilot.net.types import HttpResponse, TcpOutcome

WEB_PORTS = (80, 443)
HTTPS_PORT = 443
DEFAULT_PORTS = {"http": 80, "https": 443}
PROBES_IN_FLIGHT = 5
SUCCESS_PASS, SUCCESS_WARN = 0.90, 0.50
SIMILARITY_PASS, SIMILARITY_WARN = 0.90, 0.70
CONVERGED_MS = 1000.0
RATIO_PASS, RATIO_WARN = 0.3, 1.0
IDENTICAL = Similarity(similarity=1.0, text=None, structure=None, links=None)
"""Byte-identical bodies of one content type are the same page: nothing to fingerprint."""


# --- shared measurements -------------------------------------------------------------------


def start_port_probe(ctx: TargetContext, address: str, port: int) -> asyncio.Future[TcpOutcome]:
    """The task measuring whether `address` accepts TCP on `port`, started once per scan."""

    async def connect() -> TcpOutcome:
        try:
            return await ctx.net.connect(address, port)
        except NetError:
            return TcpOutcome.ERROR

    return ctx.shared.start(("tcp", address, port), connect)


async def port_outcomes(
    ctx: TargetContext, addresses: Sequence[str], ports: Sequence[int]
) -> dict[str, dict[int, TcpOutcome]]:
    """TCP outcomes of every address on every port, all probed concurrently."""
    pairs = [(address, port) for address in addresses for port in ports]
    outcomes = await shared_results([start_port_probe(ctx, a, p) for a, p in pairs])
    table: dict[str, dict[int, TcpOutcome]] = {address: {} for address in addresses}
    for (address, port), outcome in zip(pairs, outcomes, strict=True):
        table[address][port] = outcome
    return table


async def both_homepages(ctx: TargetContext) -> tuple[facts.Chain, facts.Chain]:
    """The homepage chains over IPv4 and IPv6, fetched concurrently."""
    facts.start_homepage(ctx, 6)
    return await facts.homepage(ctx, 4), await facts.homepage(ctx, 6)


def rejected_text(found: facts.Addresses) -> str:
    """The published but unusable addresses with the reasons, or the lookup's error."""
    parts = [f"{address} ({reason})" for address, reason in found.rejected]
    if found.error:
        parts.append(found.error)
    return "; ".join(parts) or "-"


def listing(items: Iterable[object]) -> str:
    """Items as one comma-separated message parameter ("-" for none)."""
    return ", ".join(str(item) for item in items) or "-"


def outcome_listing(table: dict[str, dict[int, TcpOutcome]]) -> str:
    """`[2001:db8::1]:443 timeout, ...` for every probe that did not open."""
    return listing(
        f"{format_endpoint(address, port)} {outcome.value}"
        for address, ports in table.items()
        for port, outcome in ports.items()
        if outcome is not TcpOutcome.OPEN
    )


def open_by_port(
    table: dict[str, dict[int, TcpOutcome]], ports: Sequence[int]
) -> dict[int, list[str]]:
    """For each port, the addresses on which it is open."""
    return {
        port: [a for a, outcomes in table.items() if outcomes[port] is TcpOutcome.OPEN]
        for port in ports
    }


def url_port(url: str) -> int:
    """The TCP port a URL is fetched from (the scheme's default unless given)."""
    parts = urlsplit(url)
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme, 80)
    except ValueError:
        return DEFAULT_PORTS.get(parts.scheme, 80)


def hop_values(chain: facts.Chain) -> list[dict[str, Any]]:
    """A chain's hops as plain values for a check's `value`."""
    return [
        {"url": h.url, "address": h.address, "status": h.status, "error": h.error}
        for h in chain.hops
    ]


def missing_family(v4: facts.Addresses, v6: facts.Addresses) -> str:
    """Which family a host lacks usable addresses of: "IPv4", "IPv6" or both."""
    return listing(name for name, found in (("IPv4", v4), ("IPv6", v6)) if not found.usable)


async def chain_failure(ctx: TargetContext, chain: facts.Chain) -> tuple[str, dict[str, Any]]:
    """Why a chain reached no final response: a reason code and its message parameters.

    Codes: no_aaaa, lookup_failed, redirect_no_aaaa, v4_literal, connect_failed, tls_failed,
    request_failed, loop, too_many_redirects. Whether a connection could be opened is measured
    (cached TCP probe), so a refused or dropped connection is told apart from a TLS failure.
    """
    last = chain.hops[-1]
    if last.status is None:
        host = urlsplit(last.url).hostname or ""
        params: dict[str, Any] = {"url": last.url, "host": host, "error": last.error}
        if last.address is None:
            if literal_version(host) == 4:
                return "v4_literal", params
            found = await facts.addresses(ctx, host, 6)
            params["rejected"] = rejected_text(found)
            if len(chain.hops) > 1:
                return "redirect_no_aaaa", {**params, "previous": chain.hops[-2].url}
            return ("lookup_failed" if found.lookup_failed else "no_aaaa"), params
        port = url_port(last.url)
        params["endpoint"] = format_endpoint(last.address, port)
        outcome = await shared_result(start_port_probe(ctx, last.address, port))
        if outcome is not TcpOutcome.OPEN:
            return "connect_failed", {**params, "outcome": outcome.value}
        https = urlsplit(last.url).scheme == "https"
        return ("tls_failed" if https else "request_failed"), params
    next_url = urljoin(last.url, last.response.location or "") if last.response else last.url
    if next_url in {hop.url for hop in chain.hops}:
        return "loop", {"url": next_url, "hops": len(chain.hops)}
    return "too_many_redirects", {"url": last.url, "hops": len(chain.hops)}


def no_final_page(check_id: str, chain: facts.Chain) -> CheckResult:
    """The `skipped` result of a two-family comparison when `chain` reached no final page."""
    return CheckResult.make(
        Status.SKIPPED,
        f"{check_id}.no_final_page",
        family=chain.family,
        url=chain.hops[0].url if chain.hops else "",
        error=chain.error or "no response",
    )


# --- checks ---------------------------------------------------------------------------------


@register("web.reach_v6", profile="quick", needs=(6,))
async def reach_v6(ctx: TargetContext) -> CheckResult:
    """Every usable AAAA of the host accepts TCP on port 80 or 443."""
    host = ctx.target.host
    found = await facts.addresses(ctx, host, 6)
    if not found.usable:
        code = "lookup_failed" if found.lookup_failed else "no_aaaa"
        status = Status.ERROR if code == "lookup_failed" else Status.FAIL
        return CheckResult.make(
            status,
            f"web.reach_v6.{code}",
            {"addresses": {}},
            host=host,
            rejected=rejected_text(found),
        )
    table = await port_outcomes(ctx, found.usable, WEB_PORTS)
    value = {"addresses": {a: {p: o.value for p, o in ports.items()} for a, ports in table.items()}}
    reachable = [a for a, ports in table.items() if TcpOutcome.OPEN in ports.values()]
    unreachable = {a: ports for a, ports in table.items() if a not in reachable}
    params = {
        "host": host,
        "reachable": len(reachable),
        "total": len(table),
        "failures": outcome_listing(unreachable),
    }
    if not unreachable:
        return CheckResult.make(Status.PASS, "web.reach_v6.pass", value, **params)
    status = Status.WARN if reachable else Status.FAIL
    return CheckResult.make(status, f"web.reach_v6.{status.value}", value, **params)


async def port_tables(
    ctx: TargetContext, ports: Sequence[int], check_id: str
) -> CheckResult | tuple[dict[str, dict[int, TcpOutcome]], dict[str, dict[int, TcpOutcome]]]:
    """Outcomes of `ports` on every usable address of each family of the target host, or the
    check's `skipped` result when the host lacks a usable address of one family."""
    host = ctx.target.host
    v4, v6 = await asyncio.gather(facts.addresses(ctx, host, 4), facts.addresses(ctx, host, 6))
    if not v4.usable or not v6.usable:
        return CheckResult.make(
            Status.SKIPPED, f"{check_id}.missing_family", host=host, family=missing_family(v4, v6)
        )
    return await asyncio.gather(
        port_outcomes(ctx, v4.usable, ports), port_outcomes(ctx, v6.usable, ports)
    )


@register("web.port_parity", profile="standard", needs=(4, 6))
async def port_parity(ctx: TargetContext) -> CheckResult:
    """Every web port open on some IPv4 address is open on every IPv6 address."""
    host = ctx.target.host
    tables = await port_tables(ctx, WEB_PORTS, "web.port_parity")
    if isinstance(tables, CheckResult):
        return tables
    table4, table6 = tables
    open4, open6 = open_by_port(table4, WEB_PORTS), open_by_port(table6, WEB_PORTS)
    value = {"v4": open4, "v6": open6}
    ports4 = [port for port in WEB_PORTS if open4[port]]
    if not ports4:
        return CheckResult.make(
            Status.INFO,
            "web.port_parity.no_v4_port",
            value,
            host=host,
            failures=outcome_listing(table4),
        )
    missing = {
        address: {port: outcomes[port] for port in ports4 if outcomes[port] is not TcpOutcome.OPEN}
        for address, outcomes in table6.items()
    }
    if not any(missing.values()):
        return CheckResult.make(
            Status.PASS, "web.port_parity.pass", value, host=host, ports=listing(ports4)
        )
    return CheckResult.make(
        Status.FAIL, "web.port_parity.fail", value, host=host, failures=outcome_listing(missing)
    )


@register("web.homepage_v6", profile="quick", indicator=2, needs=(6,))
async def homepage_v6(ctx: TargetContext) -> CheckResult:
    """Indicator 2: the target URL, redirects followed over IPv6 only, ends in a 2xx page."""
    v4, v6 = await both_homepages(ctx)
    value = {
        "final_url": v6.final.url if v6.final else None,
        "status": v6.final.status if v6.final else None,
        "hops": hop_values(v6),
        "ipv4": {
            "ok": v4.ok if 4 in ctx.net.routes() else None,
            "status": v4.final.status if v4.final else None,
            "final_url": v4.final.url if v4.final else None,
        },
    }
    start = ctx.target.url
    if v6.final is not None:
        final = v6.final
        params = {
            "start": start,
            "url": final.url,
            "http_status": final.status,
            "endpoint": format_endpoint(final.address, url_port(final.url)),
        }
        if v6.ok:
            return CheckResult.make(Status.PASS, "web.homepage_v6.pass", value, **params)
        return CheckResult.make(Status.FAIL, "web.homepage_v6.bad_status", value, **params)
    reason, params = await chain_failure(ctx, v6)
    status = Status.ERROR if reason == "lookup_failed" else Status.FAIL
    return CheckResult.make(status, f"web.homepage_v6.{reason}", value, start=start, **params)


@register("web.homepage_success", profile="full", indicator=3, needs=(6,))
async def homepage_success(ctx: TargetContext) -> CheckResult:
    """Indicator 3: the share of fresh IPv6 requests for the final homepage URL that succeed."""
    verdict = await ctx.result("web.homepage_v6")
    chain = await facts.homepage(ctx, 6)
    if verdict.status is not Status.PASS or chain.final is None:
        return CheckResult.make(
            Status.SKIPPED,
            "web.homepage_success.homepage_not_v6",
            homepage_status=verdict.status.value,
        )
    url, address = chain.final.url, chain.final.address
    probes = max(1, ctx.options.success_probes)
    slots = asyncio.Semaphore(PROBES_IN_FLIGHT)

    async def probe() -> str:
        async with slots:
            try:
                response = await ctx.net.fetch(url, address)
            except NetError as exc:
                return str(exc)
        return "" if 200 <= response.status < 300 else f"HTTP {response.status}"

    errors = [e for e in await asyncio.gather(*(probe() for _ in range(probes))) if e]
    ok = probes - len(errors)
    rate = round(ok / probes, 4)
    value = {"probes": probes, "ok": ok, "rate": rate}
    params = {
        "ok": ok,
        "probes": probes,
        "rate": rate,
        "url": url,
        "endpoint": format_endpoint(address, url_port(url)),
        "error": errors[0] if errors else "",
    }
    if rate >= SUCCESS_PASS:
        status = Status.PASS
    elif rate >= SUCCESS_WARN:
        status = Status.WARN
    else:
        status = Status.FAIL
    return CheckResult.make(status, f"web.homepage_success.{status.value}", value, **params)


@register("web.consistency", profile="quick", indicator=5, needs=(4, 6))
async def consistency(ctx: TargetContext) -> CheckResult:
    """Indicator 5: the IPv6 homepage is the same page as the IPv4 one."""
    v4, v6 = await both_homepages(ctx)
    final4, final6 = v4.final, v6.final
    if final6 is None:
        return no_final_page("web.consistency", v6)
    if final4 is None:
        return no_final_page("web.consistency", v4)
    identical = final4.body == final6.body and final4.content_type == final6.content_type
    score = IDENTICAL if identical else similarity(_page_text(final4), _page_text(final6))
    value = {
        "similarity": score.similarity,
        "text": score.text,
        "structure": score.structure,
        "links": score.links,
        "identical": identical,
        "v4_status": final4.status,
        "v6_status": final6.status,
    }
    params = {
        "similarity": score.similarity,
        "v4_url": final4.url,
        "v6_url": final6.url,
        "v4_status": final4.status,
        "v6_status": final6.status,
    }
    if final4.status != final6.status:
        return CheckResult.make(Status.FAIL, "web.consistency.different_status", value, **params)
    if score.similarity >= SIMILARITY_PASS:
        status = Status.PASS
    elif score.similarity >= SIMILARITY_WARN:
        status = Status.WARN
    else:
        status = Status.FAIL
    return CheckResult.make(status, f"web.consistency.{status.value}", value, **params)


def _page_text(response: HttpResponse) -> str:
    """A response body as text, decoded with the charset a browser would pick."""
    return decode_html(response.body, response.content_type)


async def tls_fingerprint(ctx: TargetContext, family: int) -> tuple[str | None, str, str | None]:
    """The certificate fingerprint of `https://host/` over `family`: (fingerprint, error, address).

    A failed exchange is tried once more (after fetch_from's own retry), since this check is
    about the certificate, not about how reliably the server answers.
    """
    url = f"https://{ctx.target.host}/"
    error, address = "", None
    for _ in range(2):
        response, error, address = await facts.fetch_from(ctx, url, family, max_body=0)
        if response is not None:
            if response.tls is None:
                return None, f"{url}: no TLS session", response.address
            return response.tls.fingerprint, "", response.address
    return None, error, address


@register("web.tls_v6", profile="standard", needs=(4, 6))
async def tls_v6(ctx: TargetContext) -> CheckResult:
    """Port 443 over IPv6 completes TLS, verifies, and shows the IPv4 certificate."""
    host = ctx.target.host
    v4, v6 = await asyncio.gather(facts.addresses(ctx, host, 4), facts.addresses(ctx, host, 6))
    value: dict[str, str | None] = {"v4_fingerprint": None, "v6_fingerprint": None, "error": None}
    if not v6.usable:
        return CheckResult.make(
            Status.SKIPPED, "web.tls_v6.no_aaaa", value, host=host, rejected=rejected_text(v6)
        )
    table4, table6 = await asyncio.gather(
        port_outcomes(ctx, v4.usable, (HTTPS_PORT,)), port_outcomes(ctx, v6.usable, (HTTPS_PORT,))
    )
    open4 = open_by_port(table4, (HTTPS_PORT,))[HTTPS_PORT]
    open6 = open_by_port(table6, (HTTPS_PORT,))[HTTPS_PORT]
    if not open4 and not open6:
        return CheckResult.make(Status.INFO, "web.tls_v6.no_https", value, host=host)
    if not open6:
        return CheckResult.make(
            Status.FAIL,
            "web.tls_v6.closed_v6",
            value,
            host=host,
            open_v4=listing(open4),
            failures=outcome_listing(table6),
        )
    (fp6, error6, address6), (fp4, error4, _) = await asyncio.gather(
        tls_fingerprint(ctx, 6), tls_fingerprint(ctx, 4) if open4 else _not_probed()
    )
    value.update(v4_fingerprint=fp4, v6_fingerprint=fp6, error=error6 or None)
    if fp6 is None:
        endpoint = format_endpoint(address6, HTTPS_PORT) if address6 else host
        return CheckResult.make(
            Status.FAIL, "web.tls_v6.fail", value, host=host, endpoint=endpoint, error=error6
        )
    endpoint = format_endpoint(address6 or "", HTTPS_PORT)
    if fp4 is None:
        reason = error4 or "no HTTPS over IPv4"
        return CheckResult.make(
            Status.PASS, "web.tls_v6.pass_v6_only", value, host=host, endpoint=endpoint, v4=reason
        )
    if fp4 == fp6:
        return CheckResult.make(Status.PASS, "web.tls_v6.pass", value, host=host, endpoint=endpoint)
    return CheckResult.make(
        Status.WARN,
        "web.tls_v6.different_certificate",
        value,
        host=host,
        endpoint=endpoint,
        v4_fingerprint=fp4[:16],
        v6_fingerprint=fp6[:16],
    )


async def _not_probed() -> tuple[str | None, str, str | None]:
    """Stands in for the IPv4 certificate when port 443 is closed over IPv4."""
    return None, "", None


@register("web.redirect_v6", profile="standard", needs=(6,))
async def redirect_v6(ctx: TargetContext) -> CheckResult:
    """Every hop of the homepage's redirect chain works over IPv6."""
    chain = await facts.homepage(ctx, 6)
    value = {"hops": hop_values(chain)}
    if chain.first_failed:
        first = chain.hops[0] if chain.hops else None
        return CheckResult.make(
            Status.SKIPPED,
            "web.redirect_v6.first_failed",
            value,
            url=ctx.target.url,
            error=first.error if first else chain.error,
        )
    if chain.final is not None:
        return CheckResult.make(
            Status.PASS,
            "web.redirect_v6.pass",
            value,
            start=ctx.target.url,
            url=chain.final.url,
            hops=len(chain.hops),
        )
    reason, params = await chain_failure(ctx, chain)
    return CheckResult.make(
        Status.FAIL, f"web.redirect_v6.{reason}", value, start=ctx.target.url, **params
    )


def chain_ms(chain: facts.Chain) -> float:
    """The time the chain's responses took, summed over its hops, in milliseconds."""
    return sum(hop.response.elapsed for hop in chain.hops if hop.response) * 1000


@register("web.perf_ratio", profile="quick", needs=(4, 6))
async def perf_ratio(ctx: TargetContext) -> CheckResult:
    """The IPv6 homepage is not much slower than the IPv4 one.

    A verdict worse than pass is confirmed by a second timing of both families, and the faster
    time of each family counts: one slow sample (a busy scanner, a passing queue) is noise, a
    path that is slower every time is not.
    """
    v4, v6 = await both_homepages(ctx)
    for chain in (v6, v4):
        if not chain.completed:
            return no_final_page("web.perf_ratio", chain)
    v4_ms, v6_ms = round(chain_ms(v4), 1), round(chain_ms(v6), 1)
    samples = 1
    if _timing_verdict(v4_ms, v6_ms)[0] is not Status.PASS:
        again4, again6 = await asyncio.gather(
            facts.follow(ctx, ctx.target.url, 4), facts.follow(ctx, ctx.target.url, 6)
        )
        if again4.completed and again6.completed:
            v4_ms = min(v4_ms, round(chain_ms(again4), 1))
            v6_ms = min(v6_ms, round(chain_ms(again6), 1))
            samples = 2
    status, code = _timing_verdict(v4_ms, v6_ms)
    ratio = _slowdown(v4_ms, v6_ms)
    value = {"v4_ms": v4_ms, "v6_ms": v6_ms, "ratio": ratio, "samples": samples}
    slower = "-" if ratio is None else f"{ratio:+.0%}"
    params = {"url": ctx.target.url, "v4_ms": v4_ms, "v6_ms": v6_ms, "slower": slower}
    return CheckResult.make(status, code, value, **params)


def _slowdown(v4_ms: float, v6_ms: float) -> float | None:
    """How much slower IPv6 is, (v6 - v4) / v4 to three decimals; None without an IPv4 time."""
    return round((v6_ms - v4_ms) / v4_ms, 3) if v4_ms > 0 else None


def _timing_verdict(v4_ms: float, v6_ms: float) -> tuple[Status, str]:
    """The status and message code of two homepage times."""
    if v4_ms < CONVERGED_MS and v6_ms < CONVERGED_MS:
        return Status.PASS, "web.perf_ratio.converged"
    ratio = _slowdown(v4_ms, v6_ms)
    if ratio is not None and ratio <= RATIO_PASS:
        status = Status.PASS
    elif ratio is not None and ratio <= RATIO_WARN:
        status = Status.WARN
    else:
        status = Status.FAIL
    return status, f"web.perf_ratio.{status.value}"
