"""Body streams: :class:`StreamReader` and :data:`EMPTY_PAYLOAD`.

This module owns aiohttp 3.14's ``streams`` API. A :class:`StreamReader` is the body of one
HTTP message (``request.content``, ``response.content``): the parser pushes bytes in with
:meth:`~StreamReader.feed_data` and :meth:`~StreamReader.feed_eof`, the application pulls them
out with ``read``/``readline``/``readexactly``/``readchunk`` and the async iterators.

Buffering and flow control. Fed chunks are kept as they came, in a deque of ``bytes``, with
an offset into the first one; nothing is copied until a read returns data, and a read that is
satisfied by the head of one chunk returns a slice of it, while a read that spans chunks joins
them once. With ``limit`` as the low-water mark and ``2 * limit`` as the high-water mark (the
aiohttp values): when the buffered size passes the high-water mark the stream calls
``protocol.pause_reading()``; when reads bring it below the low-water mark it calls
``protocol.resume_reading()``. A body sent as very many tiny HTTP chunks pauses reading too
(more than ``max(4, limit // 16)`` chunk ends buffered), because each chunk end costs work on
every read. ``feed_eof`` always resumes reading, so an unread body never stalls the next
message on a keep-alive connection.

Lines. ``readline``/``readuntil`` search chunk by chunk (a separator split across two chunks
is found too) and move what they have scanned out of the buffer, so a line longer than the
high-water mark still completes. A line longer than ``max_line_length``/``max_size`` (the
high-water mark by default) raises :class:`~aioloom.http.LineTooLong`, as aiohttp 3.14 does,
instead of growing without bound.

One reader at a time. Two coroutines waiting on one stream would race for the next data, so
the second one gets ``RuntimeError`` (as in aiohttp).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from itertools import islice
from types import TracebackType
from typing import Final, Protocol

from aioloom.http._exceptions import LineTooLong

from ._dataqueue import (
    NO_CAUSE,
    AsyncStreamIterator,
    ExceptionOrType,
    chain_cause,
    fail_waiter,
    wake_waiter,
)
from ._protocol import BaseProtocol

__all__ = (
    "DEFAULT_LIMIT",
    "EMPTY_PAYLOAD",
    "ChunkTupleAsyncStreamIterator",
    "EmptyStreamReader",
    "ReadTimer",
    "StreamReader",
)

_log = logging.getLogger("aioloom.http")

# aiohttp's default read buffer limit (64 KiB): the low-water mark of a body stream; the
# high-water mark, and the default maximum line length, is twice that.
DEFAULT_LIMIT: Final = 2**16


class ReadTimer(Protocol):
    """A read timeout, as the client's ``sock_read`` timer provides it.

    The stream enters it around every wait for data (the timer cancels the wait when it
    fires) and calls :meth:`assert_timeout` before returning buffered data.
    """

    def __enter__(self) -> object: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...

    def assert_timeout(self) -> None:
        """Raise ``asyncio.TimeoutError`` if the timer has already fired."""
        ...


class ChunkTupleAsyncStreamIterator:
    """Async iterator over :meth:`StreamReader.readchunk`; stops at ``(b"", False)``."""

    __slots__ = ("_stream",)

    def __init__(self, stream: StreamReader) -> None:
        self._stream = stream

    def __aiter__(self) -> ChunkTupleAsyncStreamIterator:
        return self

    async def __anext__(self) -> tuple[bytes, bool]:
        rv = await self._stream.readchunk()
        if rv == (b"", False):
            raise StopAsyncIteration
        return rv


class StreamReader:
    """The body of an HTTP message, read as it arrives (aiohttp's ``StreamReader``).

    Applications never build one: they use ``request.content`` or ``response.content``.
    Iterate it by line (``async for line in stream``), by chunks of at most *n* bytes
    (:meth:`iter_chunked`), by whatever arrived (:meth:`iter_any`), or by HTTP chunk
    (:meth:`iter_chunks`).

    Args:
        protocol: the connection's protocol; paused and resumed for flow control.
        limit: the low-water mark in bytes (the high-water mark is twice this).
        timer: an optional read timeout, entered around every wait for data.
        loop: the event loop of the connection.

    Raises:
        ValueError: ``limit`` is smaller than 1.

    Attributes:
        total_bytes: bytes fed so far (after decompression, when the body is compressed).
        total_compressed_bytes: bytes received before decompression, set by the
            decompressing parser; ``None`` when the body is not compressed.
    """

    __slots__ = (
        "_buffer",
        "_buffer_offset",
        "_cursor",
        "_eof",
        "_eof_callbacks",
        "_eof_waiters",
        "_exception",
        "_high_water",
        "_high_water_chunks",
        "_http_chunk_splits",
        "_loop",
        "_low_water",
        "_low_water_chunks",
        "_protocol",
        "_size",
        "_timer",
        "_waiter",
        "total_bytes",
        "total_compressed_bytes",
    )

    def __init__(
        self,
        protocol: BaseProtocol,
        limit: int,
        *,
        timer: ReadTimer | None = None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be a positive number of bytes, not {limit!r}")
        self._protocol = protocol
        self._loop = loop
        self._timer = timer
        self._low_water = limit
        self._high_water = limit * 2
        # Chunk ends are counted separately: at least 4 so that the one split that always
        # remains (the current position) still lets reading resume; 16 KiB-sized chunks at
        # the high-water mark for the default limit.
        self._high_water_chunks = max(4, limit // 16)
        self._low_water_chunks = self._high_water_chunks // 2
        self._buffer: collections.deque[bytes] = collections.deque()
        self._buffer_offset = 0  # bytes of _buffer[0] already read
        self._size = 0  # bytes buffered and not read
        self._cursor = 0  # bytes read since the start of the body
        self._http_chunk_splits: collections.deque[int] | None = None
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._eof_waiters: list[asyncio.Future[None]] = []
        self._exception: ExceptionOrType | None = None
        self._eof_callbacks: list[Callable[[], None]] = []
        self.total_bytes = 0
        self.total_compressed_bytes: int | None = None

    def __repr__(self) -> str:
        info = [self.__class__.__name__]
        if self._size:
            info.append(f"{self._size} bytes")
        if self._eof:
            info.append("eof")
        if self._low_water != DEFAULT_LIMIT:
            info.append(f"low={self._low_water} high={self._high_water}")
        if self._waiter is not None:
            info.append(f"w={self._waiter!r}")
        if self._exception is not None:
            info.append(f"e={self._exception!r}")
        return "<{}>".format(" ".join(info))

    # -- iteration ----------------------------------------------------------------------

    def __aiter__(self) -> AsyncStreamIterator[bytes]:
        """Iterate line by line (see :meth:`readline`)."""
        return AsyncStreamIterator(self.readline)

    def iter_chunked(self, n: int) -> AsyncStreamIterator[bytes]:
        """Iterate in chunks of at most ``n`` bytes (see :meth:`read`)."""
        if n < 1:
            raise ValueError(f"chunk size must be positive, not {n!r}")
        return AsyncStreamIterator(lambda: self.read(n))

    def iter_any(self) -> AsyncStreamIterator[bytes]:
        """Iterate over the data as it arrives (see :meth:`readany`)."""
        return AsyncStreamIterator(self.readany)

    def iter_chunks(self) -> ChunkTupleAsyncStreamIterator:
        """Iterate over ``(data, end_of_http_chunk)`` tuples (see :meth:`readchunk`)."""
        return ChunkTupleAsyncStreamIterator(self)

    # -- state ----------------------------------------------------------------------------

    def get_read_buffer_limits(self) -> tuple[int, int]:
        """Return the ``(low, high)`` water marks in bytes."""
        return (self._low_water, self._high_water)

    def exception(self) -> ExceptionOrType | None:
        """Return the exception set by :meth:`set_exception`, if any."""
        return self._exception

    def is_eof(self) -> bool:
        """Return True once :meth:`feed_eof` was called."""
        return self._eof

    def at_eof(self) -> bool:
        """Return True once :meth:`feed_eof` was called and everything was read."""
        return self._eof and not self._buffer

    @property
    def total_raw_bytes(self) -> int:
        """Bytes received on the wire for this body (before decompression)."""
        if self.total_compressed_bytes is None:
            return self.total_bytes
        return self.total_compressed_bytes

    # -- producer side ----------------------------------------------------------------------

    def set_exception(self, exc: ExceptionOrType, exc_cause: BaseException = NO_CAUSE) -> None:
        """Fail the stream: current and later reads raise ``exc``.

        Args:
            exc: the exception (or exception class) to raise.
            exc_cause: set as ``exc.__cause__`` when given.
        """
        chain_cause(exc, exc_cause)
        self._exception = exc
        self._eof_callbacks.clear()
        waiter, self._waiter = self._waiter, None
        fail_waiter(waiter, exc)
        waiters, self._eof_waiters = self._eof_waiters, []
        for eof_waiter in waiters:
            fail_waiter(eof_waiter, exc)

    def on_eof(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` at :meth:`feed_eof` (now, when already at EOF).

        Exceptions raised by the callback are logged, never propagated.
        """
        if self._eof:
            _run_callback(callback)
        else:
            self._eof_callbacks.append(callback)

    def feed_eof(self) -> None:
        """Mark the end of the body: wake readers, resume reading, run EOF callbacks."""
        self._eof = True
        waiter, self._waiter = self._waiter, None
        wake_waiter(waiter)
        waiters, self._eof_waiters = self._eof_waiters, []
        for eof_waiter in waiters:
            wake_waiter(eof_waiter)
        # The message is complete: whatever is still buffered is bounded, and the next
        # message on the connection must not wait for this body to be read.
        if self._protocol.reading_paused:
            self._protocol.resume_reading()
        callbacks, self._eof_callbacks = self._eof_callbacks, []
        for callback in callbacks:
            _run_callback(callback)

    async def wait_eof(self) -> None:
        """Wait until :meth:`feed_eof` is called.

        Raises:
            BaseException: the exception set by :meth:`set_exception`.
        """
        if self._eof:
            return
        if self._exception is not None:
            raise self._exception
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._eof_waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._eof_waiters:
                self._eof_waiters.remove(waiter)

    def feed_data(self, data: bytes, size: int = 0) -> None:
        """Append body bytes; pause the protocol above the high-water mark.

        ``size`` is ignored; aiohttp 3.x parsers pass ``len(data)`` there.

        Raises:
            RuntimeError: :meth:`feed_eof` was already called.
        """
        if self._eof:
            raise RuntimeError("feed_data() called after feed_eof()")
        if not data:
            return
        size = len(data)
        self._size += size
        self.total_bytes += size
        self._buffer.append(data)
        waiter, self._waiter = self._waiter, None
        wake_waiter(waiter)
        if self._size > self._high_water and not self._protocol.reading_paused:
            self._protocol.pause_reading()

    def begin_http_chunk_receiving(self) -> None:
        """Start tracking HTTP chunk boundaries (RFC 9112 §7.1) for :meth:`readchunk`.

        Raises:
            RuntimeError: data was fed before the first chunk started.
        """
        if self._http_chunk_splits is None:
            if self.total_bytes:
                raise RuntimeError(
                    "Called begin_http_chunk_receiving when some data was already fed"
                )
            self._http_chunk_splits = collections.deque()

    def end_http_chunk_receiving(self) -> None:
        """Record the end of one HTTP chunk at the current position.

        Raises:
            RuntimeError: :meth:`begin_http_chunk_receiving` was not called.
        """
        splits = self._http_chunk_splits
        if splits is None:
            raise RuntimeError(
                "Called end_http_chunk_receiving without calling begin_http_chunk_receiving first"
            )
        # A chunk that produced no data (empty, or compressed input the decompressor kept)
        # adds no boundary: positions are in bytes the application can read.
        position = splits[-1] if splits else 0
        if self.total_bytes == position:
            return
        splits.append(self.total_bytes)
        if len(splits) > self._high_water_chunks and not self._protocol.reading_paused:
            self._protocol.pause_reading()
        waiter, self._waiter = self._waiter, None
        wake_waiter(waiter)

    # -- consumer side ----------------------------------------------------------------------

    async def _wait(self, func_name: str) -> None:
        if not self._protocol.connected:
            raise RuntimeError("Connection closed.")
        if self._waiter is not None:
            raise RuntimeError(
                f"{func_name}() called while another coroutine is already waiting for incoming data"
            )
        waiter = self._waiter = self._loop.create_future()
        try:
            if self._timer is None:
                await waiter
            else:
                with self._timer:
                    await waiter
        finally:
            # A producer that woke us already cleared it, and a new reader may have set
            # its own waiter since: only clear our own.
            if self._waiter is waiter:
                self._waiter = None

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        """Read one line, up to and including ``b"\\n"``.

        At EOF the partial line (or ``b""``) is returned.

        Raises:
            LineTooLong: the line is longer than ``max_line_length`` (default: the
                high-water mark).
        """
        return await self.readuntil(max_size=max_line_length)

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        """Read up to and including ``separator``; at EOF return what is left.

        Args:
            separator: the delimiter, at least one byte.
            max_size: the longest result allowed (default: the high-water mark).

        Raises:
            ValueError: ``separator`` is empty.
            LineTooLong: the data before the separator is longer than ``max_size``.
        """
        seplen = len(separator)
        if seplen == 0:
            raise ValueError("Separator should be at least one-byte string")
        if self._exception is not None:
            raise self._exception
        limit = max_size or self._high_water
        parts: list[bytes] = []
        total = 0
        tail = b""  # the last seplen - 1 bytes scanned, for separators split across chunks
        while True:
            while self._buffer:
                end = self._find_separator(separator, tail)
                data = self._take_chunk(end)
                parts.append(data)
                total += len(data)
                if total > limit:
                    self._after_read()
                    raise _line_too_long(parts, limit, total)
                if end >= 0:
                    self._after_read()
                    return parts[0] if len(parts) == 1 else b"".join(parts)
                if seplen > 1:
                    tail = (tail + data[1 - seplen :])[1 - seplen :]
            self._after_read()
            if self._eof:
                return b"".join(parts)
            await self._wait("readuntil")

    def _find_separator(self, separator: bytes, tail: bytes) -> int:
        """Bytes to take from the first chunk to end just after ``separator``, or -1."""
        first = self._buffer[0]
        offset = self._buffer_offset
        seplen = len(separator)
        if tail:
            window = tail + first[offset : offset + seplen - 1]
            index = window.find(separator)
            if index >= 0:
                return index + seplen - len(tail)
        index = first.find(separator, offset)
        return -1 if index < 0 else index - offset + seplen

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes, returning as soon as some are available.

        Args:
            n: the most bytes to return; ``-1`` reads until EOF.

        Returns:
            The data; ``b""`` at EOF.
        """
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if n < 0:
            # Consume as it arrives (so flow control keeps working) and join once.
            blocks: list[bytes] = []
            while block := await self.readany():
                blocks.append(block)
            return b"".join(blocks)
        # A loop, not an `if`: the end of an HTTP chunk wakes the reader without data.
        while not self._buffer and not self._eof:
            await self._wait("read")
        return self._read_nowait(n)

    async def readany(self) -> bytes:
        """Read everything buffered, waiting for data when there is none.

        Returns:
            The data; ``b""`` at EOF.
        """
        if self._exception is not None:
            raise self._exception
        while not self._buffer and not self._eof:
            await self._wait("readany")
        return self._read_nowait(-1)

    async def readchunk(self) -> tuple[bytes, bool]:
        """Read the next piece of data together with whether it ends an HTTP chunk.

        With chunked transfer coding (RFC 9112 §7.1) the flag is True when the returned
        data ends exactly at the end of an HTTP chunk; otherwise it is always False.

        Returns:
            ``(data, end_of_http_chunk)``; ``(b"", False)`` at EOF.
        """
        while True:
            if self._exception is not None:
                raise self._exception
            splits = self._http_chunk_splits
            while splits:
                position = splits.popleft()
                if position == self._cursor:
                    return (b"", True)
                if position > self._cursor:
                    return (self._read_nowait(position - self._cursor), True)
                # A read() went past this boundary; it can no longer be reported.
            if self._buffer:
                if self._timer is not None:
                    self._timer.assert_timeout()
                data = self._take_chunk(-1)
                self._after_read()
                return (data, False)
            if self._eof:
                return (b"", False)
            await self._wait("readchunk")

    async def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes.

        Raises:
            ValueError: ``n`` is negative.
            asyncio.IncompleteReadError: EOF came first; ``partial`` holds what was read.
        """
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        if self._exception is not None:
            raise self._exception
        if self._size >= n:
            return self._read_nowait(n) if n else b""
        blocks: list[bytes] = []
        remaining = n
        while remaining > 0:
            block = await self.read(remaining)
            if not block:
                partial = b"".join(blocks)
                raise asyncio.IncompleteReadError(partial, n)
            blocks.append(block)
            remaining -= len(block)
        return b"".join(blocks)

    def read_nowait(self, n: int = -1) -> bytes:
        """Return up to ``n`` buffered bytes (all with ``-1``) without waiting.

        Raises:
            RuntimeError: another coroutine is waiting for data on this stream.
        """
        if self._exception is not None:
            raise self._exception
        if self._waiter is not None and not self._waiter.done():
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        if n == 0:
            return b""
        return self._read_nowait(n)

    # -- buffer internals -------------------------------------------------------------------

    def _read_nowait(self, n: int) -> bytes:
        """Take up to ``n`` buffered bytes (all when ``n < 0``); then flow control."""
        if self._timer is not None:
            self._timer.assert_timeout()
        if not self._buffer:
            return b""
        if n < 0 or n >= self._size:
            data = self._take_all()
        else:
            data = self._take_chunk(n)
            if len(data) < n:
                parts = [data]
                remaining = n - len(data)
                while remaining:
                    part = self._take_chunk(remaining)
                    parts.append(part)
                    remaining -= len(part)
                data = b"".join(parts)
        self._after_read()
        return data

    def _take_chunk(self, n: int) -> bytes:
        """Take up to ``n`` bytes (all when ``n < 0``) of the first buffered chunk."""
        first = self._buffer[0]
        offset = self._buffer_offset
        if 0 <= n < len(first) - offset:
            end = offset + n
            data = first[offset:end]
            self._buffer_offset = end
        else:
            self._buffer.popleft()
            self._buffer_offset = 0
            data = first[offset:] if offset else first
        size = len(data)
        self._size -= size
        self._cursor += size
        return data

    def _take_all(self) -> bytes:
        """Take every buffered byte, joining the chunks once."""
        buffer = self._buffer
        if len(buffer) == 1:
            return self._take_chunk(-1)
        parts: list[bytes | memoryview] = list(buffer)
        if self._buffer_offset:
            parts[0] = memoryview(buffer[0])[self._buffer_offset :]
        data = b"".join(parts)
        buffer.clear()
        self._buffer_offset = 0
        self._cursor += self._size
        self._size = 0
        return data

    def _after_read(self) -> None:
        """Drop chunk boundaries already passed; resume reading below the low-water mark."""
        splits = self._http_chunk_splits
        if splits:
            cursor = self._cursor
            while splits and splits[0] < cursor:
                splits.popleft()
        if (
            self._size < self._low_water
            and self._protocol.reading_paused
            and (splits is None or len(splits) < self._low_water_chunks)
        ):
            self._protocol.resume_reading()


def _line_too_long(parts: list[bytes], limit: int, total: int) -> LineTooLong:
    # Name the line by its first 100 bytes; every part holds at least one byte.
    head = b"".join(islice(parts, 100))[:100]
    return LineTooLong(f"{head!r}...", limit, total)


def _run_callback(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        _log.exception("Exception in eof callback")


class EmptyStreamReader(StreamReader):
    """The body of a message that has none: always at EOF, every read returns ``b""``.

    Use the shared instance :data:`EMPTY_PAYLOAD`.
    """

    __slots__ = ("_read_eof_chunk",)

    def __init__(self) -> None:  # no protocol, no loop: it never waits
        self._read_eof_chunk = False
        self._low_water = self._high_water = 0
        self._exception = None
        self.total_bytes = 0
        self.total_compressed_bytes = None

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    def exception(self) -> BaseException | None:
        return None

    def set_exception(self, exc: ExceptionOrType, exc_cause: BaseException = NO_CAUSE) -> None:
        """Ignored: an empty body cannot fail."""

    def on_eof(self, callback: Callable[[], None]) -> None:
        _run_callback(callback)

    def feed_eof(self) -> None:
        """Ignored: always at EOF."""

    def is_eof(self) -> bool:
        return True

    def at_eof(self) -> bool:
        return True

    async def wait_eof(self) -> None:
        return

    def feed_data(self, data: bytes, size: int = 0) -> None:
        """Ignored: an empty body has no data."""

    def begin_http_chunk_receiving(self) -> None:
        """Ignored: an empty body has no chunks."""

    def end_http_chunk_receiving(self) -> None:
        """Ignored: an empty body has no chunks."""

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        return b""

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        return b""

    async def read(self, n: int = -1) -> bytes:
        return b""

    async def readany(self) -> bytes:
        return b""

    def iter_chunks(self) -> ChunkTupleAsyncStreamIterator:
        # A fresh reader, so that iterating the shared EMPTY_PAYLOAD twice still ends
        # (its readchunk() says (b"", True) after the first call).
        return ChunkTupleAsyncStreamIterator(EmptyStreamReader())

    async def readchunk(self) -> tuple[bytes, bool]:
        # aiohttp's sequence: the first call reports EOF as (b"", False), later calls
        # as (b"", True).
        if not self._read_eof_chunk:
            self._read_eof_chunk = True
            return (b"", False)
        return (b"", True)

    async def readexactly(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        if n == 0:
            return b""
        raise asyncio.IncompleteReadError(b"", n)

    def read_nowait(self, n: int = -1) -> bytes:
        return b""


EMPTY_PAYLOAD: Final[StreamReader] = EmptyStreamReader()
