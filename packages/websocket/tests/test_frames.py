from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.websocket._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    FrameReader,
    serialize_frame,
)
from aioloom.websocket._mask import websocket_mask
from aioloom.websocket._models import WebSocketError, WSCloseCode

Splitter = Callable[[bytes], list[bytes]]
PROTOCOL_ERROR = WSCloseCode.PROTOCOL_ERROR
MESSAGE_TOO_BIG = WSCloseCode.MESSAGE_TOO_BIG
BOUNDARY_SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537]


def payload_of(size: int, seed: int = 0) -> bytes:
    pattern = bytes((seed + i) % 256 for i in range(256))
    return (pattern * (size // 256 + 1))[:size]


def raw_frame(
    first: int, payload: bytes = b"", *, masked: bool = True, length: int | None = None
) -> bytes:
    """Build a frame by hand, valid or not; ``length`` overrides the announced length."""
    size = len(payload) if length is None else length
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = bytes([first, mask_bit | size])
    elif size < 0x10000:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", size)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", size)
    if masked:
        key = b"\x12\x34\x56\x78"
        return head + key + websocket_mask(key, payload)
    return head + payload


def feed_all(reader: FrameReader, chunks: list[bytes]) -> list[Frame]:
    frames: list[Frame] = []
    for chunk in chunks:
        frames.extend(reader.feed_data(chunk))
    return frames


def server_reader(**kwargs: int | bool) -> FrameReader:
    return FrameReader(is_client=False, **kwargs)  # type: ignore[arg-type]


def client_reader(**kwargs: int | bool) -> FrameReader:
    return FrameReader(is_client=True, **kwargs)  # type: ignore[arg-type]


# -- serialization ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "head_size"),
    [(0, 2), (125, 2), (126, 4), (127, 4), (65535, 4), (65536, 10), (65537, 10)],
)
def test_length_encodings(size: int, head_size: int) -> None:
    # RFC 6455 §5.2: 7-bit length up to 125, 16-bit up to 65535, 64-bit beyond.
    data = serialize_frame(OP_BINARY, payload_of(size), mask=False)
    assert len(data) == head_size + size
    assert data[0] == 0x82
    if head_size == 2:
        assert data[1] == size
    elif head_size == 4:
        assert data[1] == 126
        assert struct.unpack("!H", data[2:4]) == (size,)
    else:
        assert data[1] == 127
        assert struct.unpack("!Q", data[2:10]) == (size,)
    assert data[head_size:] == payload_of(size)


def test_header_bits() -> None:
    assert serialize_frame(OP_TEXT, b"", fin=False, mask=False) == b"\x01\x00"
    assert serialize_frame(OP_TEXT, b"", rsv1=True, mask=False) == b"\xc1\x00"
    assert serialize_frame(OP_CONTINUATION, b"x", mask=False) == b"\x80\x01x"
    assert serialize_frame(OP_PONG, b"", mask=False) == b"\x8a\x00"


def test_masked_frames_use_a_fresh_key() -> None:
    first = serialize_frame(OP_BINARY, b"same payload", mask=True)
    second = serialize_frame(OP_BINARY, b"same payload", mask=True)
    assert first[1] == second[1] == 0x80 | 12
    keys = {first[2:6], second[2:6]}
    assert len(keys) == 2  # 2**-32 chance of a false failure
    assert websocket_mask(first[2:6], first[6:]) == b"same payload"


def test_serialize_accepts_buffers() -> None:
    expected = serialize_frame(OP_BINARY, b"abc", mask=False)
    assert serialize_frame(OP_BINARY, bytearray(b"abc"), mask=False) == expected
    assert serialize_frame(OP_BINARY, memoryview(b"abc"), mask=False) == expected


@pytest.mark.parametrize(
    ("opcode", "payload", "fin", "rsv1"),
    [
        (0x3, b"", True, False),  # reserved data opcode
        (0xB, b"", True, False),  # reserved control opcode
        (0x10, b"", True, False),  # not a 4-bit opcode
        (-1, b"", True, False),
        (OP_PING, b"x" * 126, True, False),  # control payload over 125 bytes
        (OP_CLOSE, b"\x03\xe8", False, False),  # fragmented control frame
        (OP_PONG, b"", True, True),  # compressed control frame
    ],
)
def test_serialize_rejects_invalid_frames(
    opcode: int, payload: bytes, fin: bool, rsv1: bool
) -> None:
    with pytest.raises(ValueError):
        serialize_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=False)


# -- round trips ----------------------------------------------------------------------------


sizes = st.sampled_from(BOUNDARY_SIZES) | st.integers(min_value=0, max_value=300)


@given(
    opcode=st.sampled_from([OP_TEXT, OP_BINARY]),
    size=sizes,
    seed=st.integers(0, 255),
    fin=st.booleans(),
    mask=st.booleans(),
    rsv1=st.booleans(),
)
def test_data_frame_round_trip(
    opcode: int, size: int, seed: int, fin: bool, mask: bool, rsv1: bool
) -> None:
    payload = payload_of(size, seed)
    reader = FrameReader(is_client=not mask, rsv1_allowed=True)
    data = serialize_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask)
    assert reader.feed_data(data) == [Frame(fin, opcode, payload, rsv1)]
    assert reader.buffered == 0
    if not fin:
        last = serialize_frame(OP_CONTINUATION, payload, mask=mask)
        assert reader.feed_data(last) == [Frame(True, OP_CONTINUATION, payload, False)]


@given(
    opcode=st.sampled_from([OP_PING, OP_PONG, OP_CLOSE]),
    size=st.sampled_from([0, 1, 124, 125]) | st.integers(0, 125),
    mask=st.booleans(),
)
def test_control_frame_round_trip(opcode: int, size: int, mask: bool) -> None:
    payload = payload_of(size)
    reader = FrameReader(is_client=not mask)
    assert reader.feed_data(serialize_frame(opcode, payload, mask=mask)) == [
        Frame(True, opcode, payload, False)
    ]


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
@pytest.mark.parametrize("mask", [True, False], ids=["masked", "unmasked"])
def test_boundary_sizes_in_every_split(size: int, mask: bool, split: Splitter) -> None:
    payload = payload_of(size, size)
    data = serialize_frame(OP_BINARY, payload, mask=mask)
    reader = FrameReader(is_client=not mask)
    assert feed_all(reader, split(data)) == [Frame(True, OP_BINARY, payload, False)]
    assert reader.buffered == 0


def sample_stream() -> tuple[bytes, list[Frame]]:
    frames = [
        Frame(True, OP_TEXT, b"hello", False),
        Frame(False, OP_BINARY, payload_of(300), False),
        Frame(True, OP_PING, b"ping!", False),
        Frame(True, OP_CONTINUATION, payload_of(70000, 3), False),
        Frame(True, OP_PONG, b"", False),
        Frame(True, OP_CLOSE, b"\x03\xe8bye", False),
    ]
    data = b"".join(
        serialize_frame(frame.opcode, frame.payload, fin=frame.fin, mask=True) for frame in frames
    )
    return data, frames


def test_stream_in_every_split(split: Splitter) -> None:
    data, frames = sample_stream()
    reader = server_reader()
    assert feed_all(reader, split(data)) == frames
    assert reader.buffered == 0


def test_trailing_data_stays_buffered() -> None:
    first = serialize_frame(OP_TEXT, b"first", mask=True)
    second = serialize_frame(OP_TEXT, b"second", mask=True)
    for cut in range(1, len(second)):
        reader = server_reader()
        assert reader.feed_data(first + second[:cut]) == [Frame(True, OP_TEXT, b"first")]
        assert reader.buffered == cut
        assert reader.feed_data(second[cut:]) == [Frame(True, OP_TEXT, b"second")]
        assert reader.buffered == 0


def test_feed_accepts_buffers_and_empty_data() -> None:
    data = serialize_frame(OP_BINARY, b"abc", mask=True)
    reader = server_reader()
    assert reader.feed_data(b"") == []
    assert reader.feed_data(bytearray(data[:3])) == []
    assert reader.feed_data(memoryview(data[3:])) == [Frame(True, OP_BINARY, b"abc")]


def test_non_minimal_length_is_accepted() -> None:
    # RFC 6455 §5.2 asks senders for the minimal encoding; receivers are lenient here.
    data = b"\x82\x7e\x00\x03abc"
    assert client_reader().feed_data(data) == [Frame(True, OP_BINARY, b"abc")]


# -- masking and roles ---------------------------------------------------------------------


def test_unmasked_client_frame_at_a_server() -> None:
    # RFC 6455 §5.1: a server MUST close on an unmasked frame.
    with pytest.raises(WebSocketError, match="unmasked") as info:
        server_reader().feed_data(raw_frame(0x81, b"hi", masked=False))
    assert info.value.code == PROTOCOL_ERROR


def test_masked_server_frame_at_a_client() -> None:
    # RFC 6455 §5.1: a client MUST close on a masked frame.
    with pytest.raises(WebSocketError, match="masked frame from a server") as info:
        client_reader().feed_data(raw_frame(0x81, b"hi", masked=True))
    assert info.value.code == PROTOCOL_ERROR


# -- header violations ---------------------------------------------------------------------

HEADER_VIOLATIONS = [
    pytest.param(0x91, b"", id="rsv3"),
    pytest.param(0xA1, b"", id="rsv2"),
    pytest.param(0xF1, b"", id="all-rsv"),
    pytest.param(0xC1, b"", id="rsv1-not-negotiated"),
    *[pytest.param(0x80 | op, b"", id=f"opcode-{op:x}") for op in (3, 4, 5, 6, 7)],
    *[pytest.param(0x80 | op, b"", id=f"opcode-{op:x}") for op in (0xB, 0xC, 0xD, 0xE, 0xF)],
    pytest.param(0x09, b"", id="fragmented-ping"),
    pytest.param(0x0A, b"", id="fragmented-pong"),
    pytest.param(0x08, b"", id="fragmented-close"),
    pytest.param(0x89, b"x" * 126, id="126-byte-ping"),
    pytest.param(0x8A, b"x" * 126, id="126-byte-pong"),
    pytest.param(0x88, b"\x03\xe8" + b"x" * 124, id="126-byte-close"),
    pytest.param(0x80, b"x", id="continuation-without-start"),
    pytest.param(0x00, b"x", id="fragmented-continuation-without-start"),
]


@pytest.mark.parametrize(("first", "payload"), HEADER_VIOLATIONS)
def test_header_violations(first: int, payload: bytes, split: Splitter) -> None:
    reader = server_reader()
    with pytest.raises(WebSocketError) as info:
        feed_all(reader, split(raw_frame(first, payload)))
    assert info.value.code == PROTOCOL_ERROR
    assert reader.exception is info.value
    assert reader.buffered == 0


def test_oversized_control_frame_fails_on_its_header() -> None:
    # The 126-byte ping fails as soon as its first two bytes arrive.
    with pytest.raises(WebSocketError) as info:
        server_reader().feed_data(b"\x89\xfe")
    assert info.value.code == PROTOCOL_ERROR


@pytest.mark.parametrize("first", [0xC9, 0xCA, 0xC8], ids=["ping", "pong", "close"])
def test_rsv1_on_control_frame_even_with_deflate(first: int) -> None:
    # RFC 7692 §6.1: control frames are never compressed.
    with pytest.raises(WebSocketError, match="RSV1") as info:
        server_reader(rsv1_allowed=True).feed_data(raw_frame(first))
    assert info.value.code == PROTOCOL_ERROR


def test_rsv1_only_on_first_fragment() -> None:
    reader = server_reader(rsv1_allowed=True)
    assert reader.feed_data(raw_frame(0x41, b"a")) == [Frame(False, OP_TEXT, b"a", True)]
    with pytest.raises(WebSocketError, match="continuation frame with RSV1") as info:
        reader.feed_data(raw_frame(0xC0, b"b"))
    assert info.value.code == PROTOCOL_ERROR


def test_data_frame_inside_fragmented_message() -> None:
    reader = server_reader()
    reader.feed_data(raw_frame(0x01, b"a"))
    with pytest.raises(WebSocketError, match="expected to be zero") as info:
        reader.feed_data(raw_frame(0x82, b"b"))
    assert info.value.code == PROTOCOL_ERROR


def test_control_frames_may_interleave_fragments() -> None:
    reader = server_reader()
    data = raw_frame(0x01, b"a") + raw_frame(0x89, b"p") + raw_frame(0x80, b"b")
    assert reader.feed_data(data) == [
        Frame(False, OP_TEXT, b"a"),
        Frame(True, OP_PING, b"p"),
        Frame(True, OP_CONTINUATION, b"b"),
    ]


def test_64_bit_length_with_top_bit_set() -> None:
    # RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
    reader = server_reader()
    head = b"\x82\xff" + struct.pack("!Q", 1 << 63)
    assert reader.feed_data(head[:9]) == []
    with pytest.raises(WebSocketError, match="most significant bit") as info:
        reader.feed_data(head[9:])
    assert info.value.code == PROTOCOL_ERROR
    assert reader.buffered == 0


def test_huge_length_waits_without_a_bound() -> None:
    reader = server_reader()
    head = b"\x82\xff" + struct.pack("!Q", (1 << 63) - 1) + b"mask"
    assert reader.feed_data(head) == []
    assert reader.exception is None
    assert reader.buffered == len(head)


# -- the size bound ------------------------------------------------------------------------


def test_oversized_frame_fails_before_its_payload() -> None:
    reader = server_reader(max_msg_size=1000)
    head = b"\x82\xfe" + struct.pack("!H", 1001)
    with pytest.raises(WebSocketError, match="1001 exceeds limit 1000") as info:
        reader.feed_data(head)
    assert info.value.code == MESSAGE_TOO_BIG
    assert reader.buffered == 0


def test_frame_at_the_bound_is_accepted() -> None:
    reader = server_reader(max_msg_size=1000)
    payload = payload_of(1000)
    assert reader.feed_data(raw_frame(0x82, payload)) == [Frame(True, OP_BINARY, payload)]


def test_fragments_are_summed() -> None:
    reader = server_reader(max_msg_size=1000)
    assert len(reader.feed_data(raw_frame(0x02, payload_of(600)))) == 1
    assert len(reader.feed_data(raw_frame(0x00, payload_of(300)))) == 1
    # The third fragment would reach 1001 bytes: refused on its header alone.
    with pytest.raises(WebSocketError, match="1001 exceeds limit 1000") as info:
        reader.feed_data(raw_frame(0x80, payload_of(101))[:2])
    assert info.value.code == MESSAGE_TOO_BIG
    assert reader.buffered == 0


def test_bound_resets_between_messages() -> None:
    reader = server_reader(max_msg_size=1000)
    frames = raw_frame(0x02, payload_of(600)) + raw_frame(0x80, payload_of(400))
    assert len(reader.feed_data(frames)) == 2
    assert len(reader.feed_data(raw_frame(0x82, payload_of(1000)))) == 1


def test_control_frames_do_not_count() -> None:
    reader = server_reader(max_msg_size=10)
    data = raw_frame(0x02, payload_of(10)) + raw_frame(0x89, payload_of(100))
    assert len(reader.feed_data(data + raw_frame(0x80))) == 3


def test_negative_bound_is_rejected() -> None:
    with pytest.raises(ValueError):
        FrameReader(is_client=False, max_msg_size=-1)


# -- error delivery ------------------------------------------------------------------------


def test_frames_before_a_violation_are_delivered() -> None:
    reader = server_reader()
    good = raw_frame(0x81, b"ok")
    bad = raw_frame(0x83, b"")
    assert reader.feed_data(good + bad) == [Frame(True, OP_TEXT, b"ok")]
    assert reader.exception is not None
    assert reader.exception.code == PROTOCOL_ERROR
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(b"")
    assert info.value is reader.exception


def test_no_data_is_accepted_after_a_violation() -> None:
    reader = server_reader()
    with pytest.raises(WebSocketError):
        reader.feed_data(raw_frame(0x83))
    with pytest.raises(WebSocketError):
        reader.feed_data(raw_frame(0x81, b"late"))


@pytest.mark.parametrize("size", [2047, 2048, 2049, 70001])
def test_large_masked_payloads_unmask_from_the_buffer(size: int) -> None:
    # From 2 KiB a masked payload is unmasked through a view of the receive buffer: at an odd
    # offset inside it, after another frame, the payload is still the right bytes object.
    small, large = payload_of(3, 1), payload_of(size, 7)
    data = serialize_frame(OP_TEXT, small, mask=True) + serialize_frame(OP_BINARY, large, mask=True)
    frames = FrameReader(is_client=False).feed_data(bytearray(data))
    assert frames == [Frame(True, OP_TEXT, small, False), Frame(True, OP_BINARY, large, False)]
    assert type(frames[1].payload) is bytes


# -- the whole-frame fast path -------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 125, 126, 2047, 2048, 65535])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_read_whole_matches_feed_data(opcode: int, size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    for is_client in (False, True):
        data = serialize_frame(opcode, payload, mask=not is_client)
        whole = FrameReader(is_client=is_client).read_whole(data)
        assert whole == (0x80 | opcode, payload)
        assert FrameReader(is_client=is_client).feed_data(data) == [Frame(True, opcode, payload)]


def test_read_whole_rsv1_only_when_allowed() -> None:
    data = serialize_frame(OP_TEXT, b"deflated", rsv1=True, mask=False)
    assert FrameReader(is_client=True, rsv1_allowed=True).read_whole(data) == (0xC1, b"deflated")
    assert FrameReader(is_client=True).read_whole(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x81",
        serialize_frame(OP_TEXT, b"abc", mask=False) + b"\x81",  # more than one frame
        serialize_frame(OP_TEXT, b"abc", mask=False)[:-1],  # less than one frame
        serialize_frame(OP_TEXT, b"abc", mask=True),  # masked, at a client
        serialize_frame(OP_TEXT, b"abc", fin=False, mask=False),  # a fragment
        serialize_frame(OP_PING, b"abc", mask=False),  # a control frame
        serialize_frame(OP_BINARY, b"x" * 65536, mask=False),  # a 64-bit length
        b"\x82\x7e\x00",  # a 16-bit length cut short
        b"\xa1\x03abc",  # RSV2
    ],
)
def test_read_whole_declines_everything_else(data: bytes) -> None:
    assert FrameReader(is_client=True, rsv1_allowed=True).read_whole(data) is None


def test_read_whole_declines_an_unmasked_frame_at_a_server() -> None:
    assert FrameReader(is_client=False).read_whole(b"\x81\x03abc") is None
    with pytest.raises(WebSocketError, match="unmasked"):
        FrameReader(is_client=False).feed_data(b"\x81\x03abc")


def test_read_whole_declines_with_state_held() -> None:
    whole = serialize_frame(OP_BINARY, b"abc", mask=False)
    reader = FrameReader(is_client=True)
    assert reader.feed_data(whole[:1]) == []  # a partial header is held
    assert reader.read_whole(whole) is None
    reader = FrameReader(is_client=True)
    reader.feed_data(serialize_frame(OP_TEXT, b"a", fin=False, mask=False))  # a message started
    assert reader.read_whole(serialize_frame(OP_TEXT, b"b", mask=False)) is None
    reader = FrameReader(is_client=True)
    with pytest.raises(WebSocketError):
        reader.feed_data(b"\x83\x00")  # a reserved opcode fails the reader
    assert reader.read_whole(whole) is None


def test_read_whole_leaves_oversized_messages_to_feed_data() -> None:
    data = serialize_frame(OP_BINARY, b"x" * 200, mask=False)
    reader = FrameReader(is_client=True, max_msg_size=100)
    assert reader.read_whole(data) is None
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(data)
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG


def test_read_whole_takes_again_once_the_held_state_is_gone() -> None:
    whole = serialize_frame(OP_BINARY, b"abc", mask=False)
    reader = FrameReader(is_client=True)
    assert reader.feed_data(whole[:1]) == []
    assert reader.read_whole(whole) is None
    assert reader.feed_data(whole[1:]) == [Frame(True, OP_BINARY, b"abc")]  # the buffer emptied
    assert reader.read_whole(whole) == (0x82, b"abc")
    reader.feed_data(serialize_frame(OP_TEXT, b"a", fin=False, mask=False))
    reader.feed_data(serialize_frame(OP_CONTINUATION, b"b", mask=False))  # the message ended
    assert reader.read_whole(whole) == (0x82, b"abc")


@pytest.mark.parametrize("size", [50, 300])
@pytest.mark.parametrize("is_client", [False, True])
def test_read_whole_checks_the_size_bound_for_both_roles(is_client: bool, size: int) -> None:
    data = serialize_frame(OP_TEXT, b"x" * size, mask=not is_client)
    assert FrameReader(is_client=is_client, max_msg_size=size - 1).read_whole(data) is None
    assert FrameReader(is_client=is_client, max_msg_size=size).read_whole(data) == (
        0x81,
        b"x" * size,
    )
