"""An in-memory asyncio transport pair: two protocols connected without a socket.

:func:`memory_transport_pair` joins two :class:`asyncio.Protocol` objects (in aioloom: the
client's connection protocol and the server's) with two :class:`MemoryTransport` ends, so
that both real protocols run -- parsers, writers, flow control, keep-alive, closing --
with no socket, port or DNS involved. The ends behave as a TCP connection's do:

* Bytes written on one end reach the other end's ``data_received`` on a later loop
  iteration (never inside ``write``), in order, at most 256 KiB per call, coalesced as a
  socket would.
* Flow control both ways. A reader that calls ``pause_reading`` receives nothing more until
  ``resume_reading``; the bytes wait, and count in the writer's buffer, so the writer's
  protocol gets ``pause_writing`` above the high-water mark (64 KiB, as asyncio) and
  ``resume_writing`` once the reader took them below the low-water mark.
* ``write_eof`` reaches the peer as ``eof_received`` after the bytes written before it; a
  peer whose ``eof_received`` returns a false value is closed, as asyncio's socket
  transports do.
* ``close`` is a half-close of the writing side for the peer (it reads what was written,
  then EOF) and ends this end at once: its protocol gets ``connection_lost(None)`` on the
  next iteration. ``abort`` is a reset: the peer drops what it has not read yet and gets
  ``connection_lost(ConnectionResetError)``.
* ``get_extra_info`` answers from the ``extra`` mapping given (``peername``, ``sockname``,
  ``sslcontext``...); ``socket`` is None.

A transport garbage-collected while open warns with :class:`ResourceWarning`, like
asyncio's.
"""

from __future__ import annotations

import asyncio
import warnings
from collections import deque
from collections.abc import Mapping
from typing import Any, Final

__all__ = ("MemoryTransport", "memory_transport_pair")

# asyncio's socket transports read at most this much per data_received call.
_MAX_READ: Final = 256 * 1024
# asyncio's default write buffer limits (FlowControlMixin).
_DEFAULT_HIGH: Final = 64 * 1024


class MemoryTransport(asyncio.Transport):
    """One end of an in-memory connection (see the module docstring).

    Make them in pairs with :func:`memory_transport_pair`.

    Args:
        loop: the event loop deliveries are scheduled on.
        protocol: the protocol this end delivers to.
        extra: what :meth:`get_extra_info` answers.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: asyncio.BaseProtocol,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(dict(extra or {}))
        self._loop = loop
        self._protocol = protocol
        self._peer: MemoryTransport | None = None
        self._inbox: deque[bytes] = deque()
        self._inbox_size = 0
        self._eof_pending = False
        self._reset_pending = False
        self._delivery: asyncio.Handle | None = None
        self._reading_paused = False
        self._writing_paused = False  # this end told its protocol to pause writing
        self._eof_written = False
        self._closing = False
        self._lost = False
        self._high = _DEFAULT_HIGH
        self._low = _DEFAULT_HIGH // 4

    def __repr__(self) -> str:
        state = "closed" if self._lost else "closing" if self._closing else "open"
        return f"<MemoryTransport {state} peername={self.get_extra_info('peername')!r}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if not self._closing:
            _warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)

    # -- BaseTransport --------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """End this side: the peer reads what was written, then EOF; see the module doc."""
        if self._closing:
            return
        self._closing = True
        peer = self._peer
        if peer is not None and not self._eof_written:
            peer._receive_eof()
        self._loop.call_soon(self._lose, None)

    def abort(self) -> None:
        """Reset the connection: the peer loses its unread bytes and gets an error."""
        if self._lost:
            return
        self._closing = True
        peer = self._peer
        if peer is not None:
            peer._receive_reset()
        self._loop.call_soon(self._lose, None)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    # -- ReadTransport --------------------------------------------------------------------

    def is_reading(self) -> bool:
        return not self._reading_paused and not self._closing

    def pause_reading(self) -> None:
        if self._closing:
            return
        self._reading_paused = True

    def resume_reading(self) -> None:
        if self._closing or not self._reading_paused:
            return
        self._reading_paused = False
        self._schedule_delivery()

    # -- WriteTransport -------------------------------------------------------------------

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is None:
            high = _DEFAULT_HIGH if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._check_pause_writing()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def get_write_buffer_size(self) -> int:
        """The bytes written here that the peer's protocol has not received yet."""
        peer = self._peer
        return 0 if peer is None or peer._lost else peer._inbox_size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` to the peer (delivered on a later loop iteration).

        Raises:
            TypeError: ``data`` is not bytes-like.
            RuntimeError: :meth:`write_eof` was called.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data argument must be a bytes-like object, not {type(data)!r}")
        if self._eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data or self._closing:
            return  # a socket closed by us drops late writes too
        peer = self._peer
        if peer is None or peer._lost:
            return
        peer._receive(bytes(data))
        self._check_pause_writing()

    def write_eof(self) -> None:
        """Half-close: the peer gets ``eof_received`` after the bytes written so far."""
        if self._eof_written or self._closing:
            return
        self._eof_written = True
        peer = self._peer
        if peer is not None:
            peer._receive_eof()

    def can_write_eof(self) -> bool:
        return True

    # -- the receiving side ---------------------------------------------------------------

    def _receive(self, data: bytes) -> None:
        if self._closing:
            return  # we closed: the bytes are dropped, as a closed socket would
        self._inbox.append(data)
        self._inbox_size += len(data)
        self._schedule_delivery()

    def _receive_eof(self) -> None:
        if self._lost:
            return
        self._eof_pending = True
        self._schedule_delivery()

    def _receive_reset(self) -> None:
        if self._lost:
            return
        self._inbox.clear()
        self._inbox_size = 0
        self._reset_pending = True
        self._schedule_delivery()

    def _schedule_delivery(self) -> None:
        if self._delivery is None and not self._lost:
            self._delivery = self._loop.call_soon(self._deliver)

    def _deliver(self) -> None:
        """Hand the protocol the next chunk of input, then EOF or the reset when due."""
        self._delivery = None
        if self._lost:
            return
        if self._reset_pending:
            self._lose(ConnectionResetError("Connection reset by peer"))
            return
        if self._reading_paused or self._closing:
            return
        if self._inbox:
            self._deliver_data()
            if self._inbox or self._eof_pending:
                self._schedule_delivery()  # the rest on the next iteration, as a socket
            return
        if self._eof_pending:
            self._eof_pending = False
            self._deliver_eof()

    def _take(self) -> bytes:
        inbox = self._inbox
        if len(inbox) == 1 and len(inbox[0]) <= _MAX_READ:
            data = inbox.popleft()
        else:
            parts = []
            size = 0
            while inbox and size < _MAX_READ:
                part = inbox.popleft()
                if size + len(part) > _MAX_READ:
                    cut = _MAX_READ - size
                    inbox.appendleft(part[cut:])
                    part = part[:cut]
                parts.append(part)
                size += len(part)
            data = b"".join(parts)
        self._inbox_size -= len(data)
        return data

    def _deliver_data(self) -> None:
        data = self._take()
        peer = self._peer
        if peer is not None:
            peer._check_resume_writing()
        protocol = self._protocol
        assert isinstance(protocol, asyncio.Protocol)
        try:
            protocol.data_received(data)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")

    def _deliver_eof(self) -> None:
        protocol = self._protocol
        assert isinstance(protocol, asyncio.Protocol)
        try:
            keep_open = protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if not keep_open:
            self.close()

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        self._loop.call_exception_handler(
            {"message": message, "exception": exc, "transport": self, "protocol": self._protocol}
        )
        self.abort()

    # -- writer flow control ---------------------------------------------------------------

    def _check_pause_writing(self) -> None:
        if self._writing_paused or self.get_write_buffer_size() <= self._high:
            return
        self._writing_paused = True
        self._call_protocol("pause_writing")

    def _check_resume_writing(self) -> None:
        if not self._writing_paused or self.get_write_buffer_size() > self._low:
            return
        self._writing_paused = False
        self._call_protocol("resume_writing")

    def _call_protocol(self, method: str) -> None:
        try:
            getattr(self._protocol, method)()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler(
                {
                    "message": f"protocol.{method}() failed",
                    "exception": exc,
                    "transport": self,
                    "protocol": self._protocol,
                }
            )

    # -- the end ---------------------------------------------------------------------------

    def _lose(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._inbox.clear()
        self._inbox_size = 0
        if self._delivery is not None:
            self._delivery.cancel()
            self._delivery = None
        peer = self._peer
        if peer is not None:
            peer._check_resume_writing()
        self._protocol.connection_lost(exc)


def memory_transport_pair(
    loop: asyncio.AbstractEventLoop,
    first: asyncio.Protocol,
    second: asyncio.Protocol,
    *,
    first_extra: Mapping[str, Any] | None = None,
    second_extra: Mapping[str, Any] | None = None,
) -> tuple[MemoryTransport, MemoryTransport]:
    """Connect two protocols in memory and call their ``connection_made``.

    ``second`` is connected first (the accepting side), then ``first``.

    Args:
        loop: the event loop.
        first: the connecting side's protocol (a client's).
        second: the accepting side's protocol (a server's).
        first_extra: ``get_extra_info`` values of ``first``'s transport.
        second_extra: ``get_extra_info`` values of ``second``'s transport.

    Returns:
        ``(first's transport, second's transport)``.
    """
    one = MemoryTransport(loop, first, first_extra)
    two = MemoryTransport(loop, second, second_extra)
    one._peer = two
    two._peer = one
    second.connection_made(two)
    first.connection_made(one)
    return one, two
