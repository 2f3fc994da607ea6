"""Malformed and truncated responses: each raises its typed error, names what is wrong,
never hangs, discards the connection, and leaves the pool healthy for the next request."""

from __future__ import annotations

import asyncio
import zlib

import pytest

from aioloom.client._exceptions import (
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
)
from aioloom.client._session import ClientSession
from aioloom.client._tcp import TCPConnector
from aioloom.client._timeouts import ClientTimeout

GOOD = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"
# Every test must finish well within this.
TIMEOUT = ClientTimeout(total=5)


def scripted(bad: bytes, *, close: bool = True):
    """A server whose first connection gets ``bad``; later connections get GOOD."""

    async def handler(conn) -> None:
        while True:
            request = await conn.read_request()
            if request is None:
                return
            conn.server.requests.append(request)
            if conn.index == 1 and request.target == "/bad":
                conn.write(bad)
                await conn.writer.drain()
                if close:
                    return
                await asyncio.sleep(10)  # keep the connection open, say nothing more
                return
            conn.write(GOOD)
            await conn.writer.drain()

    return handler


async def assert_pool_healthy(session: ClientSession, srv) -> None:
    async with session.get(srv.url("/good")) as resp:
        assert await resp.read() == b"good"


HEAD_ERRORS = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
        "Content-Length",
        id="two-conflicting-content-lengths",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
        "Transfer-Encoding",
        id="cl-and-te",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length", id="negative-cl"
    ),
    pytest.param(b"HTTP/1.1 2x0 OK\r\n\r\n", 400, "", id="bad-status-code"),
    pytest.param(b"HTTQ/1.1 200 OK\r\n\r\n", 400, "", id="bad-version"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n",
        431,
        "8190",
        id="oversized-header",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
        431,
        "128",
        id="too-many-headers",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-Inject: a\rb\r\nContent-Length: 0\r\n\r\n",
        400,
        "",
        id="bare-cr-in-header-value",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n",
        400,
        "",
        id="nul-in-header-value",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nBad Name: v\r\nContent-Length: 0\r\n\r\n",
        400,
        "",
        id="space-in-header-name",
    ),
]


@pytest.mark.parametrize(("bad", "status", "detail"), HEAD_ERRORS)
async def test_malformed_head_raises_client_response_error(
    serve, bad: bytes, status: int, detail: str
) -> None:
    async with serve(scripted(bad)) as srv, ClientSession(timeout=TIMEOUT) as session:
        with pytest.raises(ClientResponseError) as info:
            await session.get(srv.url("/bad"))
        assert type(info.value) is ClientResponseError
        assert info.value.status == status
        assert detail in info.value.message
        assert info.value.request_info.url == srv.url("/bad")
        await assert_pool_healthy(session, srv)
    assert srv.connections == 2  # the broken connection was not reused


BODY_ERRORS = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "TransferEncodingError",
        id="bad-chunk-size",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        "TransferEncodingError",
        id="chunk-longer-than-size",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 9000 + b"\r\n",
        "LineTooLong",
        id="huge-chunk-size-line",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot-gzip-xyz",
        "ContentEncodingError",
        id="corrupt-gzip",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: 5\r\n\r\n"
        + zlib.compress(b"hello world")[:5],
        "ContentEncodingError",
        id="truncated-deflate",
    ),
]


@pytest.mark.parametrize(("bad", "detail"), BODY_ERRORS)
async def test_malformed_body_raises_payload_error(serve, bad: bytes, detail: str) -> None:
    async with serve(scripted(bad)) as srv, ClientSession(timeout=TIMEOUT) as session:
        async with session.get(srv.url("/bad")) as resp:
            assert resp.status == 200
            with pytest.raises(ClientPayloadError) as info:
                await resp.read()
        assert detail in str(info.value)
        await assert_pool_healthy(session, srv)
    assert srv.connections == 2


TRUNCATED = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-this",
        "ContentLengthError",
        id="short-content-length",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
        "TransferEncodingError",
        id="chunked-without-last-chunk",
    ),
]


@pytest.mark.parametrize(("bad", "detail"), TRUNCATED)
async def test_truncated_body(serve, bad: bytes, detail: str) -> None:
    async with serve(scripted(bad)) as srv, ClientSession(timeout=TIMEOUT) as session:
        async with session.get(srv.url("/bad")) as resp:
            with pytest.raises(ClientPayloadError) as info:
                await resp.read()
        assert "Response payload is not completed" in str(info.value)
        assert detail in str(info.value)
        await assert_pool_healthy(session, srv)


async def test_truncated_body_streamed_reads_give_data_then_error(serve) -> None:
    bad = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 40
    async with serve(scripted(bad)) as srv, ClientSession(timeout=TIMEOUT) as session:
        async with session.get(srv.url("/bad")) as resp:
            got = b""
            with pytest.raises(ClientPayloadError):
                async for chunk in resp.content.iter_any():
                    got += chunk
            assert got == b"x" * 40


async def test_server_closes_before_answering(serve) -> None:
    async def handler(conn) -> None:
        await conn.read_request()

    async with serve(handler) as srv, ClientSession(timeout=TIMEOUT) as session:
        with pytest.raises(ServerDisconnectedError) as info:
            await session.get(srv.url("/"))
        assert info.value.message == "Server disconnected"


async def test_server_closes_inside_the_head(serve) -> None:
    async with serve(scripted(b"HTTP/1.1 200 OK\r\nContent-Le")) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            with pytest.raises(ServerDisconnectedError):
                await session.get(srv.url("/bad"))
            await assert_pool_healthy(session, srv)


async def test_server_resets_connection(serve) -> None:
    async def handler(conn) -> None:
        await conn.read_request()
        conn.writer.transport.abort()

    async with serve(handler) as srv, ClientSession(timeout=TIMEOUT) as session:
        with pytest.raises((ServerDisconnectedError, ClientOSError)):
            await session.get(srv.url("/"))


async def test_until_close_body_is_read_to_eof_and_not_pooled(serve) -> None:
    bad = b"HTTP/1.1 200 OK\r\n\r\nbody until the end"
    async with serve(scripted(bad)) as srv, ClientSession(timeout=TIMEOUT) as session:
        async with session.get(srv.url("/bad")) as resp:
            assert await resp.read() == b"body until the end"
        await assert_pool_healthy(session, srv)
    assert srv.connections == 2


async def test_read_until_eof_false_gives_empty_body(serve) -> None:
    bad = b"HTTP/1.1 200 OK\r\n\r\nignored"
    async with serve(scripted(bad, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            async with session.get(srv.url("/bad"), read_until_eof=False) as resp:
                assert await resp.read() == b""
            await assert_pool_healthy(session, srv)


async def test_lax_duplicate_equal_content_length_is_accepted(serve) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"
    async with serve(scripted(ok, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            async with session.get(srv.url("/bad")) as resp:
                assert await resp.read() == b"ok"


async def test_unsolicited_bytes_on_idle_connection_discard_it(serve) -> None:
    async def handler(conn) -> None:
        while (request := await conn.read_request()) is not None:
            conn.server.requests.append(request)
            conn.write(GOOD)
            if conn.index == 1:
                await asyncio.sleep(0.05)
                conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # nobody asked
            await conn.writer.drain()

    async with serve(handler) as srv, ClientSession(timeout=TIMEOUT) as session:
        async with session.get(srv.url("/one")) as resp:
            assert await resp.read() == b"good"
        await asyncio.sleep(0.2)
        await assert_pool_healthy(session, srv)
    assert srv.connections == 2


async def test_extra_bytes_after_response_in_same_segment(serve) -> None:
    bad = GOOD + b"garbage that is no response"
    async with serve(scripted(bad, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            async with session.get(srv.url("/bad")) as resp:
                assert await resp.read() == b"good"
            await assert_pool_healthy(session, srv)


async def test_interim_responses_are_skipped(serve) -> None:
    interim = b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n" + GOOD
    async with serve(scripted(interim, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            async with session.get(srv.url("/bad")) as resp:
                assert resp.status == 200
                assert await resp.read() == b"good"


async def test_http10_response_without_keep_alive_is_closed(serve) -> None:
    bad = b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\ngood"
    async with serve(scripted(bad, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            async with session.get(srv.url("/bad")) as resp:
                assert resp.version == (1, 0)
                assert await resp.read() == b"good"
            await assert_pool_healthy(session, srv)
    assert srv.connections == 2


async def test_connection_close_response_is_not_pooled(serve) -> None:
    bad = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\ngood"
    async with serve(scripted(bad, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            async with session.get(srv.url("/bad")) as resp:
                assert await resp.read() == b"good"
            await assert_pool_healthy(session, srv)
    assert srv.connections == 2


@pytest.mark.parametrize("limit_kw", ["max_line_size", "max_field_size", "max_headers"])
async def test_limits_are_configurable_per_request(serve, limit_kw: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100 + b"\r\nX-B: b\r\nContent-Length: 0\r\n\r\n"
    values = {"max_line_size": 5, "max_field_size": 50, "max_headers": 1}
    async with serve(scripted(head, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT) as session:
            with pytest.raises(ClientResponseError) as info:
                await session.get(srv.url("/bad"), **{limit_kw: values[limit_kw]})
            assert info.value.status in (400, 431)


async def test_session_limits_apply(serve) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100 + b"\r\nContent-Length: 0\r\n\r\n"
    async with serve(scripted(head, close=False)) as srv:
        async with ClientSession(timeout=TIMEOUT, max_field_size=20) as session:
            with pytest.raises(ClientResponseError) as info:
                await session.get(srv.url("/bad"))
            assert info.value.status == 431


async def test_response_from_force_closed_connector(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: GOOD)) as srv:
        connector = TCPConnector(force_close=True)
        async with ClientSession(connector=connector, timeout=TIMEOUT) as session:
            for _ in range(3):
                async with session.get(srv.url()) as resp:
                    assert await resp.read() == b"good"
    assert srv.connections == 3
    assert all(r.headers["Connection"] == "close" for r in srv.requests)
