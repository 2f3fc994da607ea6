"""Item queues with one reader: :class:`DataQueue`, :class:`FlowControlDataQueue`.

This module owns aiohttp 3.14's ``DataQueue`` (the queue the websocket reader feeds parsed
messages into), its flow-controlled variant, :class:`EofStream` (the end of a queue) and
:class:`AsyncStreamIterator`, the async iterator over any read function that
:class:`~aioloom.http.aio._streams.StreamReader` uses as well. It also holds the small waiter
helpers both modules share: a reader waits on one future, which a producer completes.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import Final, Generic, TypeVar

from ._protocol import BaseProtocol

__all__ = ("AsyncStreamIterator", "DataQueue", "EofStream", "FlowControlDataQueue")

_T = TypeVar("_T")

ExceptionOrType = type[BaseException] | BaseException

# "No cause given" marker for set_exception(exc, exc_cause=...), as in aiohttp.
NO_CAUSE: Final = BaseException()


class EofStream(Exception):
    """The end of a :class:`DataQueue`: :meth:`DataQueue.read` found no more items."""


def chain_cause(exc: ExceptionOrType, cause: BaseException) -> None:
    """Set ``exc.__cause__`` when a cause was given (and is not ``exc`` itself)."""
    if cause is not NO_CAUSE and isinstance(exc, BaseException) and exc is not cause:
        exc.__cause__ = cause


def wake_waiter(waiter: asyncio.Future[None] | None) -> None:
    """Complete a reader's waiter, unless it is gone or already done (cancelled)."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def fail_waiter(waiter: asyncio.Future[None] | None, exc: ExceptionOrType) -> None:
    """Fail a reader's waiter with ``exc``, unless it is gone or already done."""
    if waiter is not None and not waiter.done():
        waiter.set_exception(exc)


class AsyncStreamIterator(Generic[_T]):
    """Async iterator over a read function; stops at ``b""`` or :class:`EofStream`."""

    __slots__ = ("read_func",)

    def __init__(self, read_func: Callable[[], Awaitable[_T]]) -> None:
        self.read_func = read_func

    def __aiter__(self) -> AsyncStreamIterator[_T]:
        return self

    async def __anext__(self) -> _T:
        try:
            rv = await self.read_func()
        except EofStream:
            raise StopAsyncIteration from None
        if rv == b"":
            raise StopAsyncIteration
        return rv


class DataQueue(Generic[_T]):
    """A queue of parsed items with one reader (aiohttp's ``DataQueue``).

    The websocket reader feeds it messages; ``read()`` returns them in order and raises
    :class:`EofStream` after :meth:`feed_eof`, or the exception given to
    :meth:`set_exception`. ``async for`` iterates until then.

    Args:
        loop: the event loop the reader runs on.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._exception: ExceptionOrType | None = None
        self._buffer: collections.deque[_T] = collections.deque()

    def __len__(self) -> int:
        return len(self._buffer)

    def is_eof(self) -> bool:
        """Return True once :meth:`feed_eof` or :meth:`set_exception` was called."""
        return self._eof

    def at_eof(self) -> bool:
        """Return True at EOF with nothing left to read."""
        return self._eof and not self._buffer

    def exception(self) -> ExceptionOrType | None:
        """Return the exception set by :meth:`set_exception`, if any."""
        return self._exception

    def set_exception(self, exc: ExceptionOrType, exc_cause: BaseException = NO_CAUSE) -> None:
        """End the queue with an error: reads raise ``exc`` once the items are read."""
        chain_cause(exc, exc_cause)
        self._eof = True
        self._exception = exc
        waiter, self._waiter = self._waiter, None
        fail_waiter(waiter, exc)

    def feed_data(self, data: _T, size: int = 0) -> None:
        """Append one item and wake the reader (``size`` is ignored, as in aiohttp 3.x)."""
        self._buffer.append(data)
        waiter, self._waiter = self._waiter, None
        wake_waiter(waiter)

    def feed_eof(self) -> None:
        """Mark the end of the queue."""
        self._eof = True
        waiter, self._waiter = self._waiter, None
        wake_waiter(waiter)

    async def read(self) -> _T:
        """Return the next item, waiting for one.

        Raises:
            EofStream: the queue ended and is empty.
            RuntimeError: another coroutine is already waiting.
        """
        while not self._buffer and not self._eof:
            if self._waiter is not None:
                raise RuntimeError("read() called while another coroutine is already waiting")
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        if self._buffer:
            return self._buffer.popleft()
        if self._exception is not None:
            raise self._exception
        raise EofStream

    def __aiter__(self) -> AsyncStreamIterator[_T]:
        return AsyncStreamIterator(self.read)


class FlowControlDataQueue(DataQueue[_T]):
    """A :class:`DataQueue` that pauses the protocol while it holds too much.

    Each item is fed with its size; above ``2 * limit`` buffered bytes the protocol's
    reading is paused, and it resumes once reads bring the total below that again.
    (aiohttp 3.14 still exports this class but no longer uses it itself.)

    Args:
        protocol: the connection's protocol.
        limit: half the number of buffered bytes that pauses reading.
        loop: the event loop the reader runs on.
    """

    def __init__(
        self, protocol: BaseProtocol, limit: int, *, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(loop)
        self._protocol = protocol
        self._limit = limit * 2
        self._flow_size = 0
        self._item_sizes: collections.deque[int] = collections.deque()

    def feed_data(self, data: _T, size: int = 0) -> None:
        """Append one item of ``size`` bytes; pause reading above the limit."""
        self._flow_size += size
        self._item_sizes.append(size)
        super().feed_data(data)
        if self._flow_size > self._limit and not self._protocol.reading_paused:
            self._protocol.pause_reading()

    async def read(self) -> _T:
        """Return the next item; resume reading once below the limit."""
        item = await super().read()
        self._flow_size -= self._item_sizes.popleft()
        if self._flow_size < self._limit and self._protocol.reading_paused:
            self._protocol.resume_reading()
        return item
