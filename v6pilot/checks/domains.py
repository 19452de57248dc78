"""Registrable domains by the public suffix list (offline), to tell a site's own links apart."""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache

import tldextract

DOMAIN_CACHE_ENTRIES = 65536
"""Hosts recur across a site's links and a scan's targets; remembering this many is cheap."""


@cache
def _extractor() -> tldextract.TLDExtract:
    """The bundled public suffix list snapshot; never fetched, never cached on disk."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=DOMAIN_CACHE_ENTRIES)
def registrable_domain(host: str) -> str:
    """The domain a host belongs to: one label below its public suffix (`a.b.gov.cn` -> `b.gov.cn`).

    `host` is lower-cased ASCII (IDN labels in ACE form). A suffix the list does not know (the
    lab's `.test`) is taken to be the last label. An IP literal, a single label or a public
    suffix itself is its own registrable domain.
    """
    name = host.strip().rstrip(".").lower()
    if _may_be_ip_literal(name.strip("[]")):
        try:
            ipaddress.ip_address(name.strip("[]"))
            return name.strip("[]")
        except ValueError:
            pass
    parts = _extractor()(name)
    if parts.suffix:
        return parts.top_domain_under_public_suffix or name
    return ".".join(name.split(".")[-2:])


def _may_be_ip_literal(name: str) -> bool:
    """False for what cannot be an IP literal (no colon, not ending in a digit): the common
    host name, spared a failing parse."""
    return ":" in name or name[-1:].isdigit()
