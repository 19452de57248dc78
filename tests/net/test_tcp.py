"""TCP connect outcomes on loopback, and the mapping of system errors to v6pilot's."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from v6pilot.errors import NetError, NetRefused, NetTimeout, NetUnreachable
from v6pilot.net.tcp import connect, map_os_error
from v6pilot.net.types import TcpOutcome


@pytest.fixture(params=["127.0.0.1", "::1"])
async def listening(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, int]]:
    """A loopback server of each family that counts the connections it accepted."""
    accepted: list[object] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        writer.close()

    server = await asyncio.start_server(handle, request.param, 0)
    yield request.param, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


async def test_open_port(listening: tuple[str, int]) -> None:
    assert await connect(*listening, timeout=1.0) is TcpOutcome.OPEN


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_closed_port_is_refused(host: str) -> None:
    assert await connect(host, free_port(host), timeout=1.0) is TcpOutcome.REFUSED


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full, so that a further connect times out (Linux)."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        yield listener.getsockname()[1]


async def test_unanswered_connect_times_out(full_backlog: int) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await connect("127.0.0.1", full_backlog, timeout=0.2) is TcpOutcome.TIMEOUT
    assert loop.time() - started < 0.5


async def test_no_route_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_route(_sock: socket.socket, _address: object) -> None:
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(asyncio.get_running_loop(), "sock_connect", no_route)
    assert await connect("2001:db8::1", 80, timeout=1.0) is TcpOutcome.UNREACHABLE


async def test_a_host_name_is_never_resolved() -> None:
    assert await connect("localhost", 80, timeout=1.0) is TcpOutcome.ERROR


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), NetRefused),
        (OSError(errno.EHOSTUNREACH, "No route to host"), NetUnreachable),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), NetUnreachable),
        (TimeoutError(errno.ETIMEDOUT, "Connection timed out"), NetTimeout),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), NetError),
    ],
)
def test_os_errors_map_to_net_errors(error: OSError, expected: type[NetError]) -> None:
    mapped = map_os_error("2001:db8::1", 443, error)
    assert type(mapped) is expected
    assert str(mapped).startswith("[2001:db8::1]:443: ")
