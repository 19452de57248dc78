"""A tiny SMTP responder for the corpus's MX: `python -m bench.smtpd ADDRESS ...` (port 25).

v6pilot probes each MX address once per scan, so the lab's own Python responder is fast enough.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bench.infra import MAIL
from v6pilot.lab.smtpserver import smtp_session

SMTP_PORT = 25


async def serve(addresses: list[str]) -> None:
    """Answer SMTP on every address until SIGTERM."""
    servers = [
        await asyncio.start_server(
            lambda r, w: smtp_session(MAIL.name, r, w), address, SMTP_PORT, reuse_address=True
        )
        for address in addresses
    ]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1:]))
