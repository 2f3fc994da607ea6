"""UpgradedProtocol: taking a live TCP transport over from another protocol (127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from aioloom.websocket.aio import UpgradedProtocol


class Parser:
    """Records what an upgraded connection feeds it."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.eofs = 0

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.data.append(data)
        return False, b""

    def feed_eof(self) -> None:
        self.eofs += 1


class Previous(asyncio.Protocol):
    """The protocol that owned the connection before the upgrade."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost: list[BaseException | None] = []

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost.append(exc)


class Peer:
    """The server side: the test writes to it and reads from it."""

    def __init__(self) -> None:
        self.connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.get_running_loop().create_future()
        )

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set_result((reader, writer))


@contextlib.asynccontextmanager
async def connection() -> AsyncIterator[
    tuple[asyncio.Transport, Previous, asyncio.StreamReader, asyncio.StreamWriter]
]:
    peer = Peer()
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, previous = await loop.create_connection(Previous, "127.0.0.1", port)
    reader, writer = await peer.connected
    try:
        yield transport, previous, reader, writer
    finally:
        transport.close()
        writer.close()
        server.close()
        await server.wait_closed()


async def until(predicate: object, timeout: float = 2.0) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.001)


async def test_input_goes_to_the_parser_tail_first_then_buffered_then_live() -> None:
    async with connection() as (transport, previous, _, writer):
        writer.write(b"http")
        await until(lambda: previous.received)
        upgraded = UpgradedProtocol.take_over(transport, previous)
        assert upgraded.transport is transport
        writer.write(b"early")
        await until(lambda: upgraded._buffer)
        parser = Parser()
        upgraded.set_parser(parser, b"tail")
        assert parser.data == [b"tail", b"early"]
        writer.write(b"live")
        await until(lambda: len(parser.data) == 3)
        assert parser.data[2] == b"live"
        assert previous.received == [b"http"]  # nothing went to the old protocol


async def test_writes_go_out_through_the_same_transport() -> None:
    async with connection() as (transport, previous, reader, _):
        upgraded = UpgradedProtocol.take_over(transport, previous)
        assert upgraded.transport is not None
        upgraded.transport.write(b"frame")
        await upgraded._drain_helper()
        assert await asyncio.wait_for(reader.readexactly(5), 2) == b"frame"


async def test_the_end_reaches_the_parser_once_and_the_old_protocol() -> None:
    async with connection() as (transport, previous, _, writer):
        upgraded = UpgradedProtocol.take_over(transport, previous)
        parser = Parser()
        upgraded.set_parser(parser)
        writer.close()  # the peer's EOF: the transport closes itself
        await until(lambda: previous.lost)
        assert parser.eofs == 1
        assert previous.lost == [None]
        assert upgraded.transport is None
        assert not upgraded.connected


async def test_an_end_before_the_parser_is_delivered_after_the_data() -> None:
    async with connection() as (transport, previous, _, writer):
        upgraded = UpgradedProtocol.take_over(transport, previous)
        writer.write(b"last words")
        writer.close()
        await until(lambda: previous.lost)
        parser = Parser()
        upgraded.set_parser(parser)
        assert parser.data == [b"last words"]
        assert parser.eofs == 1


async def test_a_second_parser_is_refused() -> None:
    async with connection() as (transport, previous, _, _):
        upgraded = UpgradedProtocol.take_over(transport, previous)
        upgraded.set_parser(Parser())
        with pytest.raises(RuntimeError, match="already has an upgraded parser"):
            upgraded.set_parser(Parser())


async def test_live_reads_call_the_parsers_own_feed_data() -> None:
    async with connection() as (transport, previous, _, writer):
        upgraded = UpgradedProtocol.take_over(transport, previous)
        parser = Parser()
        upgraded.set_parser(parser)
        # No frame of the protocol's own between the transport and the parser.
        assert upgraded.data_received == parser.feed_data
        writer.write(b"direct")
        await until(lambda: parser.data == [b"direct"])
