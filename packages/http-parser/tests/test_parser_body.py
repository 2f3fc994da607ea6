"""Bodies: Content-Length, chunked (sizes, extensions, trailers, limits), EndOfMessage.

Every valid body goes through ``parse`` (whole, bytewise, split everywhere) and every
malformed one asserts the exception type and its ``code``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from multidict import CIMultiDictProxy

from aioloom.http._exceptions import (
    BadHttpMessage,
    ContentLengthError,
    HttpProcessingError,
    InvalidHeader,
    LineTooLong,
    TooManyHeaders,
    TransferEncodingError,
)
from aioloom.http._parser import EndOfMessage, HttpRequestParser, HttpResponseParser

Parse = Callable[..., object]

POST_CHUNKED = b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
RESP_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def fails(
    parse: Parse, factory: object, data: bytes, exc: type[HttpProcessingError], code: int = 400
) -> None:
    out = parse(factory, data)
    assert out.error is exc, out.exc  # type: ignore[attr-defined]
    assert out.code == code  # type: ignore[attr-defined]


# --- Content-Length ---------------------------------------------------------------------


def test_length_body_is_delivered_exactly(parse: Parse, req: object) -> None:
    body = bytes(range(256)) * 10
    head = b"PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)
    out = parse(req, head + body + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert out.body == body
    assert len(out.messages) == 2


def test_whole_buffer_body_is_not_copied() -> None:
    parser = HttpRequestParser()
    parser.feed_data(b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n")
    chunk = b"abcd"
    events, _, _ = parser.feed_data(chunk)
    assert events[0] is chunk
    last = b"efgh"
    events, _, _ = parser.feed_data(last)
    assert events[0] is last
    assert events[1] == EndOfMessage()


def test_body_events_are_never_empty(feed: Parse, req: object) -> None:
    out = feed(
        req, [b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n", b"", b"a", b"", b"b"]
    )
    assert out.events[1:] == [b"ab", EndOfMessage()]


# --- chunked ----------------------------------------------------------------------------


def test_chunked_body(parse: Parse, req: object) -> None:
    out = parse(
        req, POST_CHUNKED + b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"
    )
    assert out.body == b"Wikipedia in\r\n\r\nchunks."
    assert out.events[-1] is not None and out.events[-1] == EndOfMessage()
    assert out.events[0].chunked is True


def test_large_chunked_response(parse: Parse, lax_resp: object) -> None:
    body = bytes(range(256)) * 256
    chunks = b"".join(
        b"%x\r\n" % 4096 + body[i : i + 4096] + b"\r\n" for i in range(0, len(body), 4096)
    )
    out = parse(lax_resp, RESP_CHUNKED + chunks + b"0\r\n\r\n")
    assert out.body == body


@pytest.mark.parametrize(
    "size_line",
    [
        b"a",
        b"A",
        b"000a",
        b"000000000000000a",  # 16 digits
        b"a;name",
        b"a;name=value",
        b'a;name="quoted \\" value"',
        b"a ; name = value",
        b'a;\tname\t=\t"v"',
        b'a;a;b=c;d=""',
        b'a;x="\x80\xff"',
        b"a;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
    ],
)
def test_valid_size_lines(parse: Parse, req: object, size_line: bytes) -> None:
    out = parse(req, POST_CHUNKED + size_line + b"\r\n0123456789\r\n0\r\n\r\n")
    assert out.body == b"0123456789"


@pytest.mark.parametrize(
    "size_line",
    [
        b"",
        b"x",
        b"-1",
        b"+a",
        b"0xa",
        b"a a",
        b"a ",
        b" a",
        b"a\t",
        b"0000000000000000a",  # 17 digits: overflow guard
        b"fffffffffffffffff",
        b"\xd9\xa1",
        b"a;",
        b"a;=x",
        b'a;a="unterminated',
        b"a;a=b c",
        b"a;a=\x01",
        b'a;a="\x01"',
        b"a;a b",
        b"a,b",
        b"a\rb",
    ],
)
def test_invalid_size_lines(parse: Parse, req: object, size_line: bytes) -> None:
    fails(
        parse, req, POST_CHUNKED + size_line + b"\r\n0123456789\r\n0\r\n\r\n", TransferEncodingError
    )


@pytest.mark.parametrize("size_line", [b"a ", b" a", b"\ta\t", b"a ;x=y ", b"a;x=y\t"])
def test_lax_blanks_around_the_size(
    parse: Parse, lax_resp: object, strict_resp: object, size_line: bytes
) -> None:
    data = RESP_CHUNKED + size_line + b"\r\n0123456789\r\n0\r\n\r\n"
    assert parse(lax_resp, data).body == b"0123456789"
    fails(parse, strict_resp, data, TransferEncodingError)


@pytest.mark.parametrize(
    "tail",
    [
        b"abcX\r\n0\r\n\r\n",
        b"abc\n0\r\n\r\n",
        b"abcd\r\n0\r\n\r\n",
        b"abc\r\r\n0\r\n\r\n",
        b"ab\r\n0\r\n\r\n",
    ],
)
def test_missing_crlf_after_chunk_data(parse: Parse, req: object, tail: bytes) -> None:
    fails(parse, req, POST_CHUNKED + b"3\r\n" + tail, TransferEncodingError)


def test_lax_crlf_after_chunk_data(parse: Parse, lax_resp: object, strict_resp: object) -> None:
    data = RESP_CHUNKED + b"3\nabc\n0\n\n"
    assert parse(lax_resp, data).body == b"abc"
    fails(parse, strict_resp, data, TransferEncodingError)


@pytest.mark.parametrize("data", [b"3\nabc\r\n0\r\n\r\n", b"3\r\nabc\r\n0\n\r\n"])
def test_bare_lf_after_size(parse: Parse, req: object, data: bytes) -> None:
    fails(parse, req, POST_CHUNKED + data, TransferEncodingError)


def test_bare_lf_ending_the_trailer_section(parse: Parse, req: object) -> None:
    fails(parse, req, POST_CHUNKED + b"0\r\n\n", BadHttpMessage)


def test_chunk_size_line_limit(parse: Parse) -> None:
    def small() -> HttpRequestParser:
        return HttpRequestParser(max_line_size=40)

    ok = b"a;x=" + b"v" * 36
    assert parse(small, POST_CHUNKED + ok + b"\r\n0123456789\r\n0\r\n\r\n").error is None
    out = parse(small, POST_CHUNKED + ok + b"v\r\n0123456789\r\n0\r\n\r\n")
    assert (out.error, out.code) == (LineTooLong, 400)


def test_chunk_size_line_limit_without_line_end() -> None:
    parser = HttpRequestParser(max_line_size=100)
    parser.feed_data(POST_CHUNKED + b"a;x=" + b"v" * 90)
    with pytest.raises(LineTooLong):
        parser.feed_data(b"v" * 10)


def test_chunk_size_line_limit_in_one_read() -> None:
    with pytest.raises(LineTooLong):
        HttpRequestParser().feed_data(POST_CHUNKED + b"1;" + b"x" * 100_000)


# --- trailers ---------------------------------------------------------------------------


def test_trailers(parse: Parse, req: object) -> None:
    data = POST_CHUNKED + b"3\r\nabc\r\n0\r\nX-Checksum: abc123\r\nX-Other:  two words \r\n\r\n"
    out = parse(req, data + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    eom = out.events[2]
    assert isinstance(eom, EndOfMessage)
    assert isinstance(eom.trailers, CIMultiDictProxy)
    assert eom.trailers["x-checksum"] == "abc123"
    assert eom.trailers["X-Other"] == "two words"
    assert eom.raw_trailers == ((b"X-Checksum", b"abc123"), (b"X-Other", b"two words"))
    assert len(out.messages) == 2


def test_last_chunk_with_extension(parse: Parse, req: object) -> None:
    out = parse(req, POST_CHUNKED + b"0;done=1\r\nX: y\r\n\r\n")
    assert out.body == b""
    assert out.events[-1].raw_trailers == ((b"X", b"y"),)


def test_lax_trailers(parse: Parse, lax_resp: object) -> None:
    out = parse(lax_resp, RESP_CHUNKED + b"1\r\nz\r\n0\nX: a\n folded\n\n")
    assert out.events[-1].trailers["X"] == "a folded"


@pytest.mark.parametrize(
    ("trailer", "exc"),
    [
        (b"Bad Name: x", InvalidHeader),
        (b"X: a\x00b", InvalidHeader),
        (b"X : a", InvalidHeader),
        (b"NoColon", InvalidHeader),
        (b" folded", InvalidHeader),
        (b"X: a\rb", InvalidHeader),
        (b"X: a\nb", BadHttpMessage),
    ],
)
def test_invalid_trailers(parse: Parse, req: object, trailer: bytes, exc: type) -> None:
    fails(parse, req, POST_CHUNKED + b"0\r\nX-Ok: 1\r\n" + trailer + b"\r\n\r\n", exc)


def test_trailer_limits(parse: Parse) -> None:
    def small() -> HttpRequestParser:
        return HttpRequestParser(max_field_size=30, max_headers=3)

    data = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    assert parse(small, data + b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n").error is None
    out = parse(small, data + b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n")
    assert (out.error, out.code) == (TooManyHeaders, 431)
    assert parse(small, data + b"A: " + b"a" * 27 + b"\r\n\r\n").error is None
    out = parse(small, data + b"A: " + b"a" * 28 + b"\r\n\r\n")
    assert (out.error, out.code) == (LineTooLong, 431)


def test_trailer_limit_without_line_end() -> None:
    parser = HttpRequestParser(max_field_size=50)
    parser.feed_data(POST_CHUNKED + b"0\r\nX-Long: ")
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(b"t" * 60)
    assert info.value.code == 431


# --- EndOfMessage -----------------------------------------------------------------------


def test_end_of_message_is_frozen_and_slotted() -> None:
    eom = EndOfMessage()
    with pytest.raises(dataclasses.FrozenInstanceError):
        eom.raw_trailers = ()  # type: ignore[misc]
    assert not hasattr(eom, "__dict__")
    assert eom.trailers == {}
    assert eom.raw_trailers == ()
    assert hash(eom) == hash(EndOfMessage())


def test_messages_without_trailers_share_one_instance() -> None:
    data = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 3
    events, _, _ = HttpRequestParser().feed_data(data)
    assert events[1] is events[3] is events[5]


def test_end_of_message_equality() -> None:
    events, _, _ = HttpResponseParser().feed_data(RESP_CHUNKED + b"0\r\nA: 1\r\n\r\n")
    other, _, _ = HttpResponseParser().feed_data(RESP_CHUNKED + b"0\r\nA: 1\r\n\r\n")
    assert events[-1] == other[-1] != EndOfMessage()


# --- end of input -----------------------------------------------------------------------


def test_eof_with_a_short_length_body() -> None:
    parser = HttpResponseParser()
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    with pytest.raises(ContentLengthError, match="received 2 of 5") as info:
        parser.feed_eof()
    assert info.value.code == 400
    with pytest.raises(ContentLengthError):
        parser.feed_eof()


@pytest.mark.parametrize(
    "partial",
    [
        b"",
        b"5",
        b"5\r\nab",
        b"5\r\nabcde",
        b"5\r\nabcde\r",
        b"5\r\nabcde\r\n0\r\n",
        b"0\r\nX: y\r\n",
    ],
)
def test_eof_inside_chunked(partial: bytes) -> None:
    parser = HttpResponseParser()
    parser.feed_data(RESP_CHUNKED + partial)
    with pytest.raises(TransferEncodingError) as info:
        parser.feed_eof()
    assert info.value.code == 400
