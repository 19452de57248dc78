"""Mail checks: do the domain's mail exchangers speak SMTP over IPv6?"""

from __future__ import annotations

import asyncio

from v6pilot.checks.context import TargetContext
from v6pilot.checks.domains import registrable_domain
from v6pilot.checks.registry import register
from v6pilot.checks.result import CheckResult, Status
from v6pilot.checks.zonefacts import failure_reason, mail_hosts
from v6pilot.errors import NetError

HELO_NAME = "v6pilot.invalid"


async def smtp_over(ctx: TargetContext, address: str) -> str | None:
    """Why `address` failed the SMTP greeting and EHLO, or None when both worked; once per scan."""

    async def ask() -> str | None:
        try:
            reply = await ctx.net.smtp(address, helo=HELO_NAME)
        except NetError as exc:
            return failure_reason(exc)
        if reply.ok:
            return None
        if not reply.banner.startswith("220"):
            return f"banner {reply.banner or '(none)'}"
        return f"EHLO answered {reply.ehlo[-1] if reply.ehlo else '(nothing)'}"

    return await ctx.shared.once(("smtp-over", address), ask)


@register("mail.smtp_v6", profile="standard", needs=(6,))
async def smtp_v6(ctx: TargetContext) -> CheckResult:
    """Every IPv6 address of every MX host greets with 220 and answers EHLO with 250."""
    domain = registrable_domain(ctx.target.host)
    mail = await mail_hosts(ctx, domain)
    if mail.error:
        return CheckResult.make(Status.ERROR, "mail.smtp_v6.error", domain=domain, error=mail.error)
    if mail.null_mx:
        return CheckResult.make(Status.INFO, "mail.smtp_v6.null_mx", domain=domain)
    if not mail.hosts:
        return CheckResult.make(Status.INFO, "mail.smtp_v6.no_mx", domain=domain)
    owners = {a: host for host, addresses in mail.usable_v6().items() for a in addresses}
    if not owners:
        errors = mail.lookup_errors()
        if errors:
            listing = "; ".join(f"{host}: {error}" for host, error in errors.items())
            return CheckResult.make(
                Status.ERROR, "mail.smtp_v6.lookup_error", domain=domain, errors=listing
            )
        return CheckResult.make(Status.SKIPPED, "mail.smtp_v6.no_aaaa", domain=domain)
    problems = await asyncio.gather(*(smtp_over(ctx, address) for address in owners))
    ok = [a for a, problem in zip(owners, problems, strict=True) if problem is None]
    failed = {a: p for a, p in zip(owners, problems, strict=True) if p is not None}
    value = {"ok": ok, "failed": failed}
    if not failed:
        return CheckResult.make(
            Status.PASS, "mail.smtp_v6.pass", value, domain=domain, count=len(ok)
        )
    where = "; ".join(f"{a} ({owners[a]}): {reason}" for a, reason in failed.items())
    status, code = (Status.WARN, "some") if ok else (Status.FAIL, "none")
    return CheckResult.make(
        status,
        f"mail.smtp_v6.{code}",
        value,
        domain=domain,
        failed=where,
        ok=len(ok),
        total=len(owners),
    )
