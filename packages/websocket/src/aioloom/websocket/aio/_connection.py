"""One WebSocket connection over an asyncio transport: :class:`WebSocketConnection`.

This is the asyncio glue that ``aioloom.web.WebSocketResponse`` and
``aioloom.client.ClientWebSocketResponse`` share; both are thin wrappers around it. It
drives the sans-I/O :class:`~aioloom.websocket.WebSocketProtocol`:

* receiving: it is the *parser* the HTTP protocol hands the connection to after the
  upgrade (``feed_data(data) -> (eof, tail)`` and ``feed_eof()``, the server's
  ``RequestHandler.set_parser`` seam and :class:`~.UpgradedProtocol`'s). Data messages go
  to a :class:`~._queue.MessageQueue` (read back-pressure); pings are answered at once when
  ``autoping`` is on (RFC 6455 §5.5.2), pongs feed the heartbeat;
* sending (:class:`~._sender.FrameSender`): each message becomes one frame and one
  ``transport.write``; once more than ``writer_limit`` bytes went out since the last check,
  the sender waits while the transport's buffer is above its high-water mark
  (``BaseProtocol`` drain); large compressed messages are compressed in the executor;
* ``receive()`` and ``close()`` follow aiohttp 3.14, including ``autoclose``, the
  ``CLOSING``/``CLOSED`` markers, the concurrent-``receive()`` ``RuntimeError`` and closing
  from another task while one waits in ``receive()``;
* the closing handshake (RFC 6455 §7.1.2-§7.1.4): ``close()`` sends a Close frame, waits up
  to ``close_timeout`` for the peer's, then closes the transport. A protocol violation by
  the peer fails the connection (RFC 6455 §7.1.7): the Close frame carries the violation's
  code (1002, 1007, 1009) and the transport closes without waiting.

Side-specific details come in as arguments: how to close the transport (the server closes
it, the client closes its pooled connection), which exception a dead heartbeat and a write
after close raise (aiohttp uses the client's own exception classes on the client side),
and the role, which picks aiohttp's small behavioural differences between the two ends
(noted where they apply).

Close codes: ``close_code`` is the peer's code after a closing handshake (1005 when its
Close frame carried none, RFC 6455 §7.1.5), the violation's code after a protocol error,
and 1006 (ABNORMAL_CLOSURE) when the transport ended without one, a write failed, the
heartbeat went unanswered or the peer's Close frame did not come in time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Final

from aioloom.http.aio._protocol import BaseProtocol
from aioloom.websocket._deflate import DeflateParams
from aioloom.websocket._models import (
    DEFAULT_MAX_MSG_SIZE,
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMessageTypeError,
    WSMsgType,
)
from aioloom.websocket._protocol import Role, WebSocketProtocol, WSState

from ._heartbeat import Heartbeat
from ._queue import DEFAULT_READER_LIMIT, MessageQueue
from ._sender import COMPRESS_OFFLOAD_SIZE, FrameSender

__all__ = ("DEFAULT_WRITER_LIMIT", "THRESHOLD_CONNLOST_ACCESS", "WebSocketConnection")

# aiohttp's writer limit: after 64 KiB written the sender checks the transport's buffer.
DEFAULT_WRITER_LIMIT: Final[int] = 2**16
# aiohttp (server side): receive() on a closed connection returns CLOSED this many times
# minus one, then raises, so that a handler looping on receive() cannot spin for ever.
THRESHOLD_CONNLOST_ACCESS: Final[int] = 5

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
_CLOSE: Final = WSMsgType.CLOSE
_CLOSING: Final = WSMsgType.CLOSING
_CLOSED: Final = WSMsgType.CLOSED
_ERROR: Final = WSMsgType.ERROR
_ABNORMAL: Final = WSCloseCode.ABNORMAL_CLOSURE
_CLOSING_TRANSPORT: Final = "Cannot write to closing transport"
_TAKEN_ALL: Final = (False, b"")  # feed_data's answer: every byte taken, no end

JSONDecoder = Callable[[str], Any]


class WebSocketConnection:
    """A WebSocket connection's asyncio side (see the module docstring).

    Args:
        role: the end this is; a client masks its frames (RFC 6455 §5.3).
        protocol: the connection's protocol: its ``transport`` is written to, its drain and
            read flow control are used.
        loop: the event loop.
        close_transport: closes the connection (idempotent).
        max_msg_size: bound on a received message (0: none); larger ones fail with 1009.
        compress: the negotiated permessage-deflate parameters, or None.
        decode_text: deliver TEXT messages as ``str`` (else as UTF-8 ``bytes``).
        close_timeout: seconds ``close()`` waits for the peer's Close frame (None: for ever).
        receive_timeout: default timeout of ``receive()`` (None: none).
        autoclose: answer the peer's Close frame inside ``receive()``.
        autoping: answer pings and swallow pongs instead of delivering them.
        heartbeat: send a Ping after this many seconds of silence (None: never).
        writer_limit: bytes written between two checks of the transport's buffer.
        reader_limit: bytes of unread messages that pause reading.
        timeout_error: builds the exception a dead heartbeat leaves in :attr:`exception`.
        reset_error: builds the exception raised by a send on a closing connection.
        offload_size: compressed messages larger than this are compressed in the loop's
            default executor (see :mod:`._sender`).

    Attributes:
        send: ``send(data, opcode, compress)`` writes one message of type ``opcode`` (TEXT,
            BINARY, PING or PONG; TEXT data already UTF-8 encoded; ``compress=0`` sends it
            uncompressed) and returns True when the caller should ``await drain()`` before
            writing more. It raises ``reset_error`` (a ``ConnectionResetError``) when the
            connection is closing or closed, ValueError for another opcode or an oversized
            control payload. It is the sender's own method, bound once: the wrappers'
            ``send_str``/``send_bytes`` call it for every message.
    """

    __slots__ = (
        "_autoclose",
        "_autoping",
        "_client",
        "_close_code",
        "_close_done",
        "_close_timeout",
        "_close_transport",
        "_close_wait",
        "_closed",
        "_closing",
        "_codec",
        "_conn_lost",
        "_exception",
        "_heartbeat",
        "_loop",
        "_protocol",
        "_queue",
        "_receive_timeout",
        "_reset_error",
        "_sender",
        "_timeout_error",
        "_waiting",
        "send",
    )

    def __init__(
        self,
        role: Role,
        protocol: BaseProtocol,
        *,
        loop: asyncio.AbstractEventLoop,
        close_transport: Callable[[], None],
        max_msg_size: int = DEFAULT_MAX_MSG_SIZE,
        compress: DeflateParams | None = None,
        decode_text: bool = True,
        close_timeout: float | None = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        writer_limit: int = DEFAULT_WRITER_LIMIT,
        reader_limit: int = DEFAULT_READER_LIMIT,
        timeout_error: Callable[[str], BaseException] = asyncio.TimeoutError,
        reset_error: Callable[[str], ConnectionResetError] = ConnectionResetError,
        offload_size: int = COMPRESS_OFFLOAD_SIZE,
    ) -> None:
        self._codec = WebSocketProtocol(
            role, max_msg_size=max_msg_size, compress=compress, decode_text=decode_text
        )
        self._client = role is Role.CLIENT
        self._protocol = protocol
        self._loop = loop
        self._close_transport = close_transport
        self._queue = MessageQueue(protocol, loop, limit=reader_limit)
        self._close_timeout = close_timeout
        self._receive_timeout = receive_timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._timeout_error = timeout_error
        self._reset_error = reset_error
        self._sender = FrameSender(
            self._codec,
            protocol,
            loop,
            writer_limit=writer_limit,
            reset_error=reset_error,
            offload_size=offload_size,
        )
        # The per-message send path, without a call of its own (see the class docstring).
        self.send = self._sender.send
        self._closed = False  # close() started, or the connection was dropped
        self._closing = False  # the peer's Close arrived, or close() woke receive()
        self._waiting = False  # a receive() waits for a message
        self._close_wait: asyncio.Future[None] | None = None
        self._close_done: asyncio.Future[None] | None = None
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._conn_lost = 0
        self._heartbeat: Heartbeat | None = None
        if heartbeat is not None:
            self._heartbeat = Heartbeat(loop, heartbeat, self._ping_heartbeat, self._pong_missed)
            self._heartbeat.touch()

    # -- state ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once ``close()`` started or the connection was dropped."""
        return self._closed

    @property
    def closing(self) -> bool:
        """True once the peer's Close frame was received (or ``close()`` woke ``receive()``)."""
        return self._closing

    @property
    def close_code(self) -> int | None:
        """The close code (see the module docstring), None while open."""
        return self._close_code

    @property
    def exception(self) -> BaseException | None:
        """What broke the connection: a protocol violation, a write error, a timeout."""
        return self._exception

    @property
    def compress(self) -> bool:
        """Whether permessage-deflate is in use."""
        return self._codec.compress

    # -- the parser seam: the transport's protocol feeds us ---------------------------------

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        """Process bytes from the peer.

        Returns:
            ``(False, b"")``: the connection takes every byte and never hands any back.
        """
        heartbeat = self._heartbeat
        if heartbeat is not None:
            heartbeat.touch()
        codec = self._codec
        message = codec.receive_message(data)
        if message is not None:  # the common case: one whole data message
            mtype = message.type
            if mtype is _TEXT or mtype is _BINARY:
                self._queue.put(message, len(message.data))
            else:
                self._control_received(message)  # an ERROR message
            return _TAKEN_ALL
        messages = codec.receive_data(data)
        if messages:
            put = self._queue.put
            for message in messages:
                mtype = message.type
                if mtype is _TEXT or mtype is _BINARY:
                    put(message, len(message.data))
                else:
                    self._control_received(message)
        return _TAKEN_ALL

    def feed_eof(self) -> None:
        """The transport ended (EOF or connection lost); idempotent."""
        if self._queue.is_eof():
            return
        self._cancel_heartbeat()
        self._codec.receive_eof()
        self._queue.feed_eof()

    def _control_received(self, message: WSMessage) -> None:
        mtype = message.type
        if self._autoping:
            if mtype is _PING:
                self._answer_ping(message.data)
                return
            if mtype is _PONG:
                return  # the heartbeat already counted it
        self._queue.put(message)

    def _answer_ping(self, data: bytes) -> None:
        # RFC 6455 §5.5.3: answer with the Ping's data, as soon as practical.
        try:
            frame = self._codec.pong(data)
        except ConnectionResetError:
            return  # the peer's Close arrived or the connection failed: nothing to answer
        transport = self._protocol.transport
        if transport is not None and not transport.is_closing():
            transport.write(frame)

    # -- sending ------------------------------------------------------------------------------

    def _write(self, frame: bytes) -> bool:
        return self._sender.write(frame)

    async def drain(self) -> None:
        """Wait until every message sent is written and the transport takes more.

        Raises:
            ConnectionResetError: (``reset_error``) the connection was lost.
        """
        await self._sender.drain()

    async def send_frame(
        self, data: bytes | bytearray | memoryview, opcode: int, compress: int | None = None
    ) -> None:
        """Send one message and wait for the transport when its buffer is full.

        The wrappers' ``send_str``/``send_bytes``/``send_json`` call :attr:`send` and
        :meth:`drain` themselves: one coroutine per message on the hot path.
        """
        if self.send(data, opcode, compress):
            await self.drain()

    async def ping(self, message: bytes | str = b"") -> None:
        """Send a Ping frame (RFC 6455 §5.5.2).

        Raises:
            ConnectionResetError: (``reset_error``) the connection is closing or closed.
            ValueError: the payload is over 125 bytes.
        """
        try:
            frame = self._codec.ping(message)
        except ConnectionResetError:
            raise self._reset_error(_CLOSING_TRANSPORT) from None
        if self._write(frame):
            await self.drain()

    async def pong(self, message: bytes | str = b"") -> None:
        """Send an unsolicited Pong frame (RFC 6455 §5.5.3); see :meth:`ping`."""
        try:
            frame = self._codec.pong(message)
        except ConnectionResetError:
            raise self._reset_error(_CLOSING_TRANSPORT) from None
        if self._write(frame):
            await self.drain()

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """Return the next message (aiohttp's ``receive()``).

        TEXT and BINARY messages come as they are; PING and PONG only with ``autoping``
        off. The peer's CLOSE message is returned after it was answered (``autoclose``).
        Once closing, CLOSING (server) or CLOSED (client) is returned; once closed, CLOSED.
        A protocol violation by the peer gives an ERROR message whose data is the
        :class:`WebSocketError`, after the connection was failed with its code.

        Args:
            timeout: seconds to wait; falls back to ``receive_timeout`` when None or 0.

        Raises:
            RuntimeError: another coroutine is already in ``receive()``; or (server side)
                the connection was closed and ``receive()`` was called too many times.
            asyncio.TimeoutError: no message within the timeout.
        """
        if self._waiting:
            raise RuntimeError("Concurrent call to receive() is not allowed")
        if self._closed:
            return self._closed_message()
        if self._closing:
            if self._client:  # aiohttp's client finishes the close itself
                await self.close()
                return WS_CLOSED_MESSAGE
            return WS_CLOSING_MESSAGE
        # MessageQueue.get, folded in: await the queue's future itself (see _queue).
        queue = self._queue
        receive_timeout = timeout or self._receive_timeout
        waiter = queue.wait(receive_timeout)
        self._waiting = True
        try:
            message = await waiter
            if message is None:  # the queue ended or buffered while we waited
                message = await queue.get(receive_timeout)
        except BaseException as exc:
            queue.abandon(waiter)  # a message handed to a cancelled waiter goes back
            if self._client and isinstance(exc, (asyncio.CancelledError, asyncio.TimeoutError)):
                self._close_code = _ABNORMAL  # as aiohttp's client reports it
            raise
        finally:
            self._waiting = False
            if self._close_wait is not None:
                self._receive_returned()
        mtype = message.type
        if mtype is _TEXT or mtype is _BINARY or mtype is _PING or mtype is _PONG:
            return message
        return await self._state_message(message)

    def _receive_returned(self) -> None:
        """Tell a ``close()`` waiting in ``_stop_receiving`` that ``receive()`` returned."""
        waiter, self._close_wait = self._close_wait, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _closed_message(self) -> WSMessage:
        if not self._client:
            self._conn_lost += 1
            if self._conn_lost >= THRESHOLD_CONNLOST_ACCESS:
                raise RuntimeError("WebSocket connection is closed.")
        return WS_CLOSED_MESSAGE

    async def _state_message(self, message: WSMessage) -> WSMessage:
        """Act on a CLOSE, CLOSING, CLOSED or ERROR message, then return it."""
        mtype = message.type
        if mtype is _CLOSE:
            self._closing = True
            self._close_code = self._codec.close_code
            self._cancel_heartbeat()
            if self._autoclose and not self._closed:
                # The peer is likely to drop the connection: do not wait for the buffer.
                await self.close(drain=False)
        elif mtype is _CLOSING:
            self._closing = True
        elif mtype is _CLOSED:
            # RFC 6455 §7.1.5: the transport ended without a closing handshake.
            self._set_closed()
            self._close_code = self._codec.close_code
            self._close_transport()
        elif isinstance(message.data, WebSocketError):
            # RFC 6455 §7.1.7: fail the connection, telling the peer why.
            error: WebSocketError = message.data
            self._exception = error
            self._close_code = error.code
            await self.close(code=error.code)
        return message

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """Receive a TEXT message's data.

        Raises:
            WSMessageTypeError: the next message is of another type.
        """
        message = await self.receive(timeout)
        if message.type is not _TEXT:
            raise WSMessageTypeError(
                f"Received message {message.type}:{message.data!r} is not WSMsgType.TEXT"
            )
        data: str = message.data
        return data

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """Receive a BINARY message's data.

        Raises:
            WSMessageTypeError: the next message is of another type.
        """
        message = await self.receive(timeout)
        if message.type is not _BINARY:
            raise WSMessageTypeError(
                f"Received message {message.type}:{message.data!r} is not WSMsgType.BINARY"
            )
        data: bytes = message.data
        return data

    async def receive_json(
        self, *, loads: JSONDecoder = json.loads, timeout: float | None = None
    ) -> Any:
        """Receive a TEXT message and decode it with ``loads``."""
        return loads(await self.receive_str(timeout=timeout))

    # -- closing ------------------------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Run the closing handshake (RFC 6455 §7.1.2) and close the transport.

        Sends a Close frame, wakes a ``receive()`` waiting in another task (it returns
        CLOSING), waits up to ``close_timeout`` for the peer's Close frame unless it came
        already, and closes the transport. After a protocol violation by the peer the
        Close frame carries the violation's code whatever ``code`` says (RFC 6455 §7.1.7).

        Args:
            code: the close code to send.
            message: the reason (at most 123 bytes of UTF-8).
            drain: wait for the transport to take the Close frame.

        Returns:
            True when this call closed the connection; False when it was closed already
            (after waiting for a close in progress in another task to finish).

        Raises:
            ValueError: the code may not be sent or the reason is invalid (nothing was
                sent; the connection is unchanged).
        """
        if self._closed:
            done = self._close_done
            if done is not None and not done.done():
                await asyncio.shield(done)
            return False
        failure = self._codec.exception
        if isinstance(failure, WebSocketError):
            # RFC 6455 §7.1.7: a failed connection's Close frame names the violation.
            code, message = failure.code, b""
        frame = self._codec.close(code, message)
        self._set_closed()
        done = self._close_done = self._loop.create_future()
        try:
            await self._closing_handshake(frame, drain)
        finally:
            if not done.done():
                done.set_result(None)
        return True

    async def _closing_handshake(self, frame: bytes, drain: bool) -> None:
        try:
            if frame:
                sender = self._sender
                sender.write_last(frame)
                if drain and (sender.busy or self._protocol.writing_paused):
                    await sender.drain()
            await self._stop_receiving()
        except asyncio.CancelledError:
            self._abort()
            raise
        except Exception as exc:  # the write or the drain failed: the connection is gone
            self._exception = exc
            self._abort()
            return
        codec = self._codec
        if codec.state is WSState.CLOSED or codec.exception is not None:
            # The peer's Close frame came first, the transport ended, or the connection
            # failed (RFC 6455 §7.1.7): nothing more to wait for.
            self._close_code = codec.close_code
            if self._exception is None:
                self._exception = codec.exception  # a violation receive() never reported
            self._close_transport()
            return
        await self._await_peer_close()

    async def _stop_receiving(self) -> None:
        """Wake a ``receive()`` waiting in another task; wait until it returned."""
        if self._waiting and not self._closing:
            waiter = self._close_wait = self._loop.create_future()
            self._queue.put(WS_CLOSING_MESSAGE)
            await waiter

    async def _await_peer_close(self) -> None:
        # RFC 6455 §7.1.1-§7.1.3: after our Close, read until the peer's (its data is
        # dropped, §1.4), then close the TCP connection.
        loop = self._loop
        timeout = self._close_timeout
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                remaining = None
                if deadline is not None:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise asyncio.TimeoutError()
                message = await self._queue.get(remaining)
                mtype = message.type
                if mtype is _CLOSE or mtype is _CLOSED:
                    break
                if mtype is _ERROR:
                    self._exception = message.data
                    break
        except asyncio.CancelledError:
            self._abort()
            raise
        except asyncio.TimeoutError as exc:
            self._exception = exc
            self._abort()
            return
        self._close_code = self._codec.close_code
        self._close_transport()

    def _abort(self) -> None:
        self._close_code = _ABNORMAL
        self._close_transport()

    def _set_closed(self) -> None:
        self._closed = True
        self._cancel_heartbeat()

    # -- heartbeat ----------------------------------------------------------------------------

    def _cancel_heartbeat(self) -> None:
        heartbeat = self._heartbeat
        if heartbeat is not None:
            self._heartbeat = None
            heartbeat.cancel()

    def _ping_heartbeat(self) -> None:
        if self._closed or self._closing:
            return
        try:
            self._write(self._codec.ping())
        except ConnectionResetError as exc:
            self._heartbeat_failed(exc)

    def _pong_missed(self) -> None:
        heartbeat = self._heartbeat
        wait = heartbeat.pong_timeout if heartbeat is not None else 0.0
        self._heartbeat_failed(self._timeout_error(f"No PONG received after {wait} seconds"))

    def _heartbeat_failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._set_closed()
        self._close_code = _ABNORMAL
        self._exception = exc
        self._close_transport()
        if self._waiting and not self._closing:
            self._queue.put(WSMessage(_ERROR, exc, None))
