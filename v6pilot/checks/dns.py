"""DNS checks: does the target's name, its zone's name servers, the delegation chain from the
root and the domain's mail exchangers work over IPv6?"""

from __future__ import annotations

import asyncio

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from v6pilot.checks import facts
from v6pilot.checks.context import TargetContext, shared_results
from v6pilot.checks.domains import registrable_domain
from v6pilot.checks.registry import register
from v6pilot.checks.result import CheckResult, Status
from v6pilot.checks.zonefacts import (
    display_name,
    failure_reason,
    mail_hosts,
    zone_servers,
)
from v6pilot.errors import NetError
from v6pilot.net.iterative import IterativeResult

IPV6_ONLY = frozenset({6})


def _listing(names: list[str]) -> str:
    """Names or addresses as one comma-separated message parameter."""
    return ", ".join(names)


def _failures(failed: dict[str, str]) -> str:
    """`where: reason` pairs as one message parameter."""
    return "; ".join(f"{where}: {reason}" for where, reason in failed.items())


@register("dns.aaaa", profile="quick", indicator=1)
async def aaaa(ctx: TargetContext) -> CheckResult:
    """The target host (CNAMEs followed) has at least one usable AAAA record."""
    host = ctx.target.host
    found = await facts.addresses(ctx, host, 6)
    value = {"addresses": found.usable, "rejected": dict(found.rejected), "cnames": found.cnames}
    name = " → ".join([host, *found.cnames])
    if found.usable:
        return CheckResult.make(
            Status.PASS, "dns.aaaa.pass", value, name=name, addresses=_listing(found.usable)
        )
    if found.lookup_failed:
        return CheckResult.make(
            Status.ERROR, "dns.aaaa.resolver", value, name=name, error=found.error
        )
    if found.rejected:
        rejected = "; ".join(f"{address} ({why})" for address, why in found.rejected)
        return CheckResult.make(
            Status.FAIL, "dns.aaaa.unusable", value, name=name, rejected=rejected
        )
    if found.error:
        return CheckResult.make(Status.FAIL, "dns.aaaa.nxdomain", value, name=name)
    return CheckResult.make(Status.FAIL, "dns.aaaa.no_aaaa", value, name=name)


@register("dns.ns_aaaa", profile="quick")
async def ns_aaaa(ctx: TargetContext) -> CheckResult:
    """At least two name servers of the target's zone have a usable AAAA record."""
    host = ctx.target.host
    servers = await zone_servers(ctx, host)
    if servers.error:
        return CheckResult.make(Status.ERROR, "dns.ns_aaaa.error", host=host, error=servers.error)
    v6 = servers.usable_v6()
    value = {"zone": servers.zone, "nameservers": v6}
    if not v6:
        return CheckResult.make(Status.FAIL, "dns.ns_aaaa.no_ns", value, zone=servers.zone)
    with_v6 = [name for name, addresses in v6.items() if addresses]
    without = [name for name, addresses in v6.items() if not addresses]
    if len(with_v6) >= 2:
        return CheckResult.make(
            Status.PASS,
            "dns.ns_aaaa.pass",
            value,
            zone=servers.zone,
            count=len(with_v6),
            nameservers=_listing(with_v6),
        )
    errors = servers.lookup_errors()
    if errors:
        return CheckResult.make(
            Status.ERROR,
            "dns.ns_aaaa.lookup_error",
            value,
            zone=servers.zone,
            errors=_failures(errors),
        )
    if with_v6 and not without:
        return CheckResult.make(
            Status.WARN, "dns.ns_aaaa.single", value, zone=servers.zone, nameserver=with_v6[0]
        )
    if with_v6:
        return CheckResult.make(
            Status.WARN,
            "dns.ns_aaaa.one",
            value,
            zone=servers.zone,
            nameserver=with_v6[0],
            total=len(v6),
            without=_listing(without),
        )
    return CheckResult.make(
        Status.FAIL, "dns.ns_aaaa.none", value, zone=servers.zone, nameservers=_listing(without)
    )


def start_soa_probe(ctx: TargetContext, address: str, zone: str) -> asyncio.Future[str | None]:
    """The task finding out why `address` did not answer `zone`'s SOA authoritatively (None:
    it did), started once per scan."""

    async def ask() -> str | None:
        try:
            response = await ctx.net.query(address, zone, "SOA")
        except NetError as exc:
            return failure_reason(exc)
        return _soa_problem(response, zone)

    return ctx.shared.start(("soa-over", address, zone), ask)


def _soa_problem(response: dns.message.Message, zone: str) -> str | None:
    """What is wrong with a reply to a zone's SOA query, or None for an authoritative answer."""
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        return f"answered {dns.rcode.to_text(rcode)}"
    if not response.flags & dns.flags.AA:
        return "not authoritative (AA flag not set)"
    apex = dns.name.from_text(zone)
    if not any(r.rdtype == dns.rdatatype.SOA and r.name == apex for r in response.answer):
        return f"no SOA record for {zone} in the answer"
    return None


@register("dns.ns_reach_v6", profile="quick", needs=(6,))
async def ns_reach_v6(ctx: TargetContext) -> CheckResult:
    """Every IPv6 address of every name server of the zone answers its SOA authoritatively."""
    host = ctx.target.host
    servers = await zone_servers(ctx, host)
    if servers.error:
        return CheckResult.make(
            Status.ERROR, "dns.ns_reach_v6.error", host=host, error=servers.error
        )
    owners = {a: ns for ns, addresses in servers.usable_v6().items() for a in addresses}
    value: dict[str, object] = {"zone": servers.zone, "answered": [], "failed": {}}
    if not owners:
        errors = servers.lookup_errors()
        if errors:
            return CheckResult.make(
                Status.ERROR,
                "dns.ns_reach_v6.lookup_error",
                value,
                zone=servers.zone,
                errors=_failures(errors),
            )
        return CheckResult.make(Status.FAIL, "dns.ns_reach_v6.no_aaaa", value, zone=servers.zone)
    problems = await shared_results([start_soa_probe(ctx, a, servers.zone) for a in owners])
    answered = [a for a, problem in zip(owners, problems, strict=True) if problem is None]
    failed = {a: p for a, p in zip(owners, problems, strict=True) if p is not None}
    value = {"zone": servers.zone, "answered": answered, "failed": failed}
    if not failed:
        return CheckResult.make(
            Status.PASS, "dns.ns_reach_v6.pass", value, zone=servers.zone, count=len(answered)
        )
    where = _failures({f"{a} ({owners[a]})": reason for a, reason in failed.items()})
    status, code = (Status.WARN, "some") if answered else (Status.FAIL, "none")
    return CheckResult.make(
        status,
        f"dns.ns_reach_v6.{code}",
        value,
        zone=servers.zone,
        failed=where,
        answered=len(answered),
        total=len(owners),
    )


async def chain_v6(ctx: TargetContext, host: str) -> IterativeResult:
    """`host`'s AAAA resolved from the root hints over IPv6 transport only, once per scan."""
    return await ctx.shared.once(
        ("chain-v6", host), lambda: ctx.net.iterate(host, "AAAA", IPV6_ONLY)
    )


@register("dns.chain_v6", profile="standard", indicator=4, needs=(6,))
async def chain(ctx: TargetContext) -> CheckResult:
    """The host's AAAA (and every CNAME target's) is reachable from the root over IPv6 alone."""
    host = ctx.target.host
    try:
        result = await chain_v6(ctx, host)
    except NetError as exc:
        return CheckResult.make(Status.ERROR, "dns.chain_v6.error", host=host, error=str(exc))
    zones = list(dict.fromkeys(display_name(step.zone) for step in result.chain))
    cnames = [display_name(name) for name in result.cnames]
    last = result.chain[-1] if result.chain else None
    broken = last if last is not None and not result.ok and not last.ok else None
    value = {
        "zones": zones,
        "broken_at": display_name(broken.zone) if broken else None,
        "cnames": cnames,
    }
    if result.ok:
        return CheckResult.make(
            Status.PASS, "dns.chain_v6.pass", value, host=host, zones=" → ".join(zones)
        )
    if broken is None:
        return CheckResult.make(
            Status.FAIL, "dns.chain_v6.failed", value, host=host, error=result.error
        )
    servers = _listing([display_name(server.name) for server in broken.servers])
    return CheckResult.make(
        Status.FAIL,
        "dns.chain_v6.broken",
        value,
        host=host,
        zone=display_name(broken.zone),
        servers=servers,
        error=result.error,
    )


@register("dns.mx_aaaa", profile="standard")
async def mx_aaaa(ctx: TargetContext) -> CheckResult:
    """Every MX host of the target's registrable domain has a usable AAAA record."""
    domain = registrable_domain(ctx.target.host)
    mail = await mail_hosts(ctx, domain)
    if mail.error:
        return CheckResult.make(Status.ERROR, "dns.mx_aaaa.error", domain=domain, error=mail.error)
    v6 = mail.usable_v6()
    value = {"mx": v6}
    if mail.null_mx:
        return CheckResult.make(Status.INFO, "dns.mx_aaaa.null_mx", value, domain=domain)
    if not v6:
        return CheckResult.make(Status.INFO, "dns.mx_aaaa.no_mx", value, domain=domain)
    with_v6 = [name for name, addresses in v6.items() if addresses]
    without = [name for name, addresses in v6.items() if not addresses]
    if not without:
        return CheckResult.make(
            Status.PASS, "dns.mx_aaaa.pass", value, domain=domain, hosts=_listing(with_v6)
        )
    errors = mail.lookup_errors()
    if errors:
        return CheckResult.make(
            Status.ERROR, "dns.mx_aaaa.lookup_error", value, domain=domain, errors=_failures(errors)
        )
    status, code = (Status.WARN, "some") if with_v6 else (Status.FAIL, "none")
    return CheckResult.make(
        status,
        f"dns.mx_aaaa.{code}",
        value,
        domain=domain,
        without=_listing(without),
        count=len(with_v6),
        total=len(v6),
    )
