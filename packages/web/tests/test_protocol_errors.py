"""Bad input, failing handlers and timeouts: every case gets its status and a closed connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest

from aioloom.web._exceptions import HTTPFound, HTTPNotFound
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response, StreamResponse


async def ok(request: BaseRequest) -> StreamResponse:
    body = await request.read()
    return Response(text=f"ok {len(body)}")


async def _exchange(port: int, data: bytes, *, timeout: float = 5) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize(
    ("raw", "status", "kwargs"),
    [
        (b"GARBAGE\r\n\r\n", 400, {}),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, {}),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400, {}),
        (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, {}),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: \x00\r\n\r\n", 400, {}),
        (b"GET / HTTP/1.1\r\n\r\n", 400, {}),  # HTTP/1.1 without Host
        (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, {}),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            {},
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400, {}),
        (b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400, {"max_line_size": 100}),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 200 + b"\r\n\r\n",
            431,
            {"max_field_size": 100},
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: 1\r\n" % i for i in range(10))
            + b"\r\n",
            431,
            {"max_headers": 5},
        ),
    ],
)
async def test_malformed_requests(
    serve: Any, h11_parse: Any, raw: bytes, status: int, kwargs: dict[str, Any]
) -> None:
    async with serve(ok, **kwargs) as (port, _):
        data = await _exchange(port, raw)  # returns once the server closed the connection
    assert data.startswith(b"HTTP/1.1 ")  # never another version than the server speaks
    (answer,) = h11_parse(data)
    assert answer.status == status
    assert answer.header("Connection") == "close"
    assert b"Traceback" not in answer.body


async def test_error_after_good_request(serve: Any, read_answers: Any, h11_parse: Any) -> None:
    async with serve(ok) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /good HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(read_answers(reader, 1), 5)
        writer.write(b"BAD REQUEST LINE\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        (answer,) = h11_parse(data)
        assert answer.status == 400
        writer.close()


async def test_bad_chunk_with_the_head_is_400(serve: Any, h11_parse: Any) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"
    async with serve(ok) as (port, _):
        (answer,) = h11_parse(await _exchange(port, raw))
    assert answer.status == 400
    assert answer.body == b"Invalid chunk-size line: zz"


async def test_bad_chunk_while_handler_reads_is_400(serve: Any, h11_parse: Any) -> None:
    async with serve(ok) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        await asyncio.sleep(0.05)  # the handler is reading the body now
        writer.write(b"zz\r\nabc\r\n")
        (answer,) = h11_parse(await asyncio.wait_for(reader.read(), 5))
        writer.close()
    assert answer.status == 400
    assert answer.body.startswith(b"Bad request body: ")
    assert answer.header("Connection") == "close"


async def test_truncated_body_then_eof(serve: Any) -> None:
    seen: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        try:
            await request.read()
        except Exception as exc:
            seen.set_result(type(exc).__name__)
            raise
        return Response()

    async with serve(handler) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        writer.write_eof()
        assert await asyncio.wait_for(seen, 5) == "RequestPayloadError"
        writer.close()


async def test_error_answer_survives_unread_input(serve: Any, h11_parse: Any) -> None:
    # The client keeps sending after a bad request: the server half-closes and drains,
    # so the 400 arrives intact instead of being destroyed by a TCP reset.
    async with serve(ok, lingering_time=2) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"BAD\r\n\r\n")

        async def flood() -> None:
            with contextlib.suppress(ConnectionError):
                for _ in range(200):
                    writer.write(b"x" * 16384)
                    await writer.drain()

        flooding = asyncio.ensure_future(flood())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        flooding.cancel()
        writer.close()


async def test_handler_exception_is_500_without_traceback(
    serve: Any, h11_parse: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: BaseRequest) -> StreamResponse:
        raise RuntimeError("secret detail")

    with caplog.at_level(logging.ERROR, logger="aioloom.web.server"):
        async with serve(boom) as (port, _):
            (answer,) = h11_parse(await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert answer.status == 500
    assert answer.body == b"500 Internal Server Error\n\nServer got itself in trouble"
    assert answer.header("Connection") == "close"
    records = [r for r in caplog.records if r.name == "aioloom.web.server"]
    assert len(records) == 1
    assert records[0].exc_info is not None and "secret detail" in str(records[0].exc_info[1])


async def test_handler_exception_traceback_in_debug(serve: Any, h11_parse: Any) -> None:
    async def boom(request: BaseRequest) -> StreamResponse:
        raise RuntimeError("secret detail")

    async with serve(boom, debug=True) as (port, _):
        raw = b"GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n"
        (answer,) = h11_parse(await _exchange(port, raw))
    assert answer.status == 500
    assert answer.header("Content-Type") == "text/html; charset=utf-8"
    assert b"<h2>Traceback:</h2>" in answer.body and b"secret detail" in answer.body


async def test_html_500_page_without_debug(serve: Any, h11_parse: Any) -> None:
    async def boom(request: BaseRequest) -> StreamResponse:
        raise RuntimeError("secret detail")

    async with serve(boom) as (port, _):
        raw = b"GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n"
        (answer,) = h11_parse(await _exchange(port, raw))
    assert answer.body.startswith(b"<html><head><title>500 Internal Server Error</title>")
    assert b"secret detail" not in answer.body


async def test_parse_error_logged_once_without_traceback(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="aioloom.web.server"):
        async with serve(ok) as (port, _):
            await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
    records = [r for r in caplog.records if r.name == "aioloom.web.server"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING and records[0].exc_info is None


async def test_bad_method_on_first_request_logged_at_debug(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="aioloom.web.server"):
        async with serve(ok) as (port, _):
            await _exchange(
                port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 / HTTP/1.1\r\n\r\n"
            )
    levels = [r.levelno for r in caplog.records if r.name == "aioloom.web.server"]
    assert levels == [logging.DEBUG]


@pytest.mark.parametrize(
    ("handler_result", "status", "location"),
    [(HTTPFound("/there"), 302, "/there"), (HTTPNotFound(), 404, None)],
)
async def test_raised_http_exceptions_are_answers(
    serve: Any, h11_parse: Any, handler_result: Exception, status: int, location: str | None
) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        raise handler_result

    async with serve(handler) as (port, _):
        raw = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        (answer,) = h11_parse(await _exchange(port, raw))
    assert answer.status == status
    assert answer.header("Location") == location


async def test_returned_http_exception_is_deprecated(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return HTTPNotFound(text="returned")

    async with serve(handler) as (port, _):
        with pytest.warns(DeprecationWarning, match="returning HTTPException object"):
            raw = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            (answer,) = h11_parse(await _exchange(port, raw))
    assert answer.status == 404 and answer.body == b"returned"


async def test_handler_returning_none_is_500(
    serve: Any, h11_parse: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: BaseRequest) -> Any:
        return None

    with caplog.at_level(logging.ERROR, logger="aioloom.web.server"):
        async with serve(handler) as (port, _):
            raw = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            (answer,) = h11_parse(await _exchange(port, raw))
    assert answer.status == 500
    assert any("Missing return statement" in r.getMessage() for r in caplog.records)


async def test_handler_timeout_is_504(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        raise asyncio.TimeoutError()

    async with serve(handler) as (port, _):
        (answer,) = h11_parse(await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert answer.status == 504


async def test_error_after_streaming_started_aborts(serve: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        resp = StreamResponse()
        await resp.prepare(request)
        await resp.write(b"partial")
        raise RuntimeError("mid-stream")

    async with serve(handler) as (port, _):
        data = await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"partial" in data and b"500" not in data  # no second answer, just a close


async def test_error_before_head_flushed_gives_clean_500(serve: Any, h11_parse: Any) -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        resp = StreamResponse(status=201)
        await resp.prepare(request)  # the head is buffered, not sent yet
        raise RuntimeError("oops")

    async with serve(handler) as (port, _):
        (answer,) = h11_parse(await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert answer.status == 500


async def test_slow_head_gets_408_and_close(serve: Any) -> None:
    async with serve(ok, request_head_timeout=0.3) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost")
        start = asyncio.get_running_loop().time()
        for _ in range(2):
            await asyncio.sleep(0.1)
            writer.write(b"x")  # drip: the deadline counts from the first byte
        data = await asyncio.wait_for(reader.read(), 5)
        assert asyncio.get_running_loop().time() - start < 1.5
        assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        writer.close()


async def test_idle_new_connection_closed_silently(serve: Any) -> None:
    async with serve(ok, request_head_timeout=0.2) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()


async def test_keepalive_timeout_closes_idle_connection(serve: Any, read_answers: Any) -> None:
    async with serve(ok, keepalive_timeout=0.2) as (port, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(read_answers(reader, 1), 5)
        start = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 0.1 < asyncio.get_running_loop().time() - start < 2
        writer.close()


async def test_keepalive_timer_rearms_while_busy(serve: Any, read_answers: Any) -> None:
    async def slow(request: BaseRequest) -> StreamResponse:
        await asyncio.sleep(0.3)
        return Response(text="slow")

    async with serve(slow, keepalive_timeout=0.2) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(read_answers(reader, 1), 5)
        await asyncio.sleep(0.1)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # within the keep-alive time
        data = await asyncio.wait_for(read_answers(reader, 1), 5)
        assert data.endswith(b"slow")
        writer.close()


def test_invalid_pipeline_limit(loop: asyncio.AbstractEventLoop) -> None:
    from aioloom.web._protocol import RequestHandler
    from aioloom.web._server import Server

    with pytest.raises(ValueError, match="max_pipelined_requests"):
        RequestHandler(Server(ok, loop=loop), loop=loop, max_pipelined_requests=0)


async def test_same_exception_instance_raised_twice(
    serve: Any, read_answers: Any, h11_parse: Any
) -> None:
    shared = HTTPNotFound(text="shared")

    async def handler(request: BaseRequest) -> StreamResponse:
        raise shared

    async with serve(handler) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
            assert answer.status == 404 and answer.body == b"shared"
        writer.close()


async def test_failing_request_factory_closes(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    def factory(*args: Any) -> BaseRequest:
        raise RuntimeError("factory broke")

    with caplog.at_level(logging.ERROR, logger="aioloom.web.server"):
        async with serve(ok, request_factory=factory) as (port, _):
            data = await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b""
    assert any("Cannot make the request object" in r.getMessage() for r in caplog.records)
