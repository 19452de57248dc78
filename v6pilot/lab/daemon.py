"""Entry point of the lab's server processes: `python -m v6pilot.lab.daemon dns|web`.

`lab up` starts one inside the dns namespace and one inside the web namespace; each binds all
of its namespace's service addresses, then touches `<state>/<role>.ready`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from v6pilot.lab.catalogue import Catalogue, load_catalogue
from v6pilot.lab.dnsserver import AuthoritativeServer, serve_dns
from v6pilot.lab.resolver import serve_resolver
from v6pilot.lab.tlsca import LabCA
from v6pilot.lab.webserver import serve_web
from v6pilot.lab.zones import server_zones
from v6pilot.net.roothints import load_root_hints


async def _run_dns(catalogue: Catalogue, state: Path, stop: asyncio.Event) -> None:
    bindings: list[tuple[str, int, AuthoritativeServer]] = []
    for host, zones in server_zones(catalogue):
        server = AuthoritativeServer(zones)
        bindings.extend(
            (e.address, 53, server) for e in host.endpoints if e.state != "refuse" and not e.mapped
        )
    servers = await serve_dns(bindings)
    resolver_addresses = [(e.address, 53) for e in catalogue.resolver.endpoints]
    resolver = await serve_resolver(resolver_addresses, load_root_hints(state / "root.hints"))
    (state / "dns.ready").touch()
    await stop.wait()
    await resolver.close()
    for closable in servers:
        closable.close()


async def _run_web(catalogue: Catalogue, state: Path, stop: asyncio.Event) -> None:
    servers = await serve_web(catalogue, LabCA.load(state))
    (state / "web.ready").touch()
    await stop.wait()
    await servers.close()


async def _main(role: str) -> None:
    state = Path(os.environ["V6PILOT_LAB_STATE"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    run = {"dns": _run_dns, "web": _run_web}[role]
    await run(load_catalogue(), state, stop)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
