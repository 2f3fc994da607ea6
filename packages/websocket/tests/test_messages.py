from __future__ import annotations

import os

import pytest

from aioloom.websocket._deflate import DeflateParams, PerMessageDeflate
from aioloom.websocket._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
)
from aioloom.websocket._messages import MessageAssembler
from aioloom.websocket._models import WebSocketError, WSCloseCode, WSMessage, WSMsgType

TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY


def feed(assembler: MessageAssembler, frames: list[Frame]) -> list[WSMessage]:
    messages = []
    for frame in frames:
        message = assembler.feed_frame(frame)
        if message is not None:
            messages.append(message)
    return messages


def fragments(opcode: int, pieces: list[bytes], *, rsv1: bool = False) -> list[Frame]:
    last = len(pieces) - 1
    return [
        Frame(i == last, opcode if i == 0 else OP_CONTINUATION, piece, rsv1 and i == 0)
        for i, piece in enumerate(pieces)
    ]


def test_single_frames() -> None:
    assembler = MessageAssembler()
    assert feed(assembler, [Frame(True, OP_TEXT, "héllo".encode())]) == [
        WSMessage(TEXT, "héllo", "")
    ]
    assert feed(assembler, [Frame(True, OP_BINARY, b"\x00\xff")]) == [
        WSMessage(BINARY, b"\x00\xff", "")
    ]
    assert feed(assembler, [Frame(True, OP_TEXT, b"")]) == [WSMessage(TEXT, "", "")]


def test_control_frames() -> None:
    assembler = MessageAssembler()
    assert feed(
        assembler,
        [
            Frame(True, OP_PING, b"p"),
            Frame(True, OP_PONG, b""),
            Frame(True, OP_CLOSE, b"\x03\xe9bye"),
            Frame(True, OP_CLOSE, b""),
        ],
    ) == [
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(WSMsgType.PONG, b"", ""),
        WSMessage(WSMsgType.CLOSE, 1001, "bye"),
        WSMessage(WSMsgType.CLOSE, 0, ""),
    ]


@pytest.mark.parametrize(
    ("payload", "code"),
    [(b"\x03", 1002), (b"\x03\xed", 1002), (b"\x03\xe8\xff", 1007)],
)
def test_bad_close_payload(payload: bytes, code: int) -> None:
    with pytest.raises(WebSocketError) as info:
        MessageAssembler().feed_frame(Frame(True, OP_CLOSE, payload))
    assert info.value.code == code


def test_fragmented_text_and_binary() -> None:
    assembler = MessageAssembler()
    text = "Hello-µ@ßöäüàá-UTF-8!!".encode()
    # Split inside a two-byte character.
    pieces = [text[:7], text[7:8], text[8:], b""]
    assert feed(assembler, fragments(OP_TEXT, pieces)) == [WSMessage(TEXT, text.decode(), "")]
    assert feed(assembler, fragments(OP_BINARY, [b"a", b"", b"bc"])) == [
        WSMessage(BINARY, b"abc", "")
    ]
    assert assembler.buffered == 0


def test_empty_fragments() -> None:
    # Autobahn 6.1.2: a text message of three empty fragments.
    assert feed(MessageAssembler(), fragments(OP_TEXT, [b"", b"", b""])) == [
        WSMessage(TEXT, "", "")
    ]


def test_control_frames_interleaved_are_delivered_at_once() -> None:
    assembler = MessageAssembler()
    assert assembler.feed_frame(Frame(False, OP_TEXT, b"frag1")) is None
    assert assembler.feed_frame(Frame(True, OP_PING, b"p")) == WSMessage(WSMsgType.PING, b"p", "")
    assert assembler.feed_frame(Frame(False, OP_CONTINUATION, b"frag2")) is None
    assert assembler.feed_frame(Frame(True, OP_PONG, b"")) == WSMessage(WSMsgType.PONG, b"", "")
    assert assembler.feed_frame(Frame(True, OP_CONTINUATION, b"frag3")) == WSMessage(
        TEXT, "frag1frag2frag3", ""
    )


def test_decode_text_off() -> None:
    assembler = MessageAssembler(decode_text=False)
    assert feed(assembler, [Frame(True, OP_TEXT, "é".encode())]) == [
        WSMessage(TEXT, "é".encode(), "")
    ]
    assert feed(assembler, fragments(OP_TEXT, [b"\xc3", b"\xa9"])) == [
        WSMessage(TEXT, b"\xc3\xa9", "")
    ]
    # Still validated (RFC 6455 §8.1).
    with pytest.raises(WebSocketError) as info:
        feed(assembler, fragments(OP_TEXT, [b"\xc3", b"\x28"]))
    assert info.value.code == WSCloseCode.INVALID_TEXT


def test_invalid_utf8_fails_on_the_fragment_carrying_it() -> None:
    # Autobahn 6.4.1: the error comes with the second fragment, before the third arrives.
    assembler = MessageAssembler()
    assert assembler.feed_frame(Frame(False, OP_TEXT, "κόσμε".encode())) is None
    with pytest.raises(WebSocketError) as info:
        assembler.feed_frame(Frame(False, OP_CONTINUATION, b"\xf4\x90\x80\x80"))
    assert info.value.code == WSCloseCode.INVALID_TEXT


def test_invalid_utf8_split_across_fragments() -> None:
    # A surrogate split over two fragments: each piece alone looks like a prefix.
    assembler = MessageAssembler()
    assert assembler.feed_frame(Frame(False, OP_TEXT, b"ab\xed")) is None
    with pytest.raises(WebSocketError) as info:
        assembler.feed_frame(Frame(True, OP_CONTINUATION, b"\xa0\x80"))
    assert info.value.code == WSCloseCode.INVALID_TEXT


def test_text_ending_inside_a_character() -> None:
    with pytest.raises(WebSocketError) as info:
        feed(MessageAssembler(), fragments(OP_TEXT, [b"a\xe2", b"\x82"]))
    assert info.value.code == WSCloseCode.INVALID_TEXT


def test_invalid_utf8_single_frame() -> None:
    with pytest.raises(WebSocketError) as info:
        MessageAssembler().feed_frame(Frame(True, OP_TEXT, b"\xff"))
    assert info.value.code == WSCloseCode.INVALID_TEXT


# -- order of fragments --------------------------------------------------------------------


def test_continuation_without_a_message() -> None:
    with pytest.raises(WebSocketError, match="non started") as info:
        MessageAssembler().feed_frame(Frame(True, OP_CONTINUATION, b"x"))
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR


def test_new_message_inside_a_fragmented_one() -> None:
    assembler = MessageAssembler()
    assembler.feed_frame(Frame(False, OP_TEXT, b"a"))
    with pytest.raises(WebSocketError, match="expected to be zero") as info:
        assembler.feed_frame(Frame(True, OP_BINARY, b"b"))
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR


def test_rsv1_without_deflate() -> None:
    with pytest.raises(WebSocketError, match="reserved bits") as info:
        MessageAssembler().feed_frame(Frame(True, OP_TEXT, b"x", True))
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR


def test_rsv1_on_a_continuation() -> None:
    assembler = MessageAssembler(deflate=PerMessageDeflate(DeflateParams(), is_client=False))
    assembler.feed_frame(Frame(False, OP_BINARY, b"", True))
    with pytest.raises(WebSocketError, match="RSV1") as info:
        assembler.feed_frame(Frame(True, OP_CONTINUATION, b"", True))
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR


# -- size bound ----------------------------------------------------------------------------


def test_message_at_the_bound() -> None:
    assembler = MessageAssembler(max_msg_size=10)
    assert feed(assembler, [Frame(True, OP_BINARY, b"x" * 10)]) == [
        WSMessage(BINARY, b"x" * 10, "")
    ]
    assert feed(assembler, fragments(OP_TEXT, [b"x" * 5, b"x" * 5])) == [
        WSMessage(TEXT, "x" * 10, "")
    ]


def test_single_frame_over_the_bound() -> None:
    with pytest.raises(WebSocketError, match="11 exceeds limit 10") as info:
        MessageAssembler(max_msg_size=10).feed_frame(Frame(True, OP_TEXT, b"x" * 11))
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG


def test_fragment_over_the_bound_is_not_buffered() -> None:
    assembler = MessageAssembler(max_msg_size=10)
    assembler.feed_frame(Frame(False, OP_BINARY, b"x" * 6))
    assert assembler.buffered == 6
    with pytest.raises(WebSocketError, match="11 exceeds limit 10") as info:
        assembler.feed_frame(Frame(False, OP_CONTINUATION, b"x" * 5))
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG
    assert assembler.buffered == 0


def test_no_bound() -> None:
    big = b"x" * (5 * 1024 * 1024)
    assert feed(MessageAssembler(max_msg_size=0), [Frame(True, OP_BINARY, big)]) == [
        WSMessage(BINARY, big, "")
    ]
    with pytest.raises(WebSocketError):
        MessageAssembler().feed_frame(Frame(True, OP_BINARY, big))  # 4 MiB by default


def test_negative_bound() -> None:
    with pytest.raises(ValueError):
        MessageAssembler(max_msg_size=-1)


# -- compressed messages -------------------------------------------------------------------


def deflate_pair(params: DeflateParams) -> tuple[PerMessageDeflate, PerMessageDeflate]:
    return PerMessageDeflate(params, is_client=True), PerMessageDeflate(params, is_client=False)


def test_compressed_messages() -> None:
    sender, receiver = deflate_pair(DeflateParams())
    assembler = MessageAssembler(deflate=receiver)
    text = "compressible text " * 100
    payload = sender.compress(text.encode())
    assert feed(assembler, [Frame(True, OP_TEXT, payload, True)]) == [WSMessage(TEXT, text, "")]
    # Fragmented, with a ping between fragments: the inflater keeps its state (aiohttp #12988).
    payload = sender.compress(text.encode())
    frames = fragments(OP_TEXT, [payload[:3], payload[3:10], payload[10:]], rsv1=True)
    frames.insert(1, Frame(True, OP_PING, b""))
    assert feed(assembler, frames) == [
        WSMessage(WSMsgType.PING, b"", ""),
        WSMessage(TEXT, text, ""),
    ]
    # An uncompressed message in between is allowed (RSV1 clear).
    assert feed(assembler, [Frame(True, OP_BINARY, b"raw")]) == [WSMessage(BINARY, b"raw", "")]
    payload = sender.compress(b"\x00" * 1000)
    assert feed(assembler, [Frame(True, OP_BINARY, payload, True)]) == [
        WSMessage(BINARY, b"\x00" * 1000, "")
    ]


def test_compressed_message_over_the_bound() -> None:
    sender, receiver = deflate_pair(DeflateParams())
    assembler = MessageAssembler(max_msg_size=1000, deflate=receiver)
    payload = sender.compress(b"\x00" * 1001)
    assert len(payload) < 100
    with pytest.raises(WebSocketError) as info:
        assembler.feed_frame(Frame(True, OP_BINARY, payload, True))
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG


def test_compressed_fragments_over_the_bound() -> None:
    sender, receiver = deflate_pair(DeflateParams())
    assembler = MessageAssembler(max_msg_size=1000, deflate=receiver)
    payload = sender.compress(os.urandom(1200))  # incompressible: inflates as it arrives
    assert assembler.feed_frame(Frame(False, OP_BINARY, payload[:600], True)) is None
    assert 500 < assembler.buffered < 600
    with pytest.raises(WebSocketError) as info:
        assembler.feed_frame(Frame(True, OP_CONTINUATION, payload[600:]))
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG
    assert assembler.buffered == 0


def test_compressed_invalid_utf8() -> None:
    sender, receiver = deflate_pair(DeflateParams())
    payload = sender.compress(b"abc\xff")
    with pytest.raises(WebSocketError) as info:
        MessageAssembler(deflate=receiver).feed_frame(Frame(True, OP_TEXT, payload, True))
    assert info.value.code == WSCloseCode.INVALID_TEXT


def test_unknown_opcode_frame() -> None:
    with pytest.raises(WebSocketError, match="Unexpected opcode") as info:
        MessageAssembler().feed_frame(Frame(True, 0xB, b""))
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR
