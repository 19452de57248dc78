"""One UDP socket per resolver, shared by every lookup of a scan: queries are told apart by
their id, so a scan needs no socket (and no system call to make one) per query."""

from __future__ import annotations

import asyncio
import random
import socket

from v6pilot.errors import DnsTimeout
from v6pilot.net.dnswire import question_bytes
from v6pilot.net.tcp import map_os_error

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
RECEIVE_BUFFER = 4 * 1024 * 1024
"""Room for the replies of thousands of queries in flight while the event loop is busy."""


def _enlarge_receive_buffer(sock: socket.socket) -> None:
    """Beyond net.core.rmem_max when allowed (root), else as far as it lets us."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: UdpResolverClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.client.received(data)

    def error_received(self, exc: Exception) -> None:
        self.client.failed(exc if isinstance(exc, OSError) else OSError(str(exc)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.lost()


class UdpResolverClient:
    """Sends queries to one server over one connected UDP socket and matches the replies."""

    def __init__(self, server: str, port: int) -> None:
        self.server = server
        self.port = port
        self._pending: dict[int, tuple[bytes, asyncio.Future[bytes]]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._opening: asyncio.Future[None] | None = None

    async def _open(self) -> asyncio.DatagramTransport:
        if self._transport is not None:
            return self._transport
        if self._opening is None:
            self._opening = asyncio.get_running_loop().create_future()
            family = socket.AF_INET6 if ":" in self.server else socket.AF_INET
            try:
                transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: _Protocol(self), remote_addr=(self.server, self.port), family=family
                )
            except OSError as exc:
                error = map_os_error(self.server, self.port, exc)
                self._opening.set_exception(error)
                self._opening = None
                raise error from exc
            sock = transport.get_extra_info("socket")
            if sock is not None:
                _enlarge_receive_buffer(sock)
            self._transport = transport
            self._opening.set_result(None)
        else:
            await self._opening
        assert self._transport is not None
        return self._transport

    def new_id(self) -> int:
        while True:
            qid = random.getrandbits(16)
            if qid not in self._pending:
                return qid

    async def ask(self, query: bytes, timeout: float, what: str) -> bytes:
        """Send `query` (built with an id from `new_id`) and wait for its reply's bytes."""
        transport = await self._open()
        qid = int.from_bytes(query[:2], "big")
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[qid] = (question_bytes(query).lower(), future)
        try:
            transport.sendto(query)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DnsTimeout(
                self.server, self.port, f"no answer within {timeout:g}s", what
            ) from None
        finally:
            self._pending.pop(qid, None)

    def received(self, data: bytes) -> None:
        entry = self._pending.get(int.from_bytes(data[:2], "big")) if len(data) >= 12 else None
        if entry is None:
            return
        question, future = entry
        if not future.done() and data[12 : 12 + len(question)].lower() == question:
            future.set_result(data)

    def failed(self, exc: OSError) -> None:
        """An ICMP error on the socket: every waiting query to this server fails with it."""
        error = map_os_error(self.server, self.port, exc)
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def lost(self) -> None:
        self._transport = None
        self.failed(OSError("socket closed"))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
