"""Which addresses count as usable for an IPv6 verdict, and why not when they don't."""

from __future__ import annotations

import ipaddress
from functools import lru_cache


@lru_cache(maxsize=65536)
def unusable_reason(address: str, *, allow_private: bool) -> str | None:
    """Why `address` cannot count as a real address of a public service, or None if it can.

    IPv4-mapped IPv6 (::ffff:a.b.c.d) never counts as IPv6. Without `allow_private`,
    non-global ranges (loopback, link-local, ULA, private IPv4, documentation) do not count.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return "IPv4-mapped IPv6 address"
    if ip.is_unspecified or ip.is_multicast:
        return "unspecified or multicast address"
    if ip.is_loopback:
        return None if allow_private else "loopback address"
    if not allow_private and not ip.is_global:
        return "non-global (private, link-local, ULA or documentation) address"
    return None


@lru_cache(maxsize=65536)
def literal_version(address: str) -> int:
    """4 or 6 for an IP literal (an IPv6 zone suffix like `%eth0` allowed), 0 for anything else
    (a host name); remembered, as hosts and addresses recur."""
    if ":" not in address and not address[-1:].isdigit():
        return 0
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return 0
