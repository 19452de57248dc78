"""NSD instances for the benchmark: one per delegation level, so that a walk from the root
really hops root -> `test` -> the corpus zone instead of being answered by one server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def config(name: str, workdir: Path, addresses: Sequence[str], zones: dict[str, Path]) -> str:
    """nsd.conf of instance `name` serving `zones` (name -> zone file) on `addresses`."""
    listen = "\n".join(f"    ip-address: {a}" for a in addresses)
    zone_blocks = "\n".join(
        f'zone:\n    name: "{zone}"\n    zonefile: "{path}"\n' for zone, path in zones.items()
    )
    return f"""\
server:
{listen}
    port: 53
    server-count: 1
    reuseport: yes
    receive-buffer-size: 8388608
    send-buffer-size: 8388608
    tcp-count: 1000
    username: ""
    chroot: ""
    database: ""
    zonesdir: "{workdir}"
    zonelistfile: "{workdir}/nsd-{name}.zonelist"
    xfrdfile: "{workdir}/nsd-{name}.xfrd"
    xfrdir: "{workdir}"
    pidfile: "{workdir}/nsd-{name}.pid"
    logfile: "{workdir}/nsd-{name}.log"
    verbosity: 0
    hide-version: yes
    refuse-any: yes
remote-control:
    control-enable: no
{zone_blocks}"""


def command(conf: Path) -> list[str]:
    """The foreground NSD command line."""
    return ["nsd", "-d", "-c", str(conf)]
