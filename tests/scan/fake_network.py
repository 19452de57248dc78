"""A scripted network for distributed-scan tests, named to workers by
`V6PILOT_NETWORK_FACTORY=tests.scan.fake_network:make_network`: every host is dual-stack with
a homepage, each target takes 20-50 ms, and no packet leaves the process.

`V6PILOT_FAKE_LOG` names a file that gets a line `<process group> <host> served|stalled` for
each host a network first meets; with `V6PILOT_FAKE_STALL_AFTER=N` a network serves its first
N hosts and hangs on every later one, to hold a worker mid-chunk until it is killed."""

from __future__ import annotations

import asyncio
import os
import zlib
from pathlib import Path

from v6pilot.checks.context import ScanOptions
from v6pilot.net.dns import RdataTypeLike, Resolution
from v6pilot.net.mock import MockNetwork
from v6pilot.scan.session import NetworkConfig

LOG_ENV = "V6PILOT_FAKE_LOG"
STALL_AFTER_ENV = "V6PILOT_FAKE_STALL_AFTER"
V4 = "192.0.2.10"
V6 = "2001:db8::10"


def delay(host: str) -> float:
    """20 to 50 ms, fixed per host."""
    return 0.020 + (zlib.crc32(host.encode()) % 31) / 1000


class ScriptedNetwork(MockNetwork):
    """A MockNetwork that declares each host the first time its addresses are asked for."""

    def __init__(self, stall_after: int | None = None, log: Path | None = None) -> None:
        super().__init__()
        self.stall_after = stall_after
        self.log = log
        self.served: list[str] = []
        self.stalled: set[str] = set()

    def _meet(self, host: str) -> None:
        if self.stall_after is not None and len(self.served) >= self.stall_after:
            self.stalled.add(host)
        else:
            self.served.append(host)
            self.add_host(host, [V4], [V6])
            for address in (V4, V6):
                self.add_page(f"http://{host}/", address, body="<html><body>ok</body></html>")
        if self.log is not None:
            fate = "stalled" if host in self.stalled else "served"
            with self.log.open("a") as out:
                out.write(f"{os.getpgid(0)} {host} {fate}\n")

    async def resolve(self, name: str, rdtype: RdataTypeLike) -> Resolution:
        host = name.rstrip(".").lower()
        if rdtype in ("A", "AAAA"):
            if host not in self.stalled and host not in self.served:
                self._meet(host)
            if host in self.stalled:
                await asyncio.Event().wait()
            await asyncio.sleep(delay(host))
        return await super().resolve(name, rdtype)


def make_network(config: NetworkConfig, options: ScanOptions) -> ScriptedNetwork:
    """The factory workers call instead of building the live network."""
    stall_after = os.environ.get(STALL_AFTER_ENV)
    log = os.environ.get(LOG_ENV)
    return ScriptedNetwork(int(stall_after) if stall_after else None, Path(log) if log else None)
