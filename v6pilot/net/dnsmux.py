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


class UdpResolverClient:
    """Sends queries to one server over one connected UDP socket and matches the replies.

    The socket is read with `add_reader`, draining every waiting reply per wake-up: asyncio's
    datagram transport reads one datagram per pass of the event loop, which under load made
    replies queue past their timeout although none was lost.
    """

    def __init__(self, server: str, port: int) -> None:
        self.server = server
        self.port = port
        self._pending: dict[int, tuple[bytes, asyncio.Future[bytes]]] = {}
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        family = socket.AF_INET6 if ":" in self.server else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            _enlarge_receive_buffer(sock)
            sock.connect((self.server, self.port))
        except OSError as exc:
            sock.close()
            raise map_os_error(self.server, self.port, exc) from exc
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._drain)
        self._sock = sock
        return sock

    def _drain(self) -> None:
        sock = self._sock
        if sock is None:
            return
        while True:
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                return
            except OSError as exc:
                self.failed(exc)
                return
            self.received(data)

    def new_id(self) -> int:
        while True:
            qid = random.getrandbits(16)
            if qid not in self._pending:
                return qid

    async def ask(self, query: bytes, timeout: float, what: str) -> bytes:
        """Send `query` (built with an id from `new_id`) and wait for its reply's bytes."""
        sock = self._open()
        qid = int.from_bytes(query[:2], "big")
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[qid] = (question_bytes(query).lower(), future)
        try:
            try:
                sock.send(query)
            except OSError as exc:
                raise map_os_error(self.server, self.port, exc) from exc
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

    def close(self) -> None:
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
