"""A miniature DNS hierarchy (root -> TLDs -> zones) served by the lab's authoritative server.

Loopback mode puts every server on 127.53.x.y (all of 127/8 is on lo) and only the root also
on ::1; namespace mode gives every server but the v4only. ones a 2001:db8:53::/64 address too.
All servers share one port so that the resolver under test can be pointed at it.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass, field

import dns.zone
import pytest

from v6pilot.lab.dnsserver import AuthoritativeServer, DnsListener, Responder, listen_dns
from v6pilot.net import netns
from v6pilot.net.roothints import NameServer, RootHints

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 (`ip`) to create a network namespace",
)


@dataclass(frozen=True)
class Host:
    """A name server host: its name and its IPv4 / IPv6 address (either may be missing)."""

    name: str
    v4: str | None
    v6: str | None

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.v6, self.v4) if a is not None]

    def records(self) -> list[str]:
        lines = [f"{self.name} A {self.v4}"] if self.v4 else []
        return lines + ([f"{self.name} AAAA {self.v6}"] if self.v6 else [])


def _hosts(v6_prefix: str | None, v4_prefix: str) -> dict[str, Host]:
    """The servers of the hierarchy; `v6_prefix` None gives IPv6 to the root only (as ::1)."""
    plan = {
        "root": ("a.root-servers.test.", 1),
        "tld1": ("ns1.nic.test.", 11),
        "tld2": ("ns2.nic.test.", 12),
        "other": ("ns.nic.other.", 21),
        "v4only1": ("ns1.nic.v4only.", 31),
        "v4only2": ("ns2.nic.v4only.", 32),
        "good1": ("ns1.good.test.", 41),
        "good2": ("ns2.good.test.", 42),
        "hosting": ("ns.hosting.other.", 51),
    }
    hosts = {}
    for role, (name, number) in plan.items():
        if v6_prefix is None:
            v6 = "::1" if role == "root" else None
        else:
            v6 = None if role.startswith("v4only") else f"{v6_prefix}{number:x}"
        hosts[role] = Host(name, f"{v4_prefix}{number}", v6)
    return hosts


LOOPBACK_HOSTS = _hosts(None, "127.53.0.")
NETNS_HOSTS = _hosts("2001:db8:53::", "192.0.2.")


def _zone(
    origin: str, hosts: Mapping[str, Host], servers: list[str], body: list[str]
) -> dns.zone.Zone:
    ns = [hosts[role] for role in servers]
    lines = [
        "$TTL 300",
        f"{origin} IN SOA {ns[0].name} hostmaster.{origin.lstrip('.')} 1 3600 600 86400 60",
        *(f"{origin} NS {h.name}" for h in ns),
        *body,
    ]
    return dns.zone.from_text("\n".join(lines), origin=origin, relativize=False)


def _delegation(child: str, hosts: Mapping[str, Host], roles: list[str], glue: bool) -> list[str]:
    lines = [f"{child} NS {hosts[role].name}" for role in roles]
    if glue:
        lines += [line for role in roles for line in hosts[role].records()]
    return lines


def build_zones(hosts: Mapping[str, Host]) -> dict[str, dns.zone.Zone]:
    """The zones of the hierarchy by origin."""
    big = [f'big.good.test. TXT "{n:03d} {"x" * 60}"' for n in range(40)]
    return {
        ".": _zone(
            ".",
            hosts,
            ["root"],
            [
                *hosts["root"].records(),
                *_delegation("test.", hosts, ["tld1", "tld2"], glue=True),
                *_delegation("other.", hosts, ["other"], glue=True),
                *_delegation("v4only.", hosts, ["v4only1", "v4only2"], glue=True),
            ],
        ),
        "test.": _zone(
            "test.",
            hosts,
            ["tld1", "tld2"],
            [
                *hosts["tld1"].records(),
                *hosts["tld2"].records(),
                *_delegation("good.test.", hosts, ["good1", "good2"], glue=True),
                *_delegation("glueless.test.", hosts, ["hosting"], glue=False),
            ],
        ),
        "other.": _zone(
            "other.",
            hosts,
            ["other"],
            [*hosts["other"].records(), *hosts["hosting"].records()],
        ),
        "v4only.": _zone(
            "v4only.",
            hosts,
            ["v4only1", "v4only2"],
            [
                *hosts["v4only1"].records(),
                *hosts["v4only2"].records(),
                "www.v4only. A 192.0.2.70",
                "www.v4only. AAAA 2001:db8::70",
            ],
        ),
        "good.test.": _zone(
            "good.test.",
            hosts,
            ["good1", "good2"],
            [
                *hosts["good1"].records(),
                *hosts["good2"].records(),
                "www.good.test. A 192.0.2.80",
                "www.good.test. AAAA 2001:db8::80",
                "alias.good.test. CNAME www.good.test.",
                "away.good.test. CNAME www.glueless.test.",
                "missing.good.test. CNAME nothing.good.test.",
                "loop1.good.test. CNAME loop2.good.test.",
                "loop2.good.test. CNAME loop1.good.test.",
                "*.wild.good.test. A 192.0.2.81",
                "deep.ent.good.test. A 192.0.2.82",
                "sub.good.test. NS ns.sub.good.test.",
                "sub.good.test. NS ns.elsewhere.example.",
                "ns.sub.good.test. A 198.51.100.53",
                "ns.sub.good.test. AAAA 2001:db8:5b::53",
                *big,
            ],
        ),
        "glueless.test.": _zone(
            "glueless.test.", hosts, ["hosting"], ["www.glueless.test. A 192.0.2.90"]
        ),
    }


SERVED = {
    "root": ["."],
    "tld1": ["test."],
    "tld2": ["test."],
    "other": ["other."],
    "v4only1": ["v4only."],
    "v4only2": ["v4only."],
    "good1": ["good.test."],
    "good2": ["good.test."],
    "hosting": ["glueless.test."],
}


def silent(wire: bytes, tcp: bool) -> bytes:
    """A server that never answers (the client times out)."""
    return b""


@dataclass
class ServedHierarchy:
    """The running hierarchy: its port, root hints and the queries each role received."""

    hosts: Mapping[str, Host]
    port: int
    listeners: list[DnsListener]
    queries: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def hints(self) -> RootHints:
        root = self.hosts["root"]
        return RootHints([NameServer(root.name, root.addresses)])

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()


async def serve_hierarchy(
    hosts: Mapping[str, Host] = LOOPBACK_HOSTS,
    overrides: Mapping[str, Responder | None] | None = None,
    port: int = 0,
) -> ServedHierarchy:
    """Serve every role's zones on all its addresses; `overrides` swap in other responders.

    An override of None leaves the role's addresses unbound, so queries to them are refused.
    """
    zones = build_zones(hosts)
    hierarchy = ServedHierarchy(hosts, port, [])
    overrides = overrides or {}
    try:
        for role, host in hosts.items():
            responder = (
                overrides[role]
                if role in overrides
                else AuthoritativeServer([zones[o] for o in SERVED[role]]).handle
            )
            if responder is None:
                continue
            for address in host.addresses:
                listener = await listen_dns(
                    address, hierarchy.port, _counting(hierarchy, role, responder)
                )
                hierarchy.port = listener.port
                hierarchy.listeners.append(listener)
    except BaseException:
        hierarchy.close()
        raise
    return hierarchy


def _counting(hierarchy: ServedHierarchy, role: str, responder: Responder) -> Responder:
    def respond(wire: bytes, tcp: bool) -> bytes | Awaitable[bytes]:
        hierarchy.queries[role] += 1
        return responder(wire, tcp)

    return respond


@contextlib.contextmanager
def scratch_netns(name: str, addresses: list[str]) -> Iterator[str]:
    """A throwaway network namespace with lo up and `addresses` (/32, /128) on lo."""
    assert name.startswith("v6p-t-")
    if netns.exists(name):
        netns.ip("netns", "delete", name)
    netns.ip("netns", "add", name)
    try:
        lines = ["link set lo up"]
        for address in addresses:
            prefix = 128 if ":" in address else 32
            lines.append(f"addr add {address}/{prefix} dev lo")
        netns.ip_batch(lines, netns=name)
        yield name
    finally:
        netns.ip("netns", "delete", name, check=False)
