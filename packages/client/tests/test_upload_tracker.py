"""``UploadTracker`` and ``UploadAbortedError``: real uploads to an aioloom.web server.

The tracker counts the body bytes each attempt hands to the connection and settles
``upload_complete`` once the request is over: ``None`` for a body fully sent, the write
error when writing failed, :class:`UploadAbortedError` when the body never went out whole.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aioloom.client import ClientSession, UploadAbortedError, UploadTracker
from aioloom.client._exceptions import ClientError
from aioloom.testing import TestServer
from aioloom.web import Application, BaseRequest, Response, StreamResponse

BODY = bytes(range(256)) * 4096  # 1 MiB

ServerFactory = Callable[[Application], Awaitable[TestServer]]


async def _length(request: BaseRequest) -> Response:
    return Response(text=str(len(await request.read())))


def _app() -> Application:
    app = Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/len", _length)

    async def redirect(request: BaseRequest) -> StreamResponse:
        await request.read()
        return Response(status=307, headers={"Location": "/len"})

    app.router.add_post("/redirect", redirect)
    return app


def _framed(chunks: list[bytes]) -> int:
    """The size of ``chunks`` sent with chunked transfer coding (RFC 9112 §7.1)."""
    return sum(len(f"{len(c):x}\r\n") + len(c) + 2 for c in chunks) + len(b"0\r\n\r\n")


async def test_a_body_fully_sent_completes_the_tracker(aioloom_server: ServerFactory) -> None:
    server = await aioloom_server(_app())
    tracker = UploadTracker()
    assert tracker.bytes_written == 0 and tracker.attempts == 0
    assert not tracker.upload_complete.done()
    async with ClientSession() as session:
        async with session.post(server.make_url("/len"), data=BODY, upload_tracker=tracker) as r:
            assert await r.text() == str(len(BODY))
    await tracker.upload_complete
    assert tracker.upload_complete.exception() is None
    assert tracker.bytes_written == len(BODY)
    assert tracker.attempts == 1
    assert "done" in repr(tracker)


async def test_progress_grows_while_a_stream_is_uploaded(aioloom_server: ServerFactory) -> None:
    server = await aioloom_server(_app())
    tracker = UploadTracker()
    chunks = [bytes([n]) * 65536 for n in range(16)]
    seen: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            seen.append(tracker.bytes_written)
            yield chunk
            await asyncio.sleep(0)

    async with ClientSession() as session:
        async with session.post(server.make_url("/len"), data=body(), upload_tracker=tracker) as r:
            assert await r.text() == str(sum(map(len, chunks)))
    await tracker.upload_complete
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] > 0
    assert tracker.bytes_written == _framed(chunks)  # chunked: framing counts too


async def test_a_request_without_body_completes_with_zero_bytes(
    aioloom_server: ServerFactory,
) -> None:
    server = await aioloom_server(_app())
    tracker = UploadTracker()
    async with ClientSession() as session:
        async with session.post(server.make_url("/len"), upload_tracker=tracker) as resp:
            assert await resp.text() == "0"
    await tracker.upload_complete
    assert tracker.upload_complete.exception() is None
    assert tracker.bytes_written == 0 and tracker.attempts == 1


async def test_a_cancelled_upload_is_aborted(aioloom_server: ServerFactory) -> None:
    server = await aioloom_server(_app())
    tracker = UploadTracker()
    stuck = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield BODY
        stuck.set()
        await asyncio.Event().wait()  # never sends the rest
        yield b""  # pragma: no cover

    async with ClientSession() as session:
        task = asyncio.ensure_future(
            session.post(server.make_url("/len"), data=body(), upload_tracker=tracker)
        )
        await stuck.wait()
        assert tracker.bytes_written > len(BODY)  # the first chunk (with its framing) is out
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with pytest.raises(UploadAbortedError, match="not fully sent"):
        await tracker.upload_complete
    assert tracker.attempts == 1


async def test_a_server_answering_early_leaves_the_upload_incomplete(
    aioloom_server: ServerFactory,
) -> None:
    async def refuse(request: BaseRequest) -> Response:
        return Response(status=413, headers={"Connection": "close"})

    app = Application()
    app.router.add_post("/small", refuse)
    server = await aioloom_server(app)
    tracker = UploadTracker()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(256):  # 256 MiB: far more than the socket buffers hold
            yield BODY
            await asyncio.sleep(0)

    async with ClientSession() as session:
        async with session.post(
            server.make_url("/small"), data=body(), upload_tracker=tracker
        ) as resp:
            assert resp.status == 413
    # Releasing the response stops the writer: the rest of the body never goes out.
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete
    assert 0 < tracker.bytes_written < 256 * len(BODY)


async def test_a_request_that_never_connects_is_aborted(
    aioloom_unused_port: Callable[[], int],
) -> None:
    tracker = UploadTracker()
    async with ClientSession() as session:
        with pytest.raises(ClientError):
            await session.post(
                f"http://127.0.0.1:{aioloom_unused_port()}/", data=BODY, upload_tracker=tracker
            )
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete
    assert tracker.attempts == 0 and tracker.bytes_written == 0


async def test_a_307_redirect_is_a_second_attempt(aioloom_server: ServerFactory) -> None:
    server = await aioloom_server(_app())
    tracker = UploadTracker()
    async with ClientSession() as session:
        async with session.post(
            server.make_url("/redirect"), data=BODY, upload_tracker=tracker
        ) as resp:
            assert resp.status == 200
            assert await resp.text() == str(len(BODY))
            assert len(resp.history) == 1
    await tracker.upload_complete
    assert tracker.upload_complete.exception() is None
    assert tracker.attempts == 2
    assert tracker.bytes_written == len(BODY)  # counted afresh for the second attempt


async def test_a_tracker_observes_one_request_only(aioloom_server: ServerFactory) -> None:
    server = await aioloom_server(_app())
    tracker = UploadTracker()
    async with ClientSession() as session:
        async with session.post(server.make_url("/len"), data=b"x", upload_tracker=tracker):
            pass
        with pytest.raises(RuntimeError, match="exactly one request"):
            await session.post(server.make_url("/len"), data=b"y", upload_tracker=tracker)
    assert tracker.attempts == 1


def test_a_tracker_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        UploadTracker()


async def test_polling_an_aborted_tracker_logs_nothing(
    aioloom_unused_port: Callable[[], int],
) -> None:
    """done() polling never retrieves the exception; it must not be reported as lost."""
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
    tracker = UploadTracker()
    async with ClientSession() as session:
        with pytest.raises(ClientError):
            await session.post(
                f"http://127.0.0.1:{aioloom_unused_port()}/", data=b"x", upload_tracker=tracker
            )
    assert tracker.upload_complete.done()
    del tracker
    gc.collect()
    assert errors == []


class _NoTransport:
    """Just enough of a protocol for a StreamWriter that is never written through."""

    transport = None
    writing_paused = False

    async def _drain_helper(self) -> None:  # pragma: no cover - never drained
        return None


async def test_an_attempt_that_never_ran_still_settles_the_tracker() -> None:
    """A writer task cancelled before its first step: the done callback ends the attempt."""
    from aioloom.http.aio._writer import StreamWriter

    loop = asyncio.get_running_loop()
    tracker = UploadTracker()
    tracker._bind()
    writer = StreamWriter(_NoTransport(), loop)
    tracker._attempt_started(writer)
    tracker._request_finished()
    assert not tracker.upload_complete.done()  # the attempt is still writing
    tracker._attempt_cut(writer)
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete


async def test_late_events_of_an_earlier_attempt_are_ignored() -> None:
    from aioloom.http.aio._writer import StreamWriter

    loop = asyncio.get_running_loop()
    tracker = UploadTracker()
    first, second = StreamWriter(_NoTransport(), loop), StreamWriter(_NoTransport(), loop)
    tracker._attempt_started(first)
    tracker._attempt_started(second)
    tracker._attempt_cut(first)  # stale: neither counts nor settles
    tracker._attempt_finished(second, None)
    tracker._attempt_cut(second)  # after the end: ignored too
    tracker._request_finished()
    await tracker.upload_complete
    assert tracker.upload_complete.exception() is None
    assert tracker.attempts == 2


async def test_bytes_still_in_the_transport_buffer_are_not_counted() -> None:
    # A peer that never reads: the kernel's buffers fill, then the transport's, and the body
    # generator stalls on drain. What it yielded went to the transport, not all to the kernel.
    loop = asyncio.get_running_loop()
    accepted: list[asyncio.Transport] = []

    class Silent(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            transport.pause_reading()
            accepted.append(transport)

    server = await loop.create_server(Silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yielded = 0
    progress = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        nonlocal yielded
        while True:
            yielded += len(BODY)
            progress.set()
            yield BODY

    tracker = UploadTracker()
    async with ClientSession() as session:
        task = asyncio.ensure_future(
            session.post(f"http://127.0.0.1:{port}/", data=body(), upload_tracker=tracker)
        )
        while True:  # until the generator has stalled for a while
            progress.clear()
            try:
                await asyncio.wait_for(progress.wait(), 0.5)
            except asyncio.TimeoutError:
                break
        # Every yielded chunk went to the transport with its framing (the last-chunk marker
        # not yet), but the writer stalled because the transport still holds some of it.
        handed_over = _framed([BODY] * (yielded // len(BODY))) - len(b"0\r\n\r\n")
        assert 0 < tracker.bytes_written < handed_over
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    for transport in accepted:
        transport.close()
    server.close()
    await server.wait_closed()
