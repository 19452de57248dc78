"""The SMTP probe against tiny scripted SMTP servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from v6pilot.errors import NetError, NetTimeout
from v6pilot.net.smtp import probe_smtp

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[str]], Awaitable[None]]
StartSmtp = Callable[[Script], Awaitable[tuple[int, list[str]]]]


@pytest.fixture
async def smtp_server() -> AsyncIterator[StartSmtp]:
    """`await smtp_server(script)` starts a server on 127.0.0.1: (port, lines it received)."""
    servers: list[asyncio.Server] = []

    async def start(script: Script) -> tuple[int, list[str]]:
        received: list[str] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await script(reader, writer, received)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1], received

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def good_mta(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
) -> None:
    writer.write(b"220-mx.example.test ESMTP\r\n220 welcome\r\n")
    received.append((await reader.readline()).decode().rstrip())
    writer.write(b"250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
    received.append((await reader.readline()).decode().rstrip())
    writer.write(b"221 bye\r\n")


async def test_banner_and_ehlo_dialogue(smtp_server: StartSmtp) -> None:
    port, received = await smtp_server(good_mta)
    reply = await probe_smtp("127.0.0.1", "scanner.example.test", 1.0, port=port)
    assert reply.banner == "220-mx.example.test ESMTP\n220 welcome"
    assert reply.ehlo == ["250-mx.example.test", "250-PIPELINING", "250 8BITMIME"]
    assert (reply.ok, reply.address) == (True, "127.0.0.1")
    await asyncio.sleep(0.05)
    assert received == ["EHLO scanner.example.test", "QUIT"]


async def test_refused_ehlo_is_returned_not_raised(smtp_server: StartSmtp) -> None:
    async def picky(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        writer.write(b"220 mx\r\n")
        await reader.readline()
        writer.write(b"550 go away\r\n")
        await reader.readline()

    port, _ = await smtp_server(picky)
    reply = await probe_smtp("127.0.0.1", "scanner.example.test", 1.0, port=port)
    assert (reply.ehlo, reply.ok) == (["550 go away"], False)


@pytest.mark.parametrize(
    ("greeting", "message"),
    [
        (b"554 no service here\r\n", "no SMTP banner: '554 no service here'"),
        (b"", "connection closed before the SMTP banner"),
        (b"220-first line only\r\n", "connection closed inside the SMTP banner"),
        (b"SSH-2.0-OpenSSH\r\n", "malformed SMTP reply line"),
    ],
)
async def test_bad_greetings_raise_net_error(
    smtp_server: StartSmtp, greeting: bytes, message: str
) -> None:
    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        writer.write(greeting)
        await writer.drain()

    port, _ = await smtp_server(script)
    with pytest.raises(NetError, match=message):
        await probe_smtp("127.0.0.1", "scanner.example.test", 1.0, port=port)


async def test_silent_server_times_out_naming_the_step(smtp_server: StartSmtp) -> None:
    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        await reader.read()

    port, _ = await smtp_server(silent)
    with pytest.raises(NetTimeout, match=r"no SMTP banner within 0\.2s"):
        await probe_smtp("127.0.0.1", "scanner.example.test", 0.2, port=port)


async def test_helo_must_be_one_line() -> None:
    with pytest.raises(ValueError, match="one line"):
        await probe_smtp("127.0.0.1", "a\r\nRCPT TO:<x>", 1.0)
