from __future__ import annotations

import struct

import pytest

from aioloom.websocket._close import (
    MAX_REASON_SIZE,
    build_close_payload,
    is_valid_close_code,
    parse_close_payload,
)
from aioloom.websocket._models import WebSocketError, WSCloseCode

# RFC 6455 §7.4 and Autobahn 7.7 / 7.9 / 7.13.
VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]
VALID_CODES += [3000, 3001, 3999, 4000, 4001, 4999]
INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999]
INVALID_CODES += [5000, 5001, 65535]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_codes(code: int) -> None:
    assert is_valid_close_code(code)
    assert parse_close_payload(struct.pack("!H", code)) == (code, "")


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_codes_are_protocol_errors(code: int) -> None:
    assert not is_valid_close_code(code)
    with pytest.raises(WebSocketError, match=f"Invalid close code: {code}") as info:
        parse_close_payload(struct.pack("!H", code) + b"reason")
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR


def test_every_code_in_the_close_ranges() -> None:
    valid = {code for code in range(65536) if is_valid_close_code(code)}
    assert valid == set(VALID_CODES) | set(range(3000, 5000))


def test_empty_payload() -> None:
    # aiohttp reports a Close frame without a body as code 0 and an empty reason.
    assert parse_close_payload(b"") == (0, "")


def test_one_byte_payload() -> None:
    # RFC 6455 §5.5.1: a body starts with a two-byte code.
    with pytest.raises(WebSocketError) as info:
        parse_close_payload(b"\x03")
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR


def test_reason() -> None:
    payload = struct.pack("!H", 1001) + "au revoir ☺".encode()
    assert parse_close_payload(payload) == (1001, "au revoir ☺")


def test_longest_reason() -> None:
    reason = "x" * MAX_REASON_SIZE
    assert parse_close_payload(build_close_payload(1000, reason)) == (1000, reason)


@pytest.mark.parametrize(
    "reason", [b"\xff", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", b"\xce"]
)
def test_invalid_utf8_reason(reason: bytes) -> None:
    with pytest.raises(WebSocketError) as info:
        parse_close_payload(b"\x03\xe8" + reason)
    assert info.value.code == WSCloseCode.INVALID_TEXT


def test_build() -> None:
    assert build_close_payload(1000) == b"\x03\xe8"
    assert build_close_payload(WSCloseCode.GOING_AWAY, b"bye") == b"\x03\xe9bye"
    assert build_close_payload(4000, "é") == b"\x0f\xa0\xc3\xa9"


@pytest.mark.parametrize("code", INVALID_CODES)
def test_build_rejects_invalid_codes(code: int) -> None:
    with pytest.raises(ValueError, match="Invalid close code"):
        build_close_payload(code)


@pytest.mark.parametrize(
    "message", ["x" * (MAX_REASON_SIZE + 1), b"x" * (MAX_REASON_SIZE + 1), b"\xff"]
)
def test_build_rejects_invalid_reasons(message: bytes | str) -> None:
    with pytest.raises(ValueError):
        build_close_payload(1000, message)
