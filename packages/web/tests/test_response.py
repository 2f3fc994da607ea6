"""StreamResponse and Response: state, headers, framing, cookies, compression negotiation.

Responses are prepared against requests built without a socket (``make_request``); what
the writer sends is read back with the independent h11 parser.
"""

from __future__ import annotations

import datetime
import gzip
import json
import zlib
from http.cookies import CookieError
from typing import Any

import pytest
from multidict import CIMultiDict

from aioloom.http._cookies import format_set_cookie
from aioloom.http._etag import ETag
from aioloom.http.aio._payload import BytesPayload, StringPayload
from aioloom.web._coding import ContentCoding, negotiate_coding
from aioloom.web._keys import ResponseKey
from aioloom.web._response import Response, StreamResponse, json_bytes_response, json_response
from aioloom.web._stream_response import SERVER_SOFTWARE, must_be_empty_body

GET11 = b"GET /path HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET10 = b"GET /path HTTP/1.0\r\n\r\n"
GET10_KA = b"GET /path HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
HEAD11 = b"HEAD /path HTTP/1.1\r\nHost: example.com\r\n\r\n"


def _sent(request: Any) -> bytes:
    data: bytes = request.protocol.transport.data()
    return data


async def _send(make_request: Any, raw: bytes, resp: StreamResponse, **kw: Any) -> Any:
    request = make_request(raw, **kw)
    await resp.prepare(request)
    await resp.write_eof()
    return request


# -- status and reason -------------------------------------------------------------------


def test_defaults() -> None:
    resp = StreamResponse()
    assert resp.status == 200
    assert resp.reason == "OK"
    assert not resp.prepared
    assert resp.keep_alive is None
    assert resp.task is None
    assert resp.body_length == 0
    assert not resp.chunked and not resp.compression
    assert len(resp) == 0 and bool(resp) is True


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (599, ""), (418, None)])
def test_set_status_reason(status: int, reason: str | None) -> None:
    resp = StreamResponse()
    resp.set_status(status, reason)
    assert resp.status == status
    if reason is not None:
        assert resp.reason == reason
    elif status == 418:
        assert resp.reason == "I'm a Teapot"


@pytest.mark.parametrize("status", [0, 99, 1000, -1])
def test_invalid_status(status: int) -> None:
    with pytest.raises(ValueError, match="Invalid HTTP status code"):
        StreamResponse(status=status)


@pytest.mark.parametrize("reason", ["a\r\nb", "x\ny", "z\r"])
def test_reason_injection_rejected(reason: str) -> None:
    with pytest.raises(ValueError, match="Reason cannot contain"):
        StreamResponse(reason=reason)


async def test_set_status_after_prepare_fails(make_request: Any) -> None:
    resp = StreamResponse()
    await resp.prepare(make_request(GET11))
    with pytest.raises(RuntimeError, match="Cannot change the response status"):
        resp.set_status(500)


# -- headers ------------------------------------------------------------------------------


def test_headers_are_copied() -> None:
    src = CIMultiDict({"X-A": "1"})
    resp = StreamResponse(headers=src)
    resp.headers["X-B"] = "2"
    assert "X-B" not in src


def test_response_uses_given_cimultidict() -> None:
    src: CIMultiDict[str] = CIMultiDict({"X-A": "1"})
    resp = Response(headers=src)
    assert resp.headers is src


def test_content_type_and_charset_setters() -> None:
    resp = StreamResponse()
    assert resp.content_type == "application/octet-stream"
    with pytest.raises(RuntimeError, match="octet-stream"):
        resp.charset = "utf-8"
    resp.content_type = "text/html"
    resp.charset = "KOI8-R"
    assert resp.headers["Content-Type"] == "text/html; charset=koi8-r"
    assert resp.charset == "koi8-r"
    resp.charset = None
    assert resp.headers["Content-Type"] == "text/html"


def test_content_length_setter() -> None:
    resp = StreamResponse()
    resp.content_length = 10
    assert resp.headers["Content-Length"] == "10"
    assert resp.content_length == 10
    resp.content_length = None
    assert "Content-Length" not in resp.headers
    resp.enable_chunked_encoding()
    with pytest.raises(RuntimeError, match="chunked"):
        resp.content_length = 5


def test_chunked_with_content_length_fails() -> None:
    resp = StreamResponse()
    resp.content_length = 5
    with pytest.raises(RuntimeError, match="content length is set"):
        resp.enable_chunked_encoding()


def test_last_modified() -> None:
    resp = StreamResponse()
    resp.last_modified = 0
    assert resp.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    resp.last_modified = 1.2  # rounded up, as aiohttp
    assert resp.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:02 GMT"
    when = datetime.datetime(2020, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
    resp.last_modified = when
    assert resp.last_modified == when
    resp.last_modified = "Mon, 03 Feb 2020 04:05:06 GMT"
    assert resp.last_modified == when
    resp.last_modified = None
    assert resp.last_modified is None
    with pytest.raises(TypeError):
        resp.last_modified = object()  # type: ignore[assignment]


def test_etag() -> None:
    resp = StreamResponse()
    assert resp.etag is None
    resp.etag = "abc"
    assert resp.headers["ETag"] == '"abc"'
    assert resp.etag == ETag("abc")
    resp.etag = ETag("w1", is_weak=True)
    assert resp.headers["ETag"] == 'W/"w1"'
    resp.etag = "*"
    assert resp.headers["ETag"] == "*"
    resp.etag = None
    assert "ETag" not in resp.headers
    with pytest.raises(ValueError):
        resp.etag = 'bad"quote'
    with pytest.raises(ValueError, match="Unsupported etag type"):
        resp.etag = 5  # type: ignore[assignment]
    resp.headers["ETag"] = "not-quoted"
    assert resp.etag is None


# -- cookies ------------------------------------------------------------------------------


async def test_set_and_delete_cookies(make_request: Any, h11_parse: Any) -> None:
    resp = StreamResponse()
    resp.set_cookie("sid", "abc", max_age=60, httponly=True, secure=True, samesite="Lax")
    resp.set_cookie("chip", "1", partitioned=True, secure=True)
    resp.del_cookie("old", domain="example.com")
    request = make_request(GET11)
    await resp.prepare(request)
    await resp.write_eof()
    (parsed,) = h11_parse(_sent(request))
    cookies = [v.decode() for v in parsed.headers[b"set-cookie"]]
    assert cookies[0] == "sid=abc; HttpOnly; Max-Age=60; Path=/; SameSite=Lax; Secure"
    assert "Partitioned" in cookies[1]
    assert cookies[2].startswith('old=""; Domain=example.com; expires=Thu, 01 Jan 1970')
    assert "Max-Age=0" in cookies[2]


def test_set_cookie_after_delete_resets() -> None:
    resp = StreamResponse()
    resp.del_cookie("a")
    resp.set_cookie("a", "1")
    morsel = resp.cookies["a"]
    assert morsel.value == "1"
    assert not morsel.get("expires") and not morsel.get("max-age")
    assert format_set_cookie(morsel) == "a=1; Path=/"


def test_set_cookie_bad_name() -> None:
    with pytest.raises(CookieError):
        StreamResponse().set_cookie("bad name", "v")


async def test_cookie_value_injection_rejected(make_request: Any) -> None:
    resp = StreamResponse()
    resp.set_cookie("a", "1", domain="x.com\r\nX-Injected: 1")
    with pytest.raises(ValueError):
        await resp.prepare(make_request(GET11))


# -- framing --------------------------------------------------------------------------------


async def test_response_framing_http11(make_request: Any, h11_parse: Any) -> None:
    request = await _send(make_request, GET11, Response(text="hello"))
    data = _sent(request)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert len(request.protocol.transport.written) == 1  # head and body in one write
    (parsed,) = h11_parse(data)
    assert parsed.body == b"hello"
    assert parsed.header("Content-Length") == "5"
    assert parsed.header("Content-Type") == "text/plain; charset=utf-8"
    assert parsed.header("Server") == SERVER_SOFTWARE
    assert parsed.header("Date") is not None and parsed.header("Date").endswith("GMT")
    assert parsed.header("Connection") is None  # keep-alive is the HTTP/1.1 default


async def test_http10_gets_10_status_line_and_close(make_request: Any) -> None:
    resp = Response(text="x")
    request = await _send(make_request, GET10, resp)
    assert _sent(request).startswith(b"HTTP/1.0 200 OK\r\n")
    assert resp.keep_alive is False
    assert b"Connection" not in _sent(request)  # closing is the HTTP/1.0 default


async def test_http10_keep_alive(make_request: Any) -> None:
    resp = Response(text="x")
    request = await _send(make_request, GET10_KA, resp)
    assert b"\r\nConnection: keep-alive\r\n" in _sent(request)
    assert resp.keep_alive is True


async def test_force_close_adds_connection_close(make_request: Any) -> None:
    resp = Response(text="x")
    resp.force_close()
    request = await _send(make_request, GET11, resp)
    assert b"\r\nConnection: close\r\n" in _sent(request)


async def test_stream_response_chunked_by_default(make_request: Any, h11_parse: Any) -> None:
    resp = StreamResponse()
    request = make_request(GET11)
    await resp.prepare(request)
    await resp.write(b"abc")
    await resp.write(bytearray(b"def"))
    await resp.write_eof(memoryview(b"g"))
    data = _sent(request)
    assert b"Transfer-Encoding: chunked" in data
    (parsed,) = h11_parse(data)
    assert parsed.body == b"abcdefg"
    assert resp.body_length == len(data)


async def test_stream_response_http10_no_length_closes(make_request: Any) -> None:
    resp = StreamResponse()
    request = make_request(GET10)
    await resp.prepare(request)
    await resp.write(b"abc")
    await resp.write_eof()
    assert resp.keep_alive is False
    assert b"chunked" not in _sent(request) and _sent(request).endswith(b"\r\n\r\nabc")


async def test_chunked_forbidden_for_http10(make_request: Any) -> None:
    resp = StreamResponse()
    resp.enable_chunked_encoding()
    with pytest.raises(RuntimeError, match="forbidden for HTTP/1.0"):
        await resp.prepare(make_request(GET10))


async def test_content_length_cuts_extra_bytes(make_request: Any, h11_parse: Any) -> None:
    resp = StreamResponse()
    resp.content_length = 3
    request = make_request(GET11)
    await resp.prepare(request)
    await resp.write(b"abcdef")
    await resp.write_eof()
    (parsed,) = h11_parse(_sent(request))
    assert parsed.body == b"abc"


async def test_head_sends_headers_only(make_request: Any, h11_parse: Any) -> None:
    request = await _send(make_request, HEAD11, Response(body=b"hello"))
    data = _sent(request)
    assert data.endswith(b"\r\n\r\n")
    (parsed,) = h11_parse(data, ["HEAD"])
    assert parsed.header("Content-Length") == "5"
    assert parsed.body == b""


@pytest.mark.parametrize("status", [204, 304, 101])
async def test_no_body_statuses(make_request: Any, status: int) -> None:
    request = await _send(make_request, GET11, Response(status=status, body=b"ignored"))
    data = _sent(request)
    assert data.endswith(b"\r\n\r\n")
    assert b"ignored" not in data
    assert b"Transfer-Encoding" not in data
    if status == 304:
        assert b"Content-Length: 7" in data  # RFC 9110 §8.6: 304 may describe the length
    else:
        assert b"Content-Length" not in data


async def test_empty_response_has_zero_length(make_request: Any, h11_parse: Any) -> None:
    request = await _send(make_request, GET11, Response())
    (parsed,) = h11_parse(_sent(request))
    assert parsed.header("Content-Length") == "0"
    assert parsed.header("Content-Type") is None


def test_must_be_empty_body() -> None:
    assert must_be_empty_body("HEAD", 200)
    assert must_be_empty_body("GET", 204) and must_be_empty_body("GET", 304)
    assert must_be_empty_body("GET", 100)
    assert must_be_empty_body("CONNECT", 200)
    assert not must_be_empty_body("CONNECT", 407)
    assert not must_be_empty_body("GET", 200)


async def test_prepare_twice_returns_same_writer(make_request: Any) -> None:
    resp = StreamResponse()
    request = make_request(GET11)
    writer = await resp.prepare(request)
    assert writer is not None and resp.prepared
    assert await resp.prepare(request) is writer
    assert resp.task is None  # the request built for the test has no task
    await resp.write_eof()
    assert await resp.prepare(request) is None


async def test_write_errors(make_request: Any) -> None:
    resp = StreamResponse()
    with pytest.raises(RuntimeError, match="before prepare"):
        await resp.write(b"x")
    with pytest.raises(RuntimeError, match="not been started"):
        await resp.write_eof()
    await resp.prepare(make_request(GET11))
    with pytest.raises(TypeError, match="byte-ish"):
        await resp.write("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="byte-ish"):
        await resp.write_eof("text")  # type: ignore[arg-type]
    await resp.write_eof()
    await resp.write_eof()  # a second call does nothing
    with pytest.raises(RuntimeError, match="after write_eof"):
        await resp.write(b"x")


async def test_drain_is_deprecated(make_request: Any) -> None:
    resp = StreamResponse()
    await resp.prepare(make_request(GET11))
    with pytest.warns(DeprecationWarning, match="drain method is deprecated"):
        await resp.drain()


async def test_repr_states(make_request: Any) -> None:
    resp = StreamResponse()
    assert repr(resp) == "<StreamResponse OK not prepared>"
    await resp.prepare(make_request(GET11))
    assert repr(resp) == "<StreamResponse OK GET /path >"
    await resp.write_eof()
    assert repr(resp) == "<StreamResponse OK eof>"


def test_mapping_interface_and_typed_keys() -> None:
    resp = StreamResponse()
    key = ResponseKey("count", int)
    resp[key] = 3
    resp["plain"] = "x"
    assert resp[key] == 3 and resp["plain"] == "x"
    assert set(resp) == {key, "plain"} and len(resp) == 2
    del resp["plain"]
    assert "plain" not in resp
    assert resp == resp and resp != StreamResponse()
    assert hash(resp) == hash(id(resp))


# -- Response bodies ------------------------------------------------------------------------


def test_response_text_and_body() -> None:
    resp = Response(text="héllo")
    assert resp.body == "héllo".encode()
    assert resp.text == "héllo"
    assert resp.content_length == len("héllo".encode())
    resp.text = "bye"
    assert resp.body == b"bye"
    resp.body = b"\xff"
    assert resp.content_type == "text/plain"
    resp.body = None
    assert resp.text is None and resp.content_length == 0


def test_response_text_with_charset_and_type() -> None:
    resp = Response(text="x", content_type="text/html", charset="latin-1")
    assert resp.headers["Content-Type"] == "text/html; charset=latin-1"
    assert resp.body == b"x"


def test_response_body_with_content_type() -> None:
    resp = Response(body=b"{}", content_type="application/json", charset="utf-8")
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"body": b"x", "text": "y"}, ValueError),
        ({"text": "x", "content_type": "text/plain; charset=utf-8"}, ValueError),
        ({"text": "x", "headers": {"Content-Type": "a/b"}, "content_type": "c/d"}, ValueError),
        ({"body": b"x", "headers": {"Content-Type": "a/b"}, "charset": "utf-8"}, ValueError),
        ({"text": b"bytes"}, TypeError),
        ({"body": object()}, ValueError),
    ],
)
def test_response_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Response(**kwargs)


def test_text_setter_rejects_bytes() -> None:
    with pytest.raises(TypeError):
        Response().text = b"x"  # type: ignore[assignment]


def test_content_length_is_automatic() -> None:
    with pytest.raises(RuntimeError, match="set automatically"):
        Response().content_length = 3


async def test_str_body_becomes_payload(make_request: Any, h11_parse: Any) -> None:
    resp = Response(body="text body")
    assert isinstance(resp.body, StringPayload)
    assert resp.content_type == "text/plain"
    assert resp.text == "text body"
    request = await _send(make_request, GET11, resp)
    (parsed,) = h11_parse(_sent(request))
    assert parsed.body == b"text body"
    assert parsed.header("Content-Length") == "9"


async def test_payload_body(make_request: Any, h11_parse: Any) -> None:
    resp = Response(body=BytesPayload(b"payload", content_type="application/x-thing"))
    request = await _send(make_request, GET11, resp)
    (parsed,) = h11_parse(_sent(request))
    assert parsed.body == b"payload"
    assert parsed.header("Content-Type") == "application/x-thing"


def test_json_response() -> None:
    resp = json_response({"a": [1, 2]}, status=201, headers={"X-A": "1"})
    assert resp.status == 201
    assert resp.content_type == "application/json"
    assert json.loads(resp.text or "") == {"a": [1, 2]}
    assert resp.headers["X-A"] == "1"
    custom = json_response({"a": 1}, dumps=lambda v: "[custom]")
    assert custom.text == "[custom]"
    assert json_response(text='{"x": 1}').text == '{"x": 1}'
    with pytest.raises(ValueError, match="only one of data"):
        json_response({"a": 1}, text="{}")


def test_json_bytes_response() -> None:
    resp = json_bytes_response({"a": 1}, dumps=lambda v: json.dumps(v).encode())
    assert resp.body == b'{"a": 1}'
    assert resp.content_type == "application/json"
    with pytest.raises(ValueError, match="only one of data or body"):
        json_bytes_response({"a": 1}, dumps=json.dumps, body=b"{}")


# -- compression ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("gzip", ContentCoding.gzip),
        ("gzip, deflate", ContentCoding.deflate),  # aiohttp's order on equal weight
        ("gzip;q=1.0, deflate;q=0.5", ContentCoding.gzip),
        ("deflate;q=0, gzip", ContentCoding.gzip),
        ("*", ContentCoding.deflate),
        ("*, deflate;q=0", ContentCoding.gzip),
        ("identity", None),
        ("gzip;q=bogus", None),
        ("GZIP", ContentCoding.gzip),
        ("compress, x-custom", None),
    ],
)
def test_negotiate_coding(header: str, expected: ContentCoding | None) -> None:
    assert negotiate_coding(header) is expected


def test_negotiate_brotli_when_installed() -> None:
    pytest.importorskip("brotli", reason="brotli is an optional speedup")
    assert negotiate_coding("br") is ContentCoding.br
    assert negotiate_coding("gzip;q=0.5, br") is ContentCoding.br


async def test_response_compressed_whole(make_request: Any, h11_parse: Any) -> None:
    body = b"abc" * 1000
    resp = Response(body=body)
    resp.enable_compression()
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
    request = await _send(make_request, raw, resp)
    (parsed,) = h11_parse(_sent(request))
    assert parsed.header("Content-Encoding") == "gzip"
    assert parsed.header("Transfer-Encoding") is None
    assert int(parsed.header("Content-Length") or 0) == len(parsed.body) < len(body)
    assert gzip.decompress(parsed.body) == body


async def test_response_compressed_in_executor(make_request: Any, h11_parse: Any) -> None:
    body = b"xyz" * 5000
    resp = Response(body=body, zlib_executor_size=1024)
    resp.enable_compression(ContentCoding.deflate)
    request = await _send(make_request, GET11, resp)
    (parsed,) = h11_parse(_sent(request))
    assert zlib.decompress(parsed.body) == body


async def test_stream_response_compressed(make_request: Any, h11_parse: Any) -> None:
    resp = StreamResponse()
    resp.content_length = 100  # dropped: the compressed size is not known in advance
    resp.enable_compression(ContentCoding.gzip)
    request = make_request(GET11)
    await resp.prepare(request)
    await resp.write(b"a" * 100)
    await resp.write_eof()
    (parsed,) = h11_parse(_sent(request))
    assert parsed.header("Transfer-Encoding") == "chunked"
    assert parsed.header("Content-Length") is None
    assert gzip.decompress(parsed.body) == b"a" * 100


async def test_compression_not_accepted(make_request: Any, h11_parse: Any) -> None:
    resp = Response(body=b"plain")
    resp.enable_compression()
    request = await _send(make_request, GET11, resp)
    (parsed,) = h11_parse(_sent(request))
    assert parsed.header("Content-Encoding") is None
    assert parsed.body == b"plain"


async def test_forced_identity_and_bool_force(make_request: Any) -> None:
    resp = Response(body=b"plain")
    with pytest.warns(DeprecationWarning, match="boolean for force"):
        resp.enable_compression(False)
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
    request = await _send(make_request, raw, resp)
    assert b"Content-Encoding" not in _sent(request)
    with pytest.raises(TypeError, match="ContentCoding"):
        Response().enable_compression("gzip")  # type: ignore[arg-type]


async def test_head_stream_writes_are_dropped(make_request: Any, h11_parse: Any) -> None:
    resp = StreamResponse()
    request = make_request(HEAD11)
    await resp.prepare(request)
    await resp.write(b"must not be sent")
    await resp.write_eof()
    data = _sent(request)
    assert data.endswith(b"\r\n\r\n") and b"must not" not in data
    assert b"Transfer-Encoding" not in data


async def test_204_stream_writes_are_dropped(make_request: Any) -> None:
    resp = StreamResponse(status=204)
    request = make_request(GET11)
    await resp.prepare(request)
    await resp.write(b"must not be sent")
    await resp.write_eof()
    assert _sent(request).endswith(b"\r\n\r\n") and b"must not" not in _sent(request)


async def test_101_writes_pass_through(make_request: Any) -> None:
    resp = StreamResponse(status=101, headers={"Upgrade": "tcp", "Connection": "upgrade"})
    request = make_request(GET11)
    await resp.prepare(request)
    await resp.write(b"new protocol bytes")
    data = _sent(request)
    assert data.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert data.endswith(b"\r\n\r\nnew protocol bytes")


async def test_output_length_and_chunk_size_deprecations(make_request: Any) -> None:
    resp = StreamResponse()
    with pytest.warns(DeprecationWarning, match="Chunk size is deprecated"):
        resp.enable_chunked_encoding(chunk_size=1024)
    assert resp.chunked
    with pytest.warns(DeprecationWarning), pytest.raises(RuntimeError):
        resp.output_length  # noqa: B018 - not prepared yet
    await resp.prepare(make_request(GET11))
    await resp.write(b"abc")
    with pytest.warns(DeprecationWarning, match="output_length is deprecated"):
        assert resp.output_length >= 0


async def test_small_body_compressed_inline_when_no_executor(
    make_request: Any, h11_parse: Any
) -> None:
    body = b"q" * 10_000
    resp = Response(body=body, zlib_executor_size=None)
    resp.enable_compression(ContentCoding.gzip)
    request = await _send(make_request, GET11, resp)
    (parsed,) = h11_parse(_sent(request))
    assert gzip.decompress(parsed.body) == body
