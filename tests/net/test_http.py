"""The pinned HTTP client against scripted loopback servers (plain, TLS, broken, endless)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from v6pilot.errors import NetError, NetRefused, NetTimeout, TlsError
from v6pilot.lab.tlsca import LabCA
from v6pilot.net import http
from v6pilot.net.http import USER_AGENT, HttpClient, request_target

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "ScriptedServer"], Awaitable[None]]


@dataclass
class ScriptedServer:
    """A listening server: its port, the request heads it read and when a handler ended."""

    port: int
    requests: list[bytes] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    server_names: list[str | None] = field(default_factory=list)
    connections: int = 0

    def url(self, scheme: str = "http", host: str = "www.example.test", path: str = "/") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        return head

    def header(self, name: str) -> str | None:
        """A header of the first request the server read."""
        for line in self.requests[0].decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


StartServer = Callable[..., Awaitable[ScriptedServer]]


@pytest.fixture
async def serve() -> AsyncIterator[StartServer]:
    """`await serve(handler, host=..., tls=...)` starts a server, stopped after the test."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(
        handler: Handler, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> ScriptedServer:
        scripted = ScriptedServer(0)
        if tls is not None:
            tls.sni_callback = lambda _obj, name, _ctx: scripted.server_names.append(name)

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            try:
                await handler(reader, writer, scripted)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
                pass
            finally:
                writer.close()
                scripted.finished.set()

        server = await asyncio.start_server(connection, host, 0, ssl=tls)
        servers.append(server)
        scripted.port = server.sockets[0].getsockname()[1]
        return scripted

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()


def reply(raw: bytes) -> Handler:
    """A handler that reads the request, sends `raw` and closes."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        await server.read_request(reader)
        writer.write(raw)
        await writer.drain()

    return handle


def response(body: bytes = b"hello", *headers: str, status: str = "200 OK") -> bytes:
    """An HTTP/1.1 response with Content-Length and the extra header lines."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers, "", ""]
    return "\r\n".join(lines).encode() + body


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\nX-T: 1\r\n\r\n"


@pytest.fixture
def client() -> HttpClient:
    return HttpClient(timeout=2.0)


async def test_request_goes_to_the_pinned_address_with_host_from_the_url(
    serve: StartServer, client: HttpClient
) -> None:
    raw = response(b"<html>hi</html>", "Set-Cookie: a=1", "Set-Cookie: b=2", "X-Thing: Yes")
    server = await serve(reply(raw))
    url = server.url(path="/a b/p?q=1&r=é")
    result = await client.fetch(url, "127.0.0.1")
    request_line = server.requests[0].split(b"\r\n")[0]
    assert request_line == b"GET /a%20b/p?q=1&r=%C3%A9 HTTP/1.1"
    assert server.header("Host") == f"www.example.test:{server.port}"
    assert server.header("User-Agent") == USER_AGENT
    assert server.header("Accept-Encoding") == "gzip, deflate"
    assert (result.status, result.body, result.truncated, result.tls) == (
        200,
        b"<html>hi</html>",
        False,
        None,
    )
    assert result.headers["set-cookie"] == "a=1, b=2"
    assert result.headers["x-thing"] == "Yes"
    assert (result.url, result.address) == (url, "127.0.0.1")
    assert 0 < result.elapsed < 1


async def test_head_reads_no_body_and_redirects_are_not_followed(
    serve: StartServer, client: HttpClient
) -> None:
    head = b"HTTP/1.1 301 Moved\r\nLocation: /next\r\nContent-Length: 99\r\n\r\n"
    server = await serve(reply(head))
    result = await client.fetch(server.url(), "127.0.0.1", method="HEAD")
    assert server.requests[0].startswith(b"HEAD / HTTP/1.1\r\n")
    assert (result.status, result.location, result.body) == (301, "/next", b"")


async def test_interim_responses_are_skipped(serve: StartServer, client: HttpClient) -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    server = await serve(reply(raw + response(b"final")))
    result = await client.fetch(server.url(), "127.0.0.1")
    assert (result.status, result.body, "link" in result.headers) == (200, b"final", False)


async def test_ipv6_literal_url_to_loopback(serve: StartServer, client: HttpClient) -> None:
    server = await serve(reply(response(b"six")), host="::1")
    result = await client.fetch(f"http://[::1]:{server.port}/", "::1")
    assert server.header("Host") == f"[::1]:{server.port}"
    assert result.body == b"six"


def test_default_port_and_idn_host_in_the_request_target() -> None:
    target = request_target("https://Bücher.example/x#frag", "192.0.2.1")
    assert (target.host, target.port, target.host_header, target.path) == (
        "xn--bcher-kva.example",
        443,
        "xn--bcher-kva.example",
        "/x",
    )


@pytest.mark.parametrize("url", ["ftp://www.example.test/", "http://bad host/", "http://x:99999/"])
async def test_unusable_url_raises_net_error(client: HttpClient, url: str) -> None:
    with pytest.raises(NetError):
        await client.fetch(url, "127.0.0.1")


async def test_address_must_be_an_ip_literal(client: HttpClient) -> None:
    with pytest.raises(NetError, match="not an IP address"):
        await client.fetch("http://www.example.test/", "localhost")


async def test_gzip_body_is_decoded(serve: StartServer, client: HttpClient) -> None:
    body = b"<p>compressed</p>" * 100
    server = await serve(reply(response(gzip.compress(body), "Content-Encoding: gzip")))
    result = await client.fetch(server.url(), "127.0.0.1")
    assert (result.body, result.headers["content-encoding"]) == (body, "gzip")


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
async def test_deflate_body_is_decoded_wrapped_or_raw(
    serve: StartServer, client: HttpClient, wbits: int
) -> None:
    compressor = zlib.compressobj(wbits=wbits)
    data = compressor.compress(b"deflated " * 50) + compressor.flush()
    server = await serve(reply(response(data, "Content-Encoding: deflate")))
    result = await client.fetch(server.url(), "127.0.0.1")
    assert result.body == b"deflated " * 50


async def test_decompressed_size_is_capped(serve: StartServer, client: HttpClient) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    server = await serve(reply(response(bomb, "Content-Encoding: gzip")))
    result = await client.fetch(server.url(), "127.0.0.1", max_body=1000)
    assert (len(result.body), result.truncated) == (1000, True)


async def test_corrupt_gzip_raises_net_error(serve: StartServer, client: HttpClient) -> None:
    server = await serve(reply(response(b"\x1f\x8bnot gzip at all", "Content-Encoding: gzip")))
    with pytest.raises(NetError, match="does not decode"):
        await client.fetch(server.url(), "127.0.0.1")


async def test_chunked_body_with_extensions_trailers_and_gzip(
    serve: StartServer, client: HttpClient
) -> None:
    packed = gzip.compress(b"chunk-one chunk-two")
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
    server = await serve(reply(head + chunked(packed[:7], packed[7:])))
    result = await client.fetch(server.url(), "127.0.0.1")
    assert (result.body, result.truncated) == (b"chunk-one chunk-two", False)


async def test_close_delimited_body(serve: StartServer, client: HttpClient) -> None:
    server = await serve(reply(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end"))
    result = await client.fetch(server.url(), "127.0.0.1")
    assert (result.body, result.content_type) == (b"to the end", "text/plain")


async def test_body_exactly_at_the_cap_is_not_truncated(
    serve: StartServer, client: HttpClient
) -> None:
    server = await serve(reply(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100))
    result = await client.fetch(server.url(), "127.0.0.1", max_body=100)
    assert (len(result.body), result.truncated) == (100, False)


async def test_huge_body_is_cut_at_the_cap_and_the_connection_dropped(
    serve: StartServer, client: HttpClient
) -> None:
    size = 50 * 1024 * 1024
    sent = 0

    async def stream(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        nonlocal sent
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"y" * 65536
        while sent < size:
            writer.write(block)
            sent += len(block)
            await writer.drain()

    server = await serve(stream)
    started = time.monotonic()
    result = await client.fetch(server.url(), "127.0.0.1", max_body=100_000)
    assert time.monotonic() - started < 1.0
    assert (len(result.body), result.truncated) == (100_000, True)
    await asyncio.wait_for(server.finished.wait(), 1.0)
    assert sent < size // 4


async def test_refused_port_raises_net_refused(client: HttpClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetRefused) as caught:
        await client.fetch(f"http://www.example.test:{port}/", "127.0.0.1")
    assert caught.value.port == port


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full, so that a further connect times out (Linux)."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        yield listener.getsockname()[1]


async def test_connect_timeout_says_connect(full_backlog: int) -> None:
    client = HttpClient(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(NetTimeout, match="connect timeout"):
        await client.fetch(f"http://www.example.test:{full_backlog}/", "127.0.0.1")
    assert time.monotonic() - started < 2.0


async def test_silent_server_raises_read_timeout_within_the_timeout(serve: StartServer) -> None:
    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        await server.read_request(reader)
        await reader.read()

    server = await serve(silent)
    started = time.monotonic()
    with pytest.raises(NetTimeout, match=r"read timeout: no response within 0\.3s"):
        await HttpClient(timeout=0.3).fetch(server.url(), "127.0.0.1")
    assert time.monotonic() - started < 2.0


async def test_server_closing_after_the_request_raises_net_error(
    serve: StartServer, client: HttpClient
) -> None:
    server = await serve(reply(b""))
    with pytest.raises(NetError, match="connection closed before the response") as caught:
        await client.fetch(server.url(), "127.0.0.1")
    assert type(caught.value) is NetError


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", "closed after 4 of 10 body bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "inside the chunked"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "inside the response header"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "malformed response: status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", "malformed response: Content-Len"),
    ],
)
async def test_broken_responses_raise_net_error(
    serve: StartServer, client: HttpClient, raw: bytes, message: str
) -> None:
    server = await serve(reply(raw))
    with pytest.raises(NetError, match=message):
        await client.fetch(server.url(), "127.0.0.1")


@dataclass
class Certificate:
    """A lab CA and a server context for www.example.test with its leaf's fingerprint."""

    ca_file: str
    context: ssl.SSLContext
    fingerprint: str


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    ca = LabCA.create(tmp_path / "ca")
    chain, key = ca.issue(["www.example.test"])
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    leaf = x509.load_pem_x509_certificate(chain).public_bytes(serialization.Encoding.DER)
    return Certificate(str(ca.ca_path), context, hashlib.sha256(leaf).hexdigest())


async def test_https_verifies_the_url_name_and_reports_the_fingerprint(
    serve: StartServer, certificate: Certificate
) -> None:
    server = await serve(reply(response(b"secure")), tls=certificate.context)
    client = HttpClient(ca_file=certificate.ca_file, timeout=2.0)
    result = await client.fetch(server.url("https"), "127.0.0.1")
    assert (result.status, result.body) == (200, b"secure")
    assert server.server_names == ["www.example.test"]
    assert result.tls is not None
    assert (result.tls.fingerprint, result.tls.verified) == (certificate.fingerprint, True)


async def test_https_wrong_name_raises_tls_error_with_the_reason(
    serve: StartServer, certificate: Certificate
) -> None:
    server = await serve(reply(response()), tls=certificate.context)
    client = HttpClient(ca_file=certificate.ca_file, timeout=2.0)
    with pytest.raises(TlsError, match=r"hostname mismatch, certificate is not valid for 'www\.x'"):
        await client.fetch(server.url("https", host="www.x"), "127.0.0.1")


async def test_https_ip_literal_sends_no_sni(serve: StartServer, certificate: Certificate) -> None:
    server = await serve(reply(response()), tls=certificate.context)
    client = HttpClient(ca_file=certificate.ca_file, timeout=2.0)
    with pytest.raises(TlsError, match="IP address mismatch"):
        await client.fetch(server.url("https", host="127.0.0.1"), "127.0.0.1")
    assert server.server_names == [None]


async def test_https_untrusted_ca_raises_tls_error(
    serve: StartServer, certificate: Certificate, client: HttpClient
) -> None:
    server = await serve(reply(response()), tls=certificate.context)
    with pytest.raises(
        TlsError, match="verification failed: self-signed certificate in certificate chain"
    ):
        await client.fetch(server.url("https"), "127.0.0.1")


async def test_https_to_a_plain_http_server_raises_tls_error(
    serve: StartServer, client: HttpClient
) -> None:
    async def plain(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        await reader.read(1)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    server = await serve(plain)
    with pytest.raises(TlsError, match="TLS handshake failed"):
        await client.fetch(server.url("https"), "127.0.0.1")


async def test_https_close_delimited_body_without_close_notify(
    serve: StartServer, certificate: Certificate
) -> None:
    async def abrupt(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
        await writer.drain()
        writer.transport.abort()

    server = await serve(abrupt, tls=certificate.context)
    client = HttpClient(ca_file=certificate.ca_file, timeout=2.0)
    result = await client.fetch(server.url("https"), "127.0.0.1")
    assert result.body == b"until close"


async def test_handshakes_cut_by_the_timeout_do_not_disturb_others(
    serve: StartServer, certificate: Certificate
) -> None:
    good = await serve(reply(response(b"ok")), tls=certificate.context)

    async def mute(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        await reader.read()

    silent = await serve(mute)
    hasty = HttpClient(ca_file=certificate.ca_file, timeout=0.2)
    patient = HttpClient(ca_file=certificate.ca_file, timeout=5.0)

    async def one(index: int) -> str:
        try:
            if index % 2:
                return str((await patient.fetch(good.url("https"), "127.0.0.1")).status)
            await hasty.fetch(silent.url("https"), "127.0.0.1")
        except NetTimeout:
            return "timeout"
        return "unexpected"

    outcomes = await asyncio.gather(*(one(i) for i in range(400)))
    assert outcomes.count("timeout") == 200 and outcomes.count("200") == 200


# --- kept-alive connections -----------------------------------------------------------------


def keep_alive(*replies: bytes, close_after: int | None = None, delay: float = 0.0) -> Handler:
    """A handler answering request after request on one connection with `replies` in turn
    (the last one repeated) after `delay` seconds each, closing after `close_after` requests
    if given."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: ScriptedServer
    ) -> None:
        server.connections += 1
        served = 0
        while close_after is None or served < close_after:
            try:
                await server.read_request(reader)
            except asyncio.IncompleteReadError:
                return
            await asyncio.sleep(delay)
            writer.write(replies[min(served, len(replies) - 1)])
            await writer.drain()
            served += 1

    return handle


async def test_reuse_sends_requests_on_one_kept_alive_connection(
    serve: StartServer, client: HttpClient
) -> None:
    server = await serve(keep_alive(response(b"one"), response(b"two")))
    first = await client.fetch(server.url(path="/a"), "127.0.0.1", reuse=True)
    second = await client.fetch(server.url(path="/b"), "127.0.0.1", reuse=True)
    assert (first.body, second.body) == (b"one", b"two")
    assert server.connections == 1
    assert server.header("connection") == "keep-alive"
    assert [r.split(b" ")[1] for r in server.requests] == [b"/a", b"/b"]
    client.close()


async def test_without_reuse_every_request_gets_a_fresh_closed_connection(
    serve: StartServer, client: HttpClient
) -> None:
    server = await serve(keep_alive(response(b"x")))
    for _ in range(2):
        await client.fetch(server.url(), "127.0.0.1")
    assert server.connections == 2
    assert server.header("connection") == "close"


async def test_a_connection_the_server_closed_is_replaced_by_a_fresh_one(
    serve: StartServer, client: HttpClient
) -> None:
    server = await serve(keep_alive(response(b"x"), close_after=1))
    await client.fetch(server.url(), "127.0.0.1", reuse=True)
    await asyncio.wait_for(server.finished.wait(), 1.0)
    result = await client.fetch(server.url(), "127.0.0.1", reuse=True)
    assert result.body == b"x"
    assert server.connections == 2
    client.close()


@pytest.mark.parametrize(
    "raw",
    [
        response(b"x", "Connection: close"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"y" * 200_000,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"y" * 200_000),
    ],
    ids=["connection-close", "http-1.0", "far-beyond-the-cap", "chunked-far-beyond-the-cap"],
)
async def test_connections_are_not_kept_when_the_response_forbids_or_is_cut(
    serve: StartServer, client: HttpClient, raw: bytes
) -> None:
    server = await serve(keep_alive(raw))
    for _ in range(2):
        await client.fetch(server.url(), "127.0.0.1", reuse=True, max_body=100)
    assert server.connections == 2


@pytest.mark.parametrize(
    "raw",
    [
        response(b"z" * 5000),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(b"z" * 3000, b"w" * 2000),
    ],
    ids=["content-length", "chunked"],
)
async def test_a_body_a_little_beyond_the_cap_is_drained_to_keep_the_connection(
    serve: StartServer, client: HttpClient, raw: bytes
) -> None:
    server = await serve(keep_alive(raw))
    first = await client.fetch(server.url(), "127.0.0.1", reuse=True, max_body=100)
    second = await client.fetch(server.url(), "127.0.0.1", reuse=True, max_body=100)
    assert (len(first.body), first.truncated, len(second.body)) == (100, True, 100)
    assert server.connections == 1
    client.close()


async def test_idle_connections_are_closed_after_the_idle_time_and_on_close(
    serve: StartServer, client: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "IDLE_SECONDS", 0.05)
    expiring = await serve(keep_alive(response(b"x")))
    await client.fetch(expiring.url(), "127.0.0.1", reuse=True)
    await asyncio.wait_for(expiring.finished.wait(), 1.0)
    closing = await serve(keep_alive(response(b"x")))
    monkeypatch.setattr(http, "IDLE_SECONDS", 60.0)
    await client.fetch(closing.url(), "127.0.0.1", reuse=True)
    client.close()
    await asyncio.wait_for(closing.finished.wait(), 1.0)


async def test_reused_connections_per_host_are_bounded_and_waiting_is_not_timed(
    serve: StartServer,
) -> None:
    server = await serve(keep_alive(response(b"x"), delay=0.2))
    client = HttpClient(timeout=0.5)
    results = await asyncio.gather(
        *(client.fetch(server.url(), "127.0.0.1", reuse=True) for _ in range(3 * http.MAX_PER_HOST))
    )
    assert [r.status for r in results] == [200] * 3 * http.MAX_PER_HOST
    assert server.connections == http.MAX_PER_HOST
    client.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\nX-A: 1\n\nbody",
        b"HTTP/1.1 200 OK\r\nX-A: 1\n\r\nbody",
        b"HTTP/1.1 200 OK\r\n\r\nbody",
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\nbody",
    ],
    ids=["lf-only", "mixed", "no-fields", "folded"],
)
async def test_header_line_ends_and_folds_are_read_alike(
    serve: StartServer, client: HttpClient, raw: bytes
) -> None:
    server = await serve(reply(raw))
    result = await client.fetch(server.url(), "127.0.0.1")
    assert result.body == b"body"
    assert result.headers == (
        {} if b"X-A" not in raw else {"x-a": "1 folded" if b"folded" in raw else "1"}
    )


async def test_a_cancelled_waiting_request_gives_its_turn_to_the_next(
    serve: StartServer,
) -> None:
    server = await serve(keep_alive(response(b"x"), delay=0.1))
    client = HttpClient(timeout=2.0)
    fetches = [
        asyncio.ensure_future(client.fetch(server.url(), "127.0.0.1", reuse=True))
        for _ in range(http.MAX_PER_HOST + 3)
    ]
    await asyncio.sleep(0.05)
    fetches[-2].cancel()
    done = await asyncio.gather(*fetches, return_exceptions=True)
    assert isinstance(done[-2], asyncio.CancelledError)
    assert [r.status for r in done if not isinstance(r, BaseException)] == [200] * (
        http.MAX_PER_HOST + 2
    )
    assert (client._busy, client._waiters) == ({}, {})
    client.close()
