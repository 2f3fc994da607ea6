"""HttpRequestParser: request lines, header sections, framing, pipelining, switching, limits.

Every valid message goes through ``parse`` (whole, bytewise, split everywhere) and every
malformed one asserts the exception type and its ``code``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from aioloom.http import _framing
from aioloom.http._exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentLengthError,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TooManyHeaders,
    TransferEncodingError,
)
from aioloom.http._messages import HttpVersion10, HttpVersion11, RawRequestMessage
from aioloom.http._parser import EndOfMessage, HttpRequestParser

Parse = Callable[..., object]

BROWSER_GET = (
    b"GET /wp-content/uploads/2010/03/hello-kitty.jpg?size=large HTTP/1.1\r\n"
    b"Host: www.kittyhell.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: sessionid=abc; csrftoken=def\r\n"
    b"Referer: https://www.kittyhell.com/\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"Cache-Control: max-age=0\r\n\r\n"
)


def request(line: bytes = b"GET / HTTP/1.1", *headers: bytes, body: bytes = b"") -> bytes:
    """A request with a Host header unless one of ``headers`` names a Host already."""
    fields = list(headers)
    if not any(h.lower().startswith(b"host:") for h in fields):
        fields.insert(0, b"Host: example.com")
    return line + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body


def only_head(parse: Parse, req: object, data: bytes) -> RawRequestMessage:
    out = parse(req, data)
    assert out.error is None, out.exc  # type: ignore[attr-defined]
    events = out.events  # type: ignore[attr-defined]
    assert len(events) == 2 and isinstance(events[1], EndOfMessage), events
    head = events[0]
    assert isinstance(head, RawRequestMessage)
    return head


def fails(
    parse: Parse, req: object, data: bytes, exc: type[HttpProcessingError], code: int
) -> None:
    out = parse(req, data)
    assert out.error is exc, out.exc  # type: ignore[attr-defined]
    assert out.code == code  # type: ignore[attr-defined]


# --- a whole request --------------------------------------------------------------------


def test_browser_get(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, BROWSER_GET)
    assert msg.method == "GET"
    assert msg.path == "/wp-content/uploads/2010/03/hello-kitty.jpg?size=large"
    assert msg.version == HttpVersion11
    assert isinstance(msg.headers, CIMultiDictProxy)
    assert len(msg.headers) == 12
    assert msg.headers["host"] == "www.kittyhell.com"
    assert msg.headers["ACCEPT-ENCODING"] == "gzip, deflate, br"
    assert msg.raw_headers[0] == (b"Host", b"www.kittyhell.com")
    assert msg.raw_headers[-1] == (b"Cache-Control", b"max-age=0")
    assert len(msg.raw_headers) == 12
    assert msg.should_close is False
    assert msg.compression is None
    assert msg.upgrade is False
    assert msg.chunked is False
    assert msg.url == URL.build(
        path="/wp-content/uploads/2010/03/hello-kitty.jpg", query_string="size=large"
    )


def test_ows_stripped_and_inner_whitespace_kept(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"GET / HTTP/1.1", b"X-A: \t a  b \t ", b"X-B:c", b"X-C:"))
    assert msg.headers["X-A"] == "a  b"
    assert msg.headers["X-B"] == "c"
    assert msg.headers["X-C"] == ""
    assert msg.raw_headers[1:] == ((b"X-A", b"a  b"), (b"X-B", b"c"), (b"X-C", b""))


def test_repeated_fields_kept_in_order(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"GET / HTTP/1.1", b"Accept: a", b"X: 1", b"accept: b"))
    assert msg.headers.getall("ACCEPT") == ["a", "b"]


def test_values_decoded_utf8_surrogateescape(parse: Parse, req: object) -> None:
    msg = only_head(
        parse, req, request(b"GET / HTTP/1.1", "X-U: \u00e9t\u00e9".encode(), b"X-B: \xff")
    )
    assert msg.headers["X-U"] == "\u00e9t\u00e9"
    assert msg.headers["X-B"] == "\udcff"
    assert msg.raw_headers[2] == (b"X-B", b"\xff")


def test_expect_100_continue_is_visible(parse: Parse, req: object) -> None:
    data = request(b"POST / HTTP/1.1", b"Expect: 100-continue", b"Content-Length: 2", body=b"ok")
    out = parse(req, data)
    assert out.events[0].headers["Expect"] == "100-continue"
    assert out.body == b"ok"


def test_leading_empty_lines_are_ignored(parse: Parse, req: object) -> None:
    # RFC 9112 §2.2
    msg = only_head(parse, req, b"\r\n\r\n" + request())
    assert msg.path == "/"


def test_a_megabyte_of_empty_lines() -> None:
    events, _, _ = HttpRequestParser().feed_data(b"\r\n" * 500_000 + request())
    assert len(events) == 2


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_accepts_bytes_like(kind: type) -> None:
    events, upgraded, tail = HttpRequestParser().feed_data(kind(request()))
    assert isinstance(events[0], RawRequestMessage)
    assert (upgraded, tail) == (False, b"")


def test_headerless_http10_request(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, b"GET /x HTTP/1.0\r\n\r\n")
    assert msg.version == HttpVersion10
    assert msg.headers == {}
    assert msg.raw_headers == ()


# --- request line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("/", URL.build(path="/", encoded=True)),
        (
            "/a%20b?x=%41&y#frag",
            URL.build(path="/a%20b", query_string="x=%41&y", fragment="frag", encoded=True),
        ),
        ("/p?", URL.build(path="/p", encoded=True)),
        ("//double/slash", URL.build(path="//double/slash", encoded=True)),
        ("/caf\u00e9", URL.build(path="/caf\u00e9", encoded=True)),
    ],
)
def test_origin_form(parse: Parse, req: object, target: str, url: URL) -> None:
    msg = only_head(parse, req, request(b"GET " + target.encode() + b" HTTP/1.1"))
    assert msg.path == target
    assert msg.url == url
    assert msg.url.raw_path == url.raw_path  # no re-quoting


def test_absolute_form(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"GET http://example.com:8080/a/b?c=d HTTP/1.1"))
    assert msg.path == "http://example.com:8080/a/b?c=d"
    assert msg.url == URL("http://example.com:8080/a/b?c=d", encoded=True)
    assert (msg.url.host, msg.url.port, msg.url.raw_query_string) == ("example.com", 8080, "c=d")


def test_authority_form_for_connect(parse: Parse, req: object) -> None:
    data = request(b"CONNECT example.com:443 HTTP/1.1", b"Host: example.com:443")
    out = parse(req, data)
    msg = out.events[0]
    assert msg.method == "CONNECT"
    assert msg.path == "example.com:443"
    assert msg.url == URL.build(authority="example.com:443", encoded=True)
    assert (msg.url.host, msg.url.port) == ("example.com", 443)
    assert out.upgraded is True


def test_asterisk_form_for_options(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"OPTIONS * HTTP/1.1"))
    assert msg.path == "*"
    assert msg.url == URL("*", encoded=True)


@pytest.mark.parametrize(
    "line",
    [
        b"GET * HTTP/1.1",  # asterisk-form is for OPTIONS only
        b"CONNECT /path HTTP/1.1",  # CONNECT needs authority-form
        b"CONNECT http://example.com/ HTTP/1.1",
        b"GET example.com:80 HTTP/1.1",  # authority-form is for CONNECT only
        b"GET http:/x HTTP/1.1",
        b"GET http:///x HTTP/1.1",
        b"GET http:// HTTP/1.1",
        b"GET x HTTP/1.1",
        b"GET /a\x01b HTTP/1.1",
        b"GET /a\x7fb HTTP/1.1",
        b"GET /a\x00 HTTP/1.1",
    ],
)
def test_invalid_request_target(parse: Parse, req: object, line: bytes) -> None:
    fails(parse, req, request(line), InvalidURLError, 400)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (b"GET", "GET"),
        (b"PURGE", "PURGE"),
        (b"M-SEARCH", "M-SEARCH"),
        (b"get", "GET"),
        (b"X!#$%&'*+.^_`|~9", "X!#$%&'*+.^_`|~9"),
    ],
)
def test_methods_are_tokens(parse: Parse, req: object, method: bytes, expected: str) -> None:
    assert only_head(parse, req, request(method + b" / HTTP/1.1")).method == expected


@pytest.mark.parametrize(
    "line",
    [
        b"GE(T / HTTP/1.1",
        b"G\xc3\x89T / HTTP/1.1",
        b"GET@ / HTTP/1.1",
        b" / HTTP/1.1",
        b"/ HTTP/1.1",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ],
)
def test_invalid_method(parse: Parse, req: object, line: bytes) -> None:
    fails(parse, req, request(line), BadHttpMethod, 400)


def test_tls_on_plain_port_is_named() -> None:
    with pytest.raises(BadHttpMethod, match="HTTPS") as info:
        HttpRequestParser().feed_data(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 x\r\n\r\n")
    assert info.value.code == 400


@pytest.mark.parametrize(
    "version",
    [
        b"HTTP/0.9",
        b"HTTP/2.0",
        b"HTTP/9.9",
        b"HTTP/1.2",
        b"HTTP/1.\xd9\xa1",
        b"HTTP/\xd9\xa1.1",
        b"http/1.1",
        b"HTTP/1",
        b"HTTP/1.1 ",
        b"HTTP/11",
        b"HTTPS/1.1",
        b"",
    ],
)
def test_invalid_version(parse: Parse, req: object, version: bytes) -> None:
    fails(parse, req, request(b"GET / " + version), BadStatusLine, 400)


@pytest.mark.parametrize(
    "line", [b"GET  / HTTP/1.1", b"GET /", b"GET / HTTP/1.1 extra", b"GET\t/\tHTTP/1.1"]
)
def test_malformed_request_line(parse: Parse, req: object, line: bytes) -> None:
    out = parse(req, request(line))
    assert issubclass(out.error, BadStatusLine)
    assert out.code == 400


def test_same_request_line_twice_gives_equal_urls(parse: Parse, req: object) -> None:
    first = only_head(parse, req, request(b"GET /cached?x=1 HTTP/1.1"))
    second = only_head(parse, req, request(b"GET /cached?x=1 HTTP/1.1"))
    assert first.url == second.url == URL("/cached?x=1")


# --- header section errors (strict) -----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "exc"),
    [
        (b"Host : x", InvalidHeader),  # RFC 9112 §5.1: no whitespace before the colon
        (b"X-A\t: x", InvalidHeader),
        (b" X-A: x", InvalidHeader),  # a fold before any field
        (b"X-A\x00: v", InvalidHeader),
        (b"X-A: a\x00b", InvalidHeader),  # NUL
        (b"X-A: a\x01b", InvalidHeader),  # CTL
        (b"X-A: a\x1fb", InvalidHeader),
        (b"X-A: a\x7fb", InvalidHeader),  # DEL
        (b"X-A: a\rb", InvalidHeader),  # bare CR
        (b"X-A: a\r", InvalidHeader),
        (b"X-A: a\nb", BadHttpMessage),  # bare LF
        (b": v", InvalidHeader),  # empty name
        (b"NoColon", InvalidHeader),
        (b"X(A): v", InvalidHeader),
        (b"X A: v", InvalidHeader),
        (b"X\xffA: v", InvalidHeader),
        (b'X"A: v', InvalidHeader),
        (b"Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5", InvalidHeader),
    ],
)
def test_invalid_field_line(parse: Parse, req: object, line: bytes, exc: type) -> None:
    fails(parse, req, request(b"GET / HTTP/1.1", b"X-Before: 1", line, b"X-After: 2"), exc, 400)


def test_obs_fold_is_rejected_in_requests(parse: Parse, req: object) -> None:
    # RFC 9112 §5.2
    fails(parse, req, request(b"GET / HTTP/1.1", b"X-A: a", b"  folded"), InvalidHeader, 400)
    fails(parse, req, request(b"GET / HTTP/1.1", b"X-A: a", b"\tfolded"), InvalidHeader, 400)


def test_htab_and_obs_text_allowed_in_values(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"GET / HTTP/1.1", b"X-A: a\tb\x80\xfe"))
    assert msg.raw_headers[1] == (b"X-A", b"a\tb\x80\xfe")


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\n",
        b"GET / HTTP/1.1\nHost: a\n\n",
        b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    ],
)
def test_bare_lf_is_rejected(parse: Parse, req: object, data: bytes) -> None:
    fails(parse, req, data, BadHttpMessage, 400)


def test_bare_cr_in_request_line(parse: Parse, req: object) -> None:
    out = parse(req, b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n")
    assert out.error is InvalidURLError and out.code == 400


# --- Host -------------------------------------------------------------------------------


def test_missing_host_in_http11(parse: Parse, req: object) -> None:
    fails(parse, req, b"GET / HTTP/1.1\r\nX: y\r\n\r\n", BadHttpMessage, 400)


def test_host_optional_in_http10(parse: Parse, req: object) -> None:
    assert "Host" not in only_head(parse, req, b"GET / HTTP/1.0\r\nX: y\r\n\r\n").headers


@pytest.mark.parametrize(
    "value",
    [
        b"a",
        b"www.example.com",
        b"example.com.",
        b"example.com:8080",
        b"example.com:",
        b"127.0.0.1:80",
        b"[::1]",
        b"[::1]:8443",
        b"[fe80::1%25eth0]",
        b"xn--bcher-kva.example",
        b"under_score.example",
        b"a,b",  # reg-name allows sub-delims
        b"",  # RFC 9110 §7.2: an empty Host when the target has no authority
    ],
)
def test_valid_host_values(parse: Parse, req: object, value: bytes) -> None:
    head = only_head(parse, req, b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n")
    assert head.headers["Host"] == value.decode()


@pytest.mark.parametrize(
    "value",
    [
        b"a b",
        b"a, b",
        b"a\tb",
        b"a/b",
        b"a?b",
        b"a#b",
        b"user@example.com",
        b"example.com:80x",
        b"example.com:80:81",
        b"example.com:-1",
        b"::1",
        b"[::1",
        b"::1]",
        b"a\\b",
        b'"a"',
        b"a<b>",
        b"a{b}",
        b"a|b",
        b"a^b",
        b"a`b",
        b"caf\xc3\xa9.example",
        b"example.com:\xd9\xa8\xd9\xa0",  # Arabic-Indic digits are not a port
    ],
)
@pytest.mark.parametrize("version", [b"HTTP/1.1", b"HTTP/1.0"])
def test_invalid_host_value(parse: Parse, req: object, value: bytes, version: bytes) -> None:
    # RFC 9112 §3.2: a server MUST answer 400 to a Host field with an invalid value
    # (RFC 9110 §7.2: Host = uri-host [ ":" port ]).
    fails(parse, req, b"GET / " + version + b"\r\nHost: " + value + b"\r\n\r\n", InvalidHeader, 400)


def test_valid_hosts_are_remembered_within_a_bound() -> None:
    for i in range(1000):
        HttpRequestParser().feed_data(b"GET / HTTP/1.1\r\nHost: h%d.example\r\n\r\n" % i)
    assert len(_framing._valid_hosts) <= _framing._HOST_CACHE_SIZE
    with pytest.raises(InvalidHeader):  # an invalid value is never remembered as valid
        HttpRequestParser().feed_data(b"GET / HTTP/1.1\r\nHost: h 1\r\n\r\n")
    assert "h 1" not in _framing._valid_hosts


@pytest.mark.parametrize(
    "name",
    [
        b"Host",
        b"User-Agent",
        b"Content-Type",
        b"ETag",
        b"Server",
        b"Max-Forwards",
        b"Content-Location",
        b"Content-Range",
    ],
)
def test_repeated_singleton_field(parse: Parse, req: object, name: bytes) -> None:
    data = request(b"GET / HTTP/1.1", b"Host: a", name + b": 1", name.lower() + b": 1")
    if name == b"Host":
        data = request(b"GET / HTTP/1.1", b"Host: a", b"host: b")
    fails(parse, req, data, BadHttpMessage, 400)


def test_repeated_ordinary_fields_do_not_hide_a_repeated_singleton(
    parse: Parse, req: object
) -> None:
    ok = request(b"GET / HTTP/1.1", b"Host: a", b"Accept: a", b"accept: b")
    assert HttpRequestParser().feed_data(ok)[0][0].headers.getall("Accept") == ["a", "b"]  # type: ignore[union-attr]
    bad = request(b"GET / HTTP/1.1", b"Host: a", b"Accept: a", b"accept: b", b"HOST: c")
    fails(parse, req, bad, BadHttpMessage, 400)


# --- Content-Length / Transfer-Encoding -------------------------------------------------


def test_content_length_body(parse: Parse, req: object) -> None:
    out = parse(req, request(b"POST /f HTTP/1.1", b"Content-Length: 11", body=b"hello world"))
    assert [type(e) for e in out.events] == [RawRequestMessage, bytes, EndOfMessage]
    assert out.body == b"hello world"
    assert out.events[0].chunked is False


def test_content_length_zero(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"POST / HTTP/1.1", b"Content-Length: 0"))
    assert msg.method == "POST"


def test_content_length_leading_zeros(parse: Parse, req: object) -> None:
    out = parse(req, request(b"POST / HTTP/1.1", b"Content-Length: 003", body=b"abc"))
    assert out.body == b"abc"


@pytest.mark.parametrize(
    "value",
    [
        b"+5",
        b"-1",
        b"5,6",
        b"5, 5",
        b"0x5",
        b"5 5",
        b"1e3",
        b"five",
        b"\xd9\xa5",
        b"\xef\xbc\x95",
        b"",
        b"5.0",
        b"1" * 19,
    ],
)
def test_malformed_content_length(parse: Parse, req: object, value: bytes) -> None:
    fails(parse, req, request(b"POST / HTTP/1.1", b"Content-Length: " + value), InvalidHeader, 400)


@pytest.mark.parametrize("second", [b"5", b"6"])
def test_repeated_content_length(parse: Parse, req: object, second: bytes) -> None:
    data = request(
        b"POST / HTTP/1.1", b"Content-Length: 5", b"Content-Length: " + second, body=b"hello"
    )
    fails(parse, req, data, BadHttpMessage, 400)


@pytest.mark.parametrize(
    "headers",
    [
        (b"Content-Length: 5", b"Transfer-Encoding: chunked"),
        (b"Transfer-Encoding: chunked", b"Content-Length: 5"),
        (b"Transfer-Encoding: chunked", b"Content-Length: 0"),
    ],
)
def test_content_length_with_transfer_encoding(
    parse: Parse, req: object, headers: tuple[bytes, ...]
) -> None:
    # RFC 9112 §6.3 step 3: the smuggling shape, answered with 400 and closed.
    fails(parse, req, request(b"POST / HTTP/1.1", *headers, body=b"0\r\n\r\n"), BadHttpMessage, 400)


@pytest.mark.parametrize(
    "value",
    [
        b"xchunked",
        b"chunked, gzip",
        b"chunked, chunked",
        b"gzip",
        b"chunked,",
        b",chunked",
        b"",
        b"chunked;q=1",
        b"chunk\xc3\xa9d",
        b"\xe2\x84\xaaChunked",
        b"identity",
    ],
)
def test_transfer_encoding_not_final_chunked(parse: Parse, req: object, value: bytes) -> None:
    # RFC 9112 §6.3 step 4: a request whose final coding is not chunked is a 400.
    fails(
        parse, req, request(b"POST / HTTP/1.1", b"Transfer-Encoding: " + value), BadHttpMessage, 400
    )


def test_transfer_encoding_twice(parse: Parse, req: object) -> None:
    data = request(b"POST / HTTP/1.1", b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked")
    fails(parse, req, data, BadHttpMessage, 400)


@pytest.mark.parametrize(
    "value", [b"chunked", b"Chunked", b"CHUNKED", b"gzip, chunked", b"gzip,chunked"]
)
def test_transfer_encoding_final_chunked(parse: Parse, req: object, value: bytes) -> None:
    data = request(
        b"POST / HTTP/1.1", b"Transfer-Encoding: " + value, body=b"3\r\nabc\r\n0\r\n\r\n"
    )
    out = parse(req, data)
    assert out.events[0].chunked is True
    assert out.body == b"abc"
    assert out.events[-1] == EndOfMessage()


def test_transfer_encoding_in_http10_closes(parse: Parse, req: object) -> None:
    # RFC 9112 §6.1: faulty framing in HTTP/1.0: process, then close.
    data = (
        b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1\r\nx\r\n0\r\n\r\n"
    )
    out = parse(req, data + b"GET / HTTP/1.0\r\n\r\n")
    assert out.events[0].should_close is True
    assert out.body == b"x"
    assert len(out.messages) == 1


def test_no_body_without_framing(parse: Parse, req: object) -> None:
    # RFC 9112 §6.3 step 7: a request without Content-Length or chunked has no body.
    out = parse(req, request(b"POST / HTTP/1.1") + request(b"GET /next HTTP/1.1"))
    assert [m.path for m in out.messages] == ["/", "/next"]
    assert out.body == b""


# --- connection semantics ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "should_close"),
    [
        (b"HTTP/1.1", None, False),
        (b"HTTP/1.1", b"close", True),
        (b"HTTP/1.1", b"Close", True),
        (b"HTTP/1.1", b"keep-alive", False),
        (b"HTTP/1.1", b"keep-alive, close", True),
        (b"HTTP/1.1", b"Upgrade, close", True),
        (b"HTTP/1.0", None, True),
        (b"HTTP/1.0", b"keep-alive", False),
        (b"HTTP/1.0", b"Keep-Alive", False),
        (b"HTTP/1.0", b"foo, keep-alive", False),
        (b"HTTP/1.0", b"close", True),
        (b"HTTP/1.0", b"k\xc3\xa9ep-alive", True),
    ],
)
def test_should_close(
    parse: Parse, req: object, version: bytes, connection: bytes | None, should_close: bool
) -> None:
    headers = [b"Connection: " + connection] if connection is not None else []
    msg = only_head(parse, req, request(b"GET / " + version, *headers))
    assert msg.should_close is should_close


def test_connection_options_across_fields(parse: Parse, req: object) -> None:
    data = request(b"GET / HTTP/1.0", b"Connection: foo", b"Connection: keep-alive")
    assert only_head(parse, req, data).should_close is False


def test_http10_keep_alive_pipeline(parse: Parse, req: object) -> None:
    one = b"GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    two = b"GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    out = parse(req, one + two)
    assert [m.path for m in out.messages] == ["/1", "/2"]


def test_nothing_is_parsed_after_a_closing_request(parse: Parse, req: object) -> None:
    # RFC 9112 §9.6: a server does not process further requests after "close".
    out = parse(
        req,
        request(b"GET /1 HTTP/1.1", b"Connection: close")
        + request(b"GET /2 HTTP/1.1")
        + b"garbage\r\n\r\n",
    )
    assert [m.path for m in out.messages] == ["/1"]
    assert out.events[-1] == EndOfMessage()
    assert out.error is None


@pytest.mark.parametrize(
    ("value", "compression"),
    [
        (b"gzip", "gzip"),
        (b"GZIP", "gzip"),
        (b"deflate", "deflate"),
        (b"br", "br"),
        (b"zstd", "zstd"),
        (b"identity", None),
        (b"x-gzip", None),
        (b"gzip, br", None),
        (b"\xc3\xa9", None),
    ],
)
def test_compression(parse: Parse, req: object, value: bytes, compression: str | None) -> None:
    msg = only_head(parse, req, request(b"GET / HTTP/1.1", b"Content-Encoding: " + value))
    assert msg.compression == compression


# --- pipelining -------------------------------------------------------------------------


def test_hundred_pipelined_gets() -> None:
    events, upgraded, tail = HttpRequestParser().feed_data(BROWSER_GET * 100)
    assert len(events) == 200
    assert all(isinstance(e, RawRequestMessage) for e in events[::2])
    assert all(isinstance(e, EndOfMessage) for e in events[1::2])
    assert (upgraded, tail) == (False, b"")


def test_pipelined_mixed_bodies(parse: Parse, req: object) -> None:
    data = (
        request(b"POST /a HTTP/1.1", b"Content-Length: 3", body=b"abc")
        + request(b"POST /b HTTP/1.1", b"Transfer-Encoding: chunked", body=b"2\r\nde\r\n0\r\n\r\n")
        + request(b"GET /c HTTP/1.1")
    )
    out = parse(req, data)
    kinds = [type(e).__name__ for e in out.events]
    assert kinds == [
        "RawRequestMessage", "bytes", "EndOfMessage",
        "RawRequestMessage", "bytes", "EndOfMessage",
        "RawRequestMessage", "EndOfMessage",
    ]  # fmt: skip
    assert out.events[1] == b"abc" and out.events[4] == b"de"


def test_message_then_trailing_data_parses_as_prefix(feed: Parse, req: object) -> None:
    first = request(b"POST / HTTP/1.1", b"Content-Length: 2", body=b"hi")
    alone = feed(req, [first])
    with_more = feed(req, [first + b"GET /partial HTTP/1.1\r\nHo"])
    assert with_more.events == alone.events
    assert with_more.error is None


# --- protocol switches ------------------------------------------------------------------


WS_REQUEST = request(
    b"GET /chat HTTP/1.1",
    b"Upgrade: websocket",
    b"Connection: Upgrade",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    b"Sec-WebSocket-Version: 13",
)


def test_websocket_upgrade_returns_the_tail(parse: Parse, req: object) -> None:
    frames = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58GET / HTTP/1.1\r\n\r\n"
    out = parse(req, WS_REQUEST + frames)
    assert out.upgraded is True
    assert out.tail == frames
    assert out.events[0].upgrade is True
    assert out.events[0].should_close is False
    assert out.events[1:] == [EndOfMessage()]


def test_upgrade_after_the_declared_body(parse: Parse, req: object) -> None:
    data = request(
        b"POST /up HTTP/1.1",
        b"Upgrade: tcp",
        b"Connection: upgrade",
        b"Content-Length: 4",
        body=b"bodyTAIL",
    )
    out = parse(req, data)
    assert out.upgraded is True
    assert out.body == b"body"
    assert out.tail == b"TAIL"


def test_upgrade_after_a_chunked_body(parse: Parse, req: object) -> None:
    data = request(
        b"POST /up HTTP/1.1",
        b"Upgrade: websocket",
        b"Connection: upgrade",
        b"Transfer-Encoding: chunked",
        body=b"1\r\nx\r\n0\r\n\r\n\x00\x01",
    )
    out = parse(req, data)
    assert (out.upgraded, out.body, out.tail) == (True, b"x", b"\x00\x01")


def test_unsupported_upgrade_keeps_parsing_http(parse: Parse, req: object) -> None:
    data = request(
        b"GET / HTTP/1.1", b"Upgrade: h2c", b"Connection: Upgrade, HTTP2-Settings"
    ) + request(b"GET /next HTTP/1.1")
    out = parse(req, data)
    assert out.upgraded is False
    assert out.events[0].upgrade is True
    assert [m.path for m in out.messages] == ["/", "/next"]


def test_connection_upgrade_without_upgrade_field(parse: Parse, req: object) -> None:
    msg = only_head(parse, req, request(b"GET / HTTP/1.1", b"Connection: upgrade"))
    assert msg.upgrade is False


def test_connect_switches_to_a_tunnel(parse: Parse, req: object) -> None:
    data = request(b"CONNECT [::1]:8443 HTTP/1.1", b"Host: [::1]:8443") + b"\x16\x03\x01 tls bytes"
    out = parse(req, data)
    assert out.upgraded is True
    assert out.tail == b"\x16\x03\x01 tls bytes"
    assert out.events[0].url.port == 8443
    assert out.events[0].upgrade is False


def test_connect_with_a_body_switches_after_it(parse: Parse, req: object) -> None:
    data = request(b"CONNECT a.example:443 HTTP/1.1", b"Host: a.example:443", b"Content-Length: 2")
    out = parse(req, data + b"hiTUNNEL")
    assert (out.upgraded, out.body, out.tail) == (True, b"hi", b"TUNNEL")


def test_upgrade_is_ignored_in_http10(parse: Parse, req: object) -> None:
    # RFC 9110 §7.8: a server MUST ignore Upgrade received in an HTTP/1.0 request.
    data = b"GET / HTTP/1.0\r\nConnection: upgrade, keep-alive\r\nUpgrade: websocket\r\n\r\n"
    out = parse(req, data + b"GET /2 HTTP/1.0\r\n\r\n")
    assert out.upgraded is False
    assert out.events[0].upgrade is False
    assert [m.path for m in out.messages] == ["/", "/2"]


def test_feeding_after_a_switch_raises() -> None:
    parser = HttpRequestParser()
    _, upgraded, tail = parser.feed_data(WS_REQUEST + b"abc")
    assert (upgraded, tail) == (True, b"abc")
    with pytest.raises(RuntimeError):
        parser.feed_data(b"more")
    assert parser.feed_eof() == []


# --- limits -----------------------------------------------------------------------------


def test_request_line_limit(parse: Parse) -> None:
    def small() -> HttpRequestParser:
        return HttpRequestParser(max_line_size=30)

    ok = b"GET /" + b"a" * 16 + b" HTTP/1.1"  # exactly 30 bytes
    assert len(ok) == 30
    assert parse(small, request(ok)).error is None
    out = parse(small, request(b"GET /" + b"a" * 17 + b" HTTP/1.1"))
    assert (out.error, out.code) == (LineTooLong, 400)


def test_field_limit(parse: Parse) -> None:
    def small() -> HttpRequestParser:
        return HttpRequestParser(max_field_size=20)

    assert parse(small, request(b"GET / HTTP/1.1", b"X-Field: " + b"v" * 11)).error is None
    out = parse(small, request(b"GET / HTTP/1.1", b"X-Field: " + b"v" * 12))
    assert (out.error, out.code) == (LineTooLong, 431)


def test_field_limit_with_default_size() -> None:
    data = request(b"GET / HTTP/1.1", b"Cookie: " + b"c" * 8190)
    with pytest.raises(LineTooLong) as info:
        HttpRequestParser().feed_data(data)
    assert info.value.code == 431


def test_large_head_within_limits_is_fine(parse: Parse, req: object) -> None:
    fields = [b"X-F%d: " % i + b"v" * 8000 for i in range(3)]
    msg = only_head(parse, req, request(b"GET / HTTP/1.1", *fields))
    assert len(msg.headers["X-F2"]) == 8000


def test_header_count_limit(parse: Parse) -> None:
    def small() -> HttpRequestParser:
        return HttpRequestParser(max_headers=4)

    fields = [b"X-%d: v" % i for i in range(3)]
    assert parse(small, request(b"GET / HTTP/1.1", *fields)).error is None  # 4 with Host
    out = parse(small, request(b"GET / HTTP/1.1", *fields, b"X-Last: v"))
    assert (out.error, out.code) == (TooManyHeaders, 431)


def test_default_header_count_limit() -> None:
    fields = [b"X-%d: v" % i for i in range(128)]
    with pytest.raises(TooManyHeaders) as info:
        HttpRequestParser().feed_data(request(b"GET / HTTP/1.1", *fields))
    assert info.value.code == 431


def test_line_limit_holds_before_the_line_ends() -> None:
    # No CRLF ever arrives: the parser must not buffer beyond the limit.
    parser = HttpRequestParser(max_line_size=100)
    parser.feed_data(b"GET /" + b"a" * 90)
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(b"a" * 20)
    assert info.value.code == 400


def test_field_limit_holds_before_the_line_ends() -> None:
    parser = HttpRequestParser(max_field_size=100)
    parser.feed_data(b"GET / HTTP/1.1\r\nX-Big: ")
    for _ in range(10):
        parser.feed_data(b"b" * 9)
    with pytest.raises(LineTooLong) as info:
        parser.feed_data(b"b" * 9)
    assert info.value.code == 431


def test_huge_unterminated_line_in_one_read() -> None:
    with pytest.raises(LineTooLong):
        HttpRequestParser().feed_data(b"GET /" + b"a" * 100_000)


def test_many_small_reads_of_a_long_head_stay_linear() -> None:
    parser = HttpRequestParser()
    head = request(b"GET / HTTP/1.1", *[b"X-%d: %s" % (i, b"v" * 60) for i in range(100)])
    events: list[object] = []
    for i in range(len(head)):
        events += parser.feed_data(head[i : i + 1])[0]
    assert len(events) == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"max_line_size": 0}, {"max_field_size": -1}, {"max_headers": True}, {"max_headers": 1.5}],
)
def test_invalid_limits(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HttpRequestParser(**kwargs)  # type: ignore[arg-type]


# --- end of input and the error state ---------------------------------------------------


def test_eof_between_messages_is_a_no_op() -> None:
    parser = HttpRequestParser()
    assert parser.feed_eof() == []
    parser.feed_data(request() + b"\r\n")
    assert parser.feed_eof() == []


def test_eof_inside_a_head() -> None:
    parser = HttpRequestParser()
    parser.feed_data(b"GET / HTTP/1.1\r\nHost: a\r\n")
    with pytest.raises(BadHttpMessage) as info:
        parser.feed_eof()
    assert info.value.code == 400


def test_eof_inside_a_body() -> None:
    parser = HttpRequestParser()
    parser.feed_data(request(b"POST / HTTP/1.1", b"Content-Length: 10", body=b"abc"))
    with pytest.raises(ContentLengthError, match="received 3 of 10") as info:
        parser.feed_eof()
    assert info.value.code == 400


def test_eof_inside_a_chunked_body() -> None:
    parser = HttpRequestParser()
    parser.feed_data(request(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"5\r\nab"))
    with pytest.raises(TransferEncodingError) as info:
        parser.feed_eof()
    assert info.value.code == 400


def test_parser_is_unusable_after_an_error() -> None:
    parser = HttpRequestParser()
    with pytest.raises(InvalidHeader):
        parser.feed_data(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")
    with pytest.raises(InvalidHeader):
        parser.feed_data(request())
    with pytest.raises(InvalidHeader):
        parser.feed_eof()


def test_same_error_whole_and_bytewise(feed: Parse, req: object) -> None:
    data = request(b"GET / HTTP/1.1", b"X-Ok: 1", b"Bad Line", b"X-Long: " + b"z" * 9000)
    whole = feed(req, [data])
    bytewise = feed(req, [data[i : i + 1] for i in range(len(data))])
    # Structural checks (length) come before content checks, however the input is split.
    assert (whole.error, whole.code) == (bytewise.error, bytewise.code) == (LineTooLong, 431)


# --- packaging --------------------------------------------------------------------------


def test_importing_the_parser_does_not_import_asyncio() -> None:
    code = (
        "import sys; import aioloom.http; import aioloom.http._parser; "
        "assert 'asyncio' not in sys.modules, sorted(m for m in sys.modules if 'asyncio' in m)"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)
