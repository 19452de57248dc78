"""The servers of the lab's web namespace: HTTP and HTTPS on every web endpoint, SMTP on mail
hosts and banner services on extra ports, each behaving as its catalogue endpoint says.

One aiohttp server answers all sites; what a request gets depends on the local address the
connection arrived on (the endpoint) and the Host header (see `sites`).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from v6pilot.errors import LabError
from v6pilot.lab.catalogue import Catalogue, Endpoint
from v6pilot.lab.sites import Reply, SiteRenderer, StreamedBody, site_names
from v6pilot.lab.smtpserver import smtp_session
from v6pilot.lab.tlsca import LabCA

HTTPS_PORT = 443
SMTP_PORT = 25
BACKLOG = 1024
IDLE_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 1.0
WRONG_CERT_NAMES = ("wrong.invalid",)
IP_FREEBIND = 15  # Linux socket options Python 3.11 does not name
IPV6_FREEBIND = 78

Session = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _mysql_greeting() -> bytes:
    """A MySQL protocol-10 handshake packet, what a MySQL server sends first on a connection."""
    salt = b"v6pilot-lab-salt-012"
    payload = (
        b"\x0a8.0.36-v6pilot-lab\x00"
        + struct.pack("<I", 1)
        + salt[:8]
        + b"\x00"
        + struct.pack("<HBHHB", 0xF7FF, 255, 0x0002, 0x000F, len(salt) + 1)
        + bytes(10)
        + salt[8:]
        + b"\x00mysql_native_password\x00"
    )
    return struct.pack("<I", len(payload))[:3] + b"\x00" + payload


BANNERS = {22: b"SSH-2.0-OpenSSH_9.2\r\n", 3306: _mysql_greeting()}


def request_host(authority: str) -> str:
    """The host name of a Host header value: lower-case, without port or trailing dot."""
    host = authority.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


class LabWeb:
    """The HTTP handler of every lab site, choosing site and behaviour by the local address."""

    def __init__(self, catalogue: Catalogue) -> None:
        renderers = {s.id: SiteRenderer(s) for s in catalogue.scenarios}
        self._targets = {
            _canonical(e.address): (renderers[s.id], e)
            for s, host in catalogue.web_hosts()
            for e in host.endpoints
        }
        self._homepage_requests: dict[str, int] = {}

    def target(self, local_address: str) -> tuple[SiteRenderer, Endpoint]:
        """The site and endpoint that own `local_address`."""
        found = self._targets.get(local_address) or self._targets.get(_canonical(local_address))
        if found is None:
            raise LabError(f"no lab web endpoint at {local_address}")
        return found

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request as the endpoint it arrived at behaves."""
        assert request.transport is not None  # set for every request being handled
        renderer, endpoint = self.target(request.transport.get_extra_info("sockname")[0])
        if endpoint.delay_ms:
            await asyncio.sleep(endpoint.delay_ms / 1000)
        path = request.rel_url.raw_path
        if path == "/" and self._is_flaky_turn(endpoint):
            request.transport.abort()
            return web.Response()  # never sent: the connection is gone
        reply = renderer.reply(
            request_host(request.headers.get("Host", "")),
            "https" if request.secure else "http",
            path,
            endpoint,
            request.rel_url.raw_query_string,
        )
        return await _send(request, reply)

    def _is_flaky_turn(self, endpoint: Endpoint) -> bool:
        """Count a homepage request; True for every `flaky_every`-th one on the endpoint."""
        if not endpoint.flaky_every:
            return False
        count = self._homepage_requests.get(endpoint.address, 0) + 1
        self._homepage_requests[endpoint.address] = count
        return count % endpoint.flaky_every == 0


def _canonical(address: str) -> str:
    """An address in the form the kernel reports a socket's local address in."""
    return ipaddress.ip_address(address).compressed


async def _send(request: web.BaseRequest, reply: Reply) -> web.StreamResponse:
    """Send `reply`, streaming a huge body chunk by chunk until done or the client leaves."""
    if not isinstance(reply.body, StreamedBody):
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    response.content_length = reply.size
    await response.prepare(request)
    if request.method != "HEAD":
        try:
            for chunk in reply.body.chunks():
                await response.write(chunk)
        except ConnectionError:
            return response
    await response.write_eof()
    return response


def listen_socket(address: str, port: int) -> socket.socket:
    """A listening TCP socket on address:port, bindable even before the address is configured."""
    if ipaddress.ip_address(address).version == 6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        options = [(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY), (socket.IPPROTO_IPV6, IPV6_FREEBIND)]
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        options = [(socket.IPPROTO_IP, IP_FREEBIND)]
    try:
        for level, option in [(socket.SOL_SOCKET, socket.SO_REUSEADDR), *options]:
            sock.setsockopt(level, option, 1)
        sock.bind((address, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise LabError(f"cannot listen on [{address}]:{port}: {exc}") from exc
    sock.setblocking(False)
    return sock


async def banner_session(
    banner: bytes,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
) -> None:
    """Send `banner`, then swallow input until EOF or `idle_timeout` s of silence."""
    try:
        writer.write(banner)
        await writer.drain()
        while await asyncio.wait_for(reader.read(4096), idle_timeout):
            pass
    except (ConnectionError, TimeoutError):
        pass
    finally:
        writer.close()


class WebServers:
    """Every running listener of the web namespace; `close()` stops them all."""

    def __init__(self, runner: web.ServerRunner, ca: LabCA) -> None:
        self._runner = runner
        self._ca = ca
        self._streams: list[asyncio.Server] = []
        self._sessions: set[asyncio.Task[None]] = set()
        self._listening: list[tuple[str, int]] = []

    @property
    def listening(self) -> tuple[tuple[str, int], ...]:
        """Every (address, port) a server listens on."""
        return tuple(self._listening)

    async def add_endpoint(self, endpoint: Endpoint, hostname: str, names: Sequence[str]) -> None:
        """Listen on every port of `endpoint`, a host `hostname` of a site called `names`."""
        for port in endpoint.ports:
            context = None
            if port == HTTPS_PORT:
                cert_names = WRONG_CERT_NAMES if endpoint.cert == "wrong" else names
                context = self._ca.server_context(cert_names)
            await self._serve_http(listen_socket(endpoint.address, port), context)
        for port in endpoint.extra_ports:
            banner = functools.partial(banner_session, BANNERS.get(port, b""))
            await self._serve_stream(listen_socket(endpoint.address, port), banner)
        if endpoint.smtp:
            smtp = functools.partial(smtp_session, hostname)
            await self._serve_stream(listen_socket(endpoint.address, SMTP_PORT), smtp)

    async def _serve_http(self, sock: socket.socket, context: ssl.SSLContext | None) -> None:
        """Serve the lab web handler on `sock`, over TLS when given a context."""
        site = web.SockSite(self._runner, sock, ssl_context=context, backlog=BACKLOG)
        await site.start()
        self._listening.append(sock.getsockname()[:2])

    async def _serve_stream(self, sock: socket.socket, session: Session) -> None:
        """Run `session` for every connection to `sock`, tracked so that `close` can end it."""

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None  # start_server runs each session in a task
            self._sessions.add(task)
            try:
                await session(reader, writer)
            finally:
                self._sessions.discard(task)

        self._streams.append(await asyncio.start_server(tracked, sock=sock, backlog=BACKLOG))
        self._listening.append(sock.getsockname()[:2])

    async def close(self) -> None:
        """Stop every listener and end open connections and sessions."""
        for server in self._streams:
            server.close()
        for task in self._sessions:
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)
        for server in self._streams:
            await server.wait_closed()
        await self._runner.cleanup()


async def serve_web(catalogue: Catalogue, ca: LabCA) -> WebServers:
    """Start every web, SMTP and banner listener of the catalogue's web hosts.

    Endpoints in state `drop` are served too (the router drops their packets); `refuse` and
    IPv4-mapped endpoints get no listener.
    """
    web_server = web.Server(LabWeb(catalogue).handle, access_log=None)
    runner = web.ServerRunner(web_server, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    servers = WebServers(runner, ca)
    try:
        for scenario, host in catalogue.web_hosts():
            names = site_names(scenario)
            for endpoint in host.endpoints:
                if endpoint.state != "refuse" and not endpoint.mapped:
                    await servers.add_endpoint(endpoint, host.fqdn, names)
    except BaseException:
        await servers.close()
        raise
    return servers
