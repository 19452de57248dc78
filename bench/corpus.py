"""The benchmark corpus: site names in one zone, spread over 256 IPv6 and 256 IPv4 addresses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

ZONE = "bench.test"
ADDRESS_SLOTS = 256
WEB_V6_PREFIX = "2001:db8:80::"
WEB_V4_BLOCKS = (("203.0.113.", 254), ("198.51.100.", 2))
"""(prefix, count) of IPv4 web addresses, numbered from .1: 254 + 2 = 256 slots."""


@dataclass(frozen=True, slots=True)
class Site:
    """One site of the corpus: its host name and the addresses its A and AAAA point to."""

    host: str
    v6: str
    v4: str


def site_name(index: int) -> str:
    """The host name of site `index` (0-based): `s00001.bench.test` for index 0."""
    return f"s{index + 1:05d}.{ZONE}"


def web_v6(slot: int) -> str:
    """The IPv6 web address of address slot 0..255."""
    return f"{WEB_V6_PREFIX}{slot + 1:x}"


def web_v4(slot: int) -> str:
    """The IPv4 web address of address slot 0..255, taken from the blocks in order."""
    remaining = slot
    for prefix, count in WEB_V4_BLOCKS:
        if remaining < count:
            return f"{prefix}{remaining + 1}"
        remaining -= count
    raise ValueError(f"address slot {slot} is outside 0..{ADDRESS_SLOTS - 1}")


def site(index: int) -> Site:
    """Site `index`, its addresses chosen round-robin over the address slots."""
    slot = index % ADDRESS_SLOTS
    return Site(site_name(index), web_v6(slot), web_v4(slot))


def sites(count: int) -> Iterator[Site]:
    """The first `count` sites, generated lazily."""
    return (site(i) for i in range(count))


def web_addresses() -> list[str]:
    """Every web address of both families (what the server namespace puts on `lo`)."""
    return [a for slot in range(ADDRESS_SLOTS) for a in (web_v6(slot), web_v4(slot))]
