"""The frame layer (RFC 6455 §5): a push parser that turns bytes into frames, and the frame
serializer.

The parser enforces every rule that can be checked on a frame header, as soon as the header
has arrived and before its payload is buffered: reserved bits and opcodes, masking by role,
control frame size and fragmentation, the order of fragments (§5.4) and the size of the data
message being received. Each violation raises :class:`WebSocketError` with the close code to
send (1002, or 1009 for a message over the size bound).
"""

from __future__ import annotations

import os
from collections import deque
from struct import Struct
from typing import Final, NamedTuple

from ._mask import websocket_mask
from ._models import WebSocketError, WSCloseCode

__all__ = (
    "MAX_CONTROL_PAYLOAD",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "FrameReader",
    "encode_frame",
    "serialize_frame",
)

# RFC 6455 §5.2 opcodes.
OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

# RFC 6455 §5.5: control frames carry at most 125 payload bytes.
MAX_CONTROL_PAYLOAD: Final = 125

# Bit i is set when opcode i is defined; %x3-7 and %xB-F are reserved (RFC 6455 §5.2).
_DEFINED_OPCODES: Final = (
    (1 << OP_CONTINUATION)
    | (1 << OP_TEXT)
    | (1 << OP_BINARY)
    | (1 << OP_CLOSE)
    | (1 << OP_PING)
    | (1 << OP_PONG)
)

_FIN: Final = 0x80
_RSV1: Final = 0x40
_RSV2_RSV3: Final = 0x30
_MASK_BIT: Final = 0x80
_FIN_TEXT: Final = _FIN | OP_TEXT
_FIN_BINARY: Final = _FIN | OP_BINARY
_FIN_RSV1_TEXT: Final = _FIN | _RSV1 | OP_TEXT
_FIN_RSV1_BINARY: Final = _FIN | _RSV1 | OP_BINARY
# From this payload size on, a masked payload is unmasked through a memoryview of the receive
# buffer instead of a slice of it: the view saves a copy (about 3 us per 64 KiB) and costs about
# 0.2 us to make, a loss on small frames.
_MASK_VIEW_FROM: Final = 2048

_HEAD7: Final = Struct("!BB")
_HEAD16: Final = Struct("!BBH")
_HEAD64: Final = Struct("!BBQ")
_LEN16: Final = Struct("!H")
_LEN64: Final = Struct("!Q")


def _protocol_error(message: str) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, message)


class Frame(NamedTuple):
    """One frame, unmasked.

    Attributes:
        fin: whether this is the last frame of its message.
        opcode: the RFC 6455 §5.2 opcode (the values of :class:`WSMsgType`).
        payload: the application data, unmasked.
        rsv1: the RSV1 bit; with permessage-deflate it marks a compressed message (RFC 7692
            §6).
    """

    fin: bool
    opcode: int
    payload: bytes
    rsv1: bool = False


# Builds the named tuple without its Python-level __new__: this is the per-frame hot path.
_new_frame: Final = tuple.__new__


class FrameReader:
    """Push parser for the frames one peer sends.

    Feed it the bytes received, in any split; it returns the frames completed so far.

    Args:
        is_client: whether the reader runs in a client. A client receives only unmasked
            frames, a server only masked ones (RFC 6455 §5.1).
        rsv1_allowed: whether an extension (permessage-deflate) gave RSV1 a meaning. It is
            then accepted on the first frame of a data message only (RFC 7692 §6.1).
        max_msg_size: bound on the payload bytes of one data message, summed over its
            fragments; 0 disables it. A frame that would cross it fails with 1009 as soon as
            its header is read, before any of its payload is buffered.
    """

    __slots__ = (
        "_buffered",
        "_chunks",
        "_exception",
        "_expect_mask",
        "_idle",
        "_in_message",
        "_max_msg_size",
        "_msg_size",
        "_need",
        "_rsv1_allowed",
        "_whole_firsts",
    )

    def __init__(
        self, *, is_client: bool, rsv1_allowed: bool = False, max_msg_size: int = 0
    ) -> None:
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0")
        self._expect_mask = not is_client
        self._rsv1_allowed = rsv1_allowed
        self._max_msg_size = max_msg_size
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._need = 2  # bytes to buffer before the parser can make progress
        self._in_message = False  # inside a fragmented data message (RFC 6455 §5.4)
        self._msg_size = 0  # payload bytes of that message so far
        self._exception: WebSocketError | None = None
        # read_whole's precondition in one flag: nothing buffered, no fragmented message in
        # progress, no violation met. Only feed_data changes these, and it refreshes the flag.
        self._idle = True
        # The first header bytes read_whole takes: a final TEXT or BINARY frame, with RSV1
        # only when permessage-deflate gave it a meaning (RFC 6455 §5.2, RFC 7692 §6).
        firsts = {_FIN_TEXT, _FIN_BINARY}
        if rsv1_allowed:
            firsts |= {_FIN_RSV1_TEXT, _FIN_RSV1_BINARY}
        self._whole_firsts = frozenset(firsts)

    @property
    def exception(self) -> WebSocketError | None:
        """The protocol violation met, if any; the reader accepts no data after it."""
        return self._exception

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of their frame."""
        return self._buffered

    def feed_data(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Parse received bytes.

        Args:
            data: the next bytes from the peer, split anywhere.

        Returns:
            The frames completed by ``data``, in order. Frames that precede a protocol
            violation in the same call are returned, and the violation is raised by the next
            call (and kept in :attr:`exception`).

        Raises:
            WebSocketError: a protocol violation (see the module docstring), at once when no
                complete frame precedes it.
        """
        try:
            return self._feed(data)
        finally:
            self._idle = not self._chunks and not self._in_message and self._exception is None

    def _feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        if self._exception is not None:
            raise self._exception
        if not data:
            return []
        if type(data) is not bytes:
            data = bytes(data)
        chunks = self._chunks
        if chunks or len(data) < self._need:
            chunks.append(data)
            self._buffered += len(data)
            if self._buffered < self._need:
                return []
            data = b"".join(chunks)
            chunks.clear()
            self._buffered = 0
        frames: list[Frame] = []
        try:
            pos = self._parse(data, frames)
        except WebSocketError as exc:
            self._exception = exc
            if frames:
                return frames
            raise
        if pos < len(data):
            chunks.append(data[pos:])
            self._buffered = len(data) - pos
        return frames

    def read_whole(self, data: bytes) -> tuple[int, bytes] | None:
        """The per-message fast path: ``data`` is exactly one whole unfragmented data frame.

        One read holding one small message is the common case (an echo, a request and its
        answer); this parses it without building a :class:`Frame` or entering the general
        loop of :meth:`feed_data`.

        Args:
            data: the bytes just received.

        Returns:
            ``(first header byte, unmasked payload)`` when nothing is buffered, no message
            is in progress, and ``data`` is exactly one final TEXT or BINARY frame (RSV1
            only when an extension allows it) with a 7- or 16-bit length, masked as the role
            requires and within ``max_msg_size``; else None, having consumed nothing:
            :meth:`feed_data` then handles ``data`` (and any violation in it).
        """
        size = len(data)
        if size < 2 or not self._idle:
            return None
        first = data[0]
        if first not in self._whole_firsts:
            return None
        second = data[1]
        bound = self._max_msg_size
        if not self._expect_mask:
            # From a server: the mask bit clear (RFC 6455 §5.1), so 0-125 is a 7-bit length.
            if second < 126:
                if size != 2 + second or (bound and second > bound):
                    return None
                return first, data[2:]
            if second != 126 or size < 4:
                return None  # a 64-bit length, a masked frame, or not all here
            (length,) = _LEN16.unpack_from(data, 2)
            if size != 4 + length or (bound and length > bound):
                return None
            return first, data[4:]
        # From a client: the mask bit set, then the length (RFC 6455 §5.2).
        length = second - _MASK_BIT
        if 0 <= length < 126:
            if size != 6 + length or (bound and length > bound):
                return None
            return first, websocket_mask(data[2:6], data[6:])
        if length != 126 or size < 4:
            return None
        (length,) = _LEN16.unpack_from(data, 2)
        if size != 8 + length or (bound and length > bound):
            return None  # feed_data raises the 1009 error of an oversized one
        if length < _MASK_VIEW_FROM:
            return first, websocket_mask(data[4:8], data[8:])
        view = memoryview(data)[8:]
        payload = websocket_mask(data[4:8], view)
        view.release()
        return first, payload

    def _parse(self, data: bytes, frames: list[Frame]) -> int:
        """Append the complete frames of ``data`` to ``frames``; return the bytes used."""
        pos = 0
        end = len(data)
        mask_bit = _MASK_BIT if self._expect_mask else 0
        bound = self._max_msg_size
        while True:
            if end - pos < 2:
                self._need = 2
                return pos
            first = data[pos]
            second = data[pos + 1]
            opcode = first & 0x0F
            length = second & 0x7F
            # Fast path: a final text or binary frame, no RSV bit, outside a fragmented
            # message and masked as the role requires passes every header rule.
            if (
                (first != _FIN_TEXT and first != _FIN_BINARY)
                or self._in_message
                or second & _MASK_BIT != mask_bit
            ):
                self._check_header(first, second, opcode, length)
            head = 2
            # RFC 6455 §5.2: 126 announces a 16-bit length, 127 a 64-bit one.
            if length == 126:
                if end - pos < 4:
                    self._need = 4
                    return pos
                (length,) = _LEN16.unpack_from(data, pos + 2)
                head = 4
            elif length == 127:
                if end - pos < 10:
                    self._need = 10
                    return pos
                (length,) = _LEN64.unpack_from(data, pos + 2)
                head = 10
                if length >> 63:
                    # RFC 6455 §5.2: the most significant bit MUST be 0.
                    raise _protocol_error("Frame length has its most significant bit set")
            if bound and opcode < OP_CLOSE:
                self._check_size(opcode, length)
            if mask_bit:
                head += 4
            total = head + length
            if end - pos < total:
                self._need = total
                return pos
            start = pos + head
            if not mask_bit:
                payload = data[start : start + length]
            elif length < _MASK_VIEW_FROM:
                payload = websocket_mask(data[start - 4 : start], data[start : start + length])
            else:
                # Unmasked straight from the receive buffer: one copy of a large payload, not two.
                view = memoryview(data)[start : start + length]
                payload = websocket_mask(data[start - 4 : start], view)
                view.release()
            fin = first & _FIN == _FIN
            if opcode < OP_CLOSE and (self._in_message or not fin):
                self._track_message(opcode, fin, length)
            frames.append(_new_frame(Frame, (fin, opcode, payload, first & _RSV1 == _RSV1)))
            pos += total

    def _check_header(self, first: int, second: int, opcode: int, length: int) -> None:
        if first & _RSV2_RSV3:
            # RFC 6455 §5.2: no extension negotiated here defines RSV2 or RSV3.
            raise _protocol_error("Received frame with non-zero reserved bits")
        if not (_DEFINED_OPCODES >> opcode) & 1:
            raise _protocol_error(f"Unexpected opcode={opcode}")
        rsv1 = first & _RSV1
        if opcode & 0x8:
            # RFC 6455 §5.5: control frames are never fragmented and carry <= 125 bytes;
            # RFC 7692 §6.1: they are never compressed.
            if not first & _FIN:
                raise _protocol_error("Received fragmented control frame")
            if length > MAX_CONTROL_PAYLOAD:
                raise _protocol_error("Control frame payload cannot be larger than 125 bytes")
            if rsv1:
                raise _protocol_error("Received control frame with RSV1 set")
        elif opcode == OP_CONTINUATION:
            # RFC 6455 §5.4: a continuation frame continues a started message; RFC 7692
            # §6.1: only the first frame of a message may set RSV1.
            if not self._in_message:
                raise _protocol_error("Continuation frame for non started message")
            if rsv1:
                raise _protocol_error("Received continuation frame with RSV1 set")
        elif self._in_message:
            raise _protocol_error(
                f"The opcode in non-fin frame is expected to be zero, got {opcode}"
            )
        if rsv1 and not self._rsv1_allowed:
            raise _protocol_error("Received frame with non-zero reserved bits")
        # RFC 6455 §5.1: a server MUST close on an unmasked frame, a client on a masked one.
        if bool(second & _MASK_BIT) is not self._expect_mask:
            if self._expect_mask:
                raise _protocol_error("Received unmasked frame from a client")
            raise _protocol_error("Received masked frame from a server")

    def _check_size(self, opcode: int, length: int) -> None:
        bound = self._max_msg_size
        size = length + self._msg_size if opcode == OP_CONTINUATION else length
        if size > bound:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, f"Message size {size} exceeds limit {bound}"
            )

    def _track_message(self, opcode: int, fin: bool, length: int) -> None:
        if fin:
            self._in_message = False
            self._msg_size = 0
        else:
            self._in_message = True
            self._msg_size = self._msg_size + length if opcode == OP_CONTINUATION else length


def serialize_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bool,
) -> bytes:
    """Serialize one frame (RFC 6455 §5.2).

    Args:
        opcode: the frame's opcode.
        payload: the application data, unmasked.
        fin: whether this is the last frame of its message.
        rsv1: the RSV1 bit (a compressed message's first frame, RFC 7692 §6).
        mask: whether to mask the payload; a client masks every frame, a server none
            (RFC 6455 §5.1). Each masked frame gets a fresh key from :func:`os.urandom`
            (RFC 6455 §5.3).

    Returns:
        The frame's bytes.

    Raises:
        ValueError: a reserved opcode, or a fragmented, compressed or oversized control
            frame.
    """
    if not 0 <= opcode <= 0xF or not (_DEFINED_OPCODES >> opcode) & 1:
        raise ValueError(f"Invalid opcode {opcode}")
    length = len(payload)
    if opcode & 0x8 and (length > MAX_CONTROL_PAYLOAD or not fin or rsv1):
        raise ValueError("A control frame is final, uncompressed and at most 125 bytes")
    return encode_frame(opcode | (_FIN if fin else 0) | (_RSV1 if rsv1 else 0), payload, mask)


def encode_frame(first: int, payload: bytes | bytearray | memoryview, mask: bool) -> bytes:
    """Serialize a frame whose first header byte is ``first``, with no checks.

    The codec's per-message path: :func:`serialize_frame` after its validation, or called
    directly with a header byte known to be valid (FIN, RSV1 and a data opcode).
    """
    length = len(payload)
    if not mask:
        if length < 126:
            return _HEAD7.pack(first, length) + payload
        if length < 0x10000:
            return _HEAD16.pack(first, 126, length) + payload
        return _HEAD64.pack(first, 127, length) + payload
    if length < 126:
        head = _HEAD7.pack(first, _MASK_BIT | length)
    elif length < 0x10000:
        head = _HEAD16.pack(first, _MASK_BIT | 126, length)
    else:
        head = _HEAD64.pack(first, _MASK_BIT | 127, length)
    key = _masking_key()
    return b"".join((head, key, websocket_mask(key, payload)))


# RFC 6455 §5.3: each masking key comes from a strong source of entropy (os.urandom), read
# 1024 keys at a time rather than with one system call per frame. ``deque.popleft`` is atomic,
# so loops in several threads never share a key; a forked child drops the keys it inherited,
# so that parent and child never send the same ones.
_KEY_BATCH: Final = 4096
_keys: deque[bytes] = deque()
_KEY_SLICES: Final = tuple(slice(i, i + 4) for i in range(4, _KEY_BATCH, 4))


def _masking_key() -> bytes:
    try:
        return _keys.popleft()
    except IndexError:
        batch = os.urandom(_KEY_BATCH)
        # The 4-byte slices of the batch, cut in C (no bytecode per key).
        _keys.extend(map(batch.__getitem__, _KEY_SLICES))
        return batch[:4]


def _forget_keys() -> None:
    _keys.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_keys)
