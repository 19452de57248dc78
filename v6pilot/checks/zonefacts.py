"""DNS facts the DNS and mail checks share: a host's zone, its name servers and a domain's MX
hosts, each with their usable IPv6 addresses, looked up once per scan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from v6pilot.checks import facts
from v6pilot.checks.context import TargetContext
from v6pilot.errors import NetError, NetRefused, NetTimeout, NetUnreachable

_FAILURE_KINDS: tuple[tuple[type[NetError], str], ...] = (
    (NetTimeout, "timeout"),
    (NetRefused, "refused"),
    (NetUnreachable, "unreachable"),
)


def failure_reason(exc: NetError) -> str:
    """A short reason for a failed exchange that leads with its kind, e.g. `timeout: ...`."""
    for kind, label in _FAILURE_KINDS:
        if isinstance(exc, kind):
            return f"{label}: {exc.detail}"
    return exc.detail


def display_name(name: str) -> str:
    """A domain name as shown to users: no final dot, the root as `.`."""
    return name.rstrip(".") or "."


def _parent(name: str) -> str | None:
    """The parent of `name` (`""` for a TLD, the root), or None for the root itself."""
    if not name:
        return None
    _, _, rest = name.partition(".")
    return rest


async def _is_apex(ctx: TargetContext, name: str) -> bool:
    """True when `name` owns an SOA record, i.e. is a zone apex; once per scan."""

    async def ask() -> bool:
        resolution = await ctx.net.resolve(name or ".", "SOA")
        return not resolution.cnames and bool(resolution.records)

    return await ctx.shared.once(("zone-apex", name), ask)


async def enclosing_zone(ctx: TargetContext, host: str) -> str | None:
    """The zone `host` belongs to (`""` for the root), or None when no SOA was found up to the
    root. Resolver failures raise `NetError`."""
    name: str | None = host.rstrip(".").lower()
    while name is not None:
        if await _is_apex(ctx, name):
            return name
        name = _parent(name)
    return None


@dataclass
class ZoneServers:
    """The name servers of the zone enclosing a host, with their IPv6 addresses."""

    host: str
    zone: str = ""
    nameservers: dict[str, facts.Addresses] = field(default_factory=dict)
    error: str = ""

    def usable_v6(self) -> dict[str, list[str]]:
        """Each name server's usable IPv6 addresses (empty list when it has none)."""
        return {name: found.usable for name, found in self.nameservers.items()}

    def lookup_errors(self) -> dict[str, str]:
        """Name servers whose AAAA lookup failed at the resolver (not a missing record)."""
        return {n: f.error for n, f in self.nameservers.items() if f.lookup_failed}


async def zone_servers(ctx: TargetContext, host: str) -> ZoneServers:
    """The zone enclosing `host`, its NS names and their AAAA: the zone once per host, its name
    servers once per zone (a scan of many names in one zone asks for them once)."""
    found = ZoneServers(host)
    try:
        zone = await enclosing_zone(ctx, host)
    except NetError as exc:
        found.error = str(exc)
        return found
    if zone is None:
        found.error = f"no zone with an SOA record encloses {host}"
        return found
    found.zone = display_name(zone)
    nameservers = await _zone_nameservers(ctx, zone)
    if isinstance(nameservers, str):
        found.error = nameservers
    else:
        found.nameservers = nameservers
    return found


async def _zone_nameservers(ctx: TargetContext, zone: str) -> dict[str, facts.Addresses] | str:
    """The NS names of `zone` with their IPv6 addresses, or the lookup's error; once per scan."""

    async def lookup() -> dict[str, facts.Addresses] | str:
        try:
            resolution = await ctx.net.resolve(zone or ".", "NS")
        except NetError as exc:
            return str(exc)
        names = sorted({display_name(record) for record in resolution.records})
        v6 = await asyncio.gather(*(facts.addresses(ctx, name, 6) for name in names))
        return dict(zip(names, v6, strict=True))

    return await ctx.shared.once(
        ("zone-nameservers", zone), lookup, keep=lambda found: not isinstance(found, str)
    )


@dataclass
class MailHosts:
    """The MX hosts of a registrable domain, in preference order, with their IPv6 addresses."""

    domain: str
    hosts: dict[str, facts.Addresses] = field(default_factory=dict)
    null_mx: bool = False
    error: str = ""

    def usable_v6(self) -> dict[str, list[str]]:
        """Each MX host's usable IPv6 addresses (empty list when it has none)."""
        return {name: found.usable for name, found in self.hosts.items()}

    def lookup_errors(self) -> dict[str, str]:
        """MX hosts whose AAAA lookup failed at the resolver (not a missing record)."""
        return {n: f.error for n, f in self.hosts.items() if f.lookup_failed}


def parse_mx(record: str) -> tuple[int, str]:
    """(preference, host) of an MX record's text, e.g. `10 mail.example.` -> (10, `mail.example`).

    The null MX (`0 .`, RFC 7505) gives the host `""`.
    """
    preference, _, exchange = record.strip().partition(" ")
    return int(preference), exchange.strip().rstrip(".").lower()


async def mail_hosts(ctx: TargetContext, domain: str) -> MailHosts:
    """The MX hosts of `domain` and their AAAA, once per scan."""

    async def lookup() -> MailHosts:
        found = MailHosts(domain)
        try:
            resolution = await ctx.net.resolve(domain, "MX")
        except NetError as exc:
            found.error = str(exc)
            return found
        exchanges = sorted(parse_mx(record) for record in resolution.records)
        names = list(dict.fromkeys(name for _, name in exchanges if name))
        found.null_mx = bool(exchanges) and not names
        v6 = await asyncio.gather(*(facts.addresses(ctx, name, 6) for name in names))
        found.hosts = dict(zip(names, v6, strict=True))
        return found

    return await ctx.shared.once(("mail-hosts", domain), lookup, keep=lambda found: not found.error)
