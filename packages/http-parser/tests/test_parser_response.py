"""HttpResponseParser: status lines, strict and lax modes, bodiless responses, switches.

Every valid message goes through ``parse`` (whole, bytewise, split everywhere) and every
malformed one asserts the exception type and its ``code``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from aioloom.http._exceptions import (
    BadHttpMessage,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    LineTooLong,
    TooManyHeaders,
    TransferEncodingError,
)
from aioloom.http._messages import HttpVersion10, HttpVersion11, RawResponseMessage
from aioloom.http._parser import EndOfMessage, HttpResponseParser

Parse = Callable[..., object]


def response(line: bytes = b"HTTP/1.1 200 OK", *headers: bytes, body: bytes = b"") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def with_method(method: str | None, *, lax: bool = True) -> Callable[[], HttpResponseParser]:
    def make() -> HttpResponseParser:
        parser = HttpResponseParser(lax=lax)
        parser.method = method
        return parser

    return make


def fails(
    parse: Parse, factory: object, data: bytes, exc: type[HttpProcessingError], code: int = 400
) -> None:
    out = parse(factory, data)
    assert out.error is exc, out.exc  # type: ignore[attr-defined]
    assert out.code == code  # type: ignore[attr-defined]


@pytest.fixture(params=["strict", "lax"])
def both(request: pytest.FixtureRequest, strict_resp: object, lax_resp: object) -> object:
    return strict_resp if request.param == "strict" else lax_resp


# --- a whole response -------------------------------------------------------------------


def test_content_length_response(parse: Parse, both: object) -> None:
    data = response(
        b"HTTP/1.1 200 OK",
        b"Server: nginx",
        b"Content-Type: application/json",
        b"Content-Length: 13",
        body=b'{"ok": true}\n',
    )
    out = parse(both, data)
    msg = out.events[0]
    assert isinstance(msg, RawResponseMessage)
    assert (msg.version, msg.code, msg.reason) == (HttpVersion11, 200, "OK")
    assert msg.headers["content-type"] == "application/json"
    assert msg.raw_headers == (
        (b"Server", b"nginx"),
        (b"Content-Type", b"application/json"),
        (b"Content-Length", b"13"),
    )
    assert (msg.should_close, msg.compression, msg.upgrade, msg.chunked) == (
        False,
        None,
        False,
        False,
    )
    assert out.body == b'{"ok": true}\n'
    assert out.events[-1] == EndOfMessage()
    assert len(out.events) == 3


def test_pipelined_responses(parse: Parse, both: object) -> None:
    data = response(b"HTTP/1.1 200 OK", b"Content-Length: 1", body=b"a") * 3
    out = parse(both, data)
    assert len(out.messages) == 3
    assert out.body == b"aaa"


# --- status line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "version", "code", "reason"),
    [
        (b"HTTP/1.1 200 OK", HttpVersion11, 200, "OK"),
        (b"HTTP/1.0 404 Not Found", HttpVersion10, 404, "Not Found"),
        (b"HTTP/1.1 200 ", HttpVersion11, 200, ""),
        (b"HTTP/1.1 200", HttpVersion11, 200, ""),
        (
            b"HTTP/1.1 599 Custom reason, with: punctuation!",
            HttpVersion11,
            599,
            "Custom reason, with: punctuation!",
        ),
        (b"HTTP/1.1 100 Continue", HttpVersion11, 100, "Continue"),
        (b"HTTP/1.1 200 Tr\xc3\xa8s bien", HttpVersion11, 200, "Tr\u00e8s bien"),
        (b"HTTP/1.1 200 \xff", HttpVersion11, 200, "\udcff"),
        (b"HTTP/1.1 200 a\tb", HttpVersion11, 200, "a\tb"),
        (b"HTTP/1.1 200  Spaced  out ", HttpVersion11, 200, "Spaced  out"),
    ],
)
def test_status_line(
    parse: Parse, both: object, line: bytes, version: object, code: int, reason: str
) -> None:
    terminal = b"Content-Length: 0" if code >= 200 else b"X: y"
    out = parse(both, response(line, terminal))
    msg = out.events[0]
    assert (msg.version, msg.code, msg.reason) == (version, code, reason)


@pytest.mark.parametrize(
    "line",
    [
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 099 Low",
        b"HTTP/1.1 600 High",
        b"HTTP/1.1 000 Zero",
        b"HTTP/2.0 200 OK",
        b"HTTP/0.9 200 OK",
        b"HTTP/1.2 200 OK",
        b"HTTP/1.1 \xd9\xa2\xd9\xa0\xd9\xa0 OK",
        b"HTTP/1.1 2x0 OK",
        b"http/1.1 200 OK",
        b"ICY 200 OK",
        b"HTTP/1.1",
        b"HTTP/1.1 OK 200",
        b"HTTP/1.1 200 a\x00b",
        b" HTTP/1.1 200 OK",
    ],
)
def test_invalid_status_line(parse: Parse, both: object, line: bytes) -> None:
    fails(parse, both, response(line, b"Content-Length: 0"), BadStatusLine)


@pytest.mark.parametrize("line", [b"HTTP/1.1  200 OK", b"HTTP/1.1\t200 OK", b"HTTP/1.1 200 a\x01b"])
def test_status_line_leniencies(
    parse: Parse, strict_resp: object, lax_resp: object, line: bytes
) -> None:
    fails(parse, strict_resp, response(line, b"Content-Length: 0"), BadStatusLine)
    msg = parse(lax_resp, response(line, b"Content-Length: 0")).events[0]
    assert msg.code == 200


def test_lax_reason_is_stripped(parse: Parse, lax_resp: object) -> None:
    msg = parse(lax_resp, response(b"HTTP/1.1 \t200 \t Fine  ", b"Content-Length: 0")).events[0]
    assert msg.reason == "Fine"


@pytest.mark.parametrize("lax", [True, False])
def test_blank_run_inside_a_long_reason_stays_linear(lax: bool) -> None:
    # A lazy reason followed by a blank run made the lax status-line regex quadratic: this
    # 64 KiB line took tens of seconds (0.3 s at the default 8190-byte limit).
    reason = b"x" + b" " * 65_000 + b"y"
    parser = HttpResponseParser(lax=lax, max_line_size=2**17)
    started = time.perf_counter()
    events, _, _ = parser.feed_data(response(b"HTTP/1.1 200 " + reason, b"Content-Length: 0"))
    assert time.perf_counter() - started < 1.0
    assert isinstance(events[0], RawResponseMessage)
    assert events[0].reason == reason.decode()


# --- strict versus lax ------------------------------------------------------------------


def test_lf_only_line_endings(parse: Parse, strict_resp: object, lax_resp: object) -> None:
    data = b"HTTP/1.1 200 OK\nContent-Length: 2\nX-A: b\n\nok"
    fails(parse, strict_resp, data, BadHttpMessage)
    out = parse(lax_resp, data)
    assert out.events[0].headers["X-A"] == "b"
    assert out.body == b"ok"


def test_many_lf_only_heads_in_one_read_stay_linear() -> None:
    # Finding the end of a lax head searched the whole rest of the buffer for LF CR LF
    # before looking for LF LF: a read full of small LF-only responses (1xx, or tiny
    # bodies) cost time quadratic in its size, about 10 s for this 640 KB one.
    count = 40_000
    parser = HttpResponseParser(lax=True)
    started = time.perf_counter()
    events, _, _ = parser.feed_data(b"HTTP/1.1 100 Continue\n\n" * count)
    assert time.perf_counter() - started < 3.0
    assert len(events) == 2 * count
    assert all(isinstance(e, RawResponseMessage) for e in events[::2])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (b"HTTP/1.1 200 OK\nA: b\n\n", b"HTTP/1.1 204 No\r\n\r\n"),
        (b"HTTP/1.1 200 OK\nA: b\n\r\n", b"HTTP/1.1 204 No\n\n"),
        (b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n", b"HTTP/1.1 204 No\n\n"),
        (b"HTTP/1.1 200 OK\r\nA: b\n\n", b"HTTP/1.1 204 No\n\r\n"),
    ],
)
def test_lax_head_ends_at_the_first_empty_line(first: bytes, second: bytes) -> None:
    # Ending the first head at a later empty line would make the second status line one of
    # its field lines (InvalidHeader).
    parser = HttpResponseParser(lax=True)
    parser.method = "HEAD"
    events, _, _ = parser.feed_data(first + second)
    assert [e.code for e in events if isinstance(e, RawResponseMessage)] == [200, 204]
    assert events[0].headers["A"] == "b"  # type: ignore[union-attr]


def test_cr_cr_lf_does_not_end_a_lax_line() -> None:
    with pytest.raises(InvalidHeader):
        HttpResponseParser(lax=True).feed_data(b"HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n")


def test_mixed_line_endings(parse: Parse, lax_resp: object) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\nX-A: b\r\n\nok"
    out = parse(lax_resp, data)
    assert out.events[0].raw_headers == ((b"Content-Length", b"2"), (b"X-A", b"b"))
    assert out.body == b"ok"


@pytest.mark.parametrize("fold", [b" b", b"\tb", b"   b  "])
def test_obs_fold(parse: Parse, strict_resp: object, lax_resp: object, fold: bytes) -> None:
    # RFC 9112 §5.2: a user agent replaces each obs-fold with SP (lax); strict rejects it.
    data = response(b"HTTP/1.1 200 OK", b"X-A: a", fold, b"X-B: c", b"Content-Length: 0")
    fails(parse, strict_resp, data, InvalidHeader)
    msg = parse(lax_resp, data).events[0]
    assert msg.headers["X-A"] == "a b"
    assert msg.raw_headers[0] == (b"X-A", b"a b")
    assert msg.headers["X-B"] == "c"


def test_obs_fold_of_an_empty_value(parse: Parse, lax_resp: object) -> None:
    data = response(b"HTTP/1.1 200 OK", b"X-A:", b" b", b"  ", b"Content-Length: 0")
    assert parse(lax_resp, data).events[0].headers["X-A"] == "b"


def test_obs_fold_before_any_field(parse: Parse, lax_resp: object) -> None:
    fails(parse, lax_resp, response(b"HTTP/1.1 200 OK", b" X-A: a"), InvalidHeader)


def test_folded_field_limit(parse: Parse) -> None:
    def small() -> HttpResponseParser:
        return HttpResponseParser(lax=True, max_field_size=20)

    data = response(
        b"HTTP/1.1 200 OK", b"X-A: " + b"a" * 10, b" " + b"b" * 10, b"Content-Length: 0"
    )
    out = parse(small, data)
    assert (out.error, out.code) == (LineTooLong, 431)


@pytest.mark.parametrize("name", [b"Content-Type", b"Server", b"ETag", b"Content-Location"])
def test_repeated_singletons(
    parse: Parse, strict_resp: object, lax_resp: object, name: bytes
) -> None:
    data = response(b"HTTP/1.1 200 OK", name + b": a", name + b": b", b"Content-Length: 0")
    fails(parse, strict_resp, data, BadHttpMessage)
    assert parse(lax_resp, data).events[0].headers.getall(name.decode()) == ["a", "b"]


@pytest.mark.parametrize("value", [b"a\x01b", b"a\x1bb", b"a\x7fb"])
def test_ctl_in_value(parse: Parse, strict_resp: object, lax_resp: object, value: bytes) -> None:
    data = response(b"HTTP/1.1 200 OK", b"X-A: " + value, b"Content-Length: 0")
    fails(parse, strict_resp, data, InvalidHeader)
    assert parse(lax_resp, data).events[0].raw_headers[0] == (b"X-A", value)


@pytest.mark.parametrize(
    "line",
    [b"X-A: a\x00b", b"X-A : b", b"X\x01A: b", b": b", b"X-A: a\rb", b"Sec-WebSocket-Key1: x"],
)
def test_never_accepted_fields(parse: Parse, both: object, line: bytes) -> None:
    fails(parse, both, response(b"HTTP/1.1 200 OK", line, b"Content-Length: 0"), InvalidHeader)


@pytest.mark.parametrize(
    "headers",
    [
        (b"Content-Length: 3", b"Transfer-Encoding: chunked"),
        (b"Transfer-Encoding: chunked", b"Content-Length: 3"),
        (b"Transfer-Encoding: gzip", b"Content-Length: 3"),
        (b"Content-Length: 3", b"Content-Length: 4"),
        (b"Content-Length: 3, 4",),
    ],
)
def test_ambiguous_framing_is_never_accepted(
    parse: Parse, both: object, headers: tuple[bytes, ...]
) -> None:
    out = parse(both, response(b"HTTP/1.1 200 OK", *headers, body=b"abc"))
    assert issubclass(out.error, BadHttpMessage)
    assert out.code == 400


@pytest.mark.parametrize(
    "headers",
    [
        (b"Content-Length: 3", b"Content-Length: 3"),
        (b"Content-Length: 3, 3",),
        (b"Content-Length: 3,3", b"Content-Length: 03"),
    ],
)
def test_repeated_equal_content_length(
    parse: Parse, strict_resp: object, lax_resp: object, headers: tuple[bytes, ...]
) -> None:
    # RFC 9110 §8.6: a recipient MAY take a list of one repeated value as that value.
    data = response(b"HTTP/1.1 200 OK", *headers, body=b"abc")
    out = parse(strict_resp, data)
    assert issubclass(out.error, BadHttpMessage) and out.code == 400
    assert parse(lax_resp, data).body == b"abc"


@pytest.mark.parametrize("value", [b"+3", b"-3", b"3a", b"\xd9\xa3", b""])
def test_malformed_content_length(parse: Parse, both: object, value: bytes) -> None:
    fails(
        parse,
        both,
        response(b"HTTP/1.1 200 OK", b"Content-Length: " + value, body=b"abc"),
        InvalidHeader,
    )


def test_malformed_transfer_encoding_in_strict_mode(
    parse: Parse, strict_resp: object, lax_resp: object
) -> None:
    data = response(
        b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked, chunked", body=b"1\r\na\r\n0\r\n\r\n"
    )
    fails(parse, strict_resp, data, BadHttpMessage)
    assert parse(lax_resp, data).body == b"a"


def test_default_mode_follows_dev_mode() -> None:
    code = (
        "from aioloom.http._parser import HttpResponseParser\n"
        "p = HttpResponseParser()\n"
        "try:\n"
        "    p.feed_data(b'HTTP/1.1 200 OK\\nContent-Length: 0\\n\\n')\n"
        "    print('lax')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__)\n"
    )
    normal = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    dev = subprocess.run(
        [sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True, check=True
    )
    assert normal.stdout.strip() == "lax"
    assert dev.stdout.strip() == "BadHttpMessage"


# --- bodiless responses and 1xx ---------------------------------------------------------


@pytest.mark.parametrize("code", [b"204 No Content", b"304 Not Modified"])
def test_no_body_statuses(parse: Parse, both: object, code: bytes) -> None:
    data = response(b"HTTP/1.1 " + code, b"Content-Length: 10") + response(
        b"HTTP/1.1 200 OK", b"Content-Length: 1", body=b"x"
    )
    out = parse(both, data)
    assert [m.code for m in out.messages] == [int(code[:3]), 200]
    assert out.events[1] == EndOfMessage()
    assert out.events[0].should_close is False
    assert out.body == b"x"


def test_head_response_has_no_body(parse: Parse) -> None:
    data = response(b"HTTP/1.1 200 OK", b"Content-Length: 1000") + response(
        b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked"
    )
    out = parse(with_method("HEAD"), data)
    assert [type(e) for e in out.events] == [RawResponseMessage, EndOfMessage] * 2
    assert out.events[2].chunked is True


def test_head_response_without_length_keeps_the_connection(parse: Parse) -> None:
    msg = parse(with_method("HEAD"), response(b"HTTP/1.1 200 OK")).events[0]
    assert msg.should_close is False


def test_interim_responses_then_final(parse: Parse, both: object) -> None:
    data = (
        response(b"HTTP/1.1 100 Continue")
        + response(b"HTTP/1.1 103 Early Hints", b"Link: </style.css>; rel=preload")
        + response(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"ok")
    )
    out = parse(both, data)
    assert [type(e).__name__ for e in out.events] == [
        "RawResponseMessage", "EndOfMessage",
        "RawResponseMessage", "EndOfMessage",
        "RawResponseMessage", "bytes", "EndOfMessage",
    ]  # fmt: skip
    assert [m.code for m in out.messages] == [100, 103, 200]
    assert out.messages[1].headers["Link"] == "</style.css>; rel=preload"
    assert out.upgraded is False


def test_interim_response_with_close_does_not_end_the_connection(
    parse: Parse, both: object
) -> None:
    data = response(b"HTTP/1.1 100 Continue", b"Connection: close") + response(
        b"HTTP/1.1 200 OK", b"Content-Length: 0"
    )
    assert [m.code for m in parse(both, data).messages] == [100, 200]


def test_101_switches_protocols(parse: Parse, both: object) -> None:
    data = response(
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    )
    out = parse(both, data + b"\x81\x05hello")
    assert out.upgraded is True
    assert out.tail == b"\x81\x05hello"
    assert out.events[0].upgrade is True
    assert out.events[1:] == [EndOfMessage()]


def test_upgrade_advertised_on_200_is_not_an_upgrade(parse: Parse, both: object) -> None:
    data = response(
        b"HTTP/1.1 200 OK",
        b"Upgrade: h2,h2c",
        b"Connection: Upgrade",
        b"Content-Length: 1",
        body=b"z",
    )
    out = parse(both, data)
    assert out.events[0].upgrade is False
    assert out.upgraded is False
    assert out.body == b"z"


def test_connect_2xx_opens_a_tunnel(parse: Parse) -> None:
    data = (
        response(b"HTTP/1.1 200 Connection established", b"Content-Length: 99") + b"\x16\x03\x01tls"
    )
    out = parse(with_method("CONNECT"), data)
    assert out.upgraded is True
    assert out.tail == b"\x16\x03\x01tls"
    assert out.body == b""


def test_connect_refused_has_a_body(parse: Parse) -> None:
    data = response(
        b"HTTP/1.1 407 Proxy Authentication Required", b"Content-Length: 4", body=b"deny"
    )
    out = parse(with_method("CONNECT"), data)
    assert out.upgraded is False
    assert out.body == b"deny"


def test_method_can_change_between_responses(feed: Parse) -> None:
    parser = HttpResponseParser()
    parser.method = "HEAD"
    events, _, _ = parser.feed_data(response(b"HTTP/1.1 200 OK", b"Content-Length: 5"))
    assert events[1] == EndOfMessage()
    parser.method = "GET"
    events, _, _ = parser.feed_data(
        response(b"HTTP/1.1 200 OK", b"Content-Length: 5", body=b"12345")
    )
    assert events[1:] == [b"12345", EndOfMessage()]


# --- read until close -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (b"Transfer-Encoding: gzip",),
        (b"Transfer-Encoding: chunked, gzip",),
        (b"Connection: keep-alive",),
    ],
)
def test_read_until_close(parse: Parse, both: object, headers: tuple[bytes, ...]) -> None:
    body = b"all the rest\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
    out = parse(both, response(b"HTTP/1.1 200 OK", *headers, body=body), eof=True)
    assert out.events[0].should_close is True
    assert out.events[0].chunked is False
    assert out.body == body
    assert out.events[-1] == EndOfMessage()


def test_read_until_close_without_eof_has_no_end(feed: Parse, lax_resp: object) -> None:
    out = feed(lax_resp, [response(body=b"partial")])
    assert out.events[-1] == b"partial"


def test_eof_after_until_close_body_then_more_eof(
    lax_resp: Callable[[], HttpResponseParser],
) -> None:
    parser = lax_resp()
    parser.feed_data(response(body=b"x"))
    assert parser.feed_eof() == [EndOfMessage()]
    assert parser.feed_eof() == []
    # The connection is over: nothing more is parsed.
    assert parser.feed_data(response(b"HTTP/1.1 200 OK", b"Content-Length: 0")) == ([], False, b"")


@pytest.mark.parametrize(
    ("line", "headers", "should_close"),
    [
        (b"HTTP/1.0 200 OK", (b"Content-Length: 0",), True),
        (b"HTTP/1.0 200 OK", (b"Content-Length: 0", b"Connection: keep-alive"), False),
        (b"HTTP/1.1 200 OK", (b"Content-Length: 0", b"Connection: close"), True),
        (b"HTTP/1.1 200 OK", (b"Content-Length: 0",), False),
        (b"HTTP/1.1 200 OK", (b"Transfer-Encoding: chunked",), False),
        (b"HTTP/1.0 200 OK", (b"Transfer-Encoding: chunked", b"Connection: keep-alive"), True),
    ],
)
def test_should_close(
    parse: Parse, both: object, line: bytes, headers: tuple[bytes, ...], should_close: bool
) -> None:
    body = b"0\r\n\r\n" if b"Transfer-Encoding: chunked" in headers else b""
    assert parse(both, response(line, *headers, body=body)).events[0].should_close is should_close


def test_nothing_after_a_closing_response(parse: Parse, both: object) -> None:
    data = (
        response(b"HTTP/1.1 200 OK", b"Connection: close", b"Content-Length: 1", body=b"a")
        + b"junk junk\r\n\r\n"
    )
    out = parse(both, data)
    assert out.error is None
    assert len(out.messages) == 1


@pytest.mark.parametrize(
    ("value", "compression"),
    [
        (b"gzip", "gzip"),
        (b"Deflate", "deflate"),
        (b"br", "br"),
        (b"zstd", "zstd"),
        (b"compress", None),
    ],
)
def test_compression(parse: Parse, both: object, value: bytes, compression: str | None) -> None:
    msg = parse(
        both, response(b"HTTP/1.1 200 OK", b"Content-Encoding: " + value, b"Content-Length: 0")
    ).events[0]
    assert msg.compression == compression


# --- limits and errors ------------------------------------------------------------------


def test_status_line_limit(parse: Parse) -> None:
    def small() -> HttpResponseParser:
        return HttpResponseParser(max_line_size=20)

    assert parse(small, response(b"HTTP/1.1 200 abcdefg", b"Content-Length: 0")).error is None
    out = parse(small, response(b"HTTP/1.1 200 abcdefgh", b"Content-Length: 0"))
    assert (out.error, out.code) == (LineTooLong, 400)


def test_header_limits(parse: Parse) -> None:
    def small() -> HttpResponseParser:
        return HttpResponseParser(max_field_size=30, max_headers=3)

    out = parse(small, response(b"HTTP/1.1 200 OK", b"X-Big: " + b"b" * 24))
    assert (out.error, out.code) == (LineTooLong, 431)
    out = parse(small, response(b"HTTP/1.1 200 OK", b"A: 1", b"B: 2", b"C: 3", b"D: 4"))
    assert (out.error, out.code) == (TooManyHeaders, 431)


def test_eof_inside_the_head(lax_resp: Callable[[], HttpResponseParser]) -> None:
    parser = lax_resp()
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Len")
    with pytest.raises(BadHttpMessage) as info:
        parser.feed_eof()
    assert info.value.code == 400


def test_eof_inside_a_chunked_response(lax_resp: Callable[[], HttpResponseParser]) -> None:
    parser = lax_resp()
    parser.feed_data(response(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"10\r\nabc"))
    with pytest.raises(TransferEncodingError):
        parser.feed_eof()
