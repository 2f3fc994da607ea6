"""Keep-alive pings for a WebSocket connection: :class:`Heartbeat`.

aiohttp's ``heartbeat=N``: when nothing has been received for ``N`` seconds a Ping frame is
sent (RFC 6455 §5.5.2); when nothing (a Pong or anything else) arrives within ``N / 2``
seconds after it, the peer is taken for dead and the connection is dropped with 1006.

Unlike aiohttp, any received bytes count as a sign of life, not only the messages the
application has read: a peer answering pings stays connected while the application is busy
sending.

Cost: receiving only records a deadline (one ``loop.time()``); a single ``call_at`` timer is
re-armed lazily when it fires early, so a busy connection does not churn timer handles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ("Heartbeat",)


class Heartbeat:
    """The ping and pong-wait timers of one connection.

    Args:
        loop: the event loop.
        interval: seconds of silence after which a Ping is sent.
        send_ping: sends the Ping frame (synchronously).
        on_timeout: called when no data arrived within ``interval / 2`` after a Ping.
    """

    __slots__ = (
        "_handle",
        "_interval",
        "_loop",
        "_on_timeout",
        "_pong_handle",
        "_send_ping",
        "_when",
        "pong_timeout",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval: float,
        send_ping: Callable[[], None],
        on_timeout: Callable[[], None],
    ) -> None:
        if interval <= 0:
            raise ValueError(f"heartbeat must be a positive number of seconds, got {interval!r}")
        self._loop = loop
        self._interval = interval
        self.pong_timeout = interval / 2.0
        self._send_ping = send_ping
        self._on_timeout = on_timeout
        self._when = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._pong_handle: asyncio.TimerHandle | None = None

    @property
    def active(self) -> bool:
        """True while a timer is armed."""
        return self._handle is not None or self._pong_handle is not None

    def touch(self) -> None:
        """Something arrived: the peer is alive; the next Ping is due ``interval`` from now."""
        self._when = self._loop.time() + self._interval
        pong = self._pong_handle
        if pong is not None:
            self._pong_handle = None
            pong.cancel()
        if self._handle is None:
            self._handle = self._loop.call_at(self._when, self._fire)

    def cancel(self) -> None:
        """Stop both timers (the connection is closing)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()
        pong, self._pong_handle = self._pong_handle, None
        if pong is not None:
            pong.cancel()

    def _fire(self) -> None:
        self._handle = None
        now = self._loop.time()
        if now < self._when:
            # Data arrived since the timer was armed: wait for the moved deadline.
            self._handle = self._loop.call_at(self._when, self._fire)
            return
        self._pong_handle = self._loop.call_at(now + self.pong_timeout, self._expire)
        self._send_ping()

    def _expire(self) -> None:
        self._pong_handle = None
        self._on_timeout()
