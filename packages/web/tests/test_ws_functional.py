"""WebSocketResponse on real sockets (127.0.0.1): the ``websockets`` library as an independent
client, and raw TCP clients for what no well-behaved client sends."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from aioloom.web._request import BaseRequest
from aioloom.web._response import Response
from aioloom.web._stream_response import StreamResponse
from aioloom.web._ws import WebSocketResponse, shutdown_websockets
from aioloom.websocket import Role, WebSocketProtocol, WSMessage, WSMsgType, serialize_frame

Handler = Callable[[BaseRequest], Awaitable[StreamResponse]]
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


class Recorder:
    """What the server-side handler saw, for the test to check once it finished."""

    def __init__(self) -> None:
        self.messages: list[WSMessage] = []
        self.errors: list[BaseException] = []
        self.ws: WebSocketResponse | None = None
        self.done = asyncio.Event()

    def handler(
        self,
        body: Callable[[WebSocketResponse], Awaitable[None]] | None = None,
        **options: Any,
    ) -> Handler:
        async def handle(request: BaseRequest) -> StreamResponse:
            ws = self.ws = WebSocketResponse(**options)
            try:
                if not ws.can_prepare(request):
                    return Response(text="not a websocket")
                await ws.prepare(request)
                if body is not None:
                    await body(ws)
                else:
                    await self.echo(ws)
            except Exception as exc:
                self.errors.append(exc)
                raise
            finally:
                self.done.set()
            return ws

        return handle

    async def echo(self, ws: WebSocketResponse) -> None:
        """Echo data messages; record every message, the one that ends the loop too."""
        while True:
            message = await ws.receive()
            self.messages.append(message)
            if message.type is WSMsgType.TEXT:
                await ws.send_str(message.data)
            elif message.type is WSMsgType.BINARY:
                await ws.send_bytes(message.data)
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return

    async def finished(self) -> WebSocketResponse:
        await asyncio.wait_for(self.done.wait(), 5)
        assert self.ws is not None
        return self.ws


@contextlib.asynccontextmanager
async def ws_client(port: int, **kwargs: Any) -> AsyncIterator[ClientConnection]:
    kwargs.setdefault("ping_interval", None)
    async with connect(f"ws://127.0.0.1:{port}/ws", proxy=None, **kwargs) as client:
        yield client


class RawClient:
    """A hand-written WebSocket client: exact bytes out, decoded frames in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.codec = WebSocketProtocol(Role.CLIENT)
        self.head = b""

    @classmethod
    async def connect(cls, port: int, first: bytes = b"") -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n" + first
        )
        client = cls(reader, writer)
        client.head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert client.head.startswith(b"HTTP/1.1 101 ")
        return client

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def read_until_eof(self, *, answer_close: bool = False) -> list[WSMessage]:
        """Every message the server sends until it closes the connection."""
        messages: list[WSMessage] = []
        while True:
            data = await asyncio.wait_for(self.reader.read(2**20), 5)
            if not data:
                return messages
            received = self.codec.receive_data(data)
            messages += received
            if answer_close and any(m.type is WSMsgType.CLOSE for m in received):
                self.send(self.codec.close(1000))

    def close(self) -> None:
        self.writer.close()


# -- the websockets library as client ----------------------------------------------------------


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_echo_with_the_websockets_client(serve: Any, compression: str | None) -> None:
    rec = Recorder()
    async with serve(rec.handler()) as (port, _):
        async with ws_client(port, compression=compression) as client:
            await client.send("héllo")
            assert await client.recv() == "héllo"
            await client.send(b"\x00" * 100_000)
            assert await client.recv() == b"\x00" * 100_000
            assert client.response is not None
            extensions = client.response.headers.get("Sec-WebSocket-Extensions")
        ws = await rec.finished()
    assert client.close_code == 1000
    assert ws.close_code == 1000
    assert ws.closed
    assert ws.compress == (0 if compression is None else 15)
    assert (extensions is not None) is (compression is not None)
    assert [m.type for m in rec.messages] == [WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CLOSE]
    assert rec.errors == []


async def test_subprotocol_with_the_websockets_client(serve: Any) -> None:
    rec = Recorder()
    async with serve(rec.handler(protocols=("chat.v1", "chat.v2"))) as (port, _):
        async with ws_client(port, subprotocols=["chat.v2", "chat.v1"]) as client:
            assert client.subprotocol == "chat.v2"
        ws = await rec.finished()
    assert ws.ws_protocol == "chat.v2"


async def test_client_close_code_and_reason_reach_the_server(serve: Any) -> None:
    rec = Recorder()
    async with serve(rec.handler()) as (port, _):
        async with ws_client(port) as client:
            await client.close(code=4001, reason="bye")
        ws = await rec.finished()
    close = rec.messages[0]
    assert (close.type, close.data, close.extra) == (WSMsgType.CLOSE, 4001, "bye")
    assert ws.close_code == 4001
    assert client.close_code == 1000  # aiohttp answers with 1000


async def test_server_close_code_and_reason_reach_the_client(serve: Any) -> None:
    async def body(ws: WebSocketResponse) -> None:
        assert await ws.close(code=4002, message=b"server says bye")
        assert not await ws.close()

    rec = Recorder()
    async with serve(rec.handler(body)) as (port, _):
        async with ws_client(port) as client:
            with pytest.raises(ConnectionClosed):
                await client.recv()
        ws = await rec.finished()
    assert (client.close_code, client.close_reason) == (4002, "server says bye")
    assert ws.close_code == 4002  # the client echoed it


async def test_handler_returning_an_open_websocket_closes_it(serve: Any) -> None:
    async def body(ws: WebSocketResponse) -> None:
        await ws.send_str("one and done")

    rec = Recorder()
    async with serve(rec.handler(body)) as (port, _):
        async with ws_client(port) as client:
            assert await client.recv() == "one and done"
            with pytest.raises(ConnectionClosed):
                await client.recv()
        ws = await rec.finished()
        await asyncio.sleep(0.05)  # write_eof() runs after the handler returned
    assert client.close_code == 1000
    assert ws.closed
    assert ws.close_code == 1000


async def test_receive_timeout(serve: Any) -> None:
    async def body(ws: WebSocketResponse) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive()
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive_str(timeout=0.01)
        assert not ws.closed
        await ws.close(code=4000)

    rec = Recorder()
    async with serve(rec.handler(body, receive_timeout=0.05)) as (port, _):
        async with ws_client(port) as client:
            with pytest.raises(ConnectionClosed):
                await client.recv()
        await rec.finished()
    assert rec.errors == []
    assert client.close_code == 4000


async def test_concurrent_receive_raises(serve: Any) -> None:
    async def body(ws: WebSocketResponse) -> None:
        first = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="Concurrent call to receive"):
            await ws.receive()
        assert (await first).data == "unblock"
        await ws.close()

    rec = Recorder()
    async with serve(rec.handler(body)) as (port, _):
        async with ws_client(port) as client:
            await client.send("unblock")
        await rec.finished()
    assert rec.errors == []


async def test_not_an_upgrade_is_served_as_http(serve: Any, client_exchange: Any) -> None:
    rec = Recorder()
    async with serve(rec.handler()) as (port, _):
        raw = await client_exchange(
            port, b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b"not a websocket")


async def test_refused_upgrade_gets_its_status(serve: Any, client_exchange: Any) -> None:
    async def handle(request: BaseRequest) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        return ws

    request = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 8\r\n\r\n"
    )
    async with serve(handle) as (port, _):
        raw = await client_exchange(port, request)
    assert raw.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"Sec-WebSocket-Version: 13\r\n" in raw


# -- raw clients: what well-behaved clients never send --------------------------------------------


def _unmasked() -> bytes:
    return serialize_frame(0x1, b"unmasked", mask=False)


def _huge_length() -> bytes:
    # RFC 6455 §5.2: a 64-bit length must have its most significant bit clear.
    return b"\x82\xff" + struct.pack("!Q", 2**63) + b"mask"


def _oversize() -> bytes:
    return serialize_frame(0x2, b"x" * 2000, mask=True)


@pytest.mark.parametrize(
    ("frame", "code"),
    [(_unmasked, 1002), (_huge_length, 1002), (_oversize, 1009)],
    ids=["unmasked", "2**63-length", "oversize"],
)
async def test_protocol_violations_get_their_close_code(
    serve: Any, frame: Callable[[], bytes], code: int
) -> None:
    rec = Recorder()
    async with serve(rec.handler(max_msg_size=1024)) as (port, _):
        client = await RawClient.connect(port)
        client.send(frame())
        received = await client.read_until_eof()
        client.close()
        ws = await rec.finished()
    assert [m.type for m in received] == [WSMsgType.CLOSE]
    assert received[0].data == code
    error = rec.messages[0]
    assert error.type is WSMsgType.ERROR
    assert error.data.code == code
    assert ws.close_code == code
    assert ws.exception() is error.data


async def test_frames_sent_with_the_upgrade_request_are_not_lost(serve: Any) -> None:
    rec = Recorder()
    first = serialize_frame(0x1, b"early bird", mask=True)
    async with serve(rec.handler()) as (port, _):
        client = await RawClient.connect(port, first=first)
        client.send(serialize_frame(0x8, struct.pack("!H", 1000), mask=True))
        received = await client.read_until_eof()
        client.close()
        await rec.finished()
    assert [(m.type, m.data) for m in received] == [
        (WSMsgType.TEXT, "early bird"),
        (WSMsgType.CLOSE, 1000),
    ]


async def test_heartbeat_drops_a_silent_client(serve: Any) -> None:
    async def body(ws: WebSocketResponse) -> None:
        message = await ws.receive()
        rec.messages.append(message)

    rec = Recorder()
    async with serve(rec.handler(body, heartbeat=0.1)) as (port, _):
        client = await RawClient.connect(port)  # it never answers pings
        received = await client.read_until_eof()
        client.close()
        ws = await rec.finished()
    assert [m.type for m in received] == [WSMsgType.PING]
    error = rec.messages[0]
    assert error.type is WSMsgType.ERROR
    assert isinstance(error.data, asyncio.TimeoutError)
    assert ws.close_code == 1006
    assert ws.exception() is error.data


async def test_heartbeat_keeps_an_answering_client(serve: Any) -> None:
    async def body(ws: WebSocketResponse) -> None:
        await asyncio.sleep(0.35)  # several heartbeats, nothing received by the handler
        assert not ws.closed
        await ws.send_str("still here")
        await ws.receive()

    rec = Recorder()
    async with serve(rec.handler(body, heartbeat=0.1)) as (port, _):
        async with ws_client(port) as client:  # websockets answers pings by itself
            assert await client.recv() == "still here"
        ws = await rec.finished()
    assert ws.close_code == 1000
    assert rec.errors == []


async def test_sending_waits_for_a_slow_reader(serve: Any) -> None:
    chunk = b"x" * 65536
    sent: list[int] = []

    async def body(ws: WebSocketResponse) -> None:
        for n in range(400):  # 25 MiB: more than the socket buffers hold
            await ws.send_bytes(chunk)
            sent.append(n)
        await ws.close()

    rec = Recorder()
    async with serve(rec.handler(body)) as (port, _):
        client = await RawClient.connect(port)  # reads nothing for now
        await asyncio.sleep(0.3)
        assert 0 < len(sent) < 400  # the handler waits in drain, memory stays bounded
        received = await client.read_until_eof(answer_close=True)
        client.close()
        ws = await rec.finished()
    assert len(sent) == 400
    assert [m.data for m in received[:-1]] == [chunk] * 400
    assert received[-1].type is WSMsgType.CLOSE
    assert ws.close_code == 1000


# -- graceful shutdown ---------------------------------------------------------------------------


async def test_shutdown_closes_open_websockets_with_going_away(serve: Any) -> None:
    recs = [Recorder(), Recorder()]
    index = iter(range(2))

    async def handle(request: BaseRequest) -> StreamResponse:
        return await recs[next(index)].handler()(request)

    async with serve(handle) as (port, server):
        async with ws_client(port) as one, ws_client(port) as two:
            await one.send("hi")
            await two.send("hi")
            assert await one.recv() == await two.recv() == "hi"
            await shutdown_websockets(server.connections)
            for client in (one, two):
                with pytest.raises(ConnectionClosed):
                    await client.recv()
                assert (client.close_code, client.close_reason) == (1001, "Server shutdown")
            sockets = [await rec.finished() for rec in recs]
    assert [ws.close_code for ws in sockets] == [1001, 1001]
    # The handlers' loops ended on CLOSING (receive() was woken by the close).
    assert [rec.messages[-1].type for rec in recs] == [WSMsgType.CLOSING, WSMsgType.CLOSING]
    assert [rec.messages[-2].type for rec in recs] == [WSMsgType.TEXT, WSMsgType.TEXT]


async def test_shutdown_leaves_other_servers_alone(serve: Any) -> None:
    rec = Recorder()
    async with serve(rec.handler()) as (port, _), serve(rec.handler()) as (_, other):
        async with ws_client(port) as client:
            await shutdown_websockets(other.connections)
            await client.send("still open")
            assert await client.recv() == "still open"


async def test_app_runner_cleanup_closes_websockets_with_going_away() -> None:
    """AppRunner.cleanup() runs the closing handshake (1001) before shutting connections."""
    from aioloom.client import ClientSession
    from aioloom.web import Application, AppRunner, Request, TCPSite

    handler_saw: list[object] = []

    async def ws_handler(request: Request) -> WebSocketResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            handler_saw.append(msg.data)
        handler_saw.append(("closed", ws.close_code))
        return ws

    app = Application()
    app.router.add_get("/ws", ws_handler)
    runner = AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with ClientSession() as session:
        client = await session.ws_connect(f"http://127.0.0.1:{site.port}/ws")
        await client.send_str("hi")
        reader = asyncio.ensure_future(client.receive())
        await asyncio.sleep(0.05)
        await runner.cleanup()
        msg = await asyncio.wait_for(reader, 5)
        assert msg.type.name == "CLOSE" and msg.data == 1001
        await client.close()
    # The handler's loop ended (it saw CLOSING while the server's close was under way).
    assert handler_saw[0] == "hi" and handler_saw[1][0] == "closed"  # type: ignore[index]
