"""The server protocol over real sockets: keep-alive, pipelining, 100-continue, bodies.

Clients are raw ``asyncio.open_connection`` sockets writing exact bytes; answers are read
back with the independent h11 parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import socket
from typing import Any

import pytest

from aioloom.web._exceptions import HTTPRequestEntityTooLarge
from aioloom.web._protocol import RequestHandler
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response, StreamResponse


async def echo(request: BaseRequest) -> StreamResponse:
    body = await request.read()
    return Response(text=f"{request.method} {request.path_qs} {len(body)} {body.decode('latin-1')}")


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_keep_alive_reuses_the_connection(
    serve: Any, read_answers: Any, h11_parse: Any
) -> None:
    async with serve(echo) as (port, server):
        reader, writer = await _open(port)
        for index in range(3):
            writer.write(f"GET /n{index} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
            assert answer.status == 200
            assert answer.body == f"GET /n{index} 0 ".encode()
            assert answer.header("Connection") is None
        assert len(server.connections) == 1
        assert server.requests_count == 3
        await _close(writer)


async def test_pipelined_requests_answered_in_order(
    serve: Any, read_answers: Any, h11_parse: Any
) -> None:
    async def slow_first(request: BaseRequest) -> StreamResponse:
        # The first request takes longest: answers must still come out in order.
        await asyncio.sleep({"/1": 0.2, "/2": 0.1, "/3": 0.0}[request.path])
        return await echo(request)

    async with serve(slow_first) as (port, _):
        reader, writer = await _open(port)
        writer.write(
            b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        answers = h11_parse(await asyncio.wait_for(read_answers(reader, 3), 5))
        assert [a.body for a in answers] == [b"GET /1 0 ", b"POST /2 3 abc", b"GET /3 0 "]
        await _close(writer)


async def test_pipeline_queue_is_bounded(serve: Any, read_answers: Any, h11_parse: Any) -> None:
    reading_states: list[bool] = []

    async def handler(request: BaseRequest) -> StreamResponse:
        transport = request.transport
        assert transport is not None
        reading_states.append(transport.is_reading())
        await asyncio.sleep(0)
        return Response(text=request.path)

    async with serve(handler, max_pipelined_requests=4) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"".join(f"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(60)))
        answers = h11_parse(await asyncio.wait_for(read_answers(reader, 60), 10))
        assert [a.body for a in answers] == [f"/{i}".encode() for i in range(60)]
        assert reading_states[0] is False  # the queue was full: the socket was not read
        assert reading_states[-1] is True  # and reading resumed once it drained
        await _close(writer)


@pytest.mark.parametrize(
    ("request_bytes", "closes", "version"),
    [
        (b"GET / HTTP/1.0\r\n\r\n", True, b"1.0"),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", False, b"1.0"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", True, b"1.1"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False, b"1.1"),
    ],
)
async def test_connection_persistence(
    serve: Any, h11_parse: Any, request_bytes: bytes, closes: bool, version: bytes
) -> None:
    async with serve(echo, keepalive_timeout=0.5) as (port, _):
        reader, writer = await _open(port)
        writer.write(request_bytes)
        start = asyncio.get_running_loop().time()
        data = await asyncio.wait_for(reader.read(), 5)  # until the server closes
        elapsed = asyncio.get_running_loop().time() - start
        (answer,) = h11_parse(data)
        assert answer.http_version == version
        if closes:
            assert elapsed < 0.4  # closed right after the answer
        else:
            assert elapsed >= 0.4  # kept open until the keep-alive timeout
        await _close(writer)


async def test_expect_continue_accepted(serve: Any, h11_parse: Any) -> None:
    async with serve(echo) as (port, _):
        reader, writer = await _open(port)
        writer.write(
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hello")
        data = await asyncio.wait_for(reader.readuntil(b"hello"), 5)
        (answer,) = h11_parse(data)
        assert answer.status == 200 and answer.body == b"POST /up 5 hello"
        await _close(writer)


async def test_expect_continue_too_large_gets_413(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return await echo(request.clone(client_max_size=10))

    async with serve(handler) as (port, _):
        reader, writer = await _open(port)
        writer.write(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
        )
        data = await asyncio.wait_for(reader.read(), 5)  # the server closes: body never sent
        assert b"100 Continue" not in data
        (answer,) = h11_parse(data)
        assert answer.status == 413
        assert answer.header("Connection") == "close"
        await _close(writer)


async def test_expect_continue_not_sent_when_body_unread(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return Response(text="no thanks")

    async with serve(handler) as (port, _):
        reader, writer = await _open(port)
        writer.write(
            b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        data = await asyncio.wait_for(reader.read(), 5)
        assert b"100 Continue" not in data
        (answer,) = h11_parse(data)
        assert answer.body == b"no thanks"
        await _close(writer)


async def test_unknown_expectation_417_on_read(serve: Any, h11_parse: Any) -> None:
    async with serve(echo) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: teapot\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        (answer,) = h11_parse(data)
        assert answer.status == 417
        assert answer.body == b"Unknown Expect: teapot"
        await _close(writer)


async def test_unread_small_body_is_drained(serve: Any, read_answers: Any, h11_parse: Any) -> None:
    async def ignore_body(request: BaseRequest) -> StreamResponse:
        return Response(text=request.path)

    async with serve(ignore_body) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
        writer.write(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = h11_parse(await asyncio.wait_for(read_answers(reader, 2), 5))
        assert [a.body for a in answers] == [b"/a", b"/b"]
        await _close(writer)


async def test_unread_body_still_arriving_closes_after_lingering(
    serve: Any, h11_parse: Any
) -> None:
    async def ignore_body(request: BaseRequest) -> StreamResponse:
        return Response(text="done")

    async with serve(ignore_body, lingering_time=0.2) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
        start = asyncio.get_running_loop().time()
        data = await asyncio.wait_for(reader.read(), 5)
        assert asyncio.get_running_loop().time() - start >= 0.15
        (answer,) = h11_parse(data)
        assert answer.body == b"done"
        await _close(writer)


async def test_chunked_request_body(serve: Any, read_answers: Any, h11_parse: Any) -> None:
    async with serve(echo) as (port, _):
        reader, writer = await _open(port)
        writer.write(
            b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
        )
        await asyncio.sleep(0.05)
        writer.write(b"2\r\nde\r\n0\r\n\r\n")
        (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
        assert answer.body == b"POST /c 5 abcde"
        await _close(writer)


async def test_gzip_request_body_is_decompressed(serve: Any, h11_parse: Any) -> None:
    payload = b"squeeze me " * 1000
    body = gzip.compress(payload)
    head = (
        f"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    async def handler(request: BaseRequest) -> StreamResponse:
        data = await request.read()
        return Response(text=f"{len(data)} {data == payload}")

    async with serve(handler) as (port, _):
        data = await _exchange(port, head + body)
        (answer,) = h11_parse(data)
        assert answer.body == f"{len(payload)} True".encode()
    async with serve(handler, auto_decompress=False) as (port, _):
        (answer,) = h11_parse(await _exchange(port, head + body))
        assert answer.body == f"{len(body)} False".encode()


async def test_corrupt_gzip_body_is_400(serve: Any, h11_parse: Any) -> None:
    raw = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n"
        b"not gzip!!"
    )
    async with serve(echo) as (port, _):
        (answer,) = h11_parse(await _exchange(port, raw))
        assert answer.status == 400
        assert b"Cannot decode the request body" in answer.body


async def test_decompression_is_bounded_by_the_stream(serve: Any, h11_parse: Any) -> None:
    # 16 MiB of zeros in a few KiB: the handler reads slowly, so the decoder must not
    # expand everything at once (it decodes only while the body stream has room).
    bomb = gzip.compress(b"\0" * (16 * 2**20))
    seen: list[int] = []

    async def handler(request: BaseRequest) -> StreamResponse:
        total = 0
        while chunk := await request.content.readany():
            seen.append(request.content._size)  # what is buffered beside this chunk
            total += len(chunk)
        return Response(text=str(total))

    raw = (
        f"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n"
    ).encode() + bomb
    async with serve(handler, read_bufsize=2**16) as (port, _):
        (answer,) = h11_parse(await _exchange(port, raw, timeout=20))
        assert answer.body == str(16 * 2**20).encode()
        assert max(seen) <= 4 * 2**16


async def test_head_request(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return Response(text="body that must not be sent")

    async with serve(handler) as (port, _):
        data = await _exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert data.endswith(b"\r\n\r\n")
        (answer,) = h11_parse(data, ["HEAD"])
        assert answer.header("Content-Length") == str(len("body that must not be sent"))
        assert answer.body == b""


async def test_half_closed_client_still_gets_answers(serve: Any, h11_parse: Any) -> None:
    async def slow(request: BaseRequest) -> StreamResponse:
        await asyncio.sleep(0.1)
        return Response(text="late")

    async with serve(slow) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        writer.write_eof()
        data = await asyncio.wait_for(reader.read(), 5)
        (answer,) = h11_parse(data)
        assert answer.body == b"late"
        await _close(writer)


@pytest.mark.parametrize("cancellation", [False, True])
async def test_client_disconnect_mid_body(serve: Any, cancellation: bool) -> None:
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        try:
            await request.read()
        except asyncio.CancelledError:
            outcome.set_result("cancelled")
            raise
        except ConnectionResetError:
            await asyncio.sleep(0.05)  # still running after the client left
            outcome.set_result("read failed")
            raise
        outcome.set_result("read everything")
        return Response()

    async with serve(handler, handler_cancellation=cancellation) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart")
        await asyncio.sleep(0.1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST: the server sees the connection lost
        result = await asyncio.wait_for(outcome, 5)
        assert result == ("cancelled" if cancellation else "read failed")


async def test_read_joins_a_body_that_arrives_in_pieces(
    serve: Any, read_answers: Any, h11_parse: Any
) -> None:
    sizes: list[float] = []

    async def handler(request: BaseRequest) -> StreamResponse:
        limited = request.clone(client_max_size=25)
        try:
            body = await limited.read()
        except HTTPRequestEntityTooLarge as exc:
            sizes.append(exc.actual_size)
            raise
        assert type(body) is bytes
        assert await limited.read() is body  # kept
        return Response(body=body)

    async with serve(handler) as (port, _):
        reader, writer = await _open(port)
        pieces = [b"0123456789", b"abcdefghij", b"KLMNO"]
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 25\r\n\r\n")
        for piece in pieces:
            await asyncio.sleep(0.05)  # separate reads on the server
            writer.write(piece)
        (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
        assert answer.status == 200
        assert answer.body == b"".join(pieces)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n")
        for piece in [b"x" * 20, b"y" * 10]:
            await asyncio.sleep(0.05)
            writer.write(piece)
        (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
        assert answer.status == 413
        assert sizes == [30]  # the size read when the limit was passed
        await _close(writer)


_GZ_BODY = gzip.compress(b"zipped")


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        (b"Content-Length: 5\r\n", b"hello", b"POST /w 5 hello"),
        (
            b"Transfer-Encoding: chunked\r\n",
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"POST /w 5 abcde",
        ),
        (b"Content-Length: 2\r\nExpect: 100-continue\r\n", b"ok", b"POST /w 2 ok"),
        (
            b"Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(_GZ_BODY),
            _GZ_BODY,
            b"POST /w 6 zipped",
        ),
    ],
    ids=["length", "chunked", "expect", "gzip"],
)
async def test_body_that_comes_with_its_head(
    serve: Any, read_answers: Any, h11_parse: Any, head: bytes, body: bytes, expected: bytes
) -> None:
    # One write per request: the parser completes head, body and end of message in one
    # call, and read() finds the stream at its end already (the fast paths of both).
    async with serve(echo) as (port, _):
        reader, writer = await _open(port)
        request = b"POST /w HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + body
        for _ in range(2):
            writer.write(request)
            (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
            assert answer.status == 200
            assert answer.body == expected
        await _close(writer)


async def test_body_with_its_head_over_client_max_size(
    serve: Any, read_answers: Any, h11_parse: Any
) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return await echo(request.clone(client_max_size=4))

    async with serve(handler) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
        assert answer.status == 413
        assert b"Maximum request body size 4 exceeded" in answer.body
        await _close(writer)


@pytest.mark.parametrize("cancellation", [False, True])
async def test_client_half_close_while_handler_runs(
    serve: Any, h11_parse: Any, cancellation: bool
) -> None:
    # aiohttp: with handler_cancellation the peer's EOF cancels the running handler (and
    # the connection closes); without it the handler finishes and its answer is sent.
    started = asyncio.Event()
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        started.set()
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            outcome.set_result("cancelled")
            raise
        outcome.set_result("finished")
        return Response(text="late")

    async with serve(handler, handler_cancellation=cancellation) as (port, server):
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(started.wait(), 5)
        writer.write_eof()
        assert await asyncio.wait_for(outcome, 5) == ("cancelled" if cancellation else "finished")
        data = await asyncio.wait_for(reader.read(), 5)
        if cancellation:
            assert data == b""
        else:
            (answer,) = h11_parse(data)
            assert answer.body == b"late"
        await _close(writer)
        for _ in range(100):  # the connection is closed either way
            if not server.connections:
                break
            await asyncio.sleep(0.01)
        assert server.connections == []


async def test_upgrade_hands_over_the_connection(serve: Any) -> None:
    received: list[bytes] = []

    class EchoParser:
        def __init__(self, transport: asyncio.Transport) -> None:
            self.transport = transport

        def feed_data(self, data: bytes) -> tuple[bool, bytes]:
            received.append(data)
            self.transport.write(b"echo:" + data)
            return data.endswith(b"bye"), b""

        def feed_eof(self) -> None:
            received.append(b"<eof>")

    done = asyncio.Event()

    async def handler(request: BaseRequest) -> StreamResponse:
        assert request.headers["Upgrade"] == "tcp"
        resp = StreamResponse(status=101, headers={"Upgrade": "tcp", "Connection": "upgrade"})
        await resp.prepare(request)
        await resp.write(b"")
        transport = request.transport
        assert transport is not None
        request.protocol.set_parser(EchoParser(transport))
        await done.wait()
        return resp

    async with serve(handler) as (port, _):
        reader, writer = await _open(port)
        writer.write(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nConnection: upgrade\r\n\r\ntail"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert await asyncio.wait_for(reader.readexactly(9), 5) == b"echo:tail"
        writer.write(b"more bye")
        assert await asyncio.wait_for(reader.readexactly(13), 5) == b"echo:more bye"
        done.set()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after the handler
        assert received[:2] == [b"tail", b"more bye"]
        await _close(writer)


async def test_upgrade_not_accepted_closes(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return Response(status=400, text="no upgrade here")

    async with serve(handler) as (port, _):
        raw = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"
        (answer,) = h11_parse(await _exchange(port, raw))
        assert answer.status == 400


async def test_shutdown_waits_for_in_flight_request(loop: asyncio.AbstractEventLoop) -> None:
    from aioloom.web._server import Server

    started = asyncio.Event()

    async def handler(request: BaseRequest) -> StreamResponse:
        started.set()
        await asyncio.sleep(0.2)
        return Response(text="finished")

    server = Server(handler)
    listener = await loop.create_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    reader, writer = await _open(port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await started.wait()
    assert len(server.connections) == 1
    assert isinstance(server.connections[0], RequestHandler)
    listener.close()
    server.pre_shutdown()
    await server.shutdown(2)
    data = await asyncio.wait_for(reader.read(), 5)
    assert data.endswith(b"finished")
    assert server.connections == []
    await _close(writer)
    await listener.wait_closed()


async def test_shutdown_timeout_cancels_handler(loop: asyncio.AbstractEventLoop) -> None:
    from aioloom.web._server import Server

    cancelled = asyncio.Event()

    async def handler(request: BaseRequest) -> StreamResponse:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Response()

    server = Server(handler)
    listener = await loop.create_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    reader, writer = await _open(port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.05)
    await server.shutdown(0.1)
    assert cancelled.is_set()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    await _close(writer)
    listener.close()
    await listener.wait_closed()


async def _exchange(port: int, data: bytes, *, timeout: float = 5) -> bytes:
    reader, writer = await _open(port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        await _close(writer)


async def test_access_log_record(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="aioloom.web.access"):
        async with serve(echo, access_log_format='%a "%r" %s %b') as (port, _):
            await _exchange(
                port, b"GET /logged?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
    records = [r.getMessage() for r in caplog.records if r.name == "aioloom.web.access"]
    assert len(records) == 1
    assert records[0].startswith('127.0.0.1 "GET /logged?x=1 HTTP/1.1" 200 ')


async def test_access_log_disabled(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="aioloom.web.access"):
        async with serve(echo, access_log=None) as (port, _):
            await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert not [r for r in caplog.records if r.name == "aioloom.web.access"]


async def test_half_closed_client_gets_every_pipelined_answer(serve: Any, h11_parse: Any) -> None:
    async with serve(echo) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        writer.write_eof()
        answers = h11_parse(await asyncio.wait_for(reader.read(), 5))
        assert [a.body for a in answers] == [b"GET /1 0 ", b"GET /2 0 "]
        await _close(writer)


async def test_connection_close_drops_later_pipelined_requests(serve: Any, h11_parse: Any) -> None:
    async with serve(echo) as (port, _):
        raw = (
            b"GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        answers = h11_parse(await _exchange(port, raw))
        assert [a.body for a in answers] == [b"GET /1 0 "]  # RFC 9112 §9.6


async def test_sockname_and_peername(serve: Any, read_answers: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        protocol = request.protocol
        return Response(text=f"{protocol.sockname[1]} {protocol.peername[0]}")

    async with serve(handler) as (port, _):
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
        assert answer.body == f"{port} 127.0.0.1".encode()
        await _close(writer)


def test_split_modules_keep_the_import_paths() -> None:
    from aioloom.web import _protocol, _protocol_types

    for name in (
        "AccessLoggerClass",
        "AccessLoggerLike",
        "ExpectHandler",
        "RequestFactory",
        "UpgradedParser",
    ):
        assert getattr(_protocol, name) is getattr(_protocol_types, name)
        assert name in _protocol.__all__
