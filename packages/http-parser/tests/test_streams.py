"""Tests for aioloom.http.aio._streams (StreamReader, EMPTY_PAYLOAD) and _dataqueue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from types import TracebackType
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioloom.http import LineTooLong
from aioloom.http.aio._dataqueue import DataQueue, EofStream, FlowControlDataQueue
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import (
    DEFAULT_LIMIT,
    EMPTY_PAYLOAD,
    EmptyStreamReader,
    StreamReader,
)

_T = TypeVar("_T")


class FakeTransport(asyncio.Transport):
    """Enough of a transport for `connected` to be True and pausing to be visible."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


class RecordingProtocol(BaseProtocol):
    """A BaseProtocol that records every pause/resume the stream asks for."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.calls: list[str] = []
        self.connection_made(FakeTransport())

    def pause_reading(self) -> None:
        self.calls.append("pause")
        super().pause_reading()

    def resume_reading(self) -> None:
        self.calls.append("resume")
        super().resume_reading()


@pytest.fixture
def protocol(loop: asyncio.AbstractEventLoop) -> RecordingProtocol:
    return RecordingProtocol(loop)


@pytest.fixture
def stream(loop: asyncio.AbstractEventLoop, protocol: RecordingProtocol) -> StreamReader:
    return StreamReader(protocol, 2**16, loop=loop)


def make_stream(loop: asyncio.AbstractEventLoop, limit: int = 2**16) -> StreamReader:
    return StreamReader(RecordingProtocol(loop), limit, loop=loop)


def run(coro: Coroutine[object, object, _T]) -> _T:
    """Run a coroutine on a private loop (for hypothesis tests, which are synchronous)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False) if b > a]


# -- construction and state ------------------------------------------------------------


async def test_limit_must_be_positive(loop: asyncio.AbstractEventLoop) -> None:
    with pytest.raises(ValueError, match="limit"):
        StreamReader(RecordingProtocol(loop), 0, loop=loop)


async def test_water_marks(stream: StreamReader) -> None:
    assert stream.get_read_buffer_limits() == (2**16, 2**17)
    assert DEFAULT_LIMIT == 2**16


async def test_repr(loop: asyncio.AbstractEventLoop) -> None:
    stream = make_stream(loop, 10)
    assert repr(stream) == "<StreamReader low=10 high=20>"
    stream.feed_data(b"abc")
    stream.feed_eof()
    assert repr(stream) == "<StreamReader 3 bytes eof low=10 high=20>"
    stream.set_exception(ValueError("x"))
    assert "e=ValueError('x')" in repr(stream)
    assert repr(make_stream(loop)) == "<StreamReader>"


async def test_repr_shows_waiter(loop: asyncio.AbstractEventLoop, stream: StreamReader) -> None:
    task = loop.create_task(stream.read())
    await asyncio.sleep(0)
    assert "w=<Future pending" in repr(stream)
    stream.feed_eof()
    assert await task == b""


async def test_eof_state(stream: StreamReader) -> None:
    assert not stream.is_eof()
    assert not stream.at_eof()
    stream.feed_data(b"data")
    stream.feed_eof()
    assert stream.is_eof()
    assert not stream.at_eof()
    assert await stream.read() == b"data"
    assert stream.at_eof()


async def test_total_bytes(stream: StreamReader) -> None:
    stream.feed_data(b"abc")
    stream.feed_data(b"")
    stream.feed_data(b"defg")
    assert stream.total_bytes == 7
    assert stream.total_raw_bytes == 7
    stream.total_compressed_bytes = 3
    assert stream.total_raw_bytes == 3


async def test_feed_data_after_eof_raises(stream: StreamReader) -> None:
    stream.feed_eof()
    with pytest.raises(RuntimeError, match="after feed_eof"):
        stream.feed_data(b"late")


# -- read / readany / read_nowait ------------------------------------------------------


async def test_read_all(stream: StreamReader) -> None:
    for piece in (b"line1\n", b"line2", b"\nline3"):
        stream.feed_data(piece)
    stream.feed_eof()
    assert await stream.read() == b"line1\nline2\nline3"
    assert await stream.read() == b""


async def test_read_zero(stream: StreamReader) -> None:
    stream.feed_data(b"data")
    assert await stream.read(0) == b""
    assert await stream.read(2) == b"da"


async def test_read_n_returns_what_is_available(stream: StreamReader) -> None:
    stream.feed_data(b"abc")
    assert await stream.read(10) == b"abc"


async def test_read_n_spans_chunks(stream: StreamReader) -> None:
    for piece in (b"ab", b"cd", b"ef"):
        stream.feed_data(piece)
    assert await stream.read(3) == b"abc"
    assert await stream.read(2) == b"de"
    assert await stream.read(5) == b"f"


async def test_read_first_chunk_is_not_copied(stream: StreamReader) -> None:
    chunk = b"x" * 1000
    stream.feed_data(chunk)
    assert await stream.readany() is chunk


async def test_read_waits_for_data(loop: asyncio.AbstractEventLoop, stream: StreamReader) -> None:
    task = loop.create_task(stream.read(5))
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"hello world")
    assert await asyncio.wait_for(task, 1) == b"hello"


async def test_read_all_waits_for_eof(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    task = loop.create_task(stream.read())
    stream.feed_data(b"a")
    await asyncio.sleep(0)
    stream.feed_data(b"b")
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_eof()
    assert await asyncio.wait_for(task, 1) == b"ab"


async def test_readany_joins_buffered_chunks(stream: StreamReader) -> None:
    stream.feed_data(b"ab")
    stream.feed_data(b"cd")
    assert await stream.read(1) == b"a"
    stream.feed_data(b"ef")
    assert await stream.readany() == b"bcdef"
    stream.feed_eof()
    assert await stream.readany() == b""


async def test_read_nowait(stream: StreamReader) -> None:
    stream.feed_data(b"abc")
    stream.feed_data(b"def")
    assert stream.read_nowait(0) == b""
    assert stream.read_nowait(4) == b"abcd"
    assert stream.read_nowait() == b"ef"
    assert stream.read_nowait() == b""


async def test_read_nowait_while_waiting_raises(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    task = loop.create_task(stream.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="waiting for incoming data"):
        stream.read_nowait()
    stream.feed_eof()
    assert await task == b""


async def test_concurrent_readers_raise(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    first = loop.create_task(stream.readline())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match=r"^read\(\) called while another coroutine"):
        await stream.read(1)
    with pytest.raises(RuntimeError, match=r"^readany\(\) called while"):
        await stream.readany()
    stream.feed_data(b"line\n")
    assert await first == b"line\n"


async def test_reader_after_woken_reader_is_not_lost(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    # An HTTP chunk end wakes the first reader without data; a second reader that starts
    # waiting before the first one resumes must keep its own waiter.
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"a")
    assert await stream.read(1) == b"a"
    first = loop.create_task(stream.read(1))
    await asyncio.sleep(0)
    stream.end_http_chunk_receiving()
    first.cancel()
    second = stream.read(1)
    waiter = second.send(None)  # runs read() until it waits on its own future
    with pytest.raises(asyncio.CancelledError):
        await first
    stream.feed_data(b"b")
    assert waiter.done(), "the second reader's waiter was dropped"
    with pytest.raises(StopIteration) as info:
        second.send(None)
    assert info.value.value == b"b"


async def test_wait_on_closed_connection_raises(
    loop: asyncio.AbstractEventLoop, protocol: RecordingProtocol, stream: StreamReader
) -> None:
    protocol.connection_lost(None)
    with pytest.raises(RuntimeError, match="Connection closed"):
        await stream.read()
    stream.feed_data(b"buffered")
    assert await stream.read(8) == b"buffered"


# -- readline / readuntil ----------------------------------------------------------------


async def test_readline_split_across_feeds(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    task = loop.create_task(stream.readline())
    for piece in (b"li", b"ne", b"1\nline2\n"):
        await asyncio.sleep(0)
        assert not task.done()
        stream.feed_data(piece)
    assert await task == b"line1\n"
    assert await stream.readline() == b"line2\n"


async def test_readline_at_eof_returns_partial(stream: StreamReader) -> None:
    stream.feed_data(b"partial")
    stream.feed_eof()
    assert await stream.readline() == b"partial"
    assert await stream.readline() == b""


async def test_readuntil_separator_split_across_chunks(stream: StreamReader) -> None:
    for byte in b"head\r\n\r\nbody":
        stream.feed_data(bytes([byte]))
    stream.feed_eof()
    assert await stream.readuntil(b"\r\n\r\n") == b"head\r\n\r\n"
    assert await stream.read() == b"body"


async def test_readuntil_separator_straddles_offset(stream: StreamReader) -> None:
    stream.feed_data(b"xa-")
    stream.feed_data(b"-b--")
    assert await stream.read(1) == b"x"
    assert await stream.readuntil(b"--") == b"a--"
    assert await stream.readuntil(b"--") == b"b--"


async def test_readuntil_empty_separator(stream: StreamReader) -> None:
    with pytest.raises(ValueError, match="Separator"):
        await stream.readuntil(b"")


async def test_readline_too_long_without_separator(loop: asyncio.AbstractEventLoop) -> None:
    stream = make_stream(loop, 16)  # high-water mark: 32 bytes
    for _ in range(5):
        stream.feed_data(b"x" * 10)
    with pytest.raises(LineTooLong) as info:
        await stream.readline()
    assert info.value.code == 400
    assert "32" in str(info.value)


async def test_readline_too_long_with_separator(loop: asyncio.AbstractEventLoop) -> None:
    stream = make_stream(loop, 16)
    stream.feed_data(b"y" * 40 + b"\n")
    with pytest.raises(LineTooLong) as info:
        await stream.readline()
    assert info.value.code == 400
    assert info.value.args[1:] == (32, 41)


async def test_readline_max_line_length(stream: StreamReader) -> None:
    stream.feed_data(b"abcdef\n")
    with pytest.raises(LineTooLong):
        await stream.readline(max_line_length=5)
    stream.feed_data(b"abc\n")
    assert await stream.readline(max_line_length=5) == b"abc\n"


async def test_line_without_separator_is_bounded_while_waiting(
    loop: asyncio.AbstractEventLoop,
) -> None:
    stream = make_stream(loop, 64)  # high-water mark 128
    task = loop.create_task(stream.readline())
    fed = 0
    while not task.done():
        stream.feed_data(b"z" * 16)
        fed += 16
        await asyncio.sleep(0)
        assert fed <= 256, "readline kept buffering a line without a separator"
    with pytest.raises(LineTooLong):
        await task


async def test_long_line_allowed_beyond_high_water(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 16, loop=loop)  # high-water mark 32
    line = bytes(range(65, 91)) * 10 + b"\n"
    task = loop.create_task(stream.readline(max_line_length=1000))
    position = 0

    async def transport() -> None:
        # Delivers 40 bytes at a time, but only while reading is not paused.
        nonlocal position
        while position < len(line):
            if not protocol.reading_paused:
                stream.feed_data(line[position : position + 40])
                position += 40
            await asyncio.sleep(0)

    feeder = loop.create_task(transport())
    assert await asyncio.wait_for(task, 2) == line
    await feeder
    assert "pause" in protocol.calls, "the 40-byte feeds must pass the high-water mark"
    assert not protocol.reading_paused


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    last=st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"")),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=12),
)
def test_readline_any_split(lines: list[bytes], last: bytes, cuts: list[int]) -> None:
    data = b"".join(line + b"\n" for line in lines) + last

    async def main() -> list[bytes]:
        stream = make_stream(asyncio.get_running_loop(), 2**16)
        for piece in split(data, cuts):
            stream.feed_data(piece)
        stream.feed_eof()
        return [line async for line in stream]

    expected = [line + b"\n" for line in lines] + ([last] if last else [])
    assert run(main()) == expected


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=100), max_size=15),
    separator=st.sampled_from([b"\r\n", b"--", b"abc", b"\r\n\r\n"]),
)
def test_readuntil_any_split(data: bytes, cuts: list[int], separator: bytes) -> None:
    async def main() -> list[bytes]:
        stream = make_stream(asyncio.get_running_loop(), 2**16)
        for piece in split(data, cuts):
            stream.feed_data(piece)
        stream.feed_eof()
        out = []
        while piece := await stream.readuntil(separator):
            out.append(piece)
        return out

    expected = []
    rest = data
    while rest:
        index = rest.find(separator)
        end = len(rest) if index < 0 else index + len(separator)
        expected.append(rest[:end])
        rest = rest[end:]
    assert run(main()) == expected


# -- readexactly -------------------------------------------------------------------------


async def test_readexactly(loop: asyncio.AbstractEventLoop, stream: StreamReader) -> None:
    task = loop.create_task(stream.readexactly(6))
    for piece in (b"ab", b"cd", b"efgh"):
        stream.feed_data(piece)
        await asyncio.sleep(0)
    assert await task == b"abcdef"
    assert await stream.readexactly(2) == b"gh"
    assert await stream.readexactly(0) == b""


async def test_readexactly_incomplete(stream: StreamReader) -> None:
    stream.feed_data(b"abc")
    stream.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await stream.readexactly(5)
    assert info.value.partial == b"abc"
    assert info.value.expected == 5


async def test_readexactly_negative(stream: StreamReader) -> None:
    with pytest.raises(ValueError):
        await stream.readexactly(-1)


async def test_readexactly_larger_than_high_water(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 8, loop=loop)
    task = loop.create_task(stream.readexactly(100))
    for i in range(10):
        stream.feed_data(bytes([i]) * 10)
        await asyncio.sleep(0)
    result = await asyncio.wait_for(task, 1)
    assert result == b"".join(bytes([i]) * 10 for i in range(10))


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=250), max_size=12),
    sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30),
    limit=st.integers(min_value=1, max_value=64),
)
def test_reads_reassemble_the_body(
    data: bytes, cuts: list[int], sizes: list[int], limit: int
) -> None:
    """Interleaved feeds and reads of any size return the body unchanged."""

    async def main() -> tuple[bytes, RecordingProtocol]:
        loop = asyncio.get_running_loop()
        protocol = RecordingProtocol(loop)
        stream = StreamReader(protocol, limit, loop=loop)
        pieces = split(data, cuts)

        async def producer() -> None:
            for piece in pieces:
                stream.feed_data(piece)
                await asyncio.sleep(0)
            stream.feed_eof()

        task = loop.create_task(producer())
        out = bytearray()
        index = 0
        while not stream.at_eof() or index == 0:
            size = sizes[index % len(sizes)]
            index += 1
            block = await (stream.readexactly(size) if index % 3 == 0 else stream.read(size))
            if not block:
                break
            out += block
            if len(out) == len(data):
                break
        await task
        out += await stream.read()
        return bytes(out), protocol

    try:
        out, protocol = run(main())
    except asyncio.IncompleteReadError as exc:
        # readexactly() at the end of the body: everything before was still returned.
        assert data.endswith(exc.partial)
        return
    assert out == data
    assert not protocol.reading_paused


# -- readchunk and HTTP chunks ---------------------------------------------------------


async def test_readchunk_reports_http_chunk_ends(stream: StreamReader) -> None:
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"abc")
    stream.end_http_chunk_receiving()
    stream.feed_data(b"de")
    stream.feed_data(b"f")
    stream.end_http_chunk_receiving()
    stream.feed_data(b"partial")
    stream.feed_eof()
    assert await stream.readchunk() == (b"abc", True)
    assert await stream.readchunk() == (b"def", True)
    assert await stream.readchunk() == (b"partial", False)
    assert await stream.readchunk() == (b"", False)


async def test_readchunk_without_chunked_coding(stream: StreamReader) -> None:
    stream.feed_data(b"one")
    stream.feed_data(b"two")
    assert await stream.readchunk() == (b"one", False)
    assert await stream.readchunk() == (b"two", False)


async def test_readchunk_after_read_consumed_boundary(stream: StreamReader) -> None:
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"abc")
    stream.end_http_chunk_receiving()
    stream.feed_data(b"defg")
    stream.end_http_chunk_receiving()
    assert await stream.read(3) == b"abc"
    assert await stream.readchunk() == (b"", True)
    assert await stream.read(2) == b"de"
    assert await stream.readchunk() == (b"fg", True)


async def test_readchunk_skips_boundary_passed_by_read(stream: StreamReader) -> None:
    stream.begin_http_chunk_receiving()
    stream.feed_data(b"ab")
    stream.end_http_chunk_receiving()
    stream.feed_data(b"cdef")
    stream.end_http_chunk_receiving()
    assert await stream.read(3) == b"abc"
    assert await stream.readchunk() == (b"def", True)


async def test_readchunk_waits_for_chunk_end(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    stream.begin_http_chunk_receiving()
    task = loop.create_task(stream.readchunk())
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"data")
    stream.end_http_chunk_receiving()
    assert await asyncio.wait_for(task, 1) == (b"data", True)


async def test_empty_http_chunk_adds_no_boundary(stream: StreamReader) -> None:
    stream.begin_http_chunk_receiving()
    stream.end_http_chunk_receiving()  # nothing fed yet
    stream.feed_data(b"x")
    stream.end_http_chunk_receiving()
    stream.end_http_chunk_receiving()  # no new data
    stream.feed_eof()
    assert [chunk async for chunk in stream.iter_chunks()] == [(b"x", True)]


async def test_begin_chunk_after_data_raises(stream: StreamReader) -> None:
    stream.feed_data(b"x")
    with pytest.raises(RuntimeError, match="already fed"):
        stream.begin_http_chunk_receiving()


async def test_end_chunk_without_begin_raises(stream: StreamReader) -> None:
    with pytest.raises(RuntimeError, match="without calling begin"):
        stream.end_http_chunk_receiving()


# -- iterators -----------------------------------------------------------------------------


async def test_iter_lines(stream: StreamReader) -> None:
    stream.feed_data(b"a\nbb\nccc")
    stream.feed_eof()
    assert [line async for line in stream] == [b"a\n", b"bb\n", b"ccc"]


async def test_iter_chunked(stream: StreamReader) -> None:
    stream.feed_data(b"abcdefg")
    stream.feed_data(b"hi")
    stream.feed_eof()
    chunks = [chunk async for chunk in stream.iter_chunked(3)]
    assert b"".join(chunks) == b"abcdefghi"
    assert all(0 < len(chunk) <= 3 for chunk in chunks)


async def test_iter_chunked_bad_size(stream: StreamReader) -> None:
    with pytest.raises(ValueError):
        stream.iter_chunked(0)


async def test_iter_any(loop: asyncio.AbstractEventLoop, stream: StreamReader) -> None:
    async def produce() -> None:
        for piece in (b"one", b"two", b"three"):
            stream.feed_data(piece)
            await asyncio.sleep(0)
        stream.feed_eof()

    task = loop.create_task(produce())
    received = [chunk async for chunk in stream.iter_any()]
    await task
    assert b"".join(received) == b"onetwothree"


# -- exceptions --------------------------------------------------------------------------


async def test_exception_wakes_waiting_reader(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    task = loop.create_task(stream.readline())
    await asyncio.sleep(0)
    error = ValueError("broken")
    cause = OSError("socket")
    stream.set_exception(error, cause)
    with pytest.raises(ValueError, match="broken") as info:
        await task
    assert info.value.__cause__ is cause
    assert stream.exception() is error


@pytest.mark.parametrize(
    "method", ["read", "readany", "readline", "readchunk", "readuntil", "readexactly"]
)
async def test_every_read_raises_the_exception(stream: StreamReader, method: str) -> None:
    stream.feed_data(b"buffered\n")
    stream.set_exception(ConnectionResetError("gone"))
    reader = getattr(stream, method)
    with pytest.raises(ConnectionResetError, match="gone"):
        await (reader(1) if method == "readexactly" else reader())
    with pytest.raises(ConnectionResetError):
        stream.read_nowait()


async def test_exception_class_is_accepted(stream: StreamReader) -> None:
    stream.set_exception(EOFError, OSError("cause is ignored for classes"))
    with pytest.raises(EOFError):
        await stream.read()


async def test_exception_does_not_chain_itself(stream: StreamReader) -> None:
    error = ValueError()
    stream.set_exception(error, error)
    assert error.__cause__ is None


async def test_exception_wakes_wait_eof(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    task = loop.create_task(stream.wait_eof())
    await asyncio.sleep(0)
    stream.set_exception(RuntimeError("fail"))
    with pytest.raises(RuntimeError, match="fail"):
        await task
    with pytest.raises(RuntimeError, match="fail"):
        await stream.wait_eof()


# -- EOF callbacks and waiting for EOF ---------------------------------------------------


async def test_on_eof_callbacks(stream: StreamReader) -> None:
    calls: list[str] = []
    stream.on_eof(lambda: calls.append("first"))
    stream.on_eof(lambda: calls.append("second"))
    assert calls == []
    stream.feed_eof()
    assert calls == ["first", "second"]
    stream.on_eof(lambda: calls.append("late"))
    assert calls == ["first", "second", "late"]
    stream.feed_eof()
    assert calls == ["first", "second", "late"]


async def test_on_eof_exception_is_logged(
    stream: StreamReader, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def broken() -> None:
        raise ZeroDivisionError

    stream.on_eof(broken)
    stream.on_eof(lambda: calls.append("after"))
    with caplog.at_level(logging.ERROR, logger="aioloom.http"):
        stream.feed_eof()
        stream.on_eof(broken)
    assert calls == ["after"]
    assert [r.message for r in caplog.records] == ["Exception in eof callback"] * 2


async def test_set_exception_drops_eof_callbacks(stream: StreamReader) -> None:
    calls: list[str] = []
    stream.on_eof(lambda: calls.append("never"))
    stream.set_exception(ValueError())
    stream.feed_eof()
    assert calls == []


async def test_wait_eof(loop: asyncio.AbstractEventLoop, stream: StreamReader) -> None:
    waiters = [loop.create_task(stream.wait_eof()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    stream.feed_data(b"x")
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    stream.feed_eof()
    await asyncio.wait_for(asyncio.gather(*waiters), 1)
    await stream.wait_eof()


async def test_wait_eof_cancelled(loop: asyncio.AbstractEventLoop, stream: StreamReader) -> None:
    task = loop.create_task(stream.wait_eof())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream._eof_waiters == []
    stream.feed_eof()
    await asyncio.wait_for(stream.wait_eof(), 1)


# -- flow control --------------------------------------------------------------------------


async def test_pause_above_high_water_and_resume_below_low_water(
    loop: asyncio.AbstractEventLoop,
) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 10, loop=loop)
    stream.feed_data(b"x" * 20)  # exactly the high-water mark: not above it
    assert protocol.calls == []
    stream.feed_data(b"x")
    assert protocol.calls == ["pause"]
    assert protocol.transport is not None and not protocol.transport.is_reading()
    stream.feed_data(b"x" * 5)  # already paused: no second pause
    assert protocol.calls == ["pause"]
    await stream.read(16)  # 10 left: not below the low-water mark
    assert protocol.calls == ["pause"]
    await stream.read(1)
    assert protocol.calls == ["pause", "resume"]
    assert protocol.transport.is_reading()


async def test_no_resume_when_never_paused(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 10, loop=loop)
    stream.feed_data(b"abc")
    assert await stream.read(3) == b"abc"
    assert protocol.calls == []


async def test_readline_resumes_reading(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 4, loop=loop)
    stream.feed_data(b"ab\ncd\nef\n")
    assert protocol.calls == ["pause"]
    assert await stream.readline() == b"ab\n"
    assert protocol.calls == ["pause"]
    assert await stream.readline() == b"cd\n"
    assert protocol.calls == ["pause", "resume"]


async def test_feed_eof_resumes_reading(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 2, loop=loop)
    stream.feed_data(b"12345")
    assert protocol.reading_paused
    stream.feed_eof()
    assert not protocol.reading_paused
    assert protocol.calls == ["pause", "resume"]


async def test_many_small_http_chunks_pause_reading(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    stream = StreamReader(protocol, 2**10, loop=loop)  # up to 64 chunk ends buffered
    stream.begin_http_chunk_receiving()
    for _ in range(64):
        stream.feed_data(b"x")
        stream.end_http_chunk_receiving()
    assert protocol.calls == []
    stream.feed_data(b"x")
    stream.end_http_chunk_receiving()
    assert protocol.calls == ["pause"]
    for _ in range(33):
        assert await stream.readchunk() == (b"x", True)
    assert protocol.calls == ["pause"]
    assert await stream.readchunk() == (b"x", True)
    assert protocol.calls == ["pause", "resume"]


async def test_timer_wraps_waits(loop: asyncio.AbstractEventLoop) -> None:
    class Timer:
        def __init__(self) -> None:
            self.events: list[str] = []
            self.fired = False

        def __enter__(self) -> Timer:
            self.events.append("enter")
            return self

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            self.events.append("exit")

        def assert_timeout(self) -> None:
            self.events.append("check")
            if self.fired:
                raise asyncio.TimeoutError

    timer = Timer()
    stream = StreamReader(RecordingProtocol(loop), 16, timer=timer, loop=loop)
    task = loop.create_task(stream.read(2))
    await asyncio.sleep(0)
    stream.feed_data(b"abc")
    assert await task == b"ab"
    assert timer.events == ["enter", "exit", "check"]
    assert await stream.readchunk() == (b"c", False)
    assert timer.events == ["enter", "exit", "check", "check"]
    stream.feed_data(b"d")
    timer.fired = True
    with pytest.raises(asyncio.TimeoutError):
        await stream.read(1)
    with pytest.raises(asyncio.TimeoutError):
        await stream.readchunk()


async def test_cancelled_read_keeps_data(
    loop: asyncio.AbstractEventLoop, stream: StreamReader
) -> None:
    task = loop.create_task(stream.read())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stream.feed_data(b"kept")
    assert await stream.readany() == b"kept"


# -- a real loopback connection -----------------------------------------------------------


class FeedingProtocol(BaseProtocol):
    """Server protocol that feeds everything it receives into a StreamReader."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        super().__init__(loop)
        self.stream = StreamReader(self, limit, loop=loop)

    def data_received(self, data: bytes) -> None:
        self.stream.feed_data(data)

    def eof_received(self) -> None:
        self.stream.feed_eof()

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.stream.is_eof():
            self.stream.set_exception(ConnectionResetError("lost"), exc or NO_CAUSE)
        super().connection_lost(exc)


NO_CAUSE = BaseException()


async def test_loopback_back_pressure_pauses_transport(loop: asyncio.AbstractEventLoop) -> None:
    servers: list[FeedingProtocol] = []

    def factory() -> FeedingProtocol:
        proto = FeedingProtocol(loop, 1024)
        servers.append(proto)
        return proto

    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    writer_transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    try:
        payload = bytes(range(256)) * 4096  # 1 MiB
        writer_transport.write(payload)
        writer_transport.write_eof()
        for _ in range(200):
            if servers and servers[0].reading_paused:
                break
            await asyncio.sleep(0.01)
        proto = servers[0]
        assert proto.transport is not None
        assert proto.reading_paused
        assert proto.transport.is_reading() is False
        buffered = proto.stream._size
        assert buffered <= 2 * 1024 + 256 * 1024, "flow control did not bound the buffer"
        await asyncio.sleep(0.05)
        assert proto.stream._size == buffered, "data arrived while reading was paused"
        received = bytearray()
        resumed = False
        async for chunk in proto.stream.iter_chunked(4096):
            received += chunk
            transport = proto.transport
            if transport is not None and transport.is_reading():
                resumed = True
        assert bytes(received) == payload
        assert resumed
    finally:
        writer_transport.close()
        server.close()
        await server.wait_closed()


# -- EmptyStreamReader / EMPTY_PAYLOAD -------------------------------------------------------


async def test_empty_stream_reader() -> None:
    s = EmptyStreamReader()
    assert repr(s) == "<EmptyStreamReader>"
    assert s.exception() is None
    s.set_exception(ValueError())
    assert s.exception() is None
    s.feed_data(b"ignored")
    s.feed_eof()
    s.begin_http_chunk_receiving()
    s.end_http_chunk_receiving()
    assert s.is_eof() and s.at_eof()
    await s.wait_eof()
    assert await s.read() == b""
    assert await s.read(5) == b""
    assert await s.readline() == b""
    assert await s.readuntil(b"--") == b""
    assert await s.readany() == b""
    assert s.read_nowait() == b""
    assert await s.readexactly(0) == b""
    assert await s.readchunk() == (b"", False)
    assert await s.readchunk() == (b"", True)
    assert s.total_bytes == 0 and s.total_raw_bytes == 0
    assert [line async for line in s] == []
    assert [chunk async for chunk in s.iter_any()] == []
    assert [chunk async for chunk in s.iter_chunked(10)] == []


async def test_empty_stream_reader_bad_input() -> None:
    s = EmptyStreamReader()
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await s.readexactly(10)
    assert info.value.partial == b"" and info.value.expected == 10
    with pytest.raises(ValueError):
        await s.readexactly(-1)
    with pytest.raises(ValueError):
        await s.readuntil(b"")


async def test_empty_payload_singleton_iter_chunks_twice() -> None:
    assert isinstance(EMPTY_PAYLOAD, EmptyStreamReader)
    await EMPTY_PAYLOAD.readchunk()
    for _ in range(2):
        assert [c async for c in EMPTY_PAYLOAD.iter_chunks()] == []


async def test_empty_payload_on_eof_runs_at_once(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    EMPTY_PAYLOAD.on_eof(lambda: calls.append(1))
    assert calls == [1]

    def broken() -> None:
        raise KeyError

    with caplog.at_level(logging.ERROR, logger="aioloom.http"):
        EMPTY_PAYLOAD.on_eof(broken)
    assert "Exception in eof callback" in caplog.text


# -- DataQueue ---------------------------------------------------------------------------


async def test_data_queue_order_and_eof(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[str] = DataQueue(loop)
    assert len(queue) == 0 and not queue.is_eof() and not queue.at_eof()
    queue.feed_data("a")
    queue.feed_data("b")
    assert len(queue) == 2
    queue.feed_eof()
    assert queue.is_eof() and not queue.at_eof()
    assert await queue.read() == "a"
    assert await queue.read() == "b"
    assert queue.at_eof()
    with pytest.raises(EofStream):
        await queue.read()


async def test_data_queue_read_waits(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[int] = DataQueue(loop)
    task = loop.create_task(queue.read())
    await asyncio.sleep(0)
    assert not task.done()
    queue.feed_data(42)
    assert await asyncio.wait_for(task, 1) == 42


async def test_data_queue_concurrent_read_raises(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[int] = DataQueue(loop)
    task = loop.create_task(queue.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await queue.read()
    queue.feed_eof()
    with pytest.raises(EofStream):
        await task


async def test_data_queue_exception_after_items(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[bytes] = DataQueue(loop)
    queue.feed_data(b"item")
    cause = OSError()
    error = ValueError("bad frame")
    queue.set_exception(error, cause)
    assert queue.is_eof()
    assert queue.exception() is error
    assert error.__cause__ is cause
    assert await queue.read() == b"item"
    with pytest.raises(ValueError, match="bad frame"):
        await queue.read()


async def test_data_queue_exception_wakes_reader(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[bytes] = DataQueue(loop)
    task = loop.create_task(queue.read())
    await asyncio.sleep(0)
    queue.set_exception(ConnectionResetError())
    with pytest.raises(ConnectionResetError):
        await task


async def test_data_queue_cancelled_read(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[int] = DataQueue(loop)
    task = loop.create_task(queue.read())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    queue.feed_data(1)
    assert await queue.read() == 1


async def test_data_queue_async_iteration(loop: asyncio.AbstractEventLoop) -> None:
    queue: DataQueue[str] = DataQueue(loop)

    async def produce() -> None:
        for item in ("x", "y", "z"):
            queue.feed_data(item)
            await asyncio.sleep(0)
        queue.feed_eof()

    task = loop.create_task(produce())
    assert [item async for item in queue] == ["x", "y", "z"]
    await task


async def test_flow_control_data_queue(loop: asyncio.AbstractEventLoop) -> None:
    protocol = RecordingProtocol(loop)
    queue: FlowControlDataQueue[bytes] = FlowControlDataQueue(protocol, 10, loop=loop)
    queue.feed_data(b"a" * 20, 20)
    assert protocol.calls == []
    queue.feed_data(b"b" * 5, 5)
    assert protocol.calls == ["pause"]
    queue.feed_data(b"c", 1)
    assert protocol.calls == ["pause"]
    assert await queue.read() == b"a" * 20
    assert protocol.calls == ["pause", "resume"]
    queue.feed_eof()
    assert await queue.read() == b"b" * 5
    assert await queue.read() == b"c"
    with pytest.raises(EofStream):
        await queue.read()
    assert protocol.calls == ["pause", "resume"]
