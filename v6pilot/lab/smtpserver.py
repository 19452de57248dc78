"""A minimal SMTP responder for the lab's mail hosts: enough for a scanner to meet a live MTA.

It greets, answers EHLO/HELO, NOOP, RSET and QUIT, and refuses everything else; no mail is ever
accepted.
"""

from __future__ import annotations

import asyncio
import contextlib

IDLE_TIMEOUT = 30.0
MAX_MESSAGE_SIZE = 10_485_760


def smtp_greeting(hostname: str) -> bytes:
    """The 220 banner the server sends as soon as a client connects."""
    return f"220 {hostname} ESMTP v6pilot-lab\r\n".encode()


def smtp_reply(hostname: str, line: bytes) -> tuple[bytes, bool]:
    """The reply to one command line, and whether the server closes the session after it."""
    words = line.decode("latin-1").split(maxsplit=1)
    verb = words[0].upper() if words else ""
    if verb in ("EHLO", "HELO"):
        client = words[1].strip() if len(words) > 1 else "client"
        return (
            f"250-{hostname} greets {client}\r\n"
            "250-PIPELINING\r\n"
            "250-8BITMIME\r\n"
            f"250 SIZE {MAX_MESSAGE_SIZE}\r\n"
        ).encode(), False
    if verb in ("NOOP", "RSET"):
        return b"250 2.0.0 OK\r\n", False
    if verb == "QUIT":
        return f"221 2.0.0 {hostname} closing connection\r\n".encode(), True
    return b"502 5.5.1 Command not implemented\r\n", False


async def smtp_session(
    hostname: str,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
) -> None:
    """Serve one SMTP connection as `hostname` until QUIT, EOF or `idle_timeout` s of silence."""
    try:
        writer.write(smtp_greeting(hostname))
        await writer.drain()
        while True:
            try:
                line = await asyncio.wait_for(reader.readline(), idle_timeout)
            except TimeoutError:
                writer.write(f"421 4.4.2 {hostname} idle timeout\r\n".encode())
                break
            except ValueError:  # the line exceeded the reader's limit
                writer.write(b"500 5.5.6 Line too long\r\n")
                break
            if not line:
                break
            reply, closing = smtp_reply(hostname, line)
            writer.write(reply)
            await writer.drain()
            if closing:
                break
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
