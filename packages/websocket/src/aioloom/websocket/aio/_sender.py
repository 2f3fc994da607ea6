"""Writing one WebSocket connection's frames: :class:`FrameSender`.

The hot path is synchronous: a message becomes one frame and one ``transport.write``, and
the caller is asked to ``await drain()`` only when more than ``writer_limit`` bytes went out
since the last look and the transport's buffer is above its high-water mark.

Large compressed messages: a message of more than ``offload_size`` bytes (16 KiB, aiohttp's
``WEBSOCKET_MAX_SYNC_CHUNK_SIZE``) that permessage-deflate compresses is compressed in the
loop's default executor, so that the event loop keeps serving other connections meanwhile
(zlib releases the GIL; level 1 takes about 1 ms per 64 KiB, so a 4 MiB message would hold
the loop for tens of milliseconds). While that compression runs, the compressor is in use
and the frame not yet written, so every data message sent behind it waits in a backlog and
is encoded in order once it is done (RFC 7692 §7.2.1: a context-takeover stream must be
compressed in the order it is sent). Control frames are not held back (RFC 6455 §5.4 lets
them go between messages), except the Close frame, which must be the last frame sent
(§5.5.1). A message accepted into the backlog is written even if the task that sent it is
cancelled: the compressor has already advanced, so dropping its frame would corrupt the
stream (aiohttp shields the same section).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Final, TypeAlias

from aioloom.http.aio._protocol import BaseProtocol
from aioloom.websocket._protocol import WebSocketProtocol

__all__ = ("COMPRESS_OFFLOAD_SIZE", "FrameSender")

# aiohttp's WEBSOCKET_MAX_SYNC_CHUNK_SIZE: larger compressed messages go to the executor.
COMPRESS_OFFLOAD_SIZE: Final[int] = 16 * 1024

_CLOSING_TRANSPORT: Final = "Cannot write to closing transport"

Payload: TypeAlias = "bytes | bytearray | memoryview"
# A backlog entry: a data message (payload, opcode, compress) or a frame ready to write.
_Entry: TypeAlias = "tuple[Payload, int, int | None] | bytes"


class FrameSender:
    """The write side of a connection (see the module docstring).

    Args:
        codec: encodes the frames.
        protocol: the connection's protocol; its ``transport`` is written to and its
            drain waiter used.
        loop: the event loop (its default executor compresses large messages).
        writer_limit: bytes written between two looks at the transport's buffer.
        reset_error: builds the exception raised by a write on a closing transport.
        offload_size: compressed messages larger than this go to the executor.
    """

    __slots__ = (
        "_backlog",
        "_codec",
        "_error",
        "_flushed",
        "_limit",
        "_loop",
        "_offload_size",
        "_pending",
        "_protocol",
        "_reset_error",
    )

    def __init__(
        self,
        codec: WebSocketProtocol,
        protocol: BaseProtocol,
        loop: asyncio.AbstractEventLoop,
        *,
        writer_limit: int,
        reset_error: Callable[[str], ConnectionResetError],
        offload_size: int = COMPRESS_OFFLOAD_SIZE,
    ) -> None:
        self._codec = codec
        self._protocol = protocol
        self._loop = loop
        self._limit = writer_limit
        self._reset_error = reset_error
        self._offload_size = offload_size
        self._pending = 0  # bytes written since the last look at the transport's buffer
        # Not None while a compression runs in the executor: what waits behind it.
        self._backlog: deque[_Entry] | None = None
        self._flushed: asyncio.Future[None] | None = None  # set once the backlog is empty
        self._error: BaseException | None = None  # why a message of the backlog failed

    @property
    def busy(self) -> bool:
        """True while a large message is being compressed in the executor."""
        return self._backlog is not None

    def send(self, data: Payload, opcode: int, compress: int | None = None) -> bool:
        """Send one message (TEXT data already UTF-8 encoded).

        Returns:
            True when the caller should ``await drain()``: the transport is full, or the
            message waits for a compression in the executor.

        Raises:
            ConnectionResetError: (``reset_error``) the codec refuses the message (a Close
                frame was sent or received) or the transport is closing.
            ValueError: another opcode or an oversized control payload.
        """
        try:
            codec = self._codec
            backlog = self._backlog
            if (backlog is None and len(data) <= self._offload_size) or opcode > 0x7:
                frame = codec.send_frame(data, opcode, compress=compress)
                # write(), inlined: this is the per-message path.
                transport = self._protocol.transport
                if transport is None or transport.is_closing():
                    raise self._reset_error(_CLOSING_TRANSPORT)
                transport.write(frame)
                pending = self._pending + len(frame)
                if pending < self._limit:
                    self._pending = pending
                    return False
                self._pending = 0
                return self._protocol.writing_paused
            codec.check_message(opcode)
            if backlog is not None:
                backlog.append((data, opcode, compress))
                return True
            if codec.will_compress(opcode, compress) and self._offload(data, opcode):
                return True
            return self.write(codec.encode_message(data, opcode, compress=compress))
        except ConnectionResetError as exc:
            if type(exc) is ConnectionResetError:
                raise self._reset_error(_CLOSING_TRANSPORT) from None
            raise  # already the reset error

    def write(self, frame: bytes) -> bool:
        """Write one frame now; return True when the caller should ``await drain()``.

        Raises:
            ConnectionResetError: (``reset_error``) the transport is closing or gone.
        """
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise self._reset_error(_CLOSING_TRANSPORT)
        transport.write(frame)
        pending = self._pending + len(frame)
        if pending < self._limit:
            self._pending = pending
            return False
        self._pending = 0
        return self._protocol.writing_paused

    def write_last(self, frame: bytes) -> bool:
        """Write a Close frame after every message accepted so far (RFC 6455 §5.5.1)."""
        backlog = self._backlog
        if backlog is None:
            return self.write(frame)
        backlog.append(frame)
        return True

    async def drain(self) -> None:
        """Wait until every accepted message is written and the transport takes more.

        Raises:
            ConnectionResetError: (``reset_error``) the connection was lost.
            Exception: what failed a message of the backlog (its write or compression).
        """
        flushed = self._flushed
        if flushed is not None:
            # Shielded: a cancelled drain must not cancel what other senders wait for.
            await asyncio.shield(flushed)
        error = self._error
        if error is not None:
            raise error
        try:
            await self._protocol._drain_helper()
        except ConnectionResetError as exc:
            raise self._reset_error(str(exc)) from exc

    # -- the executor path -------------------------------------------------------------------

    def _offload(self, data: Payload, opcode: int) -> bool:
        """Start compressing ``data`` in the executor; False when the executor is gone."""
        try:
            future = self._loop.run_in_executor(None, self._codec.compress_payload, data)
        except RuntimeError:
            return False  # the executor was shut down: compress inline
        if self._backlog is None:
            self._backlog = deque()
        if self._flushed is None:
            self._flushed = self._loop.create_future()
        future.add_done_callback(partial(self._compressed, opcode))
        return True

    def _compressed(self, opcode: int, future: asyncio.Future[bytes]) -> None:
        try:
            self.write(self._codec.encode_compressed(future.result(), opcode))
        except (Exception, asyncio.CancelledError) as exc:
            self._error = exc
        self._resume()

    def _resume(self) -> None:
        """Write what waited behind a compression, up to the next large one."""
        backlog = self._backlog
        assert backlog is not None
        while backlog:
            entry = backlog.popleft()
            try:
                if isinstance(entry, bytes):
                    self.write(entry)
                    continue
                data, opcode, compress = entry
                codec = self._codec
                if (
                    len(data) > self._offload_size
                    and codec.will_compress(opcode, compress)
                    and self._offload(data, opcode)
                ):
                    return
                self.write(codec.encode_message(data, opcode, compress=compress))
            except Exception as exc:
                self._error = exc
        self._backlog = None
        flushed, self._flushed = self._flushed, None
        if flushed is not None and not flushed.done():
            flushed.set_result(None)
