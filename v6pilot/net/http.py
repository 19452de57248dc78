"""HTTP/1.1 client pinned to one IP address: Host and SNI come from the URL, never resolved.

A fresh connection per request unless kept-alive reuse is asked for, no redirects followed,
body capped (gzip and deflate undone, the decoded size capped too) so that a huge or endless
body costs no more than the cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import ssl
import time
import zlib
from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from urllib.parse import SplitResult, quote, urlsplit

import idna

from v6pilot.errors import NetError, NetTimeout, TlsError
from v6pilot.net.addresses import literal_version
from v6pilot.net.tcp import map_os_error, open_socket
from v6pilot.net.types import HttpResponse, TlsInfo

USER_AGENT = "v6pilot/0.1 (+IPv6 readiness scanner)"
DEFAULT_MAX_BODY = 2 * 1024 * 1024
LINE_LIMIT = 65536
"""Longest status, header or chunk-size line accepted."""
MAX_HEADER_LINES = 256
READ_SIZE = 65536
COMPRESSED_SLACK = 65536
"""Compressed bytes read beyond the cap before a body that decodes to little is cut anyway."""
DEFAULT_PORTS = {"http": 80, "https": 443}
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_GZIP_WBITS = 16 + zlib.MAX_WBITS


@dataclass(frozen=True, slots=True)
class RequestTarget:
    """Where a URL points: scheme, host (IP literals unbracketed), port, Host header and path."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str

    @property
    def server_hostname(self) -> str:
        """The name the certificate must match (and the SNI unless it is an IP literal)."""
        return self.host.rstrip(".")


class _BadUrl(Exception):
    """A URL no request can be made for: the port it names and why."""

    def __init__(self, port: int, detail: str) -> None:
        super().__init__(detail)
        self.port = port
        self.detail = detail


def request_target(url: str, address: str) -> RequestTarget:
    """Split `url` into what the request needs; an unusable URL raises `NetError` for `address`."""
    parsed = _parse_url(url)
    if isinstance(parsed, _BadUrl):
        raise NetError(address, parsed.port, parsed.detail)
    return parsed


@lru_cache(maxsize=4096)
def _parse_url(url: str) -> RequestTarget | _BadUrl:
    """`request_target` without the address, remembered: a site's URLs are requested over both
    families and by several checks."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return _BadUrl(0, f"unsupported URL scheme {scheme!r} in {url}")
    default_port = DEFAULT_PORTS[scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        return _BadUrl(default_port, f"bad port in URL {url}")
    try:
        host = _ascii_host(parts, port)
    except _BadUrl as bad:
        return bad
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if port == default_port else f"{bracketed}:{port}"
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return RequestTarget(scheme, host, port, host_header, path)


def _ascii_host(parts: SplitResult, port: int) -> str:
    """The URL's host as an IP literal or an ASCII (IDNA) host name."""
    host = parts.hostname or ""
    if literal_version(host):
        return str(ipaddress.ip_address(host))
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise _BadUrl(port, f"bad host name {host!r}: {exc}") from None
    if not _HOST_NAME.fullmatch(host):
        raise _BadUrl(port, f"bad host name {host!r} in URL")
    return host


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A verifying client context: the system trust store plus `ca_file` if given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Phase(Enum):
    """How far an exchange got, to say which step a timeout or a reset hit."""

    CONNECT = "connect"
    HANDSHAKE = "handshake"
    RESPONSE = "response"
    HEADER = "header"
    BODY = "body"


class _BadBody(Exception):
    """The body's content coding does not decode."""


class _BodySink:
    """Collects the decoded body up to `cap` bytes, undoing gzip or deflate on the way."""

    def __init__(self, cap: int, content_encoding: str) -> None:
        self.cap = cap
        self.size = 0
        self.raw = 0
        self.truncated = False
        self._parts: list[bytes] = []
        coding = content_encoding.strip().lower()
        self._coding = "gzip" if coding == "x-gzip" else coding
        self._decoder: zlib._Decompress | None = None
        self._undecided = b""
        if self._coding == "gzip":
            self._decoder = zlib.decompressobj(_GZIP_WBITS)

    @property
    def decoding(self) -> bool:
        """True for the content codings undone here (gzip, deflate)."""
        return self._coding in ("gzip", "deflate")

    def feed(self, data: bytes) -> bool:
        """Add raw body bytes; True once the cap is passed and reading should stop."""
        self.raw += len(data)
        if self.decoding:
            data = self._decode(data)
        self._keep(data)
        if self.decoding and not self.truncated and self.raw > self.cap + COMPRESSED_SLACK:
            self.truncated = True
        return self.truncated

    def body(self) -> bytes:
        """The decoded (possibly truncated) body, once the raw body has ended or been cut."""
        if self._undecided:
            self._keep(self._decode(b"", final=True))
        if self._decoder is not None and not self.truncated:
            try:
                self._keep(self._decoder.flush())
            except zlib.error as exc:
                raise _BadBody(f"{self._coding} body does not decode: {exc}") from None
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> None:
        """Append decoded bytes, cutting at the cap."""
        room = self.cap - self.size
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        self._parts.append(data)
        self.size += len(data)

    def _decode(self, data: bytes, *, final: bool = False) -> bytes:
        """Decode raw bytes, at most one byte past the cap; deflate's flavour is picked first."""
        if self._decoder is None:
            self._undecided += data
            if len(self._undecided) < 2 and not final:
                return b""
            self._decoder = zlib.decompressobj(_deflate_wbits(self._undecided))
            data, self._undecided = self._undecided, b""
        try:
            return self._decoder.decompress(data, self.cap - self.size + 1)
        except zlib.error as exc:
            raise _BadBody(f"{self._coding} body does not decode: {exc}") from None


def _deflate_wbits(head: bytes) -> int:
    """zlib-wrapped deflate as the RFC says, or the raw deflate many servers send instead."""
    wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS


class _Connection(asyncio.Protocol):
    """One connection's received bytes in a buffer (read from `pos` on), and a way to wait for
    more: far fewer Python calls per response than asyncio's stream reader line by line."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pos = 0
        self.closed = False
        self.error: BaseException | None = None
        self.tls: TlsInfo | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> None:
        self.closed = True
        self._wake()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def available(self) -> int:
        return len(self.buffer) - self.pos

    def take(self, size: int) -> bytes:
        """Up to `size` buffered bytes, consumed."""
        data = bytes(self.buffer[self.pos : self.pos + size])
        self.pos += len(data)
        if self.pos == len(self.buffer):
            self.buffer.clear()
            self.pos = 0
        return data

    async def more(self) -> bool:
        """Wait for more bytes: True when some came, False when the peer closed instead (an
        error it closed with is raised instead)."""
        before = len(self.buffer)
        if not self.closed:
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        grown = len(self.buffer) > before
        if not grown and self.error is not None:
            raise self.error
        return grown

    @property
    def reusable(self) -> bool:
        """Still open, nothing unread: fit for another request."""
        return not self.closed and self.available == 0 and not self._transport_closing()

    def _transport_closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def abort(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self.transport is not None:
            self.transport.abort()


PoolKey = tuple[str, str, int, str]
"""(scheme, address, port, host): a kept-alive connection serves only the same host again."""
IDLE_SECONDS = 2.0
"""How long an idle kept-alive connection waits for another request before it is closed."""
MAX_IDLE = 512
"""Idle kept-alive connections at most, over all hosts (each holds a file descriptor); beyond
it the longest idle one is closed (mostly of a target already finished)."""
MAX_CONNECTING = 512
"""Requests on new connections at once when no `slots` are given."""
MAX_PER_HOST = 6
"""Connections in use at once for one host when reusing, as browsers do; more requests wait."""
DRAIN_LIMIT = 65536
"""Body bytes beyond the cap still read (and dropped) to keep a connection for reuse."""


class HttpClient:
    """Fetches URLs from pinned addresses; one TLS context serves every request.

    A request is sent on a fresh connection unless `reuse` is asked for: then a kept-alive
    connection to the same address, port and host is used if one is idle (a connection the
    server closed meanwhile is replaced by a fresh one, once), and at most MAX_PER_HOST are in
    use for that host at once. `slots` bounds the requests on new connections at once (shared
    with the caller's other connections); a request on an idle connection needs none.
    """

    def __init__(
        self,
        *,
        ca_file: str | None = None,
        timeout: float = 5.0,
        max_body: int = DEFAULT_MAX_BODY,
        user_agent: str = USER_AGENT,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_body = max_body
        self.user_agent = user_agent
        self.slots = slots or asyncio.Semaphore(MAX_CONNECTING)
        self._tls = tls_context(ca_file)
        self._idle: dict[PoolKey, list[_Connection]] = {}
        self._lru: OrderedDict[_Connection, PoolKey] = OrderedDict()
        self._busy: dict[PoolKey, int] = {}
        self._waiters: dict[PoolKey, deque[asyncio.Future[_Connection | None]]] = {}

    async def fetch(
        self,
        url: str,
        address: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        reuse: bool = False,
    ) -> HttpResponse:
        """Send one `method` request for `url` to `address` and read the capped response.

        `max_body` None means the client's cap. Failures raise `NetTimeout`, `NetRefused`,
        `NetUnreachable`, `TlsError` or `NetError`, each naming `address` and the port.
        """
        target = request_target(url, address)
        key = (target.scheme, address, target.port, target.host_header)
        cap = self.max_body if max_body is None else max_body
        exchange = _Exchange(self, target, address, method.upper(), reuse)
        if not reuse:
            async with self.slots:
                return await self._exchange(exchange, url, cap, None)
        idle = await self._acquire(key)
        try:
            if idle is not None:
                try:
                    return await self._exchange(exchange, url, cap, idle)
                except _Stale:
                    exchange = _Exchange(self, target, address, method.upper(), reuse)
            async with self.slots:
                return await self._exchange(exchange, url, cap, None)
        finally:
            self._release(key, exchange.reusable)

    async def _exchange(
        self, exchange: _Exchange, url: str, cap: int, idle: _Connection | None
    ) -> HttpResponse:
        """Run one exchange within the timeout."""
        try:
            async with asyncio.timeout(self.timeout):
                return await exchange.run(url, cap, idle)
        except TimeoutError as exc:
            raise NetTimeout(
                exchange.address, exchange.target.port, exchange.timeout_detail()
            ) from exc

    async def _acquire(self, key: PoolKey) -> _Connection | None:
        """A turn to use a connection for `key`: an idle one, or None to open a new one while
        fewer than MAX_PER_HOST are in use, else wait (outside the request's timeout) for a
        request in use to finish and hand over its connection or its turn."""
        while True:
            idle = self._take(key)
            if idle is not None or self._busy.get(key, 0) < MAX_PER_HOST:
                self._busy[key] = self._busy.get(key, 0) + 1
                return idle
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(key, deque()).append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._pass_on(key, waiter.result())
                raise
            if handed is not None:
                return handed

    def _release(self, key: PoolKey, connection: _Connection | None) -> None:
        """End a turn for `key`: its connection, if fit for reuse, goes straight to the next
        waiting request (which takes over the turn) or is parked; without one, the next waiting
        request is woken to open its own."""
        if connection is not None and not connection.reusable:
            connection.abort()
            connection = None
        waiter = self._next_waiter(key)
        if waiter is not None and connection is not None:
            waiter.set_result(connection)
            return
        if connection is not None:
            self._park(key, connection)
        busy = self._busy[key] - 1
        if busy:
            self._busy[key] = busy
        else:
            del self._busy[key]
        if waiter is not None:
            waiter.set_result(None)

    def _pass_on(self, key: PoolKey, handed: _Connection | None) -> None:
        """Give what a cancelled waiter was handed (a connection and its turn, or a wake-up)
        to the next one."""
        if handed is not None:
            self._release(key, handed)
        elif (waiter := self._next_waiter(key)) is not None:
            waiter.set_result(None)

    def _next_waiter(self, key: PoolKey) -> asyncio.Future[_Connection | None] | None:
        """The longest waiting request for `key` still waiting, taken off the queue."""
        waiters = self._waiters.get(key)
        found = None
        while waiters and found is None:
            waiter = waiters.popleft()
            if not waiter.done():
                found = waiter
        if waiters is not None and not waiters:
            del self._waiters[key]
        return found

    def _take(self, key: PoolKey) -> _Connection | None:
        """An idle connection for `key` that is still usable, if any."""
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            self._forget(connection)
            if connection.reusable:
                return connection
            connection.abort()
        self._idle.pop(key, None)
        return None

    def _park(self, key: PoolKey, connection: _Connection) -> None:
        """Park a connection for reuse; when MAX_IDLE are parked, the longest idle one goes."""
        if len(self._lru) >= MAX_IDLE:
            oldest, oldest_key = next(iter(self._lru.items()))
            self._drop(oldest_key, oldest)
        self._idle.setdefault(key, []).append(connection)
        self._lru[connection] = key
        connection.idle_timer = connection.loop.call_later(
            IDLE_SECONDS, self._drop, key, connection
        )

    def _drop(self, key: PoolKey, connection: _Connection) -> None:
        """Close an idle connection (expired, evicted or at `close`)."""
        idle = self._idle.get(key)
        if idle is not None and connection in idle:
            idle.remove(connection)
            if not idle:
                del self._idle[key]
        self._forget(connection)
        connection.abort()

    def _forget(self, connection: _Connection) -> None:
        """Take a connection off the idle list's order and stop its idle timer."""
        self._lru.pop(connection, None)
        if connection.idle_timer is not None:
            connection.idle_timer.cancel()
            connection.idle_timer = None

    def close(self) -> None:
        """Close every idle kept-alive connection."""
        for connection, key in list(self._lru.items()):
            self._drop(key, connection)


class _Stale(Exception):
    """A kept-alive connection was closed by the server before it answered: use a fresh one."""


class _Exchange:
    """One request and its response, tracking how far it got."""

    def __init__(
        self, client: HttpClient, target: RequestTarget, address: str, method: str, reuse: bool
    ) -> None:
        self.client = client
        self.target = target
        self.address = address
        self.method = method
        self.reuse = reuse
        self.phase = _Phase.CONNECT
        self.body_bytes = 0
        self.dropped = 0
        self.keep_alive = False
        self.reusable: _Connection | None = None

    def error(self, detail: str) -> NetError:
        """A plain `NetError` for this exchange's endpoint."""
        return NetError(self.address, self.target.port, detail)

    def timeout_detail(self) -> str:
        """What the timeout interrupted: the connect (TCP or TLS) or the read."""
        limit = f"{self.client.timeout:g}s"
        return {
            _Phase.CONNECT: f"connect timeout: no TCP connection within {limit}",
            _Phase.HANDSHAKE: f"connect timeout: TLS handshake not done within {limit}",
            _Phase.RESPONSE: f"read timeout: no response within {limit}",
            _Phase.HEADER: f"read timeout: response header incomplete after {limit}",
            _Phase.BODY: f"read timeout: body incomplete after {limit}"
            f" ({self.body_bytes} bytes read)",
        }[self.phase]

    async def run(self, url: str, cap: int, idle: _Connection | None) -> HttpResponse:
        """Send the request (on `idle` if given, else on a new connection) and read the
        response; the caller bounds the time. A connection fit for another request is left
        in `reusable`, any other is closed."""
        started = time.perf_counter()
        connection = idle or await self._open()
        try:
            assert connection.transport is not None
            connection.transport.write(self._request())
            self.phase = _Phase.RESPONSE
            status, headers = await self._read_head(connection, stale_ok=idle is not None)
            self.phase = _Phase.BODY
            sink = _BodySink(cap, headers.get("content-encoding", ""))
            framed = await self._read_body(connection, status, headers, sink)
            body = sink.body()
            if self.reuse and framed and self.keep_alive:
                self.reusable = connection
        except _BadBody as exc:
            raise self.error(str(exc)) from None
        except ssl.SSLError as exc:
            raise TlsError(
                self.address, self.target.port, f"TLS error: {_ssl_reason(exc)}"
            ) from exc
        except OSError as exc:
            if idle is not None and self.phase is _Phase.RESPONSE:
                raise _Stale from exc
            raise self.error(f"{_os_reason(exc)} {self._where()}") from exc
        finally:
            if self.reusable is None:
                connection.abort()
        elapsed = time.perf_counter() - started
        return HttpResponse(
            url=url,
            address=self.address,
            status=status,
            headers=headers,
            body=body,
            elapsed=elapsed,
            truncated=sink.truncated,
            tls=connection.tls,
        )

    async def _open(self) -> _Connection:
        """Connect, then (for https) shake hands verifying the certificate for the URL's host.

        Once the socket is handed to asyncio its transport owns it: closing it here as well would
        free the descriptor while the transport still watches it, and the next socket to get
        that number would find it taken ("File descriptor N is used by transport").
        """
        sock = await open_socket(self.address, self.target.port)
        loop = asyncio.get_running_loop()
        connection = _Connection(loop)
        if self.target.scheme == "http":
            await loop.create_connection(lambda: connection, sock=sock)
            return connection
        self.phase = _Phase.HANDSHAKE
        try:
            await loop.create_connection(
                lambda: connection,
                sock=sock,
                ssl=self.client._tls,
                server_hostname=self.target.server_hostname,
                ssl_handshake_timeout=self.client.timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            detail = f"certificate verification failed: {_verify_reason(exc)}"
            raise TlsError(self.address, self.target.port, detail) from exc
        except ssl.SSLError as exc:
            detail = f"TLS handshake failed: {_ssl_reason(exc)}"
            raise TlsError(self.address, self.target.port, detail) from exc
        except OSError as exc:
            if not isinstance(exc, ConnectionError):
                raise map_os_error(self.address, self.target.port, exc) from exc
            detail = f"TLS handshake failed: {_os_reason(exc)}"
            raise TlsError(self.address, self.target.port, detail) from exc
        connection.tls = _tls_info(connection)
        return connection

    def _request(self) -> bytes:
        """The request head: no body; the connection kept only when reuse is asked for."""
        lines = [
            f"{self.method} {self.target.path} HTTP/1.1",
            f"Host: {self.target.host_header}",
            f"User-Agent: {self.client.user_agent}",
            f"Accept: {ACCEPT}",
            "Accept-Encoding: gzip, deflate",
            "Connection: keep-alive" if self.reuse else "Connection: close",
            "",
            "",
        ]
        return "\r\n".join(lines).encode("ascii")

    async def _read_head(
        self, connection: _Connection, *, stale_ok: bool
    ) -> tuple[int, dict[str, str]]:
        """Status and headers of the final response (1xx interim responses skipped).

        With `stale_ok` (a reused connection), a close before any byte raises `_Stale`.
        """
        while True:
            line = await self._line(connection)
            skipped = 0
            while line in (b"\r\n", b"\n") and skipped < MAX_HEADER_LINES:
                line = await self._line(connection)
                skipped += 1
            if not line:
                if stale_ok:
                    raise _Stale
                raise self.error("connection closed before the response")
            self.phase = _Phase.HEADER
            version, status = self._status(line)
            headers = await self._headers(connection)
            if not 100 <= status < 200 or status == 101:
                tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
                self.keep_alive = version == b"HTTP/1.1" and "close" not in tokens
                return status, headers

    def _status(self, line: bytes) -> tuple[bytes, int]:
        """The version and status code of a status line like `HTTP/1.1 200 OK`."""
        parts = line.split(None, 2)
        version, code = [*parts, b"", b""][:2]
        if not version.startswith(b"HTTP/") or len(code) != 3 or not code.isdigit():
            raise self.error(f"malformed response: status line {line[:60]!r}")
        return version, int(code)

    async def _headers(self, connection: _Connection) -> dict[str, str]:
        """Header fields up to the blank line: lower-case names, repeats joined, folds unfolded."""
        lines = _buffered_header_lines(connection)
        if lines is None:
            lines = await self._header_lines(connection)
        if len(lines) >= MAX_HEADER_LINES:
            raise self.error(f"malformed response: more than {MAX_HEADER_LINES} header lines")
        headers: dict[str, str] = {}
        last = ""
        for line in lines:
            if line[0] in " \t" and last:
                headers[last] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            name = name.strip().lower()
            if not colon or not name:
                continue
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
            last = name
        return headers

    async def _header_lines(self, connection: _Connection) -> list[str]:
        """The header lines read one by one up to the blank line (without their ends)."""
        lines: list[str] = []
        for _ in range(MAX_HEADER_LINES):
            raw = await self._line(connection)
            if not raw:
                raise self.error("connection closed inside the response header")
            line = raw.decode("latin-1").rstrip("\r\n")
            if not line:
                return lines
            lines.append(line)
        raise self.error(f"malformed response: more than {MAX_HEADER_LINES} header lines")

    async def _line(self, connection: _Connection) -> bytes:
        """One line with its end (b"" at EOF, or what is left before it); an overlong line is
        a malformed response."""
        while True:
            end = connection.buffer.find(b"\n", connection.pos)
            if end >= 0:
                if end - connection.pos >= LINE_LIMIT:
                    break
                return connection.take(end + 1 - connection.pos)
            if connection.available >= LINE_LIMIT:
                break
            if not await connection.more():
                return connection.take(connection.available)
        raise self.error(f"malformed response: line longer than {LINE_LIMIT} bytes")

    async def _read_body(
        self,
        connection: _Connection,
        status: int,
        headers: dict[str, str],
        sink: _BodySink,
    ) -> bool:
        """Read the body as framed by RFC 9112 section 6.3, stopping once `sink` is full.

        Returns whether the response ended where its framing says, leaving the connection fit
        for another request.
        """
        if self.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return True
        codings = headers.get("transfer-encoding", "")
        if codings and codings.rsplit(",", 1)[-1].strip().lower() == "chunked":
            return await self._read_chunked(connection, sink)
        if "content-length" in headers and not codings:
            size = self._content_length(headers)
            drain = self.reuse and size - sink.cap <= DRAIN_LIMIT
            return not await self._read_exactly(connection, sink, size, drain=drain)
        while True:
            data = connection.take(connection.available)
            self.body_bytes += len(data)
            if data and sink.feed(data):
                return False
            if not await connection.more():
                return False

    def _content_length(self, headers: dict[str, str]) -> int:
        """The body length; repeats must agree (RFC 9110 section 8.6)."""
        values = {v.strip() for v in headers["content-length"].split(",")}
        value = values.pop()
        if values or not (value.isascii() and value.isdigit()):
            raise self.error(f"malformed response: Content-Length {headers['content-length']!r}")
        return int(value)

    async def _read_exactly(
        self,
        connection: _Connection,
        sink: _BodySink,
        size: int,
        *,
        chunk: bool = False,
        drain: bool = False,
    ) -> bool:
        """Read `size` body bytes (one chunk's if `chunk`) into `sink`; True if it filled up and
        reading stopped there. With `drain`, up to DRAIN_LIMIT bytes beyond the cap are read and
        dropped, so that the response still ends where its framing says."""
        remaining = size
        while remaining:
            if not connection.available and not await connection.more():
                if chunk:
                    raise self.error("connection closed inside the chunked body")
                raise self.error(f"connection closed after {size - remaining} of {size} body bytes")
            data = connection.take(remaining)
            remaining -= len(data)
            self.body_bytes += len(data)
            if sink.truncated:
                self.dropped += len(data)
                if not drain or self.dropped > DRAIN_LIMIT:
                    return True
            elif sink.feed(data) and not drain:
                return True
        return False

    async def _read_chunked(self, connection: _Connection, sink: _BodySink) -> bool:
        """Read a chunked body (extensions ignored) into `sink` until the last chunk or the cap;
        True when the body ended at its last chunk."""
        while True:
            line = await self._line(connection)
            if not line:
                raise self.error("connection closed inside the chunked body")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                size = -1
            if size < 0:
                raise self.error(f"malformed chunked body: chunk size {size_text[:20]!r}")
            if size == 0:
                return await self._skip_trailers(connection)
            if await self._read_exactly(connection, sink, size, chunk=True, drain=self.reuse):
                return False
            if (await self._line(connection)).strip():
                raise self.error("malformed chunked body: no line end after a chunk")

    async def _skip_trailers(self, connection: _Connection) -> bool:
        """Read the trailer section; a connection closed instead is tolerated (and not kept)."""
        for _ in range(MAX_HEADER_LINES):
            line = await self._line(connection)
            if not line:
                return False
            if not line.strip():
                return True
        raise self.error(f"malformed response: more than {MAX_HEADER_LINES} trailer lines")

    def _where(self) -> str:
        """Where a connection failure struck, for its message."""
        if self.phase is _Phase.BODY:
            return f"after {self.body_bytes} body bytes"
        if self.phase is _Phase.HEADER:
            return "inside the response header"
        return "before the response"


def _buffered_header_lines(connection: _Connection) -> list[str] | None:
    """The header lines at once when the whole header is buffered with CRLF line ends only (the
    usual case); None to read them line by line."""
    buffer, start = connection.buffer, connection.pos
    if buffer.startswith(b"\r\n", start):
        connection.take(2)
        return []
    end = buffer.find(b"\r\n\r\n", start, start + MAX_HEADER_LINES * 1024)
    if end < 0:
        return None
    block = bytes(buffer[start:end])
    if block.count(b"\n") != block.count(b"\r\n"):
        return None
    lines = block.decode("latin-1").split("\r\n")
    if any(len(line) >= LINE_LIMIT for line in lines):
        return None
    connection.take(end + 4 - start)
    return lines


def _tls_info(connection: _Connection) -> TlsInfo | None:
    """The peer's leaf certificate fingerprint; only verified sessions get this far."""
    assert connection.transport is not None
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True) or b""
    return TlsInfo(fingerprint=hashlib.sha256(der).hexdigest(), verified=True)


def _verify_reason(exc: ssl.SSLCertVerificationError) -> str:
    """OpenSSL's reason, e.g. "hostname mismatch, certificate is not valid for 'www.x'"."""
    message = (exc.verify_message or exc.reason or str(exc)).rstrip(".")
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


def _ssl_reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason as words, e.g. "wrong version number"."""
    return (exc.reason or str(exc)).replace("_", " ").lower()


def _os_reason(exc: OSError) -> str:
    """The system's text for a socket error, e.g. "connection reset by peer"."""
    return (exc.strerror or str(exc) or type(exc).__name__).lower()
