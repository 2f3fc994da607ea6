"""Message assembly (RFC 6455 §5.4, §5.6): frames in, :class:`WSMessage` out.

Data frames are joined into text or binary messages: compressed ones are inflated fragment by
fragment (RFC 7692 §7.2.2), text is validated as UTF-8 fragment by fragment (fail fast), and
``max_msg_size`` is checked before each fragment is buffered. Control frames interleaved with
the fragments of a message are delivered at once (RFC 6455 §5.4).
"""

from __future__ import annotations

from typing import Final

from ._close import parse_close_payload
from ._deflate import PerMessageDeflate
from ._frames import OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, Frame
from ._models import DEFAULT_MAX_MSG_SIZE, WebSocketError, WSCloseCode, WSMessage, WSMsgType
from ._utf8 import Utf8Decoder, decode_utf8

__all__ = ("MessageAssembler",)

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
# Builds the named tuple without its Python-level __new__: this is the per-message hot path.
_new_tuple: Final = tuple.__new__
_RSV1: Final = 0x40


def _protocol_error(message: str) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, message)


class MessageAssembler:
    """Turn the frames of one peer into messages.

    Args:
        max_msg_size: bound on a message's size in bytes (after inflation); 0 disables it.
            aiohttp's default is 4 MiB.
        deflate: the permessage-deflate codec when the extension was agreed, else None.
        decode_text: hand TEXT data out as ``str`` (True, aiohttp's default) or as the
            validated UTF-8 ``bytes``.
    """

    __slots__ = (
        "_compressed",
        "_decode_text",
        "_deflate",
        "_max_msg_size",
        "_chunks",
        "_opcode",
        "_size",
        "_texts",
        "_utf8",
    )

    def __init__(
        self,
        *,
        max_msg_size: int = DEFAULT_MAX_MSG_SIZE,
        deflate: PerMessageDeflate | None = None,
        decode_text: bool = True,
    ) -> None:
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0")
        self._max_msg_size = max_msg_size
        self._deflate = deflate
        self._decode_text = decode_text
        self._utf8 = Utf8Decoder()
        self._opcode = 0  # opcode of the message being assembled; 0 when none
        self._compressed = False
        self._chunks: list[bytes] = []  # binary data, or text kept as bytes
        self._texts: list[str] = []  # decoded text
        self._size = 0

    @property
    def buffered(self) -> int:
        """Bytes of the message in progress held so far (inflated size)."""
        return self._size

    def feed_frame(self, frame: Frame) -> WSMessage | None:
        """Take the next frame.

        Args:
            frame: a frame from :class:`FrameReader`.

        Returns:
            The message the frame completes (a control frame is one on its own), or None
            when the frame starts or continues a fragmented message.

        Raises:
            WebSocketError: with the close code to send: 1002 for fragments out of order,
                an unexpected RSV1, a bad close payload or corrupt DEFLATE data; 1007 for
                invalid UTF-8; 1009 for a message over ``max_msg_size``.
        """
        opcode = frame.opcode
        if opcode == OP_TEXT or opcode == OP_BINARY:
            if self._opcode:
                raise _protocol_error(
                    f"The opcode in non-fin frame is expected to be zero, got {opcode}"
                )
            if frame.fin and not frame.rsv1:
                return self._single(opcode, frame.payload)
            self._start(opcode, frame.rsv1)
        elif opcode == OP_CONTINUATION:
            if not self._opcode:
                raise _protocol_error("Continuation frame for non started message")
            if frame.rsv1:
                raise _protocol_error("Received continuation frame with RSV1 set")
        else:
            return self._control(frame)
        try:
            self._add(frame.payload, frame.fin)
        except WebSocketError:
            self._reset()  # drop the partial message: the connection is failing
            raise
        return self._finish() if frame.fin else None

    def feed_whole(self, first: int, payload: bytes) -> WSMessage:
        """Take a whole unfragmented data message (:meth:`FrameReader.read_whole`).

        Args:
            first: the frame's first header byte (FIN set; RSV1 marks compression).
            payload: the unmasked payload.

        Raises:
            WebSocketError: as :meth:`feed_frame`.
        """
        opcode = first & 0x0F
        if not first & _RSV1:
            return self._single(opcode, payload)
        message = self.feed_frame(_new_tuple(Frame, (True, opcode, payload, True)))
        assert message is not None  # a final frame always completes its message
        return message

    def _single(self, opcode: int, payload: bytes) -> WSMessage:
        """The fast path: an unfragmented, uncompressed message."""
        bound = self._max_msg_size
        if bound and len(payload) > bound:
            self._check_size(len(payload))
        if opcode == OP_TEXT:
            # RFC 6455 §8.1: decoded once, whole (decode_utf8 inlined).
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                decode_utf8(payload)  # raises the 1007 WebSocketError
                raise
            return _new_tuple(WSMessage, (_TEXT, text if self._decode_text else payload, ""))
        return _new_tuple(WSMessage, (_BINARY, payload, ""))

    def _start(self, opcode: int, compressed: bool) -> None:
        if compressed and self._deflate is None:
            # RFC 6455 §5.2: RSV1 without an extension that defines it.
            raise _protocol_error("Received frame with non-zero reserved bits")
        self._opcode = opcode
        self._compressed = compressed

    def _add(self, payload: bytes, final: bool) -> None:
        if self._compressed:
            assert self._deflate is not None
            bound = self._max_msg_size
            payload = self._deflate.decompress(
                payload, final=final, limit=bound - self._size if bound else None
            )
        self._check_size(self._size + len(payload))
        self._size += len(payload)
        if self._opcode == OP_TEXT:
            # RFC 6455 §8.1 and §5.6: text is UTF-8, checked as each fragment arrives.
            text = self._utf8.decode(payload, final=final)
            if self._decode_text:
                self._texts.append(text)
                return
        self._chunks.append(payload)

    def _check_size(self, size: int) -> None:
        bound = self._max_msg_size
        if bound and size > bound:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, f"Message size {size} exceeds limit {bound}"
            )

    def _finish(self) -> WSMessage:
        data: str | bytes
        if self._opcode == OP_TEXT:
            kind = _TEXT
            data = "".join(self._texts) if self._decode_text else b"".join(self._chunks)
        else:
            kind = _BINARY
            data = b"".join(self._chunks)
        self._reset()
        return _new_tuple(WSMessage, (kind, data, ""))

    def _reset(self) -> None:
        self._opcode = 0
        self._compressed = False
        self._chunks = []
        self._texts = []
        self._size = 0
        self._utf8.reset()

    def _control(self, frame: Frame) -> WSMessage:
        opcode = frame.opcode
        if opcode == OP_PING:
            return _new_tuple(WSMessage, (WSMsgType.PING, frame.payload, ""))
        if opcode == OP_PONG:
            return _new_tuple(WSMessage, (WSMsgType.PONG, frame.payload, ""))
        if opcode == OP_CLOSE:
            code, reason = parse_close_payload(frame.payload)
            return _new_tuple(WSMessage, (WSMsgType.CLOSE, code, reason))
        raise _protocol_error(f"Unexpected opcode={opcode}")
