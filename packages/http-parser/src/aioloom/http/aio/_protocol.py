"""Flow control shared by every aioloom connection: :class:`BaseProtocol`.

This module owns the two directions of back-pressure of one asyncio connection, with the
semantics of aiohttp's ``base_protocol.BaseProtocol``:

* writing: the transport calls :meth:`BaseProtocol.pause_writing` when its write buffer
  passes the high-water mark and :meth:`BaseProtocol.resume_writing` when it drains below the
  low-water mark. Writers await :meth:`BaseProtocol._drain_helper`, which returns at once
  while writing is not paused and otherwise waits for the resume. Any number of writers may
  wait at the same time; each has its own future, so cancelling one never disturbs another.
* reading: body streams call :meth:`BaseProtocol.pause_reading` when they buffer too much
  and :meth:`BaseProtocol.resume_reading` once the consumer has drained them. Both are
  idempotent and tolerate a missing or closing transport (and transports without flow
  control), because a stream may outlive its connection.

When the connection is lost every drain waiter fails with ``ConnectionResetError("Connection
lost")`` (chained to the transport's error, when there is one), and later drains fail the same
way at once. aiohttp lets a waiter return normally when the connection closes cleanly; we
raise in both cases, since a writer woken by a closed connection can write nothing more.

Subclasses (the client's response handler, the server's request handler, the websocket
connection) add ``data_received`` and whatever they parse; they may override
``pause_reading``/``resume_reading`` to stop and restart their parser too, and must call the
base implementation.
"""

from __future__ import annotations

import asyncio
from typing import cast

__all__ = ("BaseProtocol",)

# transport.pause_reading()/resume_reading() raise these when the transport has no flow
# control (a stub asyncio.Transport: NotImplementedError), when it is a duck-typed object
# without the methods (AttributeError), or when an SSL transport is being torn down
# (RuntimeError). There is nothing to pause then, so they are ignored.
_FLOW_CONTROL_ERRORS = (AttributeError, NotImplementedError, RuntimeError)


class BaseProtocol(asyncio.Protocol):
    """An :class:`asyncio.Protocol` with read and write flow control.

    Args:
        loop: the event loop the connection runs on (drain futures are created on it).

    Attributes:
        transport: the connection's transport, or ``None`` before ``connection_made`` and
            after ``connection_lost``.
    """

    __slots__ = ("_drain_waiters", "_loop", "_reading_paused", "_writing_paused", "transport")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._writing_paused = False
        self._reading_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self.transport: asyncio.Transport | None = None

    @property
    def connected(self) -> bool:
        """True between ``connection_made`` and ``connection_lost``."""
        return self.transport is not None

    @property
    def writing_paused(self) -> bool:
        """True while the transport's write buffer is above its high-water mark."""
        return self._writing_paused

    @property
    def reading_paused(self) -> bool:
        """True while reading is paused by :meth:`pause_reading`."""
        return self._reading_paused

    # -- asyncio write flow control callbacks ------------------------------------------

    def pause_writing(self) -> None:
        """Called by the transport when its write buffer passes the high-water mark."""
        self._writing_paused = True

    def resume_writing(self) -> None:
        """Called by the transport when its write buffer drains; wakes every drain waiter."""
        self._writing_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _drain_helper(self) -> None:
        """Wait until the transport accepts more data.

        Returns at once while writing is not paused.

        Raises:
            ConnectionResetError: the connection is lost, before or while waiting.
        """
        if self.transport is None:
            raise ConnectionResetError("Connection lost")
        if not self._writing_paused:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            # Already gone when resume_writing()/connection_lost() swapped the list out.
            if waiter in self._drain_waiters:
                self._drain_waiters.remove(waiter)

    # -- read flow control ----------------------------------------------------------------

    def pause_reading(self) -> None:
        """Stop reading from the transport (idempotent)."""
        if self._reading_paused:
            return
        self._reading_paused = True
        transport = self.transport
        if transport is not None:
            try:
                transport.pause_reading()
            except _FLOW_CONTROL_ERRORS:
                pass

    def resume_reading(self) -> None:
        """Start reading from the transport again (idempotent)."""
        if not self._reading_paused:
            return
        self._reading_paused = False
        transport = self.transport
        if transport is not None:
            try:
                transport.resume_reading()
            except _FLOW_CONTROL_ERRORS:
                pass

    # -- connection lifecycle ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Store the transport; a pause requested before the connection applies to it.

        asyncio already disables Nagle's algorithm (TCP_NODELAY) on its TCP socket
        transports, so nothing is set here.
        """
        self.transport = cast(asyncio.Transport, transport)
        if self._reading_paused:
            try:
                self.transport.pause_reading()
            except _FLOW_CONTROL_ERRORS:
                pass

    def connection_lost(self, exc: BaseException | None) -> None:
        """Forget the transport and fail every drain waiter.

        Args:
            exc: the transport's error, or ``None`` for a clean close (EOF or ``close()``).
        """
        self.transport = None
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if waiter.done():
                continue
            error = ConnectionResetError("Connection lost")
            if exc is not None:
                error.__cause__ = exc
            waiter.set_exception(error)
