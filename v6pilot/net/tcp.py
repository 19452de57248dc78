"""TCP connection setup to one IP address, with the system's failures mapped to v6pilot's errors."""

from __future__ import annotations

import asyncio
import errno
import socket

from v6pilot.errors import NetError, NetRefused, NetTimeout, NetUnreachable
from v6pilot.net.addresses import literal_version
from v6pilot.net.types import TcpOutcome

UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}
)
"""Errors meaning no route or no usable source address, as opposed to a refusal."""


def socket_family(address: str, port: int) -> socket.AddressFamily:
    """AF_INET or AF_INET6 for an IP literal; anything else raises `NetError` (never resolved)."""
    version = literal_version(address)
    if not version:
        raise NetError(address, port, "not an IP address")
    return socket.AF_INET6 if version == 6 else socket.AF_INET


def map_os_error(address: str, port: int, exc: OSError) -> NetError:
    """The `NetError` subclass for a failed connect or transfer: refused, unreachable, timeout."""
    if isinstance(exc, ConnectionRefusedError):
        return NetRefused(address, port, "connection refused")
    if isinstance(exc, TimeoutError):
        return NetTimeout(address, port, "connection timed out")
    if exc.errno in UNREACHABLE_ERRNOS:
        return NetUnreachable(address, port, exc.strerror or str(exc))
    return NetError(address, port, exc.strerror or str(exc) or type(exc).__name__)


async def open_socket(address: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket to `address`:`port`.

    Failures raise `NetRefused`, `NetUnreachable` or `NetError`; there is no timeout here, the
    caller bounds the wait (cancellation closes the socket).
    """
    sock = socket.socket(socket_family(address, port), socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except OSError as exc:
        sock.close()
        raise map_os_error(address, port, exc) from exc
    except BaseException:
        sock.close()
        raise
    return sock


async def connect(address: str, port: int, timeout: float) -> TcpOutcome:
    """Open one TCP connection to `address`:`port` and close it at once: how did it go?"""
    try:
        async with asyncio.timeout(timeout):
            sock = await open_socket(address, port)
    except (TimeoutError, NetTimeout):
        return TcpOutcome.TIMEOUT
    except NetRefused:
        return TcpOutcome.REFUSED
    except NetUnreachable:
        return TcpOutcome.UNREACHABLE
    except NetError:
        return TcpOutcome.ERROR
    sock.close()
    return TcpOutcome.OPEN
