"""The parsers' head cache: a repeated head reuses its parsed message, never a wrong one.

A head is reused only when its bytes and every setting that decides its parse (limits, lax
mode, and for responses the request method) are the same; a head that failed is never kept;
the cache is bounded.
"""

from __future__ import annotations

import pytest

from aioloom.http import _parser
from aioloom.http._exceptions import BadHttpMessage, LineTooLong, TooManyHeaders
from aioloom.http._messages import RawRequestMessage, RawResponseMessage
from aioloom.http._parser import EndOfMessage, HttpRequestParser, HttpResponseParser

GET = b"GET /cached HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Trace: 1\r\n\r\n"
POST = b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Cache-Test: 1\r\n\r\n"


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    _parser._request_heads.clear()
    _parser._response_heads.clear()


def test_a_repeated_request_head_reuses_the_parsed_message() -> None:
    parser = HttpRequestParser()
    events, _, _ = parser.feed_data(GET + GET)
    first, eom1, second, eom2 = events
    assert isinstance(first, RawRequestMessage)
    assert second is first
    assert eom1 == eom2 == EndOfMessage()
    assert first.path == "/cached" and first.headers["X-Trace"] == "1"
    # Another connection's parser reuses it too.
    other, _, _ = HttpRequestParser().feed_data(GET)
    assert other[0] is first


def test_a_reused_head_still_frames_its_body() -> None:
    parser = HttpRequestParser()
    events, _, _ = parser.feed_data(POST + b"hello" + POST + b"wor")
    assert events[1:3] == [b"hello", EndOfMessage()]
    assert events[3] is events[0]
    assert events[4:] == [b"wor"]
    events, _, _ = parser.feed_data(b"ld")
    assert events == [b"ld", EndOfMessage()]


def test_a_head_arriving_in_pieces_uses_the_cache() -> None:
    (whole, _), _, _ = HttpRequestParser().feed_data(GET)
    parser = HttpRequestParser()
    assert parser.feed_data(GET[:10]) == ([], False, b"")
    events, _, _ = parser.feed_data(GET[10:])
    assert events[0] is whole


def test_smaller_limits_are_not_bypassed_by_a_cached_head() -> None:
    HttpRequestParser().feed_data(GET)
    assert GET in _parser._request_heads
    with pytest.raises(TooManyHeaders):
        HttpRequestParser(max_headers=1).feed_data(GET)
    with pytest.raises(LineTooLong):
        HttpRequestParser(max_field_size=10).feed_data(GET)
    with pytest.raises(LineTooLong):
        HttpRequestParser(max_line_size=10).feed_data(GET)


def test_a_head_that_failed_is_not_kept() -> None:
    bad = b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    for _ in range(2):
        with pytest.raises(BadHttpMessage):
            HttpRequestParser().feed_data(bad)
    assert not _parser._request_heads


def test_the_response_method_is_part_of_the_key() -> None:
    parser = HttpResponseParser(lax=False)
    parser.method = "GET"
    events, _, _ = parser.feed_data(RESPONSE + b"body")
    assert isinstance(events[0], RawResponseMessage)
    assert events[1:] == [b"body", EndOfMessage()]
    head = HttpResponseParser(lax=False)
    head.method = "HEAD"  # RFC 9112 §6.3: no body after HEAD, whatever Content-Length says
    events, _, _ = head.feed_data(RESPONSE)
    assert events[1:] == [EndOfMessage()]
    assert head.method == "HEAD"


def test_lax_and_strict_parses_are_kept_apart() -> None:
    bare_lf = b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"
    events, _, _ = HttpResponseParser(lax=True).feed_data(bare_lf)
    assert isinstance(events[0], RawResponseMessage)
    with pytest.raises(BadHttpMessage):
        HttpResponseParser(lax=False).feed_data(bare_lf)


def test_an_interim_response_is_replayed_as_one() -> None:
    wire = b"HTTP/1.1 100 Continue\r\n\r\n"
    parser = HttpResponseParser(lax=False)
    events, _, _ = parser.feed_data(wire + wire + b"HTTP/1.1 204 No Content\r\n\r\n")
    assert [type(event) for event in events] == [
        RawResponseMessage,
        EndOfMessage,
        RawResponseMessage,
        EndOfMessage,
        RawResponseMessage,
        EndOfMessage,
    ]
    assert events[2] is events[0]
    assert events[4].code == 204  # type: ignore[union-attr]


def test_the_cache_is_bounded() -> None:
    parser = HttpRequestParser()
    for index in range(_parser._HEAD_CACHE_SIZE * 2 + 3):
        events, _, _ = parser.feed_data(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % index)
        assert events[0].path == f"/{index}"  # type: ignore[union-attr]
        assert len(_parser._request_heads) <= _parser._HEAD_CACHE_SIZE
    big = b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"x" * _parser._HEAD_CACHEABLE + b"\r\n\r\n"
    _parser._request_heads.clear()
    HttpRequestParser().feed_data(big)
    assert not _parser._request_heads


def test_a_parser_without_a_cache_parses_every_head() -> None:
    parser = HttpRequestParser()
    parser._cache = None
    events, _, _ = parser.feed_data(GET + GET)
    assert events[2] is not events[0]
    assert events[2] == events[0]
    assert not _parser._request_heads


@pytest.mark.parametrize(
    "field",
    [b"Authorization: Basic dTpw", b"proxy-authorization: Basic dTpw", b"Cookie: sid=secret"],
)
def test_a_request_head_carrying_credentials_is_never_kept(field: bytes) -> None:
    head = b"GET /private HTTP/1.1\r\nHost: h\r\n" + field + b"\r\n\r\n"
    first, _, _ = HttpRequestParser().feed_data(head)
    again, _, _ = HttpRequestParser().feed_data(head)
    assert again[0] == first[0] and again[0] is not first[0]
    assert _parser._request_heads == {}


def test_a_response_head_setting_a_cookie_is_never_kept() -> None:
    head = b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=secret\r\nContent-Length: 0\r\n\r\n"
    first, _, _ = HttpResponseParser().feed_data(head)
    again, _, _ = HttpResponseParser().feed_data(head)
    assert again[0] == first[0] and again[0] is not first[0]
    assert _parser._response_heads == {}
