"""Resume one recorded run to its end over a scripted network, as a process the resume kill
test can SIGKILL at any moment:

    python -m tests.scan.resume_runner DB_URL RUN_ID OUT.jsonl SEED

Every host is dual-stack with a homepage and each network call takes 1-20 ms, so a few
hundred targets take a couple of seconds; nothing leaves the process. Prints `resuming N`
once the run is open and N targets remain, and commits every few results, so that kills land
before, between and during commits.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

import dns.message

from v6pilot.net.dns import RdataTypeLike, Resolution
from v6pilot.net.mock import MockNetwork
from v6pilot.net.types import HttpResponse, TcpOutcome
from v6pilot.scan.resume import resume_run
from v6pilot.store.db import open_store

V4 = "192.0.2.10"
V6 = "2001:db8::10"
COMMIT_EVERY = 7
COMMIT_SECONDS = 0.1


class DelayedNetwork(MockNetwork):
    """A MockNetwork that declares each host when first resolved and delays every call."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.random = random.Random(seed)

    async def _pause(self) -> None:
        await asyncio.sleep(self.random.uniform(0.001, 0.020))

    async def resolve(self, name: str, rdtype: RdataTypeLike) -> Resolution:
        host = name.rstrip(".").lower()
        if (host, "A") not in self.records:
            self.add_host(host, [V4], [V6])
            for address in (V4, V6):
                self.add_page(f"http://{host}/", address, body="<html><body>ok</body></html>")
        await self._pause()
        return await super().resolve(name, rdtype)

    async def query(self, server: str, name: str, rdtype: RdataTypeLike) -> dns.message.Message:
        await self._pause()
        return await super().query(server, name, rdtype)

    async def connect(self, address: str, port: int) -> TcpOutcome:
        await self._pause()
        return await super().connect(address, port)

    async def fetch(
        self, url: str, address: str, *, method: str = "GET", max_body: int | None = None
    ) -> HttpResponse:
        await self._pause()
        return await super().fetch(url, address, method=method, max_body=max_body)


def main(db_url: str, run_id: int, out: Path, seed: int) -> int:
    """Resume the run to its end; the number of targets scanned."""
    with open_store(db_url) as store:
        recorded = resume_run(store, run_id)
        print(f"resuming {recorded.remaining}", flush=True)
        return recorded.run(
            out=out,
            network=lambda: DelayedNetwork(seed),
            commit_every=COMMIT_EVERY,
            commit_seconds=COMMIT_SECONDS,
        )


if __name__ == "__main__":
    url, run, path, seed_text = sys.argv[1:5]
    print(f"scanned {main(url, int(run), Path(path), int(seed_text))}", flush=True)
