"""ResponseHandler with a fake transport: bytes in, events and errors out, split anywhere."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest

from aioloom.client._connection import ResponseHandler
from aioloom.client._exceptions import (
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from aioloom.http._exceptions import HttpProcessingError


class FakeTransport(asyncio.Transport):
    """Records what the protocol does to its transport."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.aborted = False
        self.paused = False
        self.written: list[bytes] = []

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True
        self.closed = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def make_handler(**params: Any) -> tuple[ResponseHandler, FakeTransport]:
    loop = asyncio.get_running_loop()
    handler = ResponseHandler(loop)
    transport = FakeTransport()
    handler.connection_made(transport)
    handler.set_response_params(method=params.pop("method", "GET"), **params)
    return handler, transport


RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world"


@pytest.mark.parametrize("step", [1, 2, 7, 20, len(RESPONSE)])
async def test_response_split_at_any_position(step: int) -> None:
    handler, transport = make_handler()
    for i in range(0, len(RESPONSE), step):
        handler.data_received(RESPONSE[i : i + step])
    message, payload = await handler.read_head()
    assert message.code == 200
    assert message.headers["X-A"] == "1"
    assert await payload.read() == b"hello world"
    assert not handler.should_close
    assert not transport.closed


async def test_should_close_until_the_body_is_complete() -> None:
    handler, _ = make_handler()
    handler.data_received(RESPONSE[:-3])
    await handler.read_head()
    assert handler.should_close  # mid-body: not reusable
    handler.data_received(RESPONSE[-3:])
    assert not handler.should_close


async def test_unsolicited_data_closes_the_connection() -> None:
    handler, transport = make_handler()
    handler.data_received(RESPONSE)
    await handler.read_head()
    handler.data_received(b"HTTP/1.1 200 OK\r\n")
    assert transport.closed
    assert handler.should_close


async def test_head_error_is_raised_by_read_head() -> None:
    handler, transport = make_handler()
    handler.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    with pytest.raises(HttpProcessingError) as info:
        await handler.read_head()
    assert info.value.code == 400
    assert transport.closed


async def test_body_error_in_a_later_read_goes_to_the_payload() -> None:
    handler, transport = make_handler()
    handler.data_received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    _, payload = await handler.read_head()
    handler.data_received(b"zz\r\n")
    with pytest.raises(ClientPayloadError, match="TransferEncodingError"):
        await payload.read()
    assert transport.closed


@pytest.mark.parametrize(
    ("exc", "error"),
    [(None, ServerDisconnectedError), (ConnectionResetError(104, "reset"), ClientOSError)],
)
async def test_connection_lost_before_the_head(exc: BaseException | None, error: type) -> None:
    handler, _ = make_handler()
    handler.data_received(b"HTTP/1.1 2")
    handler.connection_lost(exc)
    with pytest.raises(error):
        await handler.read_head()
    assert handler.closed.done()


async def test_connection_lost_ends_an_until_close_body() -> None:
    handler, _ = make_handler()
    handler.data_received(b"HTTP/1.1 200 OK\r\n\r\npart")
    _, payload = await handler.read_head()
    handler.connection_lost(None)
    assert await payload.read() == b"part"


async def test_reset_during_an_until_close_body_is_an_error() -> None:
    handler, _ = make_handler()
    handler.data_received(b"HTTP/1.1 200 OK\r\n\r\npart")
    _, payload = await handler.read_head()
    handler.connection_lost(ConnectionResetError(104, "reset"))
    with pytest.raises(ClientPayloadError, match="not completed"):
        await payload.read()


async def test_read_timeout_fails_head_and_closes() -> None:
    handler, transport = make_handler(read_timeout=0.05)
    with pytest.raises(SocketTimeoutError):
        await handler.read_head()
    assert transport.closed


async def test_abort_and_close() -> None:
    handler, transport = make_handler()
    handler.abort()
    assert transport.aborted
    assert handler.should_close
    handler.connection_lost(None)
    assert not handler.is_connected()
    handler.close()  # no transport any more: nothing to do


async def test_upgrade_keeps_the_tail() -> None:
    handler, _ = make_handler()
    handler.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"\x81\x02hi"
    )
    message, _ = await handler.read_head()
    assert message.code == 101
    assert handler.upgraded
    assert handler.tail == b"\x81\x02hi"
    assert handler.should_close  # an upgraded connection never returns to the pool


async def test_decompression_is_pulled_as_the_consumer_reads() -> None:
    size = 4 * 2**20
    body = gzip.compress(b"a" * size)
    handler, transport = make_handler(read_bufsize=2**14)
    handler.data_received(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    _, payload = await handler.read_head()
    handler.data_received(body)  # all compressed bytes at once
    low, high = payload.get_read_buffer_limits()
    assert payload._size <= high + 2**20  # only one bounded decoder step beyond the mark
    assert transport.paused  # the socket is paused while the backlog waits
    assert handler.should_close  # not complete until the consumer took it all
    total = 0
    while chunk := await payload.read(2**14):
        total += len(chunk)
        assert payload._size <= high + 2**20
    assert total == size
    assert not transport.paused
    assert not handler.should_close


async def test_corrupt_deflate_fails_the_payload() -> None:
    body = zlib.compress(b"data")[:-2] + b"\xff\xff"
    handler, transport = make_handler()
    handler.data_received(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    _, payload = await handler.read_head()
    with pytest.raises(ClientPayloadError, match="ContentEncodingError"):
        await payload.read()
    assert transport.closed


async def test_auto_decompress_off_passes_coded_bytes() -> None:
    body = gzip.compress(b"x")
    handler, _ = make_handler(auto_decompress=False)
    handler.data_received(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    _, payload = await handler.read_head()
    assert await payload.read() == body


async def test_head_response_has_no_body() -> None:
    handler, _ = make_handler(method="HEAD")
    handler.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    _, payload = await handler.read_head()
    assert payload.is_eof()
    assert not handler.should_close


async def test_interim_heads_come_first() -> None:
    handler, _ = make_handler()
    handler.data_received(b"HTTP/1.1 100 Continue\r\n\r\n" + RESPONSE)
    interim, _ = await handler.read_head()
    final, payload = await handler.read_head()
    assert (interim.code, final.code) == (100, 200)
    assert await payload.read() == b"hello world"


async def test_bytes_after_an_upgrade_join_the_tail() -> None:
    handler, transport = make_handler()
    handler.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    )
    await handler.read_head()
    handler.data_received(b"frame-1")
    handler.data_received(b"frame-2")
    assert handler.tail == b"frame-1frame-2"
    assert not transport.closed
