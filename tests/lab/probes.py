"""Independent probes for verifying the lab: raw sockets, plain dnspython, hand-written HTTP/1.1.

They deliberately share no code with v6pilot's scanner or servers, so a bug there cannot hide
itself by agreeing with itself.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import time
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.rdatatype

CONNECT_TIMEOUT = 1.0


async def tcp_outcome(address: str, port: int, timeout: float = CONNECT_TIMEOUT) -> str:
    """'open', 'refused', 'timeout' or 'unreachable' for a TCP connection attempt."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
            return "unreachable"
        raise
    writer.close()
    return "open"


async def dns_outcome(
    server: str, qname: str, rdtype: str
) -> tuple[str, dns.message.Message | None]:
    """('answered', reply) or ('timeout' | 'refused' | 'unreachable', None) for a UDP query.

    A connected UDP socket, so ICMP port unreachable surfaces as a refusal.
    """
    query = dns.message.make_query(qname, dns.rdatatype.from_text(rdtype))
    query.flags &= ~dns.flags.RD
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect((server, 53))
            sock.send(query.to_wire())
            wire = sock.recv(65535)
        except TimeoutError:
            return "timeout", None
        except ConnectionRefusedError:
            return "refused", None
        except OSError as exc:
            if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
                return "unreachable", None
            raise
    return "answered", dns.message.from_wire(wire)


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


async def http_get(
    address: str,
    host: str,
    path: str = "/",
    *,
    tls_ca: str | None = None,
    timeout: float = 5.0,
    max_body: int = 1 << 20,
) -> HttpReply:
    """One HTTP/1.1 GET to address (port 443 with TLS when `tls_ca` is given, else 80)."""
    started = time.monotonic()
    context = ssl.create_default_context(cafile=tls_ca) if tls_ca else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            address, 443 if context else 80, ssl=context, server_hostname=host if context else None
        ),
        timeout,
    )
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        body = b""
        while len(body) < max_body:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            body += chunk
        return HttpReply(status, headers, body[:max_body], time.monotonic() - started)
    finally:
        writer.close()
