"""HTTP/1.1 client pinned to one IP address: Host and SNI come from the URL, never resolved.

One request per connection, no redirects followed, body capped (gzip and deflate undone, the
decoded size capped too) so that a huge or endless body costs no more than the cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import ssl
import time
import zlib
from dataclasses import dataclass
from enum import Enum
from urllib.parse import SplitResult, quote, urlsplit

import idna

from v6pilot.errors import NetError, NetTimeout, TlsError
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


def request_target(url: str, address: str) -> RequestTarget:
    """Split `url` into what the request needs; an unusable URL raises `NetError` for `address`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NetError(address, 0, f"unsupported URL scheme {scheme!r} in {url}")
    default_port = DEFAULT_PORTS[scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise NetError(address, default_port, f"bad port in URL {url}") from None
    host = _ascii_host(parts, address, port)
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if port == default_port else f"{bracketed}:{port}"
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return RequestTarget(scheme, host, port, host_header, path)


def _ascii_host(parts: SplitResult, address: str, port: int) -> str:
    """The URL's host as an IP literal or an ASCII (IDNA) host name."""
    host = parts.hostname or ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise NetError(address, port, f"bad host name {host!r}: {exc}") from None
    if not _HOST_NAME.fullmatch(host):
        raise NetError(address, port, f"bad host name {host!r} in URL")
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


class HttpClient:
    """Fetches URLs from pinned addresses; one TLS context serves every request."""

    def __init__(
        self,
        *,
        ca_file: str | None = None,
        timeout: float = 5.0,
        max_body: int = DEFAULT_MAX_BODY,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = timeout
        self.max_body = max_body
        self.user_agent = user_agent
        self._tls = tls_context(ca_file)

    async def fetch(
        self, url: str, address: str, *, method: str = "GET", max_body: int | None = None
    ) -> HttpResponse:
        """Send one `method` request for `url` to `address` and read the capped response.

        `max_body` None means the client's cap. Failures raise `NetTimeout`, `NetRefused`,
        `NetUnreachable`, `TlsError` or `NetError`, each naming `address` and the port.
        """
        target = request_target(url, address)
        exchange = _Exchange(self, target, address, method.upper())
        cap = self.max_body if max_body is None else max_body
        try:
            async with asyncio.timeout(self.timeout):
                return await exchange.run(url, cap)
        except TimeoutError as exc:
            raise NetTimeout(address, target.port, exchange.timeout_detail()) from exc


class _Exchange:
    """One request and its response on a fresh connection, tracking how far it got."""

    def __init__(self, client: HttpClient, target: RequestTarget, address: str, method: str):
        self.client = client
        self.target = target
        self.address = address
        self.method = method
        self.phase = _Phase.CONNECT
        self.body_bytes = 0

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

    async def run(self, url: str, cap: int) -> HttpResponse:
        """Connect, send the request, read the response; the caller bounds the time."""
        started = time.perf_counter()
        reader, writer = await self._open()
        try:
            tls = _tls_info(writer)
            writer.write(self._request())
            self.phase = _Phase.RESPONSE
            status, headers = await self._read_head(reader)
            self.phase = _Phase.BODY
            sink = _BodySink(cap, headers.get("content-encoding", ""))
            await self._read_body(reader, status, headers, sink)
            body = sink.body()
        except _BadBody as exc:
            raise self.error(str(exc)) from None
        except ssl.SSLError as exc:
            raise TlsError(
                self.address, self.target.port, f"TLS error: {_ssl_reason(exc)}"
            ) from exc
        except OSError as exc:
            raise self.error(f"{_os_reason(exc)} {self._where()}") from exc
        finally:
            writer.transport.abort()
        elapsed = time.perf_counter() - started
        return HttpResponse(
            url=url,
            address=self.address,
            status=status,
            headers=headers,
            body=body,
            elapsed=elapsed,
            truncated=sink.truncated,
            tls=tls,
        )

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect, then (for https) shake hands verifying the certificate for the URL's host.

        Once the socket is handed to asyncio its transport owns it: closing it here as well would
        free the descriptor while the transport still watches it, and the next socket to get
        that number would find it taken ("File descriptor N is used by transport").
        """
        sock = await open_socket(self.address, self.target.port)
        if self.target.scheme == "http":
            return await asyncio.open_connection(sock=sock, limit=LINE_LIMIT)
        self.phase = _Phase.HANDSHAKE
        try:
            return await asyncio.open_connection(
                sock=sock,
                limit=LINE_LIMIT,
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

    def _request(self) -> bytes:
        """The request head: no body, one request per connection."""
        lines = [
            f"{self.method} {self.target.path} HTTP/1.1",
            f"Host: {self.target.host_header}",
            f"User-Agent: {self.client.user_agent}",
            f"Accept: {ACCEPT}",
            "Accept-Encoding: gzip, deflate",
            "Connection: close",
            "",
            "",
        ]
        return "\r\n".join(lines).encode("ascii")

    async def _read_head(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        """Status and headers of the final response (1xx interim responses skipped)."""
        while True:
            line = await self._line(reader)
            skipped = 0
            while line in (b"\r\n", b"\n") and skipped < MAX_HEADER_LINES:
                line = await self._line(reader)
                skipped += 1
            if not line:
                raise self.error("connection closed before the response")
            self.phase = _Phase.HEADER
            status = self._status(line)
            headers = await self._headers(reader)
            if not 100 <= status < 200 or status == 101:
                return status, headers

    def _status(self, line: bytes) -> int:
        """The status code of a status line like `HTTP/1.1 200 OK`."""
        parts = line.split(None, 2)
        version, code = [*parts, b"", b""][:2]
        if not version.startswith(b"HTTP/") or len(code) != 3 or not code.isdigit():
            raise self.error(f"malformed response: status line {line[:60]!r}")
        return int(code)

    async def _headers(self, reader: asyncio.StreamReader) -> dict[str, str]:
        """Header fields up to the blank line: lower-case names, repeats joined, folds unfolded."""
        headers: dict[str, str] = {}
        last = ""
        for _ in range(MAX_HEADER_LINES):
            raw = await self._line(reader)
            if not raw:
                raise self.error("connection closed inside the response header")
            line = raw.decode("latin-1").rstrip("\r\n")
            if not line:
                return headers
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
        raise self.error(f"malformed response: more than {MAX_HEADER_LINES} header lines")

    async def _line(self, reader: asyncio.StreamReader) -> bytes:
        """One line with its end (b"" at EOF); an overlong line is a malformed response."""
        try:
            return await reader.readline()
        except ValueError:
            raise self.error(f"malformed response: line longer than {LINE_LIMIT} bytes") from None

    async def _read_body(
        self,
        reader: asyncio.StreamReader,
        status: int,
        headers: dict[str, str],
        sink: _BodySink,
    ) -> None:
        """Read the body as framed by RFC 9112 section 6.3, stopping once `sink` is full."""
        if self.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return
        codings = headers.get("transfer-encoding", "")
        if codings and codings.rsplit(",", 1)[-1].strip().lower() == "chunked":
            await self._read_chunked(reader, sink)
        elif "content-length" in headers and not codings:
            await self._read_exactly(reader, sink, self._content_length(headers))
        else:
            while data := await reader.read(READ_SIZE):
                self.body_bytes += len(data)
                if sink.feed(data):
                    return

    def _content_length(self, headers: dict[str, str]) -> int:
        """The body length; repeats must agree (RFC 9110 section 8.6)."""
        values = {v.strip() for v in headers["content-length"].split(",")}
        value = values.pop()
        if values or not (value.isascii() and value.isdigit()):
            raise self.error(f"malformed response: Content-Length {headers['content-length']!r}")
        return int(value)

    async def _read_exactly(
        self, reader: asyncio.StreamReader, sink: _BodySink, size: int, *, chunk: bool = False
    ) -> bool:
        """Read `size` body bytes (one chunk's if `chunk`) into `sink`; True if it filled up."""
        remaining = size
        while remaining:
            data = await reader.read(min(remaining, READ_SIZE))
            if not data:
                if chunk:
                    raise self.error("connection closed inside the chunked body")
                raise self.error(f"connection closed after {size - remaining} of {size} body bytes")
            remaining -= len(data)
            self.body_bytes += len(data)
            if sink.feed(data):
                return True
        return False

    async def _read_chunked(self, reader: asyncio.StreamReader, sink: _BodySink) -> None:
        """Read a chunked body (extensions ignored) into `sink` until the last chunk or the cap."""
        while True:
            line = await self._line(reader)
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
                await self._skip_trailers(reader)
                return
            if await self._read_exactly(reader, sink, size, chunk=True):
                return
            if (await self._line(reader)).strip():
                raise self.error("malformed chunked body: no line end after a chunk")

    async def _skip_trailers(self, reader: asyncio.StreamReader) -> None:
        """Read the trailer section; a connection closed instead is tolerated."""
        for _ in range(MAX_HEADER_LINES):
            line = await self._line(reader)
            if not line.strip():
                return
        raise self.error(f"malformed response: more than {MAX_HEADER_LINES} trailer lines")

    def _where(self) -> str:
        """Where a connection failure struck, for its message."""
        if self.phase is _Phase.BODY:
            return f"after {self.body_bytes} body bytes"
        if self.phase is _Phase.HEADER:
            return "inside the response header"
        return "before the response"


def _tls_info(writer: asyncio.StreamWriter) -> TlsInfo | None:
    """The peer's leaf certificate fingerprint; only verified sessions get this far."""
    ssl_object = writer.get_extra_info("ssl_object")
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
