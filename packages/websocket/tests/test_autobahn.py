"""The Autobahn|Testsuite case groups, reproduced against the sans-I/O server.

Each test plays the fuzzing client: it builds masked frames by hand (any header bits), feeds
them to a server :class:`WebSocketProtocol`, possibly cut into pieces as Autobahn sends them,
and checks what the server delivers and the close code it would send. Group numbers follow the
suite: 1 framing, 2 pings, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close,
12 and 13 permessage-deflate.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

import pytest

from aioloom.websocket._deflate import (
    DeflateOffer,
    DeflateParams,
    PerMessageDeflate,
    accept_deflate_response,
    negotiate_deflate,
)
from aioloom.websocket._frames import OP_BINARY, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT
from aioloom.websocket._mask import websocket_mask
from aioloom.websocket._models import WSCloseCode, WSMessage, WSMsgType
from aioloom.websocket._protocol import Role, WebSocketProtocol, WSState

Splitter = Callable[[bytes], list[bytes]]
TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
PING = WSMsgType.PING
PONG = WSMsgType.PONG
CLOSE = WSMsgType.CLOSE
ERROR = WSMsgType.ERROR
OP_CLOSE = 0x8


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """A frame as the fuzzing client sends it: masked, with any opcode and RSV field."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, 0x80 | size)
    elif size < 0x10000:
        head = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, size)
    key = os.urandom(4)
    return head + key + websocket_mask(key, payload)


def chops(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def run(
    pieces: list[bytes], server: WebSocketProtocol | None = None
) -> tuple[list[WSMessage], WebSocketProtocol]:
    """Feed the pieces to a server; collect what it delivers."""
    server = server or WebSocketProtocol(Role.SERVER)
    messages: list[WSMessage] = []
    for piece in pieces:
        messages.extend(server.receive_data(piece))
    return messages, server


def assert_failed(
    messages: list[WSMessage], server: WebSocketProtocol, code: int, before: int = 0
) -> None:
    """The connection failed with ``code`` after delivering ``before`` messages."""
    assert len(messages) == before + 1, messages
    assert messages[-1].type is ERROR
    assert messages[-1].data.code == code
    assert server.close_code == code
    close = server.close(code)
    assert struct.unpack("!H", close[2:4]) == (code,)


# -- 1. Framing ----------------------------------------------------------------------------

SIZES = [0, 125, 126, 127, 128, 65535, 65536]


@pytest.mark.parametrize("size", SIZES)
def test_1_1_text(size: int) -> None:
    text = "*" * size
    messages, _ = run([frame(OP_TEXT, text.encode())])
    assert messages == [WSMessage(TEXT, text, "")]


@pytest.mark.parametrize("size", SIZES)
def test_1_2_binary(size: int) -> None:
    data = bytes([0xFE]) * size
    messages, _ = run([frame(OP_BINARY, data)])
    assert messages == [WSMessage(BINARY, data, "")]


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_1_x_8_sent_in_997_byte_chops(opcode: int) -> None:
    payload = b"*" * 65536
    messages, _ = run(chops(frame(opcode, payload), 997))
    assert len(messages) == 1
    assert messages[0].data == (payload.decode() if opcode == OP_TEXT else payload)


# -- 2. Pings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"Hello, world!", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", b"\xfe" * 125],
    ids=["2.1-empty", "2.2-text", "2.3-binary", "2.4-125-bytes"],
)
def test_2_ping_is_delivered_and_answered(payload: bytes) -> None:
    messages, server = run([frame(OP_PING, payload)])
    assert messages == [WSMessage(PING, payload, "")]
    pong = server.pong(messages[0].data)
    assert pong == bytes([0x8A, len(payload)]) + payload


def test_2_5_ping_of_126_bytes() -> None:
    messages, server = run([frame(OP_PING, b"\xfe" * 126)])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_2_6_ping_sent_bytewise() -> None:
    messages, _ = run(chops(frame(OP_PING, b"\xfe" * 125), 1))
    assert messages == [WSMessage(PING, b"\xfe" * 125, "")]


@pytest.mark.parametrize("payload", [b"", b"unsolicited pong payload"])
def test_2_7_2_8_unsolicited_pong(payload: bytes) -> None:
    messages, _ = run([frame(OP_PONG, payload)])
    assert messages == [WSMessage(PONG, payload, "")]


def test_2_9_pong_then_ping() -> None:
    messages, _ = run([frame(OP_PONG, b"pong"), frame(OP_PING, b"ping")])
    assert messages == [WSMessage(PONG, b"pong", ""), WSMessage(PING, b"ping", "")]


@pytest.mark.parametrize("chop", [None, 1], ids=["2.10-whole", "2.11-bytewise"])
def test_2_10_2_11_ten_pings(chop: int | None) -> None:
    data = b"".join(frame(OP_PING, f"payload-{i}".encode()) for i in range(10))
    messages, _ = run(chops(data, chop) if chop else [data])
    assert messages == [WSMessage(PING, f"payload-{i}".encode(), "") for i in range(10)]


# -- 3. Reserved bits ----------------------------------------------------------------------


def test_3_1_rsv_1() -> None:
    messages, server = run([frame(OP_TEXT, b"Hello, world!", rsv=1)])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


@pytest.mark.parametrize(("rsv", "per_frame"), [(2, False), (3, True), (4, True)])
def test_3_2_to_3_4_after_a_valid_message(rsv: int, per_frame: bool) -> None:
    frames = [
        frame(OP_TEXT, b"Hello, world!"),
        frame(OP_TEXT, b"Hello, world!", rsv=rsv),
        frame(OP_PING, b"Hello, world!"),
    ]
    messages, server = run(frames if per_frame else [b"".join(frames)])
    assert messages[0] == WSMessage(TEXT, "Hello, world!", "")
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR, before=1)


@pytest.mark.parametrize(
    ("opcode", "rsv", "payload"),
    [(OP_BINARY, 5, bytes(range(8))), (OP_PING, 6, b"Hello"), (OP_CLOSE, 7, b"\x03\xe8")],
    ids=["3.5-binary", "3.6-ping", "3.7-close"],
)
def test_3_5_to_3_7(opcode: int, rsv: int, payload: bytes) -> None:
    messages, server = run([frame(opcode, payload, rsv=rsv)])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


# -- 4. Opcodes ----------------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [3, 4, 11, 12])
def test_4_x_1_and_2_reserved_opcode(opcode: int) -> None:
    messages, server = run([frame(opcode, b"reserved" if opcode % 2 == 0 else b"")])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


@pytest.mark.parametrize("opcode", [5, 6, 7, 13, 14, 15])
def test_4_x_3_to_5_reserved_opcode_after_a_message(opcode: int) -> None:
    frames = [frame(OP_TEXT, b"Hello, world!"), frame(opcode, b"x"), frame(OP_PING)]
    messages, server = run(frames)
    assert messages[0] == WSMessage(TEXT, "Hello, world!", "")
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR, before=1)


# -- 5. Fragmentation ----------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG], ids=["5.1-ping", "5.2-pong"])
def test_5_1_5_2_fragmented_control_frame(opcode: int) -> None:
    data = frame(opcode, b"fragment1", fin=False) + frame(OP_CONTINUATION, b"fragment2")
    messages, server = run([data])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_5_3_to_5_5_text_in_two_fragments(split: Splitter) -> None:
    data = frame(OP_TEXT, b"fragment1", fin=False) + frame(OP_CONTINUATION, b"fragment2")
    messages, _ = run(split(data))
    assert messages == [WSMessage(TEXT, "fragment1fragment2", "")]


def test_5_6_to_5_8_ping_between_fragments(split: Splitter) -> None:
    data = (
        frame(OP_TEXT, b"fragment1", fin=False)
        + frame(OP_PING, b"ping payload")
        + frame(OP_CONTINUATION, b"fragment2")
    )
    messages, _ = run(split(data))
    assert messages == [
        WSMessage(PING, b"ping payload", ""),
        WSMessage(TEXT, "fragment1fragment2", ""),
    ]


@pytest.mark.parametrize("fin", [True, False], ids=["5.9-5.11", "5.12-5.14"])
def test_5_9_to_5_14_continuation_with_nothing_to_continue(fin: bool, split: Splitter) -> None:
    data = frame(OP_CONTINUATION, b"non-continuation payload", fin=fin) + frame(
        OP_TEXT, b"Hello, world!"
    )
    messages, server = run(split(data))
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_5_15_continuation_after_the_end() -> None:
    data = (
        frame(OP_TEXT, b"fragment1", fin=False)
        + frame(OP_CONTINUATION, b"fragment2")
        + frame(OP_CONTINUATION, b"fragment3", fin=False)
        + frame(OP_TEXT, b"fragment4")
    )
    messages, server = run([data])
    assert messages[0] == WSMessage(TEXT, "fragment1fragment2", "")
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR, before=1)


@pytest.mark.parametrize("fin", [False, True], ids=["5.16", "5.17"])
def test_5_16_5_17_repeated_bad_fragment_sequences(fin: bool) -> None:
    sequence = (
        frame(OP_CONTINUATION, b"fragment1", fin=fin)
        + frame(OP_TEXT, b"fragment2", fin=False)
        + frame(OP_CONTINUATION, b"fragment3")
    )
    messages, server = run([sequence * 2])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_5_18_two_text_frames_for_one_message() -> None:
    data = frame(OP_TEXT, b"fragment1", fin=False) + frame(OP_TEXT, b"fragment2")
    messages, server = run([data])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_5_19_5_20_five_fragments_and_two_pings(split: Splitter) -> None:
    parts = [
        frame(OP_TEXT, b"fragment1", fin=False),
        frame(OP_CONTINUATION, b"fragment2", fin=False),
        frame(OP_PING, b"pongme 1!"),
        frame(OP_CONTINUATION, b"fragment3", fin=False),
        frame(OP_CONTINUATION, b"fragment4", fin=False),
        frame(OP_PING, b"pongme 2!"),
        frame(OP_CONTINUATION, b"fragment5"),
    ]
    messages, _ = run(split(b"".join(parts)))
    assert messages == [
        WSMessage(PING, b"pongme 1!", ""),
        WSMessage(PING, b"pongme 2!", ""),
        WSMessage(TEXT, "fragment1fragment2fragment3fragment4fragment5", ""),
    ]


# -- 6. UTF-8 handling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "text"),
    [([b""], ""), ([b"", b"", b""], ""), ([b"", b"middle", b""], "middle")],
    ids=["6.1.1", "6.1.2", "6.1.3"],
)
def test_6_1_empty_text(pieces: list[bytes], text: str) -> None:
    last = len(pieces) - 1
    data = b"".join(
        frame(OP_TEXT if i == 0 else OP_CONTINUATION, piece, fin=i == last)
        for i, piece in enumerate(pieces)
    )
    assert run([data])[0] == [WSMessage(TEXT, text, "")]


VALID_TEXTS = [
    "Hello-µ@ßöäüàá-UTF-8!!".encode(),
    "κόσμε".encode(),
    b"\x00",
    b"\xc2\x80",
    b"\xe0\xa0\x80",
    b"\xf0\x90\x80\x80",
    b"\x7f",
    b"\xdf\xbf",
    b"\xef\xbf\xbf",
    b"\xf4\x8f\xbf\xbf",
    b"\xed\x9f\xbf",
    b"\xee\x80\x80",
    b"\xef\xbf\xbd",
    b"\xef\xbf\xbe",  # U+FFFE: a noncharacter, still valid UTF-8 (6.23)
]

INVALID_TEXTS = [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
    b"\xf8\x88\x80\x80\x80",
    b"\xfc\x84\x80\x80\x80\x80",
    b"\xf4\x90\x80\x80",
    b"\x80",
    b"\xbf",
    b"\x80\xbf\x80",
    b"\xc0 ",
    b"\xe0\x80",
    b"\xf0\x80\x80",
    b"\xfe",
    b"\xff",
    b"\xfe\xfe\xff\xff",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xc1\xbf",
    b"\xe0\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xed\xad\xbf",
    b"\xed\xbf\xbf",
    b"\xed\xa0\x80\xed\xb0\x80",
    b"\xce",
    b"\xe2\x82",
]


@pytest.mark.parametrize("text", VALID_TEXTS)
def test_6_2_and_6_5_valid_text(text: bytes) -> None:
    assert run([frame(OP_TEXT, text)])[0] == [WSMessage(TEXT, text.decode(), "")]
    # ... and in one-byte fragments, cut inside code points (6.2.3, 6.2.4).
    last = len(text) - 1
    data = b"".join(
        frame(OP_TEXT if i == 0 else OP_CONTINUATION, text[i : i + 1], fin=i == last)
        for i in range(len(text))
    )
    assert run([data])[0] == [WSMessage(TEXT, text.decode(), "")]


@pytest.mark.parametrize("text", INVALID_TEXTS)
def test_6_3_and_6_6_to_6_21_invalid_text(text: bytes) -> None:
    messages, server = run([frame(OP_TEXT, text)])
    assert_failed(messages, server, WSCloseCode.INVALID_TEXT)
    last = len(text) - 1
    fragmented = [
        frame(OP_TEXT if i == 0 else OP_CONTINUATION, text[i : i + 1], fin=i == last)
        for i in range(len(text))
    ]
    messages, server = run(fragmented)
    assert_failed(messages, server, WSCloseCode.INVALID_TEXT)


def test_6_3_2_fails_before_the_rest_arrives() -> None:
    text = INVALID_TEXTS[0]
    server = WebSocketProtocol(Role.SERVER)
    bad_at = text.index(b"\xa0")  # ED A0: a surrogate can never complete
    for i in range(len(text)):
        messages = server.receive_data(
            frame(OP_TEXT if i == 0 else OP_CONTINUATION, text[i : i + 1], fin=False)
        )
        if i < bad_at:
            assert messages == []
        else:
            assert_failed(messages, server, WSCloseCode.INVALID_TEXT)
            break


@pytest.mark.parametrize(
    "fragments",
    [
        # 6.4.1: the second fragment carries the invalid sequence.
        [b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", b"\xf4\x90\x80\x80", b"edited"],
        # 6.4.2: the first fragment ends on a lead byte that the second makes invalid.
        [b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4", b"\x90\x80\x80", b"edited"],
    ],
    ids=["6.4.1", "6.4.2"],
)
def test_6_4_fail_fast_across_fragments(fragments: list[bytes]) -> None:
    server = WebSocketProtocol(Role.SERVER)
    assert server.receive_data(frame(OP_TEXT, fragments[0], fin=False)) == []
    messages = server.receive_data(frame(OP_CONTINUATION, fragments[1], fin=False))
    assert_failed(messages, server, WSCloseCode.INVALID_TEXT)
    assert server.receive_data(frame(OP_CONTINUATION, fragments[2])) == []


def test_6_4_3_invalid_frame_sent_in_chops() -> None:
    text = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited"
    messages, server = run(chops(frame(OP_TEXT, text), 4))
    assert_failed(messages, server, WSCloseCode.INVALID_TEXT)


# -- 7. Close handling ---------------------------------------------------------------------


def close_frame(code: int | None = None, reason: bytes = b"") -> bytes:
    payload = b"" if code is None else struct.pack("!H", code) + reason
    return frame(OP_CLOSE, payload)


def test_7_1_1_message_then_close() -> None:
    messages, server = run([frame(OP_TEXT, b"Hello World!"), close_frame(1000)])
    assert messages == [WSMessage(TEXT, "Hello World!", ""), WSMessage(CLOSE, 1000, "")]
    assert server.close()[:4] == b"\x88\x02\x03\xe8"
    assert server.state is WSState.CLOSED


@pytest.mark.parametrize(
    "after",
    [
        close_frame(1000),  # 7.1.2 close twice
        frame(OP_PING, b"ping"),  # 7.1.3 ping after close
        frame(OP_TEXT, b"text"),  # 7.1.4 text after close
    ],
    ids=["7.1.2", "7.1.3", "7.1.4"],
)
def test_7_1_2_to_7_1_4_nothing_after_close(after: bytes) -> None:
    messages, server = run([close_frame(1000), after])
    assert messages == [WSMessage(CLOSE, 1000, "")]
    assert server.exception is None


def test_7_1_5_close_inside_a_fragmented_message() -> None:
    data = (
        frame(OP_TEXT, b"fragment1", fin=False)
        + close_frame(1000)
        + frame(OP_CONTINUATION, b"fragment2")
    )
    assert run([data])[0] == [WSMessage(CLOSE, 1000, "")]


def test_7_1_6_large_message_then_close_then_ping() -> None:
    text = "BAsd7&jh23" * 26214  # 256 KiB
    data = frame(OP_TEXT, text.encode()) + close_frame(1000) + frame(OP_PING, b"x")
    assert run(chops(data, 4096))[0] == [WSMessage(TEXT, text, ""), WSMessage(CLOSE, 1000, "")]


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (None, b"", WSMessage(CLOSE, 0, "")),  # 7.3.1
        (1000, b"", WSMessage(CLOSE, 1000, "")),  # 7.3.3
        (1000, b"Hello World!", WSMessage(CLOSE, 1000, "Hello World!")),  # 7.3.4
        (1000, b"*" * 123, WSMessage(CLOSE, 1000, "*" * 123)),  # 7.3.5
    ],
    ids=["7.3.1", "7.3.3", "7.3.4", "7.3.5"],
)
def test_7_3_close_payloads(code: int | None, reason: bytes, expected: WSMessage) -> None:
    assert run([close_frame(code, reason)])[0] == [expected]


def test_7_3_2_one_byte_close_payload() -> None:
    messages, server = run([frame(OP_CLOSE, b"\x03")])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_7_3_6_close_payload_of_126_bytes() -> None:
    messages, server = run([close_frame(1000, b"*" * 124)])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


def test_7_5_1_invalid_utf8_close_reason() -> None:
    reason = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"
    messages, server = run([close_frame(1000, reason)])
    assert_failed(messages, server, WSCloseCode.INVALID_TEXT)


@pytest.mark.parametrize(
    "code",
    [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]
    + [3000, 3999, 4000, 4999],
)
def test_7_7_valid_close_codes(code: int) -> None:
    messages, server = run([close_frame(code)])
    assert messages == [WSMessage(CLOSE, code, "")]
    assert server.close_code == code


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_7_9_and_7_13_invalid_close_codes(code: int) -> None:
    messages, server = run([close_frame(code)])
    assert_failed(messages, server, WSCloseCode.PROTOCOL_ERROR)


# -- 12 and 13. permessage-deflate ---------------------------------------------------------

# 13.x: the fuzzing client's offers as (server_no_context_takeover, server_max_window_bits),
# each with client_max_window_bits, as Autobahn sends them.
OFFERS: list[list[tuple[bool, int]]] = [
    [(False, 0)],  # 13.1
    [(True, 0)],  # 13.2
    [(False, 8)],  # 13.3: declined (aiohttp), the connection runs uncompressed
    [(False, 15)],  # 13.4
    [(True, 8)],  # 13.5: declined
    [(True, 15)],  # 13.6
    [(True, 8), (True, 0), (False, 0)],  # 13.7: the second offer is accepted
    [(False, 9)],
    [(True, 12)],
]


def offer_header(offers: list[tuple[bool, int]]) -> str:
    elements = []
    for no_takeover, bits in offers:
        parts = ["permessage-deflate", "client_max_window_bits"]
        if no_takeover:
            parts.append("server_no_context_takeover")
        if bits:
            parts.append(f"server_max_window_bits={bits}")
        elements.append("; ".join(parts))
    return ", ".join(elements)


def payloads(size: int) -> list[tuple[int, bytes]]:
    words = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
    text = (words * (size // len(words) + 1))[:size]
    return [(OP_TEXT, text), (OP_BINARY, os.urandom(size)), (OP_BINARY, bytes(size))]


def exchange(params: DeflateParams | None, size: int, fragment_size: int, count: int = 8) -> None:
    """Messages client -> server (fragmented) and server -> client (echo), compressed."""
    server = WebSocketProtocol(Role.SERVER, compress=params, max_msg_size=0)
    client = WebSocketProtocol(Role.CLIENT, compress=params, max_msg_size=0)
    fuzzer = None if params is None else PerMessageDeflate(params, is_client=True)
    for _ in range(count):
        for opcode, payload in payloads(size):
            wire = payload if fuzzer is None else fuzzer.compress(payload)
            pieces = chops(wire, fragment_size) if fragment_size else [wire]
            pieces = pieces or [b""]
            last = len(pieces) - 1
            data = b"".join(
                frame(
                    opcode if i == 0 else OP_CONTINUATION,
                    piece,
                    fin=i == last,
                    rsv=4 if fuzzer is not None and i == 0 else 0,
                )
                for i, piece in enumerate(pieces)
            )
            (received,) = server.receive_data(data)
            expected = payload.decode() if opcode == OP_TEXT else payload
            assert received.data == expected
            echo = server.send_frame(payload, opcode)
            if params is not None and size > 64:
                assert echo[0] & 0x40  # compressed
            (back,) = client.receive_data(echo)
            assert back.data == expected


@pytest.mark.parametrize("size", [16, 64, 256, 1024, 4096, 16384, 65536, 131072])
@pytest.mark.parametrize("fragment_size", [0, 256, 1024, 4096])
def test_12_default_parameters(size: int, fragment_size: int) -> None:
    agreed = negotiate_deflate(offer_header([(False, 0)]))
    assert agreed is not None
    exchange(agreed[0], size, fragment_size, count=2 if size > 16384 else 8)


@pytest.mark.parametrize("offers", OFFERS, ids=[f"offer{i}" for i in range(len(OFFERS))])
@pytest.mark.parametrize("size", [16, 1024, 65536])
@pytest.mark.parametrize("fragment_size", [0, 500])
def test_13_negotiated_parameters(
    offers: list[tuple[bool, int]], size: int, fragment_size: int
) -> None:
    header = offer_header(offers)
    agreed = negotiate_deflate(header)
    declined = all(bits == 8 for _, bits in offers)
    if declined:
        assert agreed is None
        params = None
    else:
        assert agreed is not None
        params, response = agreed
        first = next(offer for offer in offers if offer[1] != 8)
        assert params.server_no_context_takeover == first[0]
        assert params.server_max_window_bits == (first[1] or 15)
        # The client side reads the same parameters from the response.
        client_offer = DeflateOffer(
            server_no_context_takeover=first[0], server_max_window_bits=first[1] or None
        )
        assert accept_deflate_response(response, client_offer) == params
    exchange(params, size, fragment_size, count=3)


@pytest.mark.parametrize(
    "policy",
    [
        {"server_no_context_takeover": True},
        {"client_no_context_takeover": True},
        {"server_max_window_bits": 9},
        {"server_no_context_takeover": True, "client_no_context_takeover": True},
    ],
)
def test_13_server_policies(policy: dict[str, int | bool]) -> None:
    agreed = negotiate_deflate(offer_header([(False, 0)]), **policy)  # type: ignore[arg-type]
    assert agreed is not None
    params, response = agreed
    assert accept_deflate_response(response, DeflateOffer()) == params
    exchange(params, 4096, 1000, count=4)
