"""SMTP probe: read a mail server's greeting, introduce ourselves with EHLO, then say QUIT."""

from __future__ import annotations

import asyncio

from v6pilot.errors import NetError, NetTimeout
from v6pilot.net.tcp import map_os_error, open_socket
from v6pilot.net.types import SmtpReply

SMTP_PORT = 25
LINE_LIMIT = 4096
MAX_REPLY_LINES = 100


async def probe_smtp(
    address: str, helo: str, timeout: float, *, port: int = SMTP_PORT
) -> SmtpReply:
    """Greeting and EHLO reply of the SMTP server at `address`, all within `timeout` seconds.

    A greeting other than 220 raises `NetError` ("no SMTP banner"); an EHLO refusal is returned
    as is (see `SmtpReply.ok`). Network failures raise `NetError` subclasses.
    """
    if "\r" in helo or "\n" in helo:
        raise ValueError(f"EHLO name must be one line: {helo!r}")
    dialogue = _Dialogue(address, port)
    try:
        async with asyncio.timeout(timeout):
            return await dialogue.run(helo)
    except TimeoutError as exc:
        raise NetTimeout(address, port, f"{dialogue.waiting_for} within {timeout:g}s") from exc


class _Dialogue:
    """One SMTP session, remembering what it waits for so that a timeout can say so."""

    def __init__(self, address: str, port: int) -> None:
        self.address = address
        self.port = port
        self.waiting_for = "no TCP connection"

    async def run(self, helo: str) -> SmtpReply:
        """Connect, read the banner, send EHLO and QUIT; the caller bounds the time."""
        sock = await open_socket(self.address, self.port)
        reader, writer = await asyncio.open_connection(sock=sock, limit=LINE_LIMIT)
        try:
            self.waiting_for = "no SMTP banner"
            banner = await self._reply(reader, "the SMTP banner")
            if not banner[0].startswith("220"):
                raise NetError(self.address, self.port, f"no SMTP banner: {banner[0][:80]!r}")
            writer.write(f"EHLO {helo}\r\n".encode("ascii", "replace"))
            self.waiting_for = "no EHLO reply"
            ehlo = await self._reply(reader, "the EHLO reply")
            writer.write(b"QUIT\r\n")
        except OSError as exc:
            raise map_os_error(self.address, self.port, exc) from exc
        finally:
            writer.close()
        return SmtpReply(address=self.address, banner="\n".join(banner), ehlo=ehlo)

    async def _reply(self, reader: asyncio.StreamReader, what: str) -> list[str]:
        """The lines of one (possibly multi-line) reply: `250-...` lines up to a `250 ...` one."""
        lines: list[str] = []
        while len(lines) < MAX_REPLY_LINES:
            try:
                raw = await reader.readline()
            except ValueError:
                raise self._error(f"line longer than {LINE_LIMIT} bytes in {what}") from None
            if not raw.endswith(b"\n"):
                where = "inside" if lines else "before"
                raise self._error(f"connection closed {where} {what}")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if (
                len(line) < 3
                or not (line[:3].isascii() and line[:3].isdigit())
                or line[3:4] not in ("", " ", "-")
            ):
                raise self._error(f"malformed SMTP reply line {line[:80]!r} in {what}")
            lines.append(line)
            if line[3:4] != "-":
                return lines
        raise self._error(f"more than {MAX_REPLY_LINES} lines in {what}")

    def _error(self, detail: str) -> NetError:
        """A plain `NetError` for this session's endpoint."""
        return NetError(self.address, self.port, detail)
