"""One UDP socket per resolver, shared by every lookup of a scan: queries are told apart by
their id, so a scan needs no socket (and no system call to make one) per query. Authoritative
servers asked during iterative resolution get one socket each while queries to them wait."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import ClassVar

from v6pilot.errors import DnsTimeout, NetError, NetRefused, NetUnreachable
from v6pilot.net.dnswire import question_bytes
from v6pilot.net.tcp import UNREACHABLE_ERRNOS, map_os_error

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
            raise self._error(exc) from exc
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
        qid = int.from_bytes(query[:2], "big")
        try:
            sock = self._open()
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self._pending[qid] = (question_bytes(query).lower(), future)
            try:
                sock.send(query)
            except BlockingIOError as exc:
                raise self._error(exc) from exc
            except OSError as exc:
                # Often the ICMP error of an earlier query, which then never sees it.
                self.failed(exc)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DnsTimeout(
                self.server, self.port, f"no answer within {timeout:g}s", what
            ) from None
        finally:
            self._settled(qid)

    def _settled(self, qid: int) -> None:
        """The query `qid` has its reply or gave up."""
        self._pending.pop(qid, None)

    def _error(self, exc: OSError) -> NetError:
        """The `NetError` for a failure of this client's socket."""
        return map_os_error(self.server, self.port, exc)

    def received(self, data: bytes) -> None:
        entry = self._pending.get(int.from_bytes(data[:2], "big")) if len(data) >= 12 else None
        if entry is None:
            return
        question, future = entry
        if not future.done() and data[12 : 12 + len(question)].lower() == question:
            future.set_result(data)

    def failed(self, exc: OSError) -> None:
        """An ICMP error on the socket: every waiting query to this server fails with it."""
        error = self._error(exc)
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def close(self) -> None:
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None


def query_socket_error(server: str, port: int, exc: OSError) -> NetError:
    """The `NetError` a DNS query reports for a socket failure: refused, unreachable, other."""
    if isinstance(exc, ConnectionRefusedError):
        return NetRefused(server, port, "connection refused")
    if exc.errno in UNREACHABLE_ERRNOS:
        return NetUnreachable(server, port, exc.strerror or str(exc))
    return NetError(server, port, str(exc))


class UdpServerClient(UdpResolverClient):
    """Non-recursive queries to one authoritative server over one UDP socket, kept open only
    while a query waits: iterative resolution asks many servers, most of them briefly.

    A reply is handed over by its id alone, its question being checked by the caller as
    dnspython checks it; socket failures are reported as `query_socket_error` says. Use
    `for_server`, which shares one client per server and event loop.
    """

    _open_clients: ClassVar[dict[tuple[asyncio.AbstractEventLoop, str, int], UdpServerClient]] = {}

    @classmethod
    def for_server(cls, server: str, port: int) -> UdpServerClient:
        """The client of `server`:`port` on the running event loop, made if none is open."""
        key = (asyncio.get_running_loop(), server, port)
        client = cls._open_clients.get(key)
        if client is None:
            client = cls._open_clients[key] = cls(server, port)
        return client

    def received(self, data: bytes) -> None:
        entry = self._pending.get(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
        if entry is not None and not entry[1].done():
            entry[1].set_result(data)

    def _settled(self, qid: int) -> None:
        """Close the socket and forget this client once no query waits any more."""
        self._pending.pop(qid, None)
        if self._pending:
            return
        key = (asyncio.get_running_loop(), self.server, self.port)
        if self._open_clients.get(key) is self:
            del self._open_clients[key]
        self.close()

    def _error(self, exc: OSError) -> NetError:
        return query_socket_error(self.server, self.port, exc)
