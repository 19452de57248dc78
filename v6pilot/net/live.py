"""The real network: the `Network` protocol on top of v6pilot's DNS, TCP, HTTP and SMTP clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import dns.message

from v6pilot.errors import DnsBadResponse, DnsServFail, DnsTimeout, NetError
from v6pilot.net import dns as dns_client
from v6pilot.net import tcp
from v6pilot.net.addresses import literal_version
from v6pilot.net.dns import RdataTypeLike, Resolution
from v6pilot.net.dnsmux import UdpResolverClient
from v6pilot.net.http import DEFAULT_MAX_BODY, HttpClient
from v6pilot.net.iterative import DelegationCache, IterativeResult, resolve_iterative
from v6pilot.net.roothints import BUILTIN_ROOT_HINTS, RootHints
from v6pilot.net.smtp import probe_smtp
from v6pilot.net.types import HttpResponse, SmtpReply, TcpOutcome

DNS_PORT = 53
RESOLV_CONF = "/etc/resolv.conf"
FALLBACK_RESOLVER = ("127.0.0.1", DNS_PORT)
"""What libc uses when resolv.conf names no server."""


def parse_resolver(text: str) -> tuple[str, int]:
    """A resolver given as `IP`, `IPv4:PORT`, `[IPv6]:PORT` or `[IPv6]`, as (address, port)."""
    spec = text.strip()
    port_text = ""
    if spec.startswith("["):
        address, bracket, rest = spec[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad resolver {text!r}: expected [IPv6]:PORT")
        port_text = rest[1:] if rest else str(DNS_PORT)
        wanted = {6}
    elif spec.count(":") == 1:
        address, _, port_text = spec.partition(":")
        wanted = {4}
    else:
        address, port_text, wanted = spec, str(DNS_PORT), {4, 6}
    if literal_version(address) not in wanted:
        raise ValueError(f"bad resolver {text!r}: {address!r} is not an IP address")
    if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        raise ValueError(f"bad resolver {text!r}: port {port_text!r} is not 1-65535")
    return address, int(port_text)


def system_resolvers(path: str | Path = RESOLV_CONF) -> list[tuple[str, int]]:
    """The `nameserver` addresses of resolv.conf on port 53; libc's 127.0.0.1 if none is usable."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver" and literal_version(fields[1]):
            found.append((fields[1], DNS_PORT))
    return found or [FALLBACK_RESOLVER]


MAX_SOCKETS = 512
"""Connections in use at once in one scan process (idle kept-alive HTTP connections, at most
`http.MAX_IDLE`, come on top). Waiting for a slot is not part of a request's timeout, so a busy
scanner queues its work instead of reporting its own overload as targets that time out."""
ROUTE_PROBES = {4: "192.0.2.1", 6: "2001:db8::1"}


def has_route(address: str) -> bool:
    """Whether the kernel has a route towards `address` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, 9))
        except OSError:
            return False
    return True


class LiveNetwork:
    """`Network` over real sockets: configured resolvers, root hints, pinned HTTP, TCP, SMTP.

    One `DelegationCache` serves every iterative resolution, so zone cuts are learnt once per
    scan. `dns_port` is the port of direct and iterative queries (53 except in tests).
    `dns_throttle(server)`, if given, is awaited before each query of an iterative resolution.
    """

    def __init__(
        self,
        *,
        resolvers: Sequence[tuple[str, int]] | None = None,
        root_hints: RootHints | None = None,
        ca_file: str | None = None,
        timeout: float = 5.0,
        max_body: int = DEFAULT_MAX_BODY,
        dns_port: int = DNS_PORT,
        max_sockets: int = MAX_SOCKETS,
        dns_throttle: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.resolvers = list(resolvers) if resolvers is not None else system_resolvers()
        if not self.resolvers:
            raise ValueError("LiveNetwork needs at least one resolver")
        self.root_hints = root_hints or BUILTIN_ROOT_HINTS
        self.timeout = timeout
        self.dns_port = dns_port
        self._sockets = asyncio.Semaphore(max_sockets)
        self._http = HttpClient(
            ca_file=ca_file, timeout=timeout, max_body=max_body, slots=self._sockets
        )
        self._delegations = DelegationCache(before_query=dns_throttle)
        self._routes: frozenset[int] | None = None
        self._resolver_clients: dict[tuple[str, int], UdpResolverClient] = {}

    async def resolve(self, name: str, rdtype: RdataTypeLike) -> Resolution:
        """Ask the resolvers in order, moving on when one cannot be reached or does not answer."""
        failure: NetError | None = None
        for address, port in self.resolvers:
            client = self._resolver_clients.get((address, port))
            if client is None:
                client = self._resolver_clients[(address, port)] = UdpResolverClient(address, port)
            try:
                return await self._resolve_at(client, name, rdtype)
            except (DnsServFail, DnsBadResponse):
                raise
            except NetError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def _resolve_at(
        self, client: UdpResolverClient, name: str, rdtype: RdataTypeLike
    ) -> Resolution:
        """One lookup at one resolver, asked a second time if the first query got no answer
        (a lost UDP datagram should not fail a check), as stub resolvers do."""
        try:
            return await dns_client.resolve_shared(client, name, rdtype, timeout=self.timeout)
        except DnsTimeout:
            return await dns_client.resolve_shared(client, name, rdtype, timeout=self.timeout)

    async def query(self, server: str, name: str, rdtype: RdataTypeLike) -> dns.message.Message:
        """One non-recursive query to `server` on `dns_port`."""
        return await dns_client.query(
            name, rdtype, server, port=self.dns_port, timeout=self.timeout
        )

    async def iterate(
        self, name: str, rdtype: RdataTypeLike, families: frozenset[int]
    ) -> IterativeResult:
        """Iterative resolution from the root hints through the shared delegation cache."""
        return await resolve_iterative(
            name,
            rdtype,
            self.root_hints,
            families=families,
            timeout=self.timeout,
            port=self.dns_port,
            cache=self._delegations,
        )

    async def connect(self, address: str, port: int) -> TcpOutcome:
        """Open and close one TCP connection within the timeout."""
        async with self._sockets:
            return await tcp.connect(address, port, self.timeout)

    async def fetch(
        self,
        url: str,
        address: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        reuse: bool = False,
    ) -> HttpResponse:
        """One pinned HTTP request (see `HttpClient.fetch`), in a connection slot unless it
        goes on an idle kept-alive connection."""
        return await self._http.fetch(url, address, method=method, max_body=max_body, reuse=reuse)

    async def smtp(self, address: str, helo: str) -> SmtpReply:
        """Banner and EHLO reply of the mail server at `address`, port 25."""
        async with self._sockets:
            return await probe_smtp(address, helo, self.timeout)

    def routes(self) -> frozenset[int]:
        """IP versions with a route out of this host, found once by connecting UDP sockets
        (which sends nothing) towards a documentation address of each family."""
        if self._routes is None:
            self._routes = frozenset(f for f, probe in ROUTE_PROBES.items() if has_route(probe))
        return self._routes

    async def close(self) -> None:
        """Close the resolvers' shared sockets and the idle kept-alive HTTP connections."""
        self._http.close()
        for client in self._resolver_clients.values():
            client.close()
        self._resolver_clients.clear()
