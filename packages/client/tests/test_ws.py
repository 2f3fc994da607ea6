"""ws_connect and ClientWebSocketResponse on real sockets (127.0.0.1): against the aioloom
server, against the independent ``websockets`` server (plain and TLS), and against raw
servers scripting what a correct server never sends."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ssl
import struct
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

from aioloom.client._exceptions import (
    ClientConnectionResetError,
    ServerTimeoutError,
    WSServerHandshakeError,
)
from aioloom.client._session import ClientSession
from aioloom.client._timeouts import ClientWSTimeout
from aioloom.client._ws import (
    DEFAULT_WS_CLIENT_TIMEOUT,
    ClientWebSocketResponse,
    _WSRequestContextManager,
    ws_connect,
)
from aioloom.http._auth import BasicAuth
from aioloom.web._request import BaseRequest
from aioloom.web._server import Server
from aioloom.web._stream_response import StreamResponse
from aioloom.web._ws import WebSocketResponse
from aioloom.websocket import Role, WebSocketProtocol, WSMessage, WSMsgType, serialize_frame

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# -- servers -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def aioloom_server(
    body: Callable[[WebSocketResponse, BaseRequest], Awaitable[None]], **options: Any
) -> AsyncIterator[str]:
    """An aioloom server whose handler prepares a WebSocketResponse and runs ``body``."""

    async def handle(request: BaseRequest) -> StreamResponse:
        ws = WebSocketResponse(**options)
        await ws.prepare(request)
        await body(ws, request)
        return ws

    server = Server(handle)
    listener = await asyncio.get_running_loop().create_server(server, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/ws"
    finally:
        listener.close()
        await server.shutdown(0.5)
        await listener.wait_closed()


async def echo(ws: WebSocketResponse, request: BaseRequest) -> None:
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await ws.send_bytes(message.data)


@contextlib.asynccontextmanager
async def websockets_server(
    handler: Callable[[ServerConnection], Awaitable[None]], **kwargs: Any
) -> AsyncIterator[str]:
    scheme = "wss" if kwargs.get("ssl") is not None else "ws"
    kwargs.setdefault("ping_interval", None)
    async with ws_serve(handler, "127.0.0.1", 0, **kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"{scheme}://127.0.0.1:{port}/"


async def ws_echo(conn: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in conn:
            await conn.send(message)


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[str]:
    """A server that reads the upgrade request head and hands over to ``handler``."""
    tasks: list[asyncio.Task[None]] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await handler(reader, writer, head)
        finally:
            writer.close()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    finally:
        server.close()
        if tasks:  # the client is gone: the handlers see EOF and end
            await asyncio.wait(tasks, timeout=5)
        await server.wait_closed()


def accept_for(head: bytes) -> str:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            digest = hashlib.sha1(value.strip() + GUID).digest()
            return base64.b64encode(digest).decode()
    raise AssertionError("no key in the request")


def switching(head: bytes, *extra: str, accept: str | None = None) -> bytes:
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept if accept is not None else accept_for(head)}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_client_frames(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> list[WSMessage]:
    """What the client sends until it closes the connection; a Close frame is answered."""
    codec = WebSocketProtocol(Role.SERVER)
    messages: list[WSMessage] = []
    while data := await asyncio.wait_for(reader.read(65536), 5):
        received = codec.receive_data(data)
        messages += received
        if any(m.type is WSMsgType.CLOSE for m in received):
            writer.write(codec.close(codec.close_code or 1000))
    return messages


# -- against the aioloom server ------------------------------------------------------------------


@pytest.mark.parametrize("compress", [0, 15])
async def test_echo_with_the_aioloom_server(compress: int) -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        ws = await ws_connect(session, url, compress=compress)
        assert isinstance(ws, ClientWebSocketResponse)
        assert ws.compress == compress
        assert not ws.client_notakeover
        assert ws.timeout == DEFAULT_WS_CLIENT_TIMEOUT
        await ws.send_str("héllo")
        assert await ws.receive_str() == "héllo"
        await ws.send_bytes(b"\x01" * 200_000)
        assert await ws.receive_bytes() == b"\x01" * 200_000
        await ws.send_json({"n": 1})
        assert await ws.receive_json() == {"n": 1}
        await ws.send_frame(b"raw", 0x2)
        assert (await ws.receive()).data == b"raw"
        assert ws.get_extra_info("peername")[0] == "127.0.0.1"
        assert await ws.close() is True
        assert ws.closed
        assert ws.close_code == 1000
        assert await ws.close() is False
        assert ws.get_extra_info("peername") is None  # the connection is gone
        assert (await ws.receive()).type is WSMsgType.CLOSED


async def test_session_ws_connect_reaches_this_module() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        ws = await session.ws_connect(url.replace("http://", "ws://"))
        assert isinstance(ws, ClientWebSocketResponse)
        await ws.send_str("via the session")
        assert await ws.receive_str() == "via the session"
        await ws.close()


async def test_async_with_closes_the_websocket() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        async with _WSRequestContextManager(ws_connect(session, url)) as ws:
            await ws.send_str("x")
            assert await ws.receive_str() == "x"
        assert ws.closed
        assert ws.close_code == 1000
        async with await ws_connect(session, url) as ws2:
            assert not ws2.closed
        assert ws2.closed


async def test_iteration_ends_with_the_servers_close() -> None:
    async def body(ws: WebSocketResponse, request: BaseRequest) -> None:
        for n in range(3):
            await ws.send_str(str(n))
        await ws.close(code=4002, message="done")

    async with aioloom_server(body) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        assert [message.data async for message in ws] == ["0", "1", "2"]
        assert ws.closed
        assert ws.close_code == 4002


async def test_client_close_code_reaches_the_server() -> None:
    seen: list[WSMessage] = []

    async def body(ws: WebSocketResponse, request: BaseRequest) -> None:
        seen.append(await ws.receive())

    async with aioloom_server(body) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        assert await ws.close(code=4001, message=b"client says bye")
        assert ws.close_code == 1000  # the server answers with 1000, as aiohttp's does
    assert [(m.type, m.data, m.extra) for m in seen] == [(WSMsgType.CLOSE, 4001, "client says bye")]


async def test_request_options_reach_the_server() -> None:
    seen: list[BaseRequest] = []

    async def body(ws: WebSocketResponse, request: BaseRequest) -> None:
        seen.append(request)
        await ws.receive()

    async with aioloom_server(body, protocols=("b",)) as url, ClientSession() as session:
        async with _WSRequestContextManager(
            ws_connect(
                session,
                url,
                protocols=("a", "b"),
                origin="https://origin.test",
                params={"q": "1"},
                headers={"X-Extra": "yes"},
                auth=BasicAuth("user", "pass"),
            )
        ) as ws:
            assert ws.protocol == "b"
    headers = seen[0].headers
    assert seen[0].query_string == "q=1"
    assert headers["Origin"] == "https://origin.test"
    assert headers["X-Extra"] == "yes"
    assert headers["Authorization"] == BasicAuth("user", "pass").encode()
    assert headers["Sec-WebSocket-Protocol"] == "a,b"
    assert headers["Sec-WebSocket-Version"] == "13"
    assert "Sec-WebSocket-Extensions" not in headers  # compress=0: no offer


async def test_heartbeat_drops_a_server_that_does_not_answer() -> None:
    async def body(ws: WebSocketResponse, request: BaseRequest) -> None:
        with contextlib.suppress(Exception):
            while (await ws.receive()).type is WSMsgType.PING:
                pass  # autoping is off: pings are delivered and never answered

    async with aioloom_server(body, autoping=False) as url, ClientSession() as session:
        ws = await ws_connect(session, url, heartbeat=0.1)
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type is WSMsgType.ERROR
        assert isinstance(message.data, ServerTimeoutError)
        assert ws.closed
        assert ws.close_code == 1006
        assert ws.exception() is message.data


async def test_heartbeat_keeps_an_answering_server() -> None:
    async def body(ws: WebSocketResponse, request: BaseRequest) -> None:
        await asyncio.sleep(0.35)
        await ws.send_str("still here")
        await ws.receive()

    async with aioloom_server(body) as url, ClientSession() as session:
        ws = await ws_connect(session, url, heartbeat=0.1)
        assert await asyncio.wait_for(ws.receive_str(), 5) == "still here"
        assert ws.close_code is None
        await ws.close()


async def test_receive_timeout() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        ws = await ws_connect(session, url, timeout=ClientWSTimeout(ws_receive=0.05))
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive()
        assert ws.close_code == 1006  # as aiohttp's client reports it
        assert not ws.closed
        await ws.send_str("late")
        assert await ws.receive_str(timeout=1) == "late"
        await ws.close()


async def test_deprecated_float_timeouts_still_work() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="receive_timeout"):
            ws = await ws_connect(session, url, receive_timeout=0.05)
        assert ws.timeout == ClientWSTimeout(ws_receive=0.05, ws_close=10.0)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive()
        await ws.close()
        with pytest.warns(DeprecationWarning, match="'timeout' of type 'float'"):
            ws = await ws_connect(session, url, timeout=3.0)
        assert ws.timeout == ClientWSTimeout(ws_receive=None, ws_close=3.0)
        await ws.close()


async def test_concurrent_receive_raises() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        first = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="Concurrent call to receive"):
            await ws.receive()
        await ws.send_str("x")
        assert (await first).data == "x"
        await ws.close()


async def test_close_from_another_task_ends_iteration() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        ws = await ws_connect(session, url)

        async def consume() -> list[WSMessage]:
            return [message async for message in ws]

        reader = asyncio.ensure_future(consume())
        await asyncio.sleep(0.01)
        assert await ws.close(code=1000) is True
        assert await asyncio.wait_for(reader, 5) == []
        assert ws.close_code == 1000


async def test_sending_after_close_raises() -> None:
    async with aioloom_server(echo) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        await ws.close()
        with pytest.raises(ClientConnectionResetError, match="closing transport"):
            await ws.send_str("x")
        with pytest.raises(ClientConnectionResetError):
            await ws.ping()
        with pytest.raises(TypeError):
            await ws.send_str(b"x")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ws.send_bytes("x")  # type: ignore[arg-type]


async def test_a_refused_upgrade_raises_with_status_and_headers() -> None:
    async def plain(request: BaseRequest) -> StreamResponse:
        from aioloom.web._response import Response

        return Response(status=403, text="go away", headers={"X-Why": "because"})

    server = Server(plain)
    listener = await asyncio.get_running_loop().create_server(server, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/"
    try:
        async with ClientSession() as session:
            with pytest.raises(WSServerHandshakeError) as info:
                await ws_connect(session, url)
    finally:
        listener.close()
        await server.shutdown(0.5)
    error = info.value
    assert error.status == 403
    assert error.message == "Invalid response status"
    assert error.headers is not None and error.headers["X-Why"] == "because"
    assert str(error.request_info.url) == url


@pytest.mark.parametrize("compress", [8, 16, -1])
async def test_compress_out_of_range(compress: int) -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="between 9 and 15"):
            await ws_connect(session, "http://127.0.0.1:1/", compress=compress)


# -- against the websockets server ----------------------------------------------------------------


@pytest.mark.parametrize(("compress", "expected"), [(0, 0), (15, 12), (10, 10)])
async def test_echo_with_the_websockets_server(compress: int, expected: int) -> None:
    async with websockets_server(ws_echo) as url, ClientSession() as session:
        async with _WSRequestContextManager(ws_connect(session, url, compress=compress)) as ws:
            # websockets compresses with a 12-bit window unless asked for less.
            assert ws.compress == expected
            await ws.send_str("ü" * 5000)
            assert await ws.receive_str() == "ü" * 5000
            await ws.send_bytes(bytes(range(256)) * 100)
            assert await ws.receive_bytes() == bytes(range(256)) * 100
        assert ws.close_code == 1000


async def test_tls_with_the_websockets_server(
    server_ssl_ctx: ssl.SSLContext, client_ssl_ctx: ssl.SSLContext
) -> None:
    async with websockets_server(ws_echo, ssl=server_ssl_ctx) as url, ClientSession() as session:
        assert url.startswith("wss://")
        ws = await ws_connect(session, url, ssl=client_ssl_ctx, compress=15)
        assert ws.get_extra_info("sslcontext") is not None
        await ws.send_str("secret")
        assert await ws.receive_str() == "secret"
        assert await ws.close()
        assert ws.close_code == 1000


async def test_server_close_code_with_the_websockets_server() -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.send("bye soon")
        await conn.close(code=4003, reason="websockets says bye")

    async with websockets_server(handler) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        messages = [m async for m in ws]
        assert [m.data for m in messages] == ["bye soon"]
        assert ws.close_code == 4003


async def test_oversize_message_from_the_websockets_server_is_1009() -> None:
    codes: list[int | None] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.send(b"x" * 2000)
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()
        codes.append(conn.close_code)

    async with websockets_server(handler) as url, ClientSession() as session:
        ws = await ws_connect(session, url, max_msg_size=1024)
        message = await ws.receive()
        assert message.type is WSMsgType.ERROR
        assert message.data.code == 1009
        assert ws.close_code == 1009
        await asyncio.sleep(0.1)
    assert codes == [1009]


# -- against raw servers ---------------------------------------------------------------------------


async def test_frames_right_after_the_101_are_not_lost() -> None:
    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        frames = serialize_frame(0x1, b"first", mask=False) + serialize_frame(
            0x1, b"second", mask=False
        )
        writer.write(switching(head) + frames)  # the 101 and two frames in one segment
        await read_client_frames(reader, writer)

    async with raw_server(handler) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        assert await ws.receive_str() == "first"
        assert await ws.receive_str() == "second"
        await ws.close(code=1000)


async def test_frames_arriving_while_a_middleware_awaits_are_not_lost() -> None:
    # Between the 101 and the take-over the pooled protocol keeps what arrives in its tail.
    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        writer.write(switching(head))
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(serialize_frame(0x1, b"while the middleware waits", mask=False))
        await read_client_frames(reader, writer)

    async def slow(request: Any, handler: Any) -> Any:
        response = await handler(request)
        await asyncio.sleep(0.1)
        return response

    timeout = ClientWSTimeout(ws_close=0.1)
    async with raw_server(handler) as url, ClientSession(middlewares=(slow,)) as session:
        ws = await ws_connect(session, url, timeout=timeout)
        try:
            assert await ws.receive_str(timeout=0.5) == "while the middleware waits"
        finally:
            await ws.close()


async def test_a_masked_frame_from_the_server_is_1002() -> None:
    sent: list[WSMessage] = []

    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        writer.write(switching(head))
        writer.write(serialize_frame(0x1, b"masked", mask=True))  # RFC 6455 §5.1: never
        sent.extend(await read_client_frames(reader, writer))

    async with raw_server(handler) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        message = await ws.receive()
        assert message.type is WSMsgType.ERROR
        assert message.data.code == 1002
        assert ws.close_code == 1002
        await asyncio.sleep(0.1)
    assert [(m.type, m.data) for m in sent] == [(WSMsgType.CLOSE, 1002)]


async def test_a_2_to_the_63_length_from_the_server_is_1002() -> None:
    sent: list[WSMessage] = []

    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        writer.write(switching(head) + b"\x82\x7f" + struct.pack("!Q", 2**63))
        sent.extend(await read_client_frames(reader, writer))

    async with raw_server(handler) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        message = await ws.receive()
        assert message.type is WSMsgType.ERROR
        assert message.data.code == 1002
        await asyncio.sleep(0.1)
    assert [(m.type, m.data) for m in sent] == [(WSMsgType.CLOSE, 1002)]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (lambda head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "Invalid response status"),
        (
            lambda head: switching(head).replace(b"Upgrade: websocket", b"Upgrade: h2c"),
            "Invalid upgrade header",
        ),
        (
            lambda head: switching(head).replace(b"Connection: Upgrade", b"Connection: close"),
            "Invalid connection header",
        ),
        (lambda head: switching(head, accept="d3Jvbmc="), "Invalid challenge response"),
    ],
    ids=["status", "upgrade", "connection", "accept"],
)
async def test_a_botched_handshake_raises(response: Callable[[bytes], bytes], message: str) -> None:
    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        writer.write(response(head))
        await reader.read()

    async with raw_server(handler) as url, ClientSession() as session:
        with pytest.raises(WSServerHandshakeError) as info:
            await ws_connect(session, url)
    assert info.value.message == message
    assert info.value.status in (101, 200)


async def test_an_extension_answer_that_was_not_offered_raises() -> None:
    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        writer.write(switching(head, "Sec-WebSocket-Extensions: permessage-deflate"))
        await reader.read()

    async with raw_server(handler) as url, ClientSession() as session:
        with pytest.raises(WSServerHandshakeError) as info:
            await ws_connect(session, url)  # compress=0: nothing was offered
    assert info.value.status == 101


async def test_the_server_going_away_gives_closed_1006() -> None:
    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        writer.write(switching(head))
        await writer.drain()
        writer.close()

    async with raw_server(handler) as url, ClientSession() as session:
        ws = await ws_connect(session, url)
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type is WSMsgType.CLOSED
        assert ws.closed
        assert ws.close_code == 1006


# -- without the extra ---------------------------------------------------------------------------

_WITHOUT_EXTRA = textwrap.dedent(
    """
    import asyncio, sys
    sys.modules["aioloom.websocket"] = None  # the extra is not installed
    from aioloom.client._ws import ClientWebSocketResponse, ws_connect  # imports fine
    from aioloom.client._session import ClientSession

    async def main():
        async with ClientSession() as session:
            try:
                await ws_connect(session, "ws://127.0.0.1:1/")
            except ImportError as exc:
                print("ImportError:", exc)
        try:
            from aioloom.client._ws import WSMsgType
        except ImportError as exc:
            print("ImportError:", exc)

    asyncio.run(main())
    """
)


def test_without_the_extra_ws_connect_names_the_pip_line() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _WITHOUT_EXTRA],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = (
        'ImportError: ws_connect needs aioloom.websocket: pip install "aioloom-client[websocket]"'
    )
    assert result.stdout.splitlines() == [expected] * 2, result.stdout + result.stderr


def test_codec_names_are_served_lazily() -> None:
    import aioloom.websocket
    from aioloom.client import _ws

    for name in ("WSCloseCode", "WSMessage", "WSMessageTypeError", "WSMsgType", "WebSocketError"):
        assert getattr(_ws, name) is getattr(aioloom.websocket, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ws.nothing  # noqa: B018
