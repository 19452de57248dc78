"""Registrable domains by the public suffix list (offline), to tell a site's own links apart."""

from __future__ import annotations

import ipaddress
from functools import cache

import tldextract


@cache
def _extractor() -> tldextract.TLDExtract:
    """The bundled public suffix list snapshot; never fetched, never cached on disk."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registrable_domain(host: str) -> str:
    """The domain a host belongs to: one label below its public suffix (`a.b.gov.cn` -> `b.gov.cn`).

    `host` is lower-cased ASCII (IDN labels in ACE form). A suffix the list does not know (the
    lab's `.test`) is taken to be the last label. An IP literal, a single label or a public
    suffix itself is its own registrable domain.
    """
    name = host.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(name.strip("[]"))
        return name.strip("[]")
    except ValueError:
        pass
    parts = _extractor()(name)
    if parts.suffix:
        return parts.top_domain_under_public_suffix or name
    return ".".join(name.split(".")[-2:])
