"""Unbound as the client's recursive resolver, iterating from the benchmark's root hints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def config(workdir: Path, addresses: Sequence[str], root_hints: Path) -> str:
    """unbound.conf listening on `addresses`, no DNSSEC validation, caches sized for 100k names.

    Unbound answers `.test` itself (RFC 6761) unless told not to: `nodefault` lets it iterate.
    """
    listen = "\n".join(f"    interface: {a}" for a in addresses)
    return f"""\
server:
{listen}
    port: 53
    do-ip4: yes
    do-ip6: yes
    do-udp: yes
    do-tcp: yes
    access-control: 0.0.0.0/0 allow
    access-control: ::/0 allow
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    logfile: ""
    use-syslog: no
    verbosity: 0
    root-hints: "{root_hints}"
    module-config: "iterator"
    num-threads: 1
    so-reuseport: yes
    so-rcvbuf: 8m
    so-sndbuf: 8m
    num-queries-per-thread: 16384
    outgoing-range: 16384
    msg-cache-size: 128m
    rrset-cache-size: 256m
    qname-minimisation: no
    minimal-responses: yes
    local-zone: "test." nodefault
remote-control:
    control-enable: no
"""


def command(conf: Path) -> list[str]:
    """The foreground unbound command line."""
    return ["unbound", "-d", "-c", str(conf)]
