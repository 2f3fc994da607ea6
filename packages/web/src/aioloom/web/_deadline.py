"""A movable deadline on the event loop, re-armed lazily.

Moving a ``loop.call_at`` timer normally means cancelling it and scheduling a new one:
two heap operations per request for a keep-alive timer. :class:`Deadline` keeps one
handle and only moves a float; when the handle fires early it re-arms itself for the
current deadline, and a cleared deadline makes it a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ("Deadline",)


class Deadline:
    """Calls ``callback`` once the loop's time passes :attr:`when`.

    Args:
        loop: the event loop.
        callback: called (without arguments) when the deadline passes.

    Attributes:
        when: the deadline in loop time, or None when cleared.
    """

    __slots__ = ("_callback", "_handle", "_loop", "when")

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self.when: float | None = None

    def set(self, when: float) -> None:
        """Move the deadline to ``when`` (loop time)."""
        self.when = when
        if self._handle is None:
            self._handle = self._loop.call_at(when, self._fire)

    def set_in(self, delay: float) -> None:
        """Move the deadline to ``delay`` seconds from now."""
        self.set(self._loop.time() + delay)

    def clear(self) -> None:
        """Forget the deadline (the pending handle, if any, fires as a no-op)."""
        self.when = None

    def cancel(self) -> None:
        """Forget the deadline and cancel the handle."""
        self.when = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        when = self.when
        if when is None:
            return
        if self._loop.time() < when:
            self._handle = self._loop.call_at(when, self._fire)
            return
        self.when = None
        self._callback()
