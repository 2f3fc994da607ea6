from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.websocket._models import WebSocketError, WSCloseCode
from aioloom.websocket._utf8 import Utf8Decoder, decode_utf8

# Autobahn 6.x: boundary code points and classic invalid sequences.
VALID = [
    b"",
    "Hello-µ@ßöäüàá-UTF-8!!".encode(),
    "κόσμε".encode(),
    b"\x00",
    b"\x7f",
    b"\xc2\x80",
    b"\xdf\xbf",
    b"\xe0\xa0\x80",
    b"\xed\x9f\xbf",  # U+D7FF, just below the surrogates
    b"\xee\x80\x80",  # U+E000, just above them
    b"\xef\xbf\xbf",
    b"\xf0\x90\x80\x80",
    b"\xf4\x8f\xbf\xbf",  # U+10FFFF
]

INVALID = [
    b"\x80",  # lone continuation byte
    b"\xbf",
    b"\xc0\xaf",  # overlong "/"
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xc1\xbf",
    b"\xed\xa0\x80",  # UTF-16 surrogates
    b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf5\x80\x80\x80",
    b"\xfe",
    b"\xff",
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
]
# Valid prefixes that the end of the text makes invalid.
TRUNCATED = [b"\xce", b"\xe2\x82", b"\xf0\x9f\x98", b"ok\xed\x9f"]


def assert_invalid(info: pytest.ExceptionInfo[WebSocketError]) -> None:
    assert info.value.code == WSCloseCode.INVALID_TEXT


@pytest.mark.parametrize("data", VALID)
def test_valid_whole(data: bytes) -> None:
    assert decode_utf8(data) == data.decode()
    assert Utf8Decoder().decode(data, final=True) == data.decode()


@pytest.mark.parametrize("data", INVALID + TRUNCATED)
def test_invalid_whole(data: bytes) -> None:
    with pytest.raises(WebSocketError) as info:
        decode_utf8(data)
    assert_invalid(info)
    with pytest.raises(WebSocketError) as info:
        Utf8Decoder().decode(data, final=True)
    assert_invalid(info)


@pytest.mark.parametrize("data", VALID)
def test_valid_split_anywhere(data: bytes) -> None:
    for cut in range(len(data) + 1):
        decoder = Utf8Decoder()
        text = decoder.decode(data[:cut], final=False) + decoder.decode(data[cut:], final=True)
        assert text == data.decode()


def test_valid_bytewise() -> None:
    data = "Hello-µ@ßöäüàá-UTF-8!! 😀 κόσμε".encode()
    decoder = Utf8Decoder()
    pieces = [decoder.decode(data[i : i + 1], final=False) for i in range(len(data))]
    assert "".join(pieces) + decoder.decode(b"", final=True) == data.decode()


@given(st.text())
def test_any_text_in_any_two_pieces(text: str) -> None:
    data = text.encode()
    for cut in range(0, len(data) + 1, max(1, len(data) // 5)):
        decoder = Utf8Decoder()
        assert decoder.decode(data[:cut], final=False) + decoder.decode(data[cut:], final=True) == (
            text
        )


@pytest.mark.parametrize("data", INVALID)
def test_invalid_fails_fast_on_the_first_impossible_byte(data: bytes) -> None:
    # Feeding byte by byte, the error comes no later than the byte that makes the sequence
    # impossible, before the text ends (Autobahn 6.4 "fail fast").
    decoder = Utf8Decoder()
    with pytest.raises(WebSocketError) as info:
        for i in range(len(data)):
            decoder.decode(data[i : i + 1], final=False)
    assert_invalid(info)


def test_surrogate_prefix_fails_before_the_character_completes() -> None:
    decoder = Utf8Decoder()
    assert decoder.decode(b"ok\xed", final=False) == "ok"
    with pytest.raises(WebSocketError) as info:
        decoder.decode(b"\xa0", final=False)
    assert_invalid(info)


@pytest.mark.parametrize("data", TRUNCATED)
def test_partial_character_at_the_end_of_the_text(data: bytes) -> None:
    decoder = Utf8Decoder()
    for i in range(len(data)):
        decoder.decode(data[i : i + 1], final=False)
    with pytest.raises(WebSocketError) as info:
        decoder.decode(b"", final=True)
    assert_invalid(info)


def test_reset_forgets_a_partial_character() -> None:
    decoder = Utf8Decoder()
    decoder.decode(b"\xe2\x82", final=False)
    decoder.reset()
    assert decoder.decode(b"abc", final=True) == "abc"


def test_decoder_is_reusable_after_an_error() -> None:
    decoder = Utf8Decoder()
    with pytest.raises(WebSocketError):
        decoder.decode(b"\xe2\x82", final=True)
    assert decoder.decode("€".encode(), final=True) == "€"
