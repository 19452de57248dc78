"""The lab's web, SMTP and banner servers: per-endpoint behaviour, TLS, listeners and shutdown.

Handler tests serve single scenarios on loopback addresses (the catalogue copy is moved there);
the `lab` test runs `serve_web` for the whole catalogue inside a scratch network namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import RawTestServer
from yarl import URL

from tests.lab.probes import tcp_outcome
from tests.net.dnshierarchy import needs_netns, scratch_netns
from v6pilot.errors import LabError
from v6pilot.lab.catalogue import Catalogue, Endpoint
from v6pilot.lab.sites import MIB, site_names
from v6pilot.lab.smtpserver import smtp_session
from v6pilot.lab.tlsca import LabCA
from v6pilot.lab.webserver import (
    BANNERS,
    LabWeb,
    Session,
    banner_session,
    request_host,
    serve_web,
)
from v6pilot.net.netns import run_in_netns

LOOPBACK = {4: "127.0.0.1", 6: "127.0.0.2"}  # where a scenario's www v4 / v6 endpoints move
TIMEOUT = aiohttp.ClientTimeout(total=20)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("ca"))


def _www_on_loopback(catalogue: Catalogue, scenario_id: str) -> Catalogue:
    """A catalogue of just the scenario, its www endpoints moved to the LOOPBACK addresses."""
    scenario = catalogue.scenario(scenario_id)
    www = scenario.zone.host("www")
    moves = {e.address: LOOPBACK[e.family] for e in www.endpoints}

    def move(endpoint: Endpoint | None) -> Endpoint | None:
        if endpoint is None:
            return None
        return replace(endpoint, address=moves.get(endpoint.address, endpoint.address))

    zones = tuple(
        replace(z, hosts=tuple(replace(h, v4=move(h.v4), v6=move(h.v6)) for h in z.hosts))
        for z in scenario.zones
    )
    moved = replace(scenario, zones=zones)
    return replace(catalogue, scenarios=(moved,), by_id={moved.id: moved})


@contextlib.asynccontextmanager
async def _serve_www(
    catalogue: Catalogue, scenario_id: str, tls: ssl.SSLContext | None = None
) -> AsyncIterator[dict[int, str]]:
    """Serve the scenario's www on loopback; yields each family's base URL."""
    handler = LabWeb(_www_on_loopback(catalogue, scenario_id)).handle
    async with contextlib.AsyncExitStack() as stack:
        urls = {}
        for family, address in LOOPBACK.items():
            server = RawTestServer(handler, host=address)
            await server.start_server(ssl=tls)
            await stack.enter_async_context(server)
            urls[family] = str(server.make_url(""))
        yield urls


def _session() -> aiohttp.ClientSession:
    """A client that opens a new connection per request (as counting flaky requests needs)."""
    connector = aiohttp.TCPConnector(force_close=True)
    return aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)


def test_request_host_strips_port_case_and_trailing_dot() -> None:
    assert request_host("WWW.Good.Test:8080") == "www.good.test"
    assert request_host("www.good.test.") == "www.good.test"
    assert request_host("[2001:DB8::1]:443") == "[2001:db8::1]"
    assert request_host("203.0.113.10") == "203.0.113.10"
    assert request_host("") == ""


async def test_http_redirects_and_head_over_loopback(catalogue: Catalogue) -> None:
    async with _serve_www(catalogue, "good") as urls, _session() as client:
        for url in urls.values():
            host = {"Host": "www.good.test"}
            async with client.get(
                url + "/p/www-0.html?x=1", headers=host, allow_redirects=False
            ) as r:
                assert r.status == 301
                assert r.headers["Location"] == "https://www.good.test/p/www-0.html?x=1"
                assert r.headers["Server"] == "v6pilot-lab"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
            async with client.head(url + "/", headers={"Host": "unknown.example:80"}) as r:
                assert r.status == 301
                assert r.headers["Location"] == "https://unknown.example/"
                assert int(r.headers["Content-Length"]) > 0
                assert await r.read() == b""


async def test_homepage_served_by_local_address_for_an_unknown_host(catalogue: Catalogue) -> None:
    async with _serve_www(catalogue, "port443-v4only") as urls, _session() as client:
        r = await client.get(urls[6] + "/", allow_redirects=False)
        page = await r.text()
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<a href="/p/www-0.html">' in page


async def _raw_status(base: str, path: str) -> int | None:
    """The status of one GET on a fresh connection, or None when it closed without a response.

    Hand-written HTTP/1.1, because aiohttp's client silently retries a GET that was cut off.
    """
    url = URL(base)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x.test\r\nConnection: close\r\n\r\n".encode())
    response = await reader.read()
    writer.close()
    return int(response.split(b" ", 2)[1]) if response else None


async def test_flaky_endpoint_drops_every_third_homepage_request(catalogue: Catalogue) -> None:
    async with _serve_www(catalogue, "v6-flaky") as urls:
        paths = ("/", "/", "/p/www-0.html", "/") * 2
        v6 = [await _raw_status(urls[6], path) for path in paths]
        v4 = [await _raw_status(urls[4], "/") for _ in range(4)]
    assert v6 == [200, 200, 200, None, 200, 200, 200, None]
    assert v4 == [200, 200, 200, 200]


async def test_delay_applies_to_the_slow_endpoint_only(catalogue: Catalogue) -> None:
    async with _serve_www(catalogue, "v6-slow") as urls, _session() as client:
        elapsed = {}
        for family, url in urls.items():
            start = time.monotonic()
            async with client.get(url + "/r/app.js", allow_redirects=False) as r:
                assert r.status == 301
            elapsed[family] = time.monotonic() - start
    assert elapsed[6] >= 1.5
    assert elapsed[4] < 1.0


async def test_status_and_stripped_headers_by_endpoint(catalogue: Catalogue) -> None:
    async with _serve_www(catalogue, "v6-error-status") as urls, _session() as client:
        async with client.get(urls[6] + "/", allow_redirects=False) as r:
            assert r.status == 503
        async with client.get(urls[4] + "/", allow_redirects=False) as r:
            assert r.status == 301
    async with _serve_www(catalogue, "headers-v6") as urls, _session() as client:
        headers = {}
        for family, url in urls.items():
            async with client.get(url + "/", allow_redirects=False) as r:
                headers[family] = r.headers
    assert "Strict-Transport-Security" in headers[4]
    assert "Content-Security-Policy" in headers[4]
    assert "Strict-Transport-Security" not in headers[6]
    assert "Content-Security-Policy" not in headers[6]
    assert headers[6]["X-Frame-Options"] == "SAMEORIGIN"


async def test_huge_body_streams_and_survives_an_early_disconnect(
    catalogue: Catalogue, ca: LabCA
) -> None:
    scenario = catalogue.scenario("huge-body")
    tls = ca.server_context(site_names(scenario))
    trust = ssl.create_default_context(cafile=str(ca.ca_path))
    name = "www.huge-body.test"
    async with _serve_www(catalogue, "huge-body", tls) as urls, _session() as client:
        request = functools.partial(
            client.request, ssl=trust, server_hostname=name, headers={"Host": name}
        )
        for _ in range(3):
            async with request("GET", urls[6] + "/") as r:
                assert r.headers["Content-Length"] == str(200 * MIB)
                first = await r.content.readexactly(MIB)
                assert first.startswith(b"<!DOCTYPE html>")
                r.close()
        async with request("HEAD", urls[4] + "/") as r:
            assert r.headers["Content-Length"] == str(200 * MIB)
            assert await r.read() == b""
        async with request("GET", urls[4] + "/r/site.css") as r:
            assert r.status == 200


async def test_unknown_local_address_is_an_error(catalogue: Catalogue) -> None:
    with pytest.raises(LabError):
        LabWeb(catalogue).target("127.0.0.1")


@contextlib.asynccontextmanager
async def _stream_server(session: Session) -> AsyncIterator[int]:
    """Serve `session` on 127.0.0.1 at an ephemeral port; yields the port."""
    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_smtp_dialogue() -> None:
    async with _stream_server(functools.partial(smtp_session, "mail.good.test")) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.readline() == b"220 mail.good.test ESMTP v6pilot-lab\r\n"
        writer.write(b"EHLO scanner.test\r\n")
        ehlo = [await reader.readline() for _ in range(4)]
        assert ehlo == [
            b"250-mail.good.test greets scanner.test\r\n",
            b"250-PIPELINING\r\n",
            b"250-8BITMIME\r\n",
            b"250 SIZE 10485760\r\n",
        ]
        writer.write(b"NOOP\r\nRSET\r\nMAIL FROM:<a@scanner.test>\r\nQUIT\r\n")
        replies = [await reader.readline() for _ in range(4)]
        assert [line[:4] for line in replies] == [b"250 ", b"250 ", b"502 ", b"221 "]
        assert await reader.read() == b""
        writer.close()


async def test_smtp_idle_session_times_out() -> None:
    session = functools.partial(smtp_session, "mail.good.test", idle_timeout=0.2)
    async with _stream_server(session) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.readline()
        assert (await reader.readline()).startswith(b"421 ")
        assert await reader.read() == b""
        writer.close()


async def test_banners_of_ssh_and_mysql() -> None:
    async with _stream_server(functools.partial(banner_session, BANNERS[22])) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.readline() == b"SSH-2.0-OpenSSH_9.2\r\n"
        writer.close()
    greeting = BANNERS[3306]
    assert int.from_bytes(greeting[:3], "little") == len(greeting) - 4
    assert greeting[4] == 10
    assert greeting.endswith(b"mysql_native_password\x00")


class _CatalogueNames(AbstractResolver):
    """Resolves lab names from the catalogue for one family, so no real DNS is ever asked."""

    def __init__(self, catalogue: Catalogue, family: int) -> None:
        hosts = {h.fqdn: h for s in catalogue.scenarios for h in s.hosts()}
        self._family = family
        self._addresses: dict[str, str] = {}
        for name, host in hosts.items():
            while host.cname is not None:
                host = hosts[host.cname]
            endpoint = host.v4 if family == 4 else host.v6
            if endpoint is not None:
                self._addresses[name] = endpoint.address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self._addresses:
            raise OSError(f"{host} has no IPv{self._family} address in the lab")
        inet = socket.AF_INET if self._family == 4 else socket.AF_INET6
        address = self._addresses[host]
        return [
            ResolveResult(hostname=host, host=address, port=port, family=inet, proto=0, flags=0)
        ]

    async def close(self) -> None:
        return None


def _lab_client(catalogue: Catalogue, family: int, trust: ssl.SSLContext) -> aiohttp.ClientSession:
    resolver = _CatalogueNames(catalogue, family)
    connector = aiohttp.TCPConnector(resolver=resolver, ssl=trust, force_close=True)
    return aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)


def _address(catalogue: Catalogue, scenario_id: str, label: str, family: int) -> str:
    host = catalogue.scenario(scenario_id).zone.host(label)
    endpoint = host.v4 if family == 4 else host.v6
    assert endpoint is not None
    return endpoint.address


@pytest.fixture
def web_netns(catalogue: Catalogue) -> Iterator[str]:
    """A scratch namespace with every web address of the catalogue on its lo."""
    addresses = [e.address for _, h in catalogue.web_hosts() for e in h.endpoints if not e.mapped]
    with scratch_netns("v6p-t-web", addresses) as name:
        yield name


@pytest.mark.lab
@needs_netns
def test_serve_web_in_a_namespace(catalogue: Catalogue, web_netns: str, tmp_path: Path) -> None:
    def addr(scenario_id: str, family: int, label: str = "www") -> str:
        return _address(catalogue, scenario_id, label, family)

    async def exercise() -> None:
        ca = LabCA.create(tmp_path)
        trust = ssl.create_default_context(cafile=str(ca.ca_path))
        servers = await serve_web(catalogue, ca)
        try:
            async with (
                _lab_client(catalogue, 4, trust) as v4,
                _lab_client(catalogue, 6, trust) as v6,
            ):
                await _check_sites(v4, v6)
            await _check_ports(catalogue)
            smtp_reader, _ = await asyncio.open_connection(addr("good", 6, "mail"), 25)
            assert await smtp_reader.readline() == b"220 mail.good.test ESMTP v6pilot-lab\r\n"
            listening = set(servers.listening)
            assert (addr("v6-wrong-cert", 6), 443) in listening
            assert (addr("v6-refused", 6), 80) not in listening
        finally:
            await servers.close()
        assert await asyncio.wait_for(smtp_reader.read(), 2) == b""
        assert await tcp_outcome(addr("good", 4), 80) == "refused"

    run_in_netns(web_netns, exercise)


async def _check_sites(v4: aiohttp.ClientSession, v6: aiohttp.ClientSession) -> None:
    """HTTPS with the lab CA by name over both families, including a CNAME and a wrong cert."""
    for client in (v4, v6):
        async with client.get("http://www.good.test/") as r:
            assert (str(r.url), r.status) == ("https://www.good.test/", 200)
            assert [h.status for h in r.history] == [301]
            assert '<a href="/p/www-0.html">' in await r.text()
    async with v6.get("https://www.cname-v4ns.test/") as r:
        assert r.status == 200
    async with v6.get("https://www.xn--0zw220abodfoq.test/p/a.html") as r:  # 测试网站.test
        assert r.status == 200
    async with v4.get("https://www.v6-wrong-cert.test/") as r:
        assert r.status == 200
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await v6.get("https://www.v6-wrong-cert.test/")
    async with v6.get("https://www.huge-body.test/") as r:
        size = 0
        async for chunk in r.content.iter_chunked(MIB):
            size += len(chunk)
        assert size == int(r.headers["Content-Length"]) == 200 * MIB
    async with v6.get("https://www.huge-body.test/") as r:
        await r.content.readexactly(MIB)
        r.close()
    async with v6.get("https://www.huge-body.test/r/logo.png") as r:
        assert r.headers["Content-Type"] == "image/png"


async def _check_ports(catalogue: Catalogue) -> None:
    """Which ports are open where: refuse, drop, port parity, extra ports and SMTP."""

    def addr(scenario_id: str, family: int, label: str = "www") -> str:
        return _address(catalogue, scenario_id, label, family)

    outcomes = {
        "v6-refused v6:80": await tcp_outcome(addr("v6-refused", 6), 80),
        "v6-refused v4:80": await tcp_outcome(addr("v6-refused", 4), 80),
        "dead v6:443": await tcp_outcome(addr("dead", 6), 443),
        "port443-v4only v6:443": await tcp_outcome(addr("port443-v4only", 6), 443),
        "port443-v4only v6:80": await tcp_outcome(addr("port443-v4only", 6), 80),
        "v6-extra-ports v4:22": await tcp_outcome(addr("v6-extra-ports", 4), 22),
        "smtp-v6-closed v6:25": await tcp_outcome(addr("smtp-v6-closed", 6, "mail"), 25),
        "smtp-v6-closed v4:25": await tcp_outcome(addr("smtp-v6-closed", 4, "mail"), 25),
        "good mail v6:80": await tcp_outcome(addr("good", 6, "mail"), 80),
    }
    assert outcomes == {
        "v6-refused v6:80": "refused",
        "v6-refused v4:80": "open",
        "dead v6:443": "open",
        "port443-v4only v6:443": "refused",
        "port443-v4only v6:80": "open",
        "v6-extra-ports v4:22": "refused",
        "smtp-v6-closed v6:25": "refused",
        "smtp-v6-closed v4:25": "open",
        "good mail v6:80": "refused",
    }
    reader, writer = await asyncio.open_connection(addr("v6-extra-ports", 6), 22)
    assert await reader.readline() == b"SSH-2.0-OpenSSH_9.2\r\n"
    writer.close()
    reader, writer = await asyncio.open_connection(addr("v6-extra-ports", 6), 3306)
    assert (await reader.readexactly(5))[4] == 10
    writer.close()
