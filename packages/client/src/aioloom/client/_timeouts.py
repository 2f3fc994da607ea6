"""Client timeouts: :class:`ClientTimeout`, :class:`ClientWSTimeout` and the deadline machinery.

Every timeout is one ``loop.call_at`` handle, never a ``wait_for`` per read:

* :class:`TimerContext` cancels the tasks that are inside it when its deadline fires and
  turns their :class:`asyncio.CancelledError` into :class:`asyncio.TimeoutError` (a
  cancellation from elsewhere passes through untouched). It is the ``timer`` that body
  streams enter around every wait, so one total deadline covers the whole exchange:
  connecting, sending, redirects and reading the body.
* :class:`Deadline` owns the handle of such a total timeout.
* :class:`TimeoutScope` is a one-shot ``with`` block (``connect``, ``sock_connect``).
* :class:`IdleTimer` implements ``sock_read``: it fires when no data arrived for the
  given time. Data arrival only records a timestamp; the handle re-arms itself lazily when
  it fires early, so a busy connection costs no timer churn.

Deadlines longer than ``ceil_threshold`` seconds are rounded up to a whole second of the
loop clock, which lets the event loop batch timers (aiohttp's behaviour).
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Final

__all__ = (
    "DEFAULT_TIMEOUT",
    "ClientTimeout",
    "ClientWSTimeout",
    "Deadline",
    "IdleTimer",
    "TimeoutScope",
    "TimerContext",
    "deadline_at",
)


@dataclass(frozen=True)
class ClientTimeout:
    """The timeouts of a request, in seconds; None or 0 disables one.

    Attributes:
        total: the whole operation: connection, sending, redirects and reading the body.
        connect: getting a connection: waiting for a free pool slot plus opening it.
        sock_read: the longest gap between two pieces of data from the server.
        sock_connect: opening one connection to one address (TCP connect and TLS handshake).
        ceil_threshold: deadlines longer than this are rounded up to a whole second.
    """

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


# aiohttp's default: five minutes in all, thirty seconds to open a connection.
DEFAULT_TIMEOUT: Final = ClientTimeout(total=5 * 60, sock_connect=30)


@dataclass(frozen=True)
class ClientWSTimeout:
    """The timeouts of a client WebSocket, in seconds.

    Attributes:
        ws_receive: the longest wait for a message in ``receive()``.
        ws_close: the longest wait for the server's close frame.
    """

    ws_receive: float | None = None
    ws_close: float | None = None


def deadline_at(
    loop: asyncio.AbstractEventLoop, timeout: float | None, ceil_threshold: float = 5
) -> float | None:
    """The loop time at which ``timeout`` expires, or None when it is disabled."""
    if timeout is None or timeout <= 0:
        return None
    when = loop.time() + timeout
    if timeout > ceil_threshold:
        when = math.ceil(when)
    return when


class TimerContext:
    """A reusable timeout context: cancels the tasks inside it when :meth:`timeout` runs.

    Used with ``with``; a task inside it that the timer cancels leaves the block with
    :class:`asyncio.TimeoutError`. Once fired, entering it again raises at once.
    """

    __slots__ = ("_entries", "_fired", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._entries: list[tuple[asyncio.Task[object], int]] = []
        self._fired = False

    @property
    def fired(self) -> bool:
        """True once the deadline passed."""
        return self._fired

    def assert_timeout(self) -> None:
        """Raise :class:`asyncio.TimeoutError` if the deadline has passed."""
        if self._fired:
            raise asyncio.TimeoutError from None

    def __enter__(self) -> TimerContext:
        task = asyncio.current_task(loop=self._loop)
        if task is None:
            raise RuntimeError("a timeout context must be used inside a task")
        if self._fired:
            raise asyncio.TimeoutError from None
        cancelling = 0
        if sys.version_info >= (3, 11):
            cancelling = task.cancelling()
        self._entries.append((task, cancelling))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entries = self._entries
        if len(entries) == 1:
            # Only this block is inside: the entry is the current task's (its __enter__
            # added it, and nothing but this __exit__ removes it).
            task: asyncio.Task[object] | None
            task, cancelling = entries.pop()
        else:
            task = asyncio.current_task(loop=self._loop)
            cancelling = 0
            for index in range(len(entries) - 1, -1, -1):
                if entries[index][0] is task:
                    cancelling = entries.pop(index)[1]
                    break
        if exc_type is asyncio.CancelledError and self._fired:
            if sys.version_info >= (3, 11) and task is not None:
                # Our cancel is consumed; a cancellation from elsewhere still propagates.
                if task.uncancel() > cancelling:
                    return
            raise asyncio.TimeoutError from exc

    def timeout(self) -> None:
        """Fire: cancel every task currently inside the context."""
        if self._fired:
            return
        self._fired = True
        for task in {entry[0] for entry in self._entries}:
            task.cancel()


class Deadline:
    """One total deadline shared by everything that enters its :attr:`timer`.

    Args:
        loop: the event loop.
        timeout: seconds from now; None or 0 means no deadline (then ``timer`` is None).
        ceil_threshold: see :func:`deadline_at`.
    """

    __slots__ = ("_handle", "timer")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float | None, ceil_threshold: float = 5
    ) -> None:
        self.timer: TimerContext | None = None
        self._handle: asyncio.TimerHandle | None = None
        if timeout is None or timeout <= 0:
            return
        when = loop.time() + timeout  # deadline_at, inlined: one per request
        if timeout > ceil_threshold:
            when = math.ceil(when)
        timer = self.timer = TimerContext(loop)
        self._handle = loop.call_at(when, timer.timeout)

    def cancel(self) -> None:
        """Disarm the deadline (the exchange is over)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class TimeoutScope:
    """A one-shot timeout around a ``with`` block in the current task.

    Raises :class:`asyncio.TimeoutError` from the block when ``timeout`` passes first.
    """

    __slots__ = ("_handle", "_loop", "_timer", "_when")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float | None, ceil_threshold: float = 5
    ) -> None:
        self._loop = loop
        self._when = deadline_at(loop, timeout, ceil_threshold)
        self._timer: TimerContext | None = None
        self._handle: asyncio.TimerHandle | None = None

    def __enter__(self) -> TimeoutScope:
        if self._when is not None:
            timer = self._timer = TimerContext(self._loop)
            timer.__enter__()
            self._handle = self._loop.call_at(self._when, timer.timeout)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._timer is not None:
            self._timer.__exit__(exc_type, exc, tb)


class IdleTimer:
    """Calls ``on_timeout`` when :meth:`touch` was not called for ``timeout`` seconds.

    Args:
        loop: the event loop.
        timeout: the idle time allowed; None or 0 disables the timer.
        ceil_threshold: see :func:`deadline_at`.
        on_timeout: called once when the connection was idle too long.
    """

    __slots__ = ("_ceil", "_handle", "_last", "_loop", "_on_timeout", "_timeout")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        timeout: float | None,
        ceil_threshold: float,
        on_timeout: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._timeout = timeout if timeout is not None and timeout > 0 else None
        self._ceil = ceil_threshold
        self._on_timeout = on_timeout
        self._handle: asyncio.TimerHandle | None = None
        self._last = 0.0

    @property
    def active(self) -> bool:
        """True while the timer is armed."""
        return self._handle is not None

    def start(self) -> None:
        """Arm the timer from now (no-op when disabled or already armed)."""
        if self._timeout is None or self._handle is not None:
            return
        self._last = self._loop.time()
        self._arm(self._timeout)

    def touch(self) -> None:
        """Record activity: the idle time starts again."""
        if self._handle is not None:
            self._last = self._loop.time()

    def stop(self) -> None:
        """Disarm the timer."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, delay: float) -> None:
        when = deadline_at(self._loop, delay, self._ceil)
        assert when is not None
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        assert self._timeout is not None
        remaining = self._last + self._timeout - self._loop.time()
        if remaining > 0:
            self._arm(remaining)  # data came in meanwhile: wait for the rest
            return
        self._on_timeout()
