"""The queue of received WebSocket messages: :class:`MessageQueue`.

One producer (the connection's ``feed_data``, called from the transport's ``data_received``)
appends messages; one consumer (``receive()``, or ``close()`` waiting for the peer's Close
frame) takes them in order. It is aiohttp's ``WebSocketDataQueue`` for aioloom:

* read back-pressure: the queue counts the bytes of the data messages it holds; above
  ``limit`` it pauses the transport's reading and resumes it once the consumer brought the
  count back under ``limit``. A peer that sends faster than the application reads therefore
  waits in its own TCP window instead of in our memory.
* one waiter: the consumer waits on a single future, completed by the producer; no task and
  no ``asyncio.Queue`` per connection. A second concurrent waiter is a ``RuntimeError``.
  A message that arrives while the consumer waits on an empty queue is handed to it as the
  future's result, never entering the buffer (the per-message path of an echo); should the
  consumer be cancelled before it resumes, the message goes back to the front of the queue,
  so nothing is lost.
* timeouts: a wait may carry a timeout, armed with ``loop.call_later`` only when one is given
  (the common case of no receive timeout costs no timer at all); the queue owns the timer and
  cancels it as soon as the wait ends.
* two ways to consume: ``await get()``, or, on the per-message path of
  ``WebSocketConnection.receive``, ``await wait()``'s future directly (no coroutine of its
  own), calling :meth:`MessageQueue.abandon` when that await raises.
* the end: after :meth:`MessageQueue.feed_eof` the messages still held are handed out, then
  ``WS_CLOSED_MESSAGE`` every time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final, Protocol

from aioloom.websocket._models import WS_CLOSED_MESSAGE, WSMessage

__all__ = ("DEFAULT_READER_LIMIT", "MessageQueue", "ReadFlowControl")

# aiohttp's reader limit: 64 KiB of unread message data before the transport stops reading.
# Messages are bounded by max_msg_size on their own; this bounds how many pile up.
DEFAULT_READER_LIMIT: Final[int] = 2**16

_Future: Final = asyncio.Future


class ReadFlowControl(Protocol):
    """What the queue needs from the connection's protocol (``BaseProtocol`` has it)."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def _expire(waiter: asyncio.Future[WSMessage | None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


class MessageQueue:
    """Received messages waiting for ``receive()``, with read flow control.

    Args:
        flow: the protocol whose reading is paused while the queue holds too much.
        loop: the event loop the consumer runs on.
        limit: bytes of queued message data that pause reading.
    """

    __slots__ = (
        "_buffer",
        "_eof",
        "_flow",
        "_limit",
        "_loop",
        "_paused",
        "_size",
        "_timer",
        "_waiter",
    )

    def __init__(
        self,
        flow: ReadFlowControl,
        loop: asyncio.AbstractEventLoop,
        *,
        limit: int = DEFAULT_READER_LIMIT,
    ) -> None:
        self._flow = flow
        self._loop = loop
        self._limit = limit
        self._buffer: deque[tuple[WSMessage, int]] = deque()
        self._size = 0
        self._paused = False
        self._eof = False
        self._waiter: asyncio.Future[WSMessage | None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._buffer)

    @property
    def size(self) -> int:
        """Bytes of message data held."""
        return self._size

    @property
    def paused(self) -> bool:
        """True while the queue keeps the transport from reading."""
        return self._paused

    @property
    def waiting(self) -> bool:
        """True while a consumer waits for a message."""
        return self._waiter is not None

    def is_eof(self) -> bool:
        """True once :meth:`feed_eof` was called."""
        return self._eof

    def put(self, message: WSMessage, size: int = 0) -> None:
        """Append ``message`` (of ``size`` data bytes) and wake the consumer."""
        waiter = self._waiter
        if waiter is not None and not self._buffer:
            self._waiter = None
            if self._timer is not None:
                self._stop_timer()
            try:
                waiter.set_result(message)  # straight to the consumer (module docstring)
                return
            except asyncio.InvalidStateError:
                pass  # it timed out or was cancelled: the message waits in the buffer
        self._buffer.append((message, size))
        if size:
            self._size += size
            if self._size > self._limit and not self._paused:
                self._paused = True
                self._flow.pause_reading()
        if self._waiter is not None:
            self._wake()

    def feed_eof(self) -> None:
        """Mark the end: the consumer gets the held messages, then ``WS_CLOSED_MESSAGE``."""
        self._eof = True
        self._wake()

    def _wake(self) -> None:
        """Complete the waiter with None: the consumer looks at the buffer (or the end)."""
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            self._stop_timer()
            if not waiter.done():
                waiter.set_result(None)

    def _stop_timer(self) -> None:
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    def get_nowait(self) -> WSMessage | None:
        """Take the next message, or return None when none is held.

        At the end (after :meth:`feed_eof`, with nothing held) this returns
        ``WS_CLOSED_MESSAGE``.
        """
        buffer = self._buffer
        if not buffer:
            return WS_CLOSED_MESSAGE if self._eof else None
        message, size = buffer.popleft()
        if size:
            self._size -= size
            if self._paused and self._size < self._limit:
                self._paused = False
                self._flow.resume_reading()
        return message

    def wait(self, timeout: float | None = None) -> asyncio.Future[WSMessage | None]:
        """Return the future a consumer awaits for the next message.

        When a message is held (or the queue ended) the future is done already, with what
        :meth:`get_nowait` returns. Otherwise it becomes the queue's one waiter: the next
        :meth:`put` completes it with its message, :meth:`feed_eof` with None (call
        :meth:`get_nowait` then), the timeout with :class:`asyncio.TimeoutError`. A consumer
        whose await raises (cancelled, timed out) must call :meth:`abandon`.

        Args:
            timeout: seconds to wait at most; None or 0 waits for ever.

        Raises:
            RuntimeError: another consumer already waits.
        """
        if self._waiter is not None:
            raise RuntimeError("Concurrent call to receive() is not allowed")
        # The Future class itself rather than loop.create_future() (a Python frame on the
        # pure-Python loop): the waiter never leaves the queue and its consumer.
        waiter: asyncio.Future[WSMessage | None] = _Future(loop=self._loop)
        if self._buffer or self._eof:
            waiter.set_result(self.get_nowait())
            return waiter
        self._waiter = waiter
        if timeout:
            self._timer = self._loop.call_later(timeout, _expire, waiter)
        return waiter

    def abandon(self, waiter: asyncio.Future[WSMessage | None]) -> None:
        """The consumer stopped awaiting ``waiter`` (from :meth:`wait`) on an exception.

        The waiter is dropped with its timer; a message already handed to it (the consumer
        was cancelled before it resumed) goes back to the front of the queue.
        """
        if self._waiter is waiter:
            self._waiter = None
            self._stop_timer()
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            message = waiter.result()
            if message is not None:
                self._buffer.appendleft((message, 0))  # never counted in ``size``

    async def get(self, timeout: float | None = None) -> WSMessage:
        """Take the next message, waiting for one.

        Args:
            timeout: seconds to wait at most; None or 0 waits for ever.

        Returns:
            The message; ``WS_CLOSED_MESSAGE`` once the queue ended and is empty.

        Raises:
            asyncio.TimeoutError: no message came within ``timeout``.
            RuntimeError: another coroutine already waits.
        """
        while True:
            waiter = self.wait(timeout)
            try:
                message = await waiter
            except BaseException:
                self.abandon(waiter)
                raise
            if message is not None:  # handed over directly; None: look at the buffer
                return message
