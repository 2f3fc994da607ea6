from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable

import pytest

from aioloom.websocket._deflate import DeflateParams
from aioloom.websocket._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    serialize_frame,
)
from aioloom.websocket._mask import websocket_mask
from aioloom.websocket._models import (
    WS_CLOSED_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from aioloom.websocket._protocol import Role, WebSocketProtocol, WSState

Splitter = Callable[[bytes], list[bytes]]
TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY


def pair(**kwargs: object) -> tuple[WebSocketProtocol, WebSocketProtocol]:
    return (
        WebSocketProtocol(Role.CLIENT, **kwargs),  # type: ignore[arg-type]
        WebSocketProtocol(Role.SERVER, **kwargs),  # type: ignore[arg-type]
    )


def masked(first: int, payload: bytes = b"") -> bytes:
    """A frame as a client sends it, built by hand (any header byte)."""
    key = b"\xa1\xb2\xc3\xd4"
    assert len(payload) < 126
    return bytes([first, 0x80 | len(payload)]) + key + websocket_mask(key, payload)


def state_of(protocol: WebSocketProtocol) -> WSState:
    return protocol.state  # a call: each check reads the state afresh (no type narrowing)


def close_code_of(frame: bytes) -> int:
    """The status code of a Close frame sent by a server (unmasked)."""
    assert frame[0] == 0x88
    (code,) = struct.unpack("!H", frame[2:4])
    return int(code)


# -- data transfer -------------------------------------------------------------------------


def test_text_and_binary_both_ways() -> None:
    client, server = pair()
    assert server.receive_data(client.send_text("héllo")) == [WSMessage(TEXT, "héllo", "")]
    assert server.receive_data(client.send_binary(b"\x00\x01")) == [
        WSMessage(BINARY, b"\x00\x01", "")
    ]
    assert client.receive_data(server.send_text("bye")) == [WSMessage(TEXT, "bye", "")]
    assert client.receive_data(server.send_binary(bytearray(b"x"))) == [WSMessage(BINARY, b"x", "")]
    assert client.state is server.state is WSState.OPEN
    assert client.close_code is None


def test_masking_by_role() -> None:
    client, server = pair()
    assert client.send_binary(b"abc")[1] & 0x80
    assert not server.send_binary(b"abc")[1] & 0x80
    assert client.ping()[1] & 0x80
    assert client.close()[1] & 0x80


def test_send_frame_and_str_payloads() -> None:
    client, server = pair()
    data = client.send_frame(b"raw", OP_BINARY) + client.send_frame(b"p", OP_PING)
    data += client.ping("é") + client.pong("x")
    assert server.receive_data(data) == [
        WSMessage(BINARY, b"raw", ""),
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(WSMsgType.PING, "é".encode(), ""),
        WSMessage(WSMsgType.PONG, b"x", ""),
    ]


@pytest.mark.parametrize("opcode", [OP_CLOSE, OP_CONTINUATION, 0x3, 0xB])
def test_send_frame_refuses_other_opcodes(opcode: int) -> None:
    with pytest.raises(ValueError):
        WebSocketProtocol(Role.SERVER).send_frame(b"", opcode)


def test_oversized_ping() -> None:
    with pytest.raises(ValueError):
        WebSocketProtocol(Role.SERVER).ping(b"x" * 126)


def test_decode_text_off() -> None:
    client, server = pair(decode_text=False)
    assert server.receive_data(client.send_text("é")) == [WSMessage(TEXT, "é".encode(), "")]


def test_compression() -> None:
    client, server = pair(compress=DeflateParams())
    assert client.compress and server.compress
    text = "compress me " * 100
    frame = client.send_text(text)
    assert frame[0] == 0xC1  # FIN + RSV1 + TEXT
    assert len(frame) < len(text) // 4
    assert server.receive_data(frame) == [WSMessage(TEXT, text, "")]
    plain = server.send_binary(b"raw", compress=0)
    assert plain[0] == 0x82
    assert client.receive_data(plain) == [WSMessage(BINARY, b"raw", "")]
    assert client.receive_data(server.send_binary(b"z" * 1000)) == [
        WSMessage(BINARY, b"z" * 1000, "")
    ]


def test_compression_level() -> None:
    data = bytes(range(256)) * 400
    fast, _ = pair(compress=DeflateParams(), compress_level=zlib.Z_BEST_SPEED)
    best, _ = pair(compress=DeflateParams(), compress_level=zlib.Z_BEST_COMPRESSION)
    assert len(best.send_binary(data)) <= len(fast.send_binary(data))


def test_rsv1_without_compression_fails() -> None:
    server = WebSocketProtocol(Role.SERVER)
    (error,) = server.receive_data(masked(0xC1, b"x"))
    assert error.type is WSMsgType.ERROR
    assert server.close_code == WSCloseCode.PROTOCOL_ERROR


# -- closing handshake ---------------------------------------------------------------------


def test_close_initiated_locally() -> None:
    client, server = pair()
    frame = client.close(WSCloseCode.GOING_AWAY, "bye")
    assert state_of(client) is WSState.CLOSING
    assert client.close_code == 1001
    assert client.close() == b""  # sent once
    assert server.receive_data(frame) == [WSMessage(WSMsgType.CLOSE, 1001, "bye")]
    assert state_of(server) is WSState.CLOSING
    assert server.close_code == 1001
    reply = server.close()
    assert state_of(server) is WSState.CLOSED
    assert server.close() == b""  # answered once
    assert client.receive_data(reply) == [WSMessage(WSMsgType.CLOSE, 1000, "")]
    assert state_of(client) is WSState.CLOSED
    assert client.close_code == 1000  # the peer's code, as aiohttp reports it


def test_close_without_status_code() -> None:
    server = WebSocketProtocol(Role.SERVER)
    assert server.receive_data(masked(0x88)) == [WSMessage(WSMsgType.CLOSE, 0, "")]
    assert server.close_code == 1005  # RFC 6455 §7.1.5


def test_no_data_frames_after_close_sent() -> None:
    client, _ = pair()
    client.close()
    with pytest.raises(ConnectionResetError, match="closing transport"):
        client.send_text("late")
    with pytest.raises(ConnectionResetError):
        client.send_binary(b"late")
    # RFC 6455 §5.5.1 forbids data frames only: control frames may still go out.
    assert client.ping(b"p")[0] == 0x89
    assert client.pong()[0] == 0x8A


def test_only_close_after_close_received() -> None:
    client, server = pair()
    server.receive_data(client.close())
    with pytest.raises(ConnectionResetError):
        server.send_text("x")
    with pytest.raises(ConnectionResetError):
        server.ping()
    with pytest.raises(ConnectionResetError):
        server.pong()
    assert close_code_of(server.close(1000)) == 1000


def test_data_after_the_peer_close_is_ignored() -> None:
    client, server = pair()
    data = client.send_text("before") + client.close() + masked(0x81, b"after")
    assert server.receive_data(data) == [
        WSMessage(TEXT, "before", ""),
        WSMessage(WSMsgType.CLOSE, 1000, ""),
    ]
    assert server.receive_data(masked(0x81, b"later")) == []
    assert server.receive_data(b"\xff\xff garbage") == []
    assert server.exception is None


def test_data_received_while_closing_is_delivered() -> None:
    client, server = pair()
    server.close()
    assert server.receive_data(client.send_text("in flight")) == [WSMessage(TEXT, "in flight", "")]


@pytest.mark.parametrize("code", [1004, 1005, 1006, 1015, 999, 5000, 0])
def test_close_refuses_codes_that_may_not_be_sent(code: int) -> None:
    protocol = WebSocketProtocol(Role.SERVER)
    with pytest.raises(ValueError):
        protocol.close(code)
    assert protocol.state is WSState.OPEN


def test_close_refuses_long_reasons() -> None:
    with pytest.raises(ValueError):
        WebSocketProtocol(Role.SERVER).close(1000, "x" * 124)


def test_close_reason_forms() -> None:
    client, server = pair()
    assert server.receive_data(client.close(4000, b"bytes reason")) == [
        WSMessage(WSMsgType.CLOSE, 4000, "bytes reason")
    ]


# -- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (masked(0x83), WSCloseCode.PROTOCOL_ERROR),  # reserved opcode
        (masked(0x89, b"x" * 125)[:2], None),  # an incomplete frame: no error yet
        (masked(0x81, b"\xff"), WSCloseCode.INVALID_TEXT),
        (masked(0x88, b"\x03"), WSCloseCode.PROTOCOL_ERROR),
        (masked(0x88, b"\x03\xed"), WSCloseCode.PROTOCOL_ERROR),  # 1005 on the wire
        (masked(0x88, b"\x03\xe8\xff"), WSCloseCode.INVALID_TEXT),
        (bytes([0x81, 0x05]) + b"hello", WSCloseCode.PROTOCOL_ERROR),  # unmasked
    ],
)
def test_failures_map_to_close_codes(data: bytes, code: int | None) -> None:
    server = WebSocketProtocol(Role.SERVER)
    messages = server.receive_data(data)
    if code is None:
        assert messages == []
        assert server.state is WSState.OPEN
        return
    (error,) = messages
    assert error.type is WSMsgType.ERROR
    assert error.extra is None
    assert isinstance(error.data, WebSocketError)
    assert error.data.code == code
    assert server.exception is error.data
    assert server.close_code == code
    assert server.state is WSState.CLOSING
    assert close_code_of(server.close(server.close_code)) == code


def test_masked_frame_at_a_client() -> None:
    client = WebSocketProtocol(Role.CLIENT)
    (error,) = client.receive_data(masked(0x81, b"hi"))
    assert error.type is WSMsgType.ERROR
    assert client.close_code == WSCloseCode.PROTOCOL_ERROR


def test_messages_before_a_failure_are_delivered() -> None:
    client, server = pair()
    data = client.send_text("one") + client.ping(b"p") + masked(0x8B)
    messages = server.receive_data(data)
    assert messages[:2] == [WSMessage(TEXT, "one", ""), WSMessage(WSMsgType.PING, b"p", "")]
    assert messages[2].type is WSMsgType.ERROR
    assert len(messages) == 3


def test_assembler_failure_stops_the_batch() -> None:
    client, server = pair()
    data = masked(0x81, b"\xff") + client.send_text("never seen")
    messages = server.receive_data(data)
    assert [message.type for message in messages] == [WSMsgType.ERROR]
    assert server.close_code == WSCloseCode.INVALID_TEXT


def test_nothing_is_received_or_sent_after_a_failure() -> None:
    client, server = pair()
    server.receive_data(masked(0x83))
    assert server.receive_data(client.send_text("late")) == []
    with pytest.raises(ConnectionResetError):
        server.send_text("x")
    with pytest.raises(ConnectionResetError):
        server.ping()


def test_message_too_big_fails_on_the_header() -> None:
    client, server = pair(max_msg_size=100)
    frame = client.send_binary(b"x" * 101)
    (error,) = server.receive_data(frame[:4])
    assert error.type is WSMsgType.ERROR
    assert server.close_code == WSCloseCode.MESSAGE_TOO_BIG


def test_compressed_bomb() -> None:
    client, server = pair(max_msg_size=64 * 1024, compress=DeflateParams())
    frame = client.send_binary(bytes(10 * 1024 * 1024))
    assert len(frame) < 64 * 1024
    (error,) = server.receive_data(frame)
    assert error.type is WSMsgType.ERROR
    assert server.close_code == WSCloseCode.MESSAGE_TOO_BIG


# -- end of the transport ------------------------------------------------------------------


def test_eof_without_close() -> None:
    client, server = pair()
    assert server.receive_eof() == [WS_CLOSED_MESSAGE]
    assert server.receive_eof() == []
    assert server.state is WSState.CLOSED
    assert server.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert server.close() == b""
    assert server.receive_data(client.send_text("x")) == []
    with pytest.raises(ConnectionResetError):
        server.send_text("x")


def test_eof_after_the_closing_handshake_keeps_the_code() -> None:
    client, server = pair()
    server.receive_data(client.close(4001))
    server.close()
    assert server.receive_eof() == [WS_CLOSED_MESSAGE]
    assert server.close_code == 4001


# -- split streams and the bounds ----------------------------------------------------------


@pytest.mark.parametrize("compress", [None, DeflateParams()], ids=["plain", "deflate"])
def test_stream_in_every_split(compress: DeflateParams | None, split: Splitter) -> None:
    client, _ = pair(compress=compress)
    data = (
        client.send_text("first ☺")
        + client.ping(b"p")
        + client.send_binary(bytes(70_000))
        + client.send_text("")
        + client.close(1000, "end")
    )
    server = WebSocketProtocol(Role.SERVER, compress=compress)
    messages = [message for chunk in split(data) for message in server.receive_data(chunk)]
    assert messages == [
        WSMessage(TEXT, "first ☺", ""),
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(BINARY, bytes(70_000), ""),
        WSMessage(TEXT, "", ""),
        WSMessage(WSMsgType.CLOSE, 1000, "end"),
    ]
    assert server.buffered == 0


def test_trailing_partial_frame_is_held() -> None:
    client, server = pair()
    second = client.send_text("second")
    assert server.receive_data(client.send_text("first") + second[:5]) == [
        WSMessage(TEXT, "first", "")
    ]
    assert server.buffered == 5
    assert server.receive_data(second[5:]) == [WSMessage(TEXT, "second", "")]
    assert server.buffered == 0


def test_partial_message_is_counted() -> None:
    server = WebSocketProtocol(Role.SERVER)
    server.receive_data(masked(0x01, b"x" * 100))
    assert server.buffered == 100


LIMIT = 64 * 1024


@functools.cache
def bomb_frame() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = compressor.compress(bytes(16 * 1024 * 1024)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    frame = serialize_frame(OP_BINARY, payload[:-4], rsv1=True, mask=True)
    assert len(frame) < LIMIT // 2  # small on the wire: only inflating finds it too big
    return frame


@pytest.mark.parametrize(
    ("role", "data", "code"),
    [
        pytest.param(
            Role.SERVER,
            b"\x82\xff" + struct.pack("!Q", 1 << 63) + b"mask",
            WSCloseCode.PROTOCOL_ERROR,
            id="2**63-length",
        ),
        pytest.param(
            Role.SERVER,
            b"\x82\xff" + struct.pack("!Q", LIMIT + 1) + b"mask",
            WSCloseCode.MESSAGE_TOO_BIG,
            id="length-over-the-bound",
        ),
        pytest.param(
            Role.SERVER,
            bytes([0x82, 0x05]) + b"hello",
            WSCloseCode.PROTOCOL_ERROR,
            id="unmasked-client-frame",
        ),
        pytest.param(
            Role.CLIENT,
            masked(0x82, b"hello"),
            WSCloseCode.PROTOCOL_ERROR,
            id="masked-server-frame",
        ),
        pytest.param(
            Role.SERVER,
            b"\x89\xfe\x00\x7e" + b"mask" + b"x" * 126,
            WSCloseCode.PROTOCOL_ERROR,
            id="126-byte-ping",
        ),
        pytest.param(
            Role.SERVER, masked(0x09, b"frag"), WSCloseCode.PROTOCOL_ERROR, id="fragmented-ping"
        ),
        pytest.param(Role.SERVER, None, WSCloseCode.MESSAGE_TOO_BIG, id="decompression-bomb"),
    ],
)
def test_attacks_fail_with_the_right_code_and_hold_nothing(
    role: Role, data: bytes | None, code: int, split: Splitter
) -> None:
    compress = DeflateParams() if data is None else None
    protocol = WebSocketProtocol(role, max_msg_size=LIMIT, compress=compress)
    messages: list[WSMessage] = []
    for chunk in split(bomb_frame() if data is None else data):
        messages.extend(protocol.receive_data(chunk))
        assert protocol.buffered <= LIMIT + 14
    (error,) = messages
    assert error.type is WSMsgType.ERROR
    assert error.data.code == code
    assert protocol.close_code == code
    assert protocol.buffered == 0


def test_eof_before_the_peer_answers_our_close() -> None:
    client = WebSocketProtocol(Role.CLIENT)
    client.close(1000)
    assert client.receive_eof() == [WS_CLOSED_MESSAGE]
    assert client.close_code == WSCloseCode.ABNORMAL_CLOSURE


def test_eof_after_a_failure_keeps_the_error_code() -> None:
    server = WebSocketProtocol(Role.SERVER)
    server.receive_data(masked(0x83))
    server.close(server.close_code or 1000)
    assert server.receive_eof() == [WS_CLOSED_MESSAGE]
    assert server.close_code == WSCloseCode.PROTOCOL_ERROR


def test_whole_compressed_message_failure_fails_the_connection() -> None:
    # One read holding exactly one compressed frame takes the fast path; corrupt DEFLATE data
    # there must fail the connection as it does on the general path (RFC 6455 §7.1.7).
    client = WebSocketProtocol(Role.CLIENT, compress=DeflateParams())
    bad = serialize_frame(OP_BINARY, b"\xff\xff\xff\xff", rsv1=True, mask=False)
    (error,) = client.receive_data(bad)
    assert error.type is WSMsgType.ERROR
    assert isinstance(error.data, WebSocketError)
    assert client.exception is error.data
    assert client.receive_data(serialize_frame(OP_BINARY, b"late", mask=False)) == []


def test_whole_messages_keep_the_inflater_in_step() -> None:
    # Context takeover (RFC 7692 §7.2.1): whole-frame reads and split reads share one stream.
    client, server = pair(compress=DeflateParams())
    frames = [client.send_text("hello " * n) for n in range(1, 6)]
    received: list[WSMessage] = []
    for index, frame in enumerate(frames):
        if index % 2:
            received += server.receive_data(frame[:3]) + server.receive_data(frame[3:])
        else:
            received += server.receive_data(frame)
    assert [m.data for m in received] == ["hello " * n for n in range(1, 6)]


# -- the whole-message fast path ----------------------------------------------------------


def test_receive_message_takes_one_whole_data_message() -> None:
    client, server = pair()
    assert server.receive_message(client.send_text("hé")) == WSMessage(TEXT, "hé", "")
    assert client.receive_message(server.send_binary(b"\x00\xff")) == WSMessage(
        BINARY, b"\x00\xff", ""
    )
    _, raw = pair(decode_text=False)
    assert raw.receive_message(client.send_text("é")) == WSMessage(TEXT, "é".encode(), "")


def test_receive_message_fails_invalid_utf8_with_1007() -> None:
    _, server = pair()
    message = server.receive_message(masked(0x81, b"\xff\xfe"))
    assert message is not None
    assert message.type is WSMsgType.ERROR
    assert server.close_code == WSCloseCode.INVALID_TEXT
    assert server.receive_message(masked(0x81, b"ok")) is None  # nothing after a failure


def test_receive_message_inflates_a_compressed_message() -> None:
    client, server = pair(compress=DeflateParams())
    assert server.receive_message(client.send_text("x" * 500)) == WSMessage(TEXT, "x" * 500, "")


def test_receive_message_declines_what_receive_data_handles() -> None:
    client, server = pair()
    frame = client.send_text("abc")
    assert server.receive_message(bytearray(frame)) is None  # not bytes
    assert server.receive_message(frame[:3]) is None  # a partial frame
    assert server.receive_message(client.ping(b"p")) is None  # a control frame
    assert server.receive_message(client.close()) is None  # the Close frame
    assert server.receive_data(frame[:3]) == []
    assert server.receive_data(frame[3:]) == [WSMessage(TEXT, "abc", "")]


def test_no_data_is_sent_once_closed_by_any_means() -> None:
    client, server = pair()
    server.receive_eof()
    with pytest.raises(ConnectionResetError):
        server.send_text("x")
    with pytest.raises(ConnectionResetError):
        server.ping()
    assert server.receive_message(client.send_text("late")) is None


def test_receive_message_bounds_and_checks_a_compressed_message() -> None:
    client, _ = pair(compress=DeflateParams())
    frame = client.send_text("x" * 500)  # a few bytes on the wire, 500 inflated
    _, small = pair(compress=DeflateParams(), max_msg_size=499)
    message = small.receive_message(frame)
    assert message is not None and message.type is WSMsgType.ERROR
    assert small.close_code == WSCloseCode.MESSAGE_TOO_BIG
    _, exact = pair(compress=DeflateParams(), max_msg_size=500)
    assert exact.receive_message(frame) == WSMessage(TEXT, "x" * 500, "")
    _, corrupt = pair(compress=DeflateParams())
    message = corrupt.receive_message(masked(0xC1, b"\xff\xff\xff"))
    assert message is not None and message.type is WSMsgType.ERROR
    assert corrupt.close_code == WSCloseCode.PROTOCOL_ERROR
    _, invalid = pair(compress=DeflateParams())
    deflate = zlib.compressobj(wbits=-15)
    payload = (deflate.compress(b"\xff\xfe") + deflate.flush(zlib.Z_SYNC_FLUSH))[:-4]
    message = invalid.receive_message(masked(0xC1, payload))
    assert message is not None and message.type is WSMsgType.ERROR
    assert invalid.close_code == WSCloseCode.INVALID_TEXT
