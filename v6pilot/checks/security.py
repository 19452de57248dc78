"""Security parity: IPv6 must not open what IPv4 keeps closed, nor drop the protective headers
IPv4 responses carry (docs/checks.md, `sec.*` rows)."""

from __future__ import annotations

import re

from v6pilot.checks.context import TargetContext
from v6pilot.checks.registry import register
from v6pilot.checks.result import CheckResult, Status
from v6pilot.checks.web import (
    both_homepages,
    listing,
    no_final_page,
    open_by_port,
    port_tables,
)

SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
)

_NONCE = re.compile(r"'nonce-[^']*'", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@register("sec.port_parity", profile="full", needs=(4, 6))
async def port_parity(ctx: TargetContext) -> CheckResult:
    """No port of the list is open over IPv6 while closed over IPv4."""
    host = ctx.target.host
    ports = list(ctx.options.sec_ports)
    tables = await port_tables(ctx, ports, "sec.port_parity")
    if isinstance(tables, CheckResult):
        return tables
    table4, table6 = tables
    open4, open6 = open_by_port(table4, ports), open_by_port(table6, ports)
    v6_only = [port for port in ports if open6[port] and not open4[port]]
    value = {"v6_only": v6_only, "checked": ports}
    if not v6_only:
        return CheckResult.make(
            Status.PASS, "sec.port_parity.pass", value, host=host, checked=len(ports)
        )
    exposed = listing(f"{port} ({listing(open6[port])})" for port in v6_only)
    return CheckResult.make(
        Status.FAIL,
        "sec.port_parity.fail",
        value,
        host=host,
        ports=exposed,
        v4=listing(table4),
    )


def normalised(value: str | None) -> str | None:
    """A header value with per-request CSP nonces masked and spacing and case made canonical."""
    if value is None:
        return None
    return _SPACES.sub(" ", _NONCE.sub("'nonce'", value)).strip().lower()


@register("sec.headers_parity", profile="standard", needs=(4, 6))
async def headers_parity(ctx: TargetContext) -> CheckResult:
    """HSTS, CSP, X-Frame-Options and X-Content-Type-Options are the same over both families."""
    v4, v6 = await both_homepages(ctx)
    final4, final6 = v4.final, v6.final
    if final6 is None:
        return no_final_page("sec.headers_parity", v6)
    if final4 is None:
        return no_final_page("sec.headers_parity", v4)
    headers4 = {name: final4.headers.get(name.lower()) for name in SECURITY_HEADERS}
    headers6 = {name: final6.headers.get(name.lower()) for name in SECURITY_HEADERS}
    value = {"v4": headers4, "v6": headers6}
    params = {"v4_url": final4.url, "v6_url": final6.url}
    missing = [n for n in SECURITY_HEADERS if headers4[n] is not None and headers6[n] is None]
    if missing:
        return CheckResult.make(
            Status.FAIL, "sec.headers_parity.fail", value, headers=listing(missing), **params
        )
    differing = [
        f"{n} (IPv4: {headers4[n] or '-'}; IPv6: {headers6[n] or '-'})"
        for n in SECURITY_HEADERS
        if normalised(headers4[n]) != normalised(headers6[n])
    ]
    if differing:
        return CheckResult.make(
            Status.WARN, "sec.headers_parity.warn", value, headers=" | ".join(differing), **params
        )
    present = [n for n in SECURITY_HEADERS if headers4[n] is not None]
    if not present:
        return CheckResult.make(Status.PASS, "sec.headers_parity.none", value, **params)
    return CheckResult.make(
        Status.PASS, "sec.headers_parity.pass", value, headers=listing(present), **params
    )
