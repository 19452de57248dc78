"""The benchmark lab as a whole: namespaces, generated files and the servers, up for the length
of a `with` block and torn down after it, also on Ctrl-C or an error."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import nginx, nsd, topology, unbound, webcontent, zones
from bench.corpus import ZONE, sites
from bench.daemons import Daemon, socket_name
from bench.infra import MAIL, NS1, NS2, RESOLVER, ROOT, TLD, Host
from v6pilot.lab.tlsca import CA_CERT_FILE, LabCA

CA_DIR = "ca"
WEB_SOCKETS = {("tcp", s) for port in (80, 443) for s in (f"0.0.0.0:{port}", f"[::]:{port}")}


@dataclass(frozen=True)
class BenchLab:
    """A running lab: what a client needs to use it, and the resolver to restart for cold runs."""

    workdir: Path
    site_count: int
    ca_file: Path
    root_hints: Path
    resolver: Daemon


def _dns_sockets(hosts: tuple[Host, ...]) -> set[tuple[str, str]]:
    return {
        (kind, socket_name(a, 53)) for h in hosts for a in h.addresses for kind in ("udp", "tcp")
    }


def _write_tls(workdir: Path) -> tuple[Path, Path]:
    """A fresh CA in `workdir/ca` and a wildcard certificate for the corpus zone."""
    ca = LabCA.create(workdir / CA_DIR)
    chain, key = ca.issue([f"*.{ZONE}", ZONE])
    cert_path, key_path = workdir / "site.pem", workdir / "site.key"
    cert_path.write_bytes(chain)
    key_path.write_bytes(key)
    return cert_path, key_path


def _daemons(workdir: Path, site_count: int) -> tuple[list[Daemon], Daemon]:
    """Write every config and return the daemons to start, the resolver separately."""
    zone_files = zones.write_zones(workdir, sites(site_count))
    cert, key = _write_tls(workdir)
    www = workdir / "www"
    webcontent.write_site(www)
    server = topology.SERVER
    result = []
    for name, hosts, zone in (
        ("root", (ROOT,), "."),
        ("tld", (TLD,), "test"),
        ("zone", (NS1, NS2), ZONE),
    ):
        conf = workdir / f"nsd-{name}.conf"
        addresses = [a for h in hosts for a in h.addresses]
        conf.write_text(nsd.config(name, workdir, addresses, {zone: zone_files[zone]}))
        result.append(
            Daemon(
                f"nsd-{name}",
                server,
                nsd.command(conf),
                _dns_sockets(hosts),
                workdir / f"nsd-{name}.out",
            )
        )
    nginx_conf = workdir / "nginx.conf"
    nginx_conf.write_text(nginx.config(workdir, www, cert, key))
    result.append(
        Daemon(
            "nginx", server, nginx.command(nginx_conf, workdir), WEB_SOCKETS, workdir / "nginx.out"
        )
    )
    smtp_sockets = {("tcp", socket_name(a, 25)) for a in MAIL.addresses}
    smtp = [sys.executable, "-m", "bench.smtpd", *MAIL.addresses]
    result.append(Daemon("smtpd", server, smtp, smtp_sockets, workdir / "smtpd.out"))
    unbound_conf = workdir / "unbound.conf"
    unbound_conf.write_text(unbound.config(workdir, RESOLVER.addresses, workdir / "root.hints"))
    resolver = Daemon(
        "unbound",
        server,
        unbound.command(unbound_conf),
        _dns_sockets((RESOLVER,)),
        workdir / "unbound.out",
    )
    return result, resolver


@contextlib.contextmanager
def running(workdir: Path, site_count: int) -> Iterator[BenchLab]:
    """Build the lab for `site_count` names in `workdir`, yield it, and always tear it down."""
    topology.destroy()
    started: list[Daemon] = []
    try:
        topology.build()
        daemons, resolver = _daemons(workdir, site_count)
        for daemon in [*daemons, resolver]:
            started.append(daemon)
            daemon.start()
        yield BenchLab(
            workdir, site_count, workdir / CA_DIR / CA_CERT_FILE, workdir / "root.hints", resolver
        )
    finally:
        for daemon in reversed(started):
            daemon.stop()
        topology.destroy()
