"""The sans-I/O WebSocket connection (RFC 6455 §5-§7) once the opening handshake is done.

:class:`WebSocketProtocol` turns received bytes into :class:`WSMessage` values and the messages
to send into bytes; it never touches a socket. The asyncio glue of the server and the client
feeds it, writes what the send methods return, and decides what to answer, as aiohttp's
``autoping`` and ``autoclose`` do:

* a PING message is answered with :meth:`~WebSocketProtocol.pong` (RFC 6455 §5.5.2);
* a CLOSE message is answered once with :meth:`~WebSocketProtocol.close` (RFC 6455 §5.5.1);
  a second call returns ``b""``;
* an ERROR message (``data`` is the :class:`WebSocketError`) means the connection failed
  (RFC 6455 §7.1.7): send ``close(protocol.close_code)`` and close the transport.

After a failure, or once the peer's Close frame has arrived, received bytes are ignored.
"""

from __future__ import annotations

import zlib
from enum import Enum
from typing import Final

from ._close import NO_STATUS_CODE, build_close_payload
from ._deflate import DeflateParams, PerMessageDeflate
from ._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    encode_frame,
    serialize_frame,
)
from ._messages import MessageAssembler
from ._models import (
    DEFAULT_MAX_MSG_SIZE,
    WS_CLOSED_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from ._utf8 import decode_utf8

__all__ = ("Role", "WSState", "WebSocketProtocol")

_CLOSE: Final = WSMsgType.CLOSE
_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
# First header byte of a final, uncompressed text or binary frame (RFC 6455 §5.2).
_FIN_TEXT: Final = 0x80 | OP_TEXT
_FIN_BINARY: Final = 0x80 | OP_BINARY
_RSV1: Final = 0x40
# Builds the named tuple without its Python-level __new__: the per-message path.
_new_tuple: Final = tuple.__new__
# First header byte of a final data frame, plain or compressed (RFC 6455 §5.2, RFC 7692 §6).
_FIN: Final = 0x80
_FIN_RSV1: Final = 0xC0
_CLOSING_TRANSPORT: Final = "Cannot write to closing transport"


class Role(Enum):
    """Which end of the connection a :class:`WebSocketProtocol` is."""

    CLIENT = "client"
    SERVER = "server"


class WSState(Enum):
    """Where the closing handshake stands (RFC 6455 §7)."""

    OPEN = "open"  # no Close frame sent or received, no failure
    CLOSING = "closing"  # one Close frame sent or received, or the connection failed
    CLOSED = "closed"  # both Close frames exchanged, or the transport is gone


class WebSocketProtocol:
    """A WebSocket connection's codec and closing handshake, without I/O.

    Args:
        role: the end this object plays; a client masks what it sends and receives only
            unmasked frames, a server the opposite (RFC 6455 §5.1).
        max_msg_size: bound on a received message's size (after inflation); 0 disables it.
        compress: the permessage-deflate parameters agreed in the handshake, or None.
        compress_level: the zlib level used to compress sent messages.
        decode_text: deliver TEXT data as ``str`` (True) or as validated UTF-8 ``bytes``.
    """

    __slots__ = (
        "_assembler",
        "_close_code",
        "_close_received",
        "_close_sent",
        "_decode_text",
        "_deflate",
        "_eof",
        "_exception",
        "_mask",
        "_max_msg_size",
        "_open",
        "_reader",
        "_reading",
    )

    def __init__(
        self,
        role: Role,
        *,
        max_msg_size: int = DEFAULT_MAX_MSG_SIZE,
        compress: DeflateParams | None = None,
        compress_level: int = zlib.Z_BEST_SPEED,
        decode_text: bool = True,
    ) -> None:
        is_client = role is Role.CLIENT
        self._mask = is_client
        self._deflate = (
            None
            if compress is None
            else PerMessageDeflate(compress, is_client=is_client, level=compress_level)
        )
        self._reader = FrameReader(
            is_client=is_client, rsv1_allowed=compress is not None, max_msg_size=max_msg_size
        )
        self._assembler = MessageAssembler(
            max_msg_size=max_msg_size, deflate=self._deflate, decode_text=decode_text
        )
        self._decode_text = decode_text
        self._max_msg_size = max_msg_size
        self._close_sent = False
        self._close_received = False
        self._eof = False
        # The hot paths test one flag each: no Close frame sent or received, no failure and
        # no end of input (data may be sent); no Close frame received, no failure and no end
        # of input (input is processed, control frames may be sent).
        self._open = True
        self._reading = True
        self._close_code: int | None = None
        self._exception: BaseException | None = None

    # -- state ---------------------------------------------------------------------------

    @property
    def state(self) -> WSState:
        """Where the closing handshake stands."""
        if self._eof or (self._close_sent and self._close_received):
            return WSState.CLOSED
        if self._close_sent or self._close_received or self._exception is not None:
            return WSState.CLOSING
        return WSState.OPEN

    @property
    def close_code(self) -> int | None:
        """The connection's close code, or None while it is open.

        The peer's code once its Close frame arrived (1005 when it carried none, RFC 6455
        §7.1.5), the code to send after a protocol error (1002, 1007 or 1009), or 1006 when
        the transport ended without a Close frame (§7.1.5).
        """
        return self._close_code

    @property
    def exception(self) -> BaseException | None:
        """The protocol error that failed the connection, if any."""
        return self._exception

    @property
    def buffered(self) -> int:
        """Received bytes held for an incomplete frame or message.

        The bytes of an incomplete frame plus the (inflated) fragments of an incomplete
        message; with ``max_msg_size`` set, each part stays within it, give or take a frame
        header and the unparsed end of the last chunk received.
        """
        return self._reader.buffered + self._assembler.buffered

    @property
    def compress(self) -> bool:
        """Whether permessage-deflate is in use."""
        return self._deflate is not None

    # -- receiving -----------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[WSMessage]:
        """Process received bytes.

        Args:
            data: the next bytes from the transport, split anywhere.

        Returns:
            The messages they complete, in order: TEXT, BINARY, PING, PONG and CLOSE
            messages as aiohttp delivers them, and last, if the bytes break the protocol, an
            ERROR message whose data is the :class:`WebSocketError`.
        """
        if not self._reading:
            return []
        message = self.receive_message(data)
        if message is not None:
            return [message]
        messages: list[WSMessage] = []
        try:
            frames = self._reader.feed_data(data)
            feed_frame = self._assembler.feed_frame
            for frame in frames:
                message = feed_frame(frame)
                if message is None:
                    continue
                messages.append(message)
                if message.type is _CLOSE:
                    self._on_close(message)
                    return messages  # RFC 6455 §5.5.1: nothing follows a Close frame
            if self._reader.exception is not None:
                raise self._reader.exception
        except WebSocketError as exc:
            messages.append(self._fail(exc))
        return messages

    def receive_message(self, data: bytes | bytearray | memoryview) -> WSMessage | None:
        """The per-message fast path of :meth:`receive_data`.

        One read holding exactly one whole, unfragmented data message is the common case
        (an echo, a request and its answer): this returns its TEXT or BINARY message, or
        the ERROR message when it breaks the protocol (invalid UTF-8, corrupt DEFLATE
        data). Otherwise (a split read, several frames, a control frame, a closed input)
        it consumes nothing and returns None: :meth:`receive_data` then takes ``data``.
        """
        if not self._reading or type(data) is not bytes:
            return None
        whole = self._reader.read_whole(data)
        if whole is None:
            return None
        first, payload = whole
        if first & _RSV1:
            # RFC 7692 §7.2.2: a compressed message (read_whole returns RSV1 only when
            # permessage-deflate is in use), inflated whole within max_msg_size.
            deflate = self._deflate
            assert deflate is not None
            try:
                payload = deflate.decompress(payload, final=True, limit=self._max_msg_size or None)
            except WebSocketError as exc:
                return self._fail(exc)
            first ^= _RSV1
        if first == _FIN_BINARY:
            return _new_tuple(WSMessage, (_BINARY, payload, ""))
        try:
            # RFC 6455 §8.1: text is UTF-8, decoded once, whole.
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            try:
                decode_utf8(payload)  # raises the 1007 WebSocketError
            except WebSocketError as exc:
                return self._fail(exc)
            raise
        return _new_tuple(WSMessage, (_TEXT, text if self._decode_text else payload, ""))

    def receive_eof(self) -> list[WSMessage]:
        """Note that the transport ended.

        Returns:
            ``[WS_CLOSED_MESSAGE]`` the first time, then ``[]``. Unless the peer's Close
            frame arrived or the connection failed, :attr:`close_code` becomes 1006
            (ABNORMAL_CLOSURE, RFC 6455 §7.1.5), as aiohttp reports it.
        """
        if self._eof:
            return []
        self._eof = True
        self._open = self._reading = False
        if not self._close_received and self._exception is None:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        return [WS_CLOSED_MESSAGE]

    def _on_close(self, message: WSMessage) -> None:
        self._close_received = True
        self._open = self._reading = False
        self._close_code = message.data or NO_STATUS_CODE

    def _fail(self, exc: WebSocketError) -> WSMessage:
        # RFC 6455 §7.1.7: the connection fails; the code tells the glue what to send.
        self._exception = exc
        self._open = self._reading = False
        self._close_code = exc.code
        return WSMessage(WSMsgType.ERROR, exc, None)

    # -- sending -------------------------------------------------------------------------

    def send_text(self, data: str, *, compress: int | None = None) -> bytes:
        """Return the frame of a text message.

        Args:
            data: the text.
            compress: 0 to send this message uncompressed; None (or another value) compresses
                it when permessage-deflate is in use. A per-message window, as aiohttp's
                ``compress=N`` suggests, is not honoured: with context takeover it would
                break the peer's inflater.

        Raises:
            ConnectionResetError: a Close frame was sent or received, or the connection
                failed (RFC 6455 §5.5.1).
        """
        return self.send_frame(data.encode("utf-8"), OP_TEXT, compress=compress)

    def send_binary(
        self, data: bytes | bytearray | memoryview, *, compress: int | None = None
    ) -> bytes:
        """Return the frame of a binary message; see :meth:`send_text`."""
        return self.send_frame(data, OP_BINARY, compress=compress)

    def send_frame(
        self,
        data: bytes | bytearray | memoryview,
        opcode: int,
        *,
        compress: int | None = None,
    ) -> bytes:
        """Return the frame of one message of type ``opcode`` (aiohttp's ``send_frame``).

        Data messages are compressed as :meth:`send_text` describes; control messages go
        through :meth:`ping`, :meth:`pong` and :meth:`close` rules.

        Raises:
            ConnectionResetError: see :meth:`send_text`.
            ValueError: another opcode (use :meth:`close` for CLOSE), or an oversized
                control payload.
        """
        if opcode == OP_TEXT or opcode == OP_BINARY:
            # check_message and encode_message, inlined: this is the per-message path.
            if not self._open:
                raise ConnectionResetError(_CLOSING_TRANSPORT)
            deflate = self._deflate
            if deflate is not None and compress != 0:
                return encode_frame(opcode | _FIN_RSV1, deflate.compress(data), self._mask)
            if not self._mask:
                length = len(data)
                if length < 126:  # RFC 6455 §5.2: a 7-bit length, no masking key
                    return bytes((opcode | _FIN, length)) + data
            return encode_frame(opcode | _FIN, data, self._mask)
        if opcode == OP_PING or opcode == OP_PONG:
            return self._control(opcode, data)
        raise ValueError(f"send_frame() sends TEXT, BINARY, PING or PONG, not {opcode}")

    def check_message(self, opcode: int) -> None:
        """Check that a data message of type ``opcode`` may be sent now, encoding nothing.

        The asyncio glue calls it when it accepts a message whose frame it builds later
        (after compressing it in a worker thread, or behind such a message).

        Raises:
            ConnectionResetError: see :meth:`send_text`.
            ValueError: ``opcode`` is not TEXT or BINARY.
        """
        if opcode != OP_TEXT and opcode != OP_BINARY:
            raise ValueError(f"send_frame() sends TEXT, BINARY, PING or PONG, not {opcode}")
        if not self._open:
            raise ConnectionResetError(_CLOSING_TRANSPORT)

    def will_compress(self, opcode: int, compress: int | None = None) -> bool:
        """Whether a message of type ``opcode`` sent with ``compress`` is compressed."""
        return (
            self._deflate is not None
            and compress != 0
            and (opcode == OP_TEXT or opcode == OP_BINARY)
        )

    def encode_message(
        self, data: bytes | bytearray | memoryview, opcode: int, *, compress: int | None = None
    ) -> bytes:
        """Return the frame of a data message accepted earlier by :meth:`check_message`.

        There is no state check: a message accepted before a Close frame was queued still
        goes out ahead of it. ``opcode`` must be TEXT or BINARY.
        """
        deflate = self._deflate
        if deflate is not None and compress != 0:
            return encode_frame(opcode | _FIN_RSV1, deflate.compress(data), self._mask)
        return encode_frame(opcode | _FIN, data, self._mask)

    def compress_payload(self, data: bytes | bytearray | memoryview) -> bytes:
        """Compress one message's payload for :meth:`encode_compressed` (RFC 7692 §7.2.1).

        This touches nothing but the compressor, so it may run in a worker thread, provided
        calls stay in message order and none overlaps another compression.

        Raises:
            RuntimeError: permessage-deflate is not in use.
        """
        deflate = self._deflate
        if deflate is None:
            raise RuntimeError("permessage-deflate is not in use on this connection")
        return deflate.compress(data)

    def encode_compressed(self, payload: bytes, opcode: int) -> bytes:
        """Return the frame of a message compressed by :meth:`compress_payload` (RSV1 set).

        Like :meth:`encode_message`, no state check: the message was accepted earlier.
        """
        return encode_frame(opcode | _FIN_RSV1, payload, self._mask)

    def ping(self, message: bytes | str = b"") -> bytes:
        """Return a Ping frame (RFC 6455 §5.5.2).

        Raises:
            ConnectionResetError: the peer's Close frame arrived, the connection failed, or
                the transport ended.
            ValueError: the payload is over 125 bytes.
        """
        return self._control(OP_PING, message)

    def pong(self, message: bytes | str = b"") -> bytes:
        """Return a Pong frame, e.g. answering a PING message with its data (RFC 6455 §5.5.3).

        Raises:
            ConnectionResetError: as :meth:`ping`.
            ValueError: the payload is over 125 bytes.
        """
        return self._control(OP_PONG, message)

    def _control(self, opcode: int, message: bytes | bytearray | memoryview | str) -> bytes:
        # RFC 6455 §5.5.1 only forbids data frames after a Close frame was sent; once the
        # peer's Close arrived (or the connection failed) only our Close may follow.
        if not self._reading:
            raise ConnectionResetError(_CLOSING_TRANSPORT)
        payload = message.encode("utf-8") if isinstance(message, str) else message
        return serialize_frame(opcode, payload, mask=self._mask)

    def close(self, code: int = WSCloseCode.OK, message: bytes | str = b"") -> bytes:
        """Return the Close frame to send, once (RFC 6455 §5.5.1, §7.1.2).

        Call it to start the closing handshake, to answer the peer's Close frame, or after an
        ERROR message with :attr:`close_code`.

        Args:
            code: the status code (RFC 6455 §7.4).
            message: the reason, at most 123 bytes of UTF-8.

        Returns:
            The frame, or ``b""`` when a Close frame was already sent or the transport ended.

        Raises:
            ValueError: the code may not be sent (1004-1006, 1015, out of range) or the
                reason is invalid.
        """
        if self._close_sent or self._eof:
            return b""
        payload = build_close_payload(code, message)
        self._close_sent = True
        self._open = False
        if self._close_code is None:
            self._close_code = code
        return serialize_frame(OP_CLOSE, payload, mask=self._mask)
