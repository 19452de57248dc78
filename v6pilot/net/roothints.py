"""Root hints: the root name servers an iterative resolver starts from (named.root format)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import dns.exception
import dns.name
import dns.rdatatype
import dns.rdtypes.ANY.NS
import dns.zone

from v6pilot.errors import RootHintsError


def address_family(address: str) -> int:
    """4 or 6: the IP version of a textual address."""
    return 6 if ":" in address else 4


@dataclass(slots=True)
class NameServer:
    """A name server's host name (absolute, lower case) and its addresses of both families."""

    name: str
    addresses: list[str]

    def addresses_in(self, families: frozenset[int]) -> list[str]:
        """The addresses whose IP version is in `families`, IPv6 first, in listed order."""
        return sorted(
            (a for a in self.addresses if address_family(a) in families),
            key=lambda a: address_family(a) != 6,
        )


@dataclass(slots=True)
class RootHints:
    """The root zone's name servers with their addresses."""

    servers: list[NameServer]


def parse_root_hints(text: str) -> RootHints:
    """Parse zone-file text holding `. NS <server>` plus A/AAAA records for each server."""
    try:
        zone = dns.zone.from_text(text, origin=dns.name.root, relativize=False, check_origin=False)
    except dns.exception.DNSException as exc:
        raise RootHintsError(f"root hints do not parse: {exc}") from exc
    ns_set = zone.get_rdataset(dns.name.root, dns.rdatatype.NS)
    if ns_set is None:
        raise RootHintsError("root hints hold no NS records for the root zone '.'")
    servers = []
    for rdata in ns_set:
        host = cast(dns.rdtypes.ANY.NS.NS, rdata).target
        addresses = [
            rd.to_text()
            for rdtype in (dns.rdatatype.AAAA, dns.rdatatype.A)
            for rd in zone.get_rdataset(host, rdtype) or ()
        ]
        servers.append(NameServer(host.to_text().lower(), addresses))
    if not any(server.addresses for server in servers):
        raise RootHintsError("root hints give no address for any root server")
    return RootHints(servers)


def load_root_hints(path: str | Path) -> RootHints:
    """Read and parse the root hints file at `path`."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise RootHintsError(f"cannot read root hints {path}: {exc}") from exc
    return parse_root_hints(text)


def _server(letter: str, v4: str, v6: str) -> NameServer:
    return NameServer(f"{letter}.root-servers.net.", [v6, v4])


BUILTIN_ROOT_HINTS = RootHints(
    [
        _server("a", "198.41.0.4", "2001:503:ba3e::2:30"),
        _server("b", "170.247.170.2", "2801:1b8:10::b"),
        _server("c", "192.33.4.12", "2001:500:2::c"),
        _server("d", "199.7.91.13", "2001:500:2d::d"),
        _server("e", "192.203.230.10", "2001:500:a8::e"),
        _server("f", "192.5.5.241", "2001:500:2f::f"),
        _server("g", "192.112.36.4", "2001:500:12::d0d"),
        _server("h", "198.97.190.53", "2001:500:1::53"),
        _server("i", "192.36.148.17", "2001:7fe::53"),
        _server("j", "192.58.128.30", "2001:503:c27::2:30"),
        _server("k", "193.0.14.129", "2001:7fd::1"),
        _server("l", "199.7.83.42", "2001:500:9f::42"),
        _server("m", "202.12.27.33", "2001:dc3::35"),
    ]
)
"""IANA's root servers (named.root, 2024). Data only: the lab and tests never contact them."""
