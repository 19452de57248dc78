"""Zone files of the benchmark's DNS: a root, the `test` TLD and the corpus zone, plus the root
hints that lead to them, so that both the resolver and v6pilot's chain check can walk down."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bench.corpus import ZONE, Site
from bench.infra import MAIL, NS1, NS2, ROOT, TLD, Host

TTL = 3600
SOA_TIMERS = "1 3600 600 86400 300"


def _addresses(host: Host) -> list[str]:
    return [f"{host.name}. {TTL} IN AAAA {host.v6}", f"{host.name}. {TTL} IN A {host.v4}"]


def _head(origin: str, servers: Iterable[Host]) -> list[str]:
    apex = f"{origin}." if origin else "."
    names = [s.name for s in servers]
    lines = [f"{apex} {TTL} IN SOA {names[0]}. hostmaster.{apex.lstrip('.')} {SOA_TIMERS}"]
    return lines + [f"{apex} {TTL} IN NS {name}." for name in names]


def root_zone() -> str:
    """The root: its server, and `test.` delegated to the TLD server with glue."""
    lines = _head("", [ROOT]) + _addresses(ROOT)
    lines += [f"test. {TTL} IN NS {TLD.name}.", *_addresses(TLD)]
    return "\n".join(lines) + "\n"


def tld_zone() -> str:
    """`test.`: the infrastructure names under it and the corpus zone delegated with glue."""
    lines = _head("test", [TLD]) + _addresses(TLD) + _addresses(ROOT)
    lines += [f"{ZONE}. {TTL} IN NS {ns.name}." for ns in (NS1, NS2)]
    lines += [*_addresses(NS1), *_addresses(NS2)]
    return "\n".join(lines) + "\n"


def corpus_zone(sites: Iterable[Site]) -> str:
    """The corpus zone: two IPv6 name servers, one MX with a live SMTP server, every site."""
    lines = _head(ZONE, [NS1, NS2]) + _addresses(NS1) + _addresses(NS2) + _addresses(MAIL)
    lines.append(f"{ZONE}. {TTL} IN MX 10 {MAIL.name}.")
    for site in sites:
        lines.append(f"{site.host}. {TTL} IN AAAA {site.v6}")
        lines.append(f"{site.host}. {TTL} IN A {site.v4}")
    return "\n".join(lines) + "\n"


def root_hints() -> str:
    """named.root-style hints naming the lab's root server."""
    return "\n".join([f". {TTL} IN NS {ROOT.name}.", *_addresses(ROOT)]) + "\n"


def write_zones(directory: Path, sites: Iterable[Site]) -> dict[str, Path]:
    """Write the three zone files and `root.hints` into `directory`; returns zone -> file."""
    files = {".": directory / "root.zone", "test": directory / "test.zone"}
    files[ZONE] = directory / f"{ZONE}.zone"
    files["."].write_text(root_zone())
    files["test"].write_text(tld_zone())
    files[ZONE].write_text(corpus_zone(sites))
    (directory / "root.hints").write_text(root_hints())
    return files
