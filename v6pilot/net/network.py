"""The network as checks see it: one small interface, a live implementation and a mock one.

Checks never open sockets themselves; they call a `Network`, so a check is unit-tested in
milliseconds against `MockNetwork` and integration-tested in the lab against `LiveNetwork`.
Every method raises only `NetError` subclasses for network failures.
"""

from __future__ import annotations

from typing import Protocol

import dns.message

from v6pilot.net.dns import RdataTypeLike, Resolution
from v6pilot.net.iterative import IterativeResult
from v6pilot.net.types import HttpResponse, SmtpReply, TcpOutcome


class Network(Protocol):
    async def resolve(self, name: str, rdtype: RdataTypeLike) -> Resolution:
        """Recursive lookup through the configured resolver (RD=1), CNAMEs followed."""
        ...

    async def query(self, server: str, name: str, rdtype: RdataTypeLike) -> dns.message.Message:
        """One non-recursive query straight to `server` (UDP, TCP on truncation)."""
        ...

    async def iterate(
        self, name: str, rdtype: RdataTypeLike, families: frozenset[int]
    ) -> IterativeResult:
        """Iterative resolution from the root hints using only `families` for transport."""
        ...

    async def connect(self, address: str, port: int) -> TcpOutcome:
        """Open (and close) one TCP connection."""
        ...

    async def fetch(
        self,
        url: str,
        address: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        reuse: bool = False,
    ) -> HttpResponse:
        """One HTTP request for `url` sent to `address`, with SNI and Host from the URL; on a
        kept-alive connection to the same host if `reuse`, else on a fresh one."""
        ...

    async def smtp(self, address: str, helo: str) -> SmtpReply:
        """Read the SMTP banner and send EHLO."""
        ...

    def routes(self) -> frozenset[int]:
        """The IP versions (4, 6) this scanner can send to at all; checks needing another one
        report an error instead of blaming the target for the scanner's own connectivity."""
        ...

    async def close(self) -> None: ...
