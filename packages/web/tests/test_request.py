"""BaseRequest and Request properties and body methods, on requests built without a socket."""

from __future__ import annotations

import asyncio
import importlib
import socket
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aioloom.http._messages import HttpVersion10, HttpVersion11
from aioloom.http.aio._streams import EmptyStreamReader
from aioloom.web._exceptions import HTTPRequestEntityTooLarge, HTTPUnsupportedMediaType
from aioloom.web._keys import RequestKey
from aioloom.web._request import BaseRequest, Request
from aioloom.web._response import Response


def _post(body: bytes, content_type: str | None, method: str = "POST") -> bytes:
    ct = f"Content-Type: {content_type}\r\n" if content_type is not None else ""
    return (
        f"{method} /form HTTP/1.1\r\nHost: x\r\n{ct}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_head_properties(make_request: Any) -> None:
    raw = (
        b"GET /p%20a/th?b=1&a=2&b=3 HTTP/1.1\r\nHost: example.com:8080\r\n"
        b"X-Thing: one\r\nX-Thing: two\r\n\r\n"
    )
    req = make_request(raw)
    assert req.method == "GET"
    assert req.version == HttpVersion11
    assert req.path == "/p a/th"
    assert req.raw_path == "/p%20a/th?b=1&a=2&b=3"
    assert req.path_qs == "/p%20a/th?b=1&a=2&b=3"
    assert req.query_string == "b=1&a=2&b=3"
    assert req.query.getall("b") == ["1", "3"] and req.query["a"] == "2"
    assert req.rel_url == URL("/p%20a/th?b=1&a=2&b=3")
    assert req.host == "example.com:8080"
    assert req.scheme == "http" and req.secure is False
    assert req.url == URL("http://example.com:8080/p%20a/th?b=1&a=2&b=3")
    assert req.headers.getall("X-Thing") == ["one", "two"]
    assert (b"X-Thing", b"two") in req.raw_headers
    assert req.keep_alive is True
    assert req.remote == "127.0.0.1"
    assert req.message.method == "GET"
    assert repr(req) == "<BaseRequest GET /p a/th >"


def test_scheme_https_from_tls(make_request: Any) -> None:
    req = make_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", sslcontext=object())
    assert req.scheme == "https" and req.secure
    assert req.url == URL("https://h/")


def test_host_falls_back_to_fqdn(make_request: Any) -> None:
    req = make_request(b"GET / HTTP/1.0\r\n\r\n")
    assert req.host == socket.getfqdn()
    assert req.version == HttpVersion10
    assert req.keep_alive is False


def test_remote_variants(make_request: Any) -> None:
    assert make_request(b"GET / HTTP/1.0\r\n\r\n", peername=None).remote is None
    assert make_request(b"GET / HTTP/1.0\r\n\r\n", peername="/tmp/sock").remote == "/tmp/sock"
    req = make_request(b"GET / HTTP/1.0\r\n\r\n", peername=("::1", 80, 0, 0))
    assert req.remote == "::1"


def test_overrides_from_constructor(make_request: Any) -> None:
    req = make_request(
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", scheme="https", host="b", remote="10.0.0.1"
    )
    assert (req.scheme, req.host, req.remote) == ("https", "b", "10.0.0.1")
    assert req.url == URL("https://b/x")


def test_absolute_form_target(make_request: Any) -> None:
    req = make_request(b"GET http://other:81/x?y=1 HTTP/1.1\r\nHost: other:81\r\n\r\n")
    assert req.url == URL("http://other:81/x?y=1")
    assert req.rel_url == URL("/x?y=1")
    assert req.path == "/x"


def test_cookies(make_request: Any) -> None:
    req = make_request(b'GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; b="two"; bad; c=3\r\n\r\n')
    assert dict(req.cookies) == {"a": "1", "b": "two", "c": "3"}
    with pytest.raises(TypeError):
        req.cookies["d"] = "4"  # read-only


def test_content_type_charset_length(make_request: Any) -> None:
    req = make_request(_post(b"abc", "Text/Plain; charset=KOI8-R"))
    assert req.content_type == "text/plain"
    assert req.charset == "KOI8-R"
    assert req.content_length == 3
    bare = make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert bare.content_type == "application/octet-stream"
    assert bare.charset is None and bare.content_length is None


def test_body_flags(make_request: Any) -> None:
    bare = make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert isinstance(bare.content, EmptyStreamReader)
    assert bare.body_exists is False and bare.can_read_body is False
    with_body = make_request(_post(b"abc", "text/plain"))
    assert with_body.body_exists is True and with_body.can_read_body is True
    with pytest.warns(DeprecationWarning, match="can_read_body"):
        assert with_body.has_body is True


async def test_read_text_json(make_request: Any) -> None:
    req = make_request(_post('{"k": "é"}'.encode(), "application/json"))
    assert await req.read() == '{"k": "é"}'.encode()
    assert await req.read() == '{"k": "é"}'.encode()  # kept
    assert await req.text() == '{"k": "é"}'
    assert await req.json() == {"k": "é"}
    assert await req.json(loads=lambda s: s.upper()) == '{"K": "É"}'
    assert req.can_read_body is False


async def test_text_with_charset(make_request: Any) -> None:
    req = make_request(_post("привет".encode("koi8-r"), "text/plain; charset=koi8-r"))
    assert await req.text() == "привет"


async def test_text_unknown_charset_is_415(make_request: Any) -> None:
    req = make_request(_post(b"abc", "text/plain; charset=no-such-codec"))
    with pytest.raises(HTTPUnsupportedMediaType) as info:
        await req.text()
    assert info.value.status == 415


async def test_read_over_client_max_size(make_request: Any) -> None:
    req = make_request(_post(b"x" * 11, "text/plain"), client_max_size=10)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await req.read()
    assert info.value.status == 413
    assert info.value.text == "Maximum request body size 10 exceeded."
    exact = make_request(_post(b"x" * 10, "text/plain"), client_max_size=10)
    assert await exact.read() == b"x" * 10
    unlimited = make_request(_post(b"x" * 11, "text/plain"), client_max_size=0)
    assert len(await unlimited.read()) == 11


async def test_read_of_a_body_already_complete(make_request: Any) -> None:
    # Chunked: the parser gives two chunks; both are buffered and the stream is at EOF.
    req = make_request(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert req.content.is_eof()
    assert await req.read() == b"abcde"
    assert req.content.at_eof()
    single = make_request(_post(b"whole", "text/plain"))
    chunk = single.content._buffer[0]
    assert await single.read() is chunk  # one chunk: no copy
    failed = make_request(_post(b"abc", "text/plain"))
    failed.content.set_exception(ValueError("gone"))
    with pytest.raises(ValueError, match="gone"):
        await failed.read()


async def test_post_urlencoded(make_request: Any) -> None:
    req = make_request(_post(b"a=1&b=%C3%A9&a=2&empty=", "application/x-www-form-urlencoded"))
    form = await req.post()
    assert form.getall("a") == ["1", "2"]
    assert form["b"] == "é"
    assert form["empty"] == ""
    assert await req.post() is form


async def test_post_without_content_type_is_urlencoded(make_request: Any) -> None:
    req = make_request(_post(b"a=1", None))
    assert (await req.post())["a"] == "1"


async def test_post_charset(make_request: Any) -> None:
    body = b"a=%E9"
    req = make_request(_post(body, "application/x-www-form-urlencoded; charset=latin-1"))
    assert (await req.post())["a"] == "é"
    bad = make_request(_post(b"a=1", "application/x-www-form-urlencoded; charset=nope"))
    with pytest.raises(HTTPUnsupportedMediaType):
        await bad.post()


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /form?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        _post(b"a=1", "application/json"),
        _post(b"a=1", "application/x-www-form-urlencoded", method="OPTIONS"),
    ],
)
async def test_post_other_methods_or_types_empty(make_request: Any, raw: bytes) -> None:
    req = make_request(raw)
    assert len(await req.post()) == 0


async def test_post_too_many_fields(make_request: Any) -> None:
    body = "&".join(f"f{i}=v" for i in range(11)).encode()
    req = make_request(_post(body, "application/x-www-form-urlencoded"), client_max_fields=10)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await req.post()
    assert info.value.text == "Maximum number of form fields 10 exceeded."
    ok = make_request(_post(body, "application/x-www-form-urlencoded")).clone(client_max_fields=11)
    assert ok.client_max_fields == 11
    assert len(await ok.post()) == 11
    unlimited = make_request(_post(body, "application/x-www-form-urlencoded"))
    assert unlimited.clone(client_max_fields=0).client_max_fields == 0


async def test_post_over_client_max_size(make_request: Any) -> None:
    req = make_request(_post(b"a=" + b"x" * 20, "application/x-www-form-urlencoded"))
    req = req.clone(client_max_size=5)
    with pytest.raises(HTTPRequestEntityTooLarge):
        await req.post()


async def test_multipart_missing_extra(make_request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> Any:
        if name == "aioloom.multipart":
            raise ModuleNotFoundError("No module named 'aioloom.multipart'")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    req = make_request(_post(b"--b--\r\n", "multipart/form-data; boundary=b"))
    with pytest.raises(ModuleNotFoundError, match=r'pip install "aioloom-web\[multipart\]"'):
        await req.post()
    with pytest.raises(ModuleNotFoundError, match="aioloom-web"):
        await req.multipart()


async def test_release_drops_the_body(make_request: Any) -> None:
    req = make_request(_post(b"abcdef", "text/plain"))
    await req.release()
    assert req.can_read_body is False


def test_mapping_with_typed_keys(make_request: Any) -> None:
    req = make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    user = RequestKey("user", str)
    req[user] = "alice"
    req["plain"] = 1
    assert req[user] == "alice" and req["plain"] == 1
    assert len(req) == 2 and set(req) == {user, "plain"}
    del req["plain"]
    assert "plain" not in req
    assert bool(req) is True and req == req
    assert req != make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


def test_clone(make_request: Any) -> None:
    req = make_request(b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n")
    req["state"] = 1
    clone = req.clone(
        method="POST",
        rel_url="/b?y=2",
        headers={"X-B": "2"},
        scheme="https",
        host="other",
        remote="1.2.3.4",
        client_max_size=7,
    )
    assert clone.method == "POST"
    assert clone.path == "/b" and clone.query_string == "y=2" and clone.raw_path == "/b?y=2"
    assert clone.headers == CIMultiDict({"X-B": "2"})
    assert clone.raw_headers == ((b"X-B", b"2"),)
    assert (clone.scheme, clone.host, clone.remote) == ("https", "other", "1.2.3.4")
    assert clone.client_max_size == 7
    assert clone["state"] == 1
    clone["state"] = 2
    assert req["state"] == 1  # state is copied
    same = req.clone()
    assert same.path == req.path and same.headers == req.headers and same is not req


def test_clone_keeps_limits_and_class(make_request: Any) -> None:
    class MyRequest(BaseRequest):
        pass

    req = make_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    mine = MyRequest(
        req.message,
        req.content,
        req.protocol,
        req.writer,
        req.task,
        req._loop,
        client_max_size=5,
        client_max_fields=6,
    )
    clone = mine.clone(client_max_fields=9)
    assert type(clone) is MyRequest
    assert (clone.client_max_size, clone.client_max_fields) == (5, 9)
    assert mine.clone().client_max_fields == 6


def test_split_modules_keep_the_import_paths() -> None:
    from aioloom.web import _expect, _request, _request_headers

    assert _request.default_expect_handler is _expect.default_expect_handler
    assert issubclass(BaseRequest, _request_headers.ParsedHeadersMixin)
    assert BaseRequest.if_none_match is _request_headers.ParsedHeadersMixin.if_none_match


async def test_clone_after_read_fails(make_request: Any) -> None:
    req = make_request(_post(b"abc", "text/plain"))
    await req.read()
    with pytest.raises(RuntimeError, match="Cannot clone request after reading"):
        req.clone()


def test_transport_and_extra_info(make_request: Any) -> None:
    req = make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert req.transport is req.protocol.transport
    assert req.get_extra_info("peername") == ("127.0.0.1", 40000)
    assert req.get_extra_info("nothing", "dflt") == "dflt"
    req.protocol.transport = None
    assert req.get_extra_info("peername", "gone") == "gone"
    assert req.writer is req._payload_writer
    assert req.task is None
    with pytest.warns(DeprecationWarning, match="loop property is deprecated"):
        assert isinstance(req.loop, asyncio.AbstractEventLoop)


async def test_cancel_fails_reads_and_wakes_disconnection_waiters(make_request: Any) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
    req = make_request(raw)
    waiter = asyncio.ensure_future(req.wait_for_disconnection())
    await asyncio.sleep(0)
    req._cancel(ConnectionResetError("gone"))
    await asyncio.wait_for(waiter, 1)
    with pytest.raises(ConnectionResetError, match="gone"):
        await req.read()


async def test_finish_cancels_disconnection_waiters(make_request: Any) -> None:
    req = make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    waiter = asyncio.ensure_future(req.wait_for_disconnection())
    await asyncio.sleep(0)
    req._finish()
    with pytest.raises(asyncio.CancelledError):
        await waiter


# -- Request (the application request) ----------------------------------------------------


class _Signal(list):  # type: ignore[type-arg]
    async def send(self, *args: Any) -> None:
        for receiver in self:
            await receiver(*args)


class _App(dict):  # type: ignore[type-arg]
    def __init__(self, **state: Any) -> None:
        super().__init__(state)
        self.on_response_prepare = _Signal()


class _MatchInfo(dict):  # type: ignore[type-arg]
    def __init__(self, apps: tuple[_App, ...], current: _App, **match: str) -> None:
        super().__init__(match)
        self.apps = apps
        self.current_app = current


def test_request_without_app(make_app_request: Any) -> None:
    req = make_app_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert isinstance(req, Request)
    assert dict(req.match_info) == {}
    assert req.match_info.apps == ()
    assert req.app is None
    assert dict(req.config_dict) == {}


def test_match_info_is_read_only_and_shared_until_routed(make_app_request: Any) -> None:
    req = make_app_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    other = make_app_request(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    assert req.match_info is other.match_info  # the one shared empty match info
    assert repr(req.match_info) == "<MatchInfo: no route>"
    with pytest.raises(AttributeError):
        req.match_info = {"id": "1"}
    with pytest.raises(AttributeError):
        del req.match_info
    assert dict(req.match_info) == {}
    assert "empty when not routed" in (Request.match_info.__doc__ or "")
    routed = _MatchInfo((), _App(), id="1")
    req._match_info = routed
    assert req.match_info is routed
    assert other.match_info is not routed  # set on the instance, not the class
    assert dict(req.clone().match_info) == {"id": "1"}


async def test_request_with_match_info(make_app_request: Any) -> None:
    root, sub = _App(db="root-db", name="root"), _App(name="sub")
    req = make_app_request(b"GET /users/7 HTTP/1.1\r\nHost: x\r\n\r\n")
    req._match_info = _MatchInfo((root, sub), sub, id="7")
    assert req.match_info["id"] == "7"
    assert req.app is sub
    assert req.config_dict["name"] == "sub" and req.config_dict["db"] == "root-db"
    seen: list[Any] = []

    async def on_prepare(request: Any, response: Any) -> None:
        seen.append((request, response))
        response.headers["X-Prepared"] = "yes"

    root.on_response_prepare.append(on_prepare)
    resp = Response(text="ok")
    await resp.prepare(req)
    await resp.write_eof()
    assert seen == [(req, resp)]
    assert b"\r\nX-Prepared: yes\r\n" in req.protocol.transport.data()
    clone = req.clone(method="PUT")
    assert clone.match_info is req.match_info


def test_base_request_has_no_prepare_hook_flag() -> None:
    assert BaseRequest._has_prepare_hook is False
    assert Request._has_prepare_hook is True


def _multipart_body() -> bytes:
    return (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\n'
        b"h\xc3\xa9llo\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="blob"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\x00\x01\x02\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + b"file-content " * 10000 + b"\r\n--XyZ--\r\n"
    )


@pytest.fixture
def real_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    reader_module = pytest.importorskip(
        "aioloom.multipart.aio._reader", reason="aioloom-multipart is not installed"
    )
    from aioloom.web import _request_form

    monkeypatch.setattr(
        _request_form, "multipart_reader_class", lambda: reader_module.MultipartReader
    )
    monkeypatch.setattr(
        "aioloom.web._request.multipart_reader_class", lambda: reader_module.MultipartReader
    )


async def test_post_multipart_form_data(make_request: Any, real_multipart: None) -> None:
    from aioloom.web._request_form import FileField

    req = make_request(_post(_multipart_body(), "multipart/form-data; boundary=XyZ"))
    form = await req.post()
    assert form["title"] == "héllo"
    assert form["blob"] == b"\x00\x01\x02"
    upload = form["upload"]
    assert isinstance(upload, FileField)
    assert (upload.name, upload.filename, upload.content_type) == ("upload", "a.txt", "text/plain")
    assert upload.file.read() == b"file-content " * 10000
    req._finish()
    assert upload.file.closed  # spooled files are closed when the response is done


async def test_post_multipart_too_many_fields(make_request: Any, real_multipart: None) -> None:
    req = make_request(
        _post(_multipart_body(), "multipart/form-data; boundary=XyZ"), client_max_fields=2
    )
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await req.post()
    assert info.value.text == "Maximum number of form fields 2 exceeded."


async def test_post_multipart_over_client_max_size(make_request: Any, real_multipart: None) -> None:
    req = make_request(
        _post(_multipart_body(), "multipart/form-data; boundary=XyZ"), client_max_size=50_000
    )
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await req.post()
    assert info.value.status == 413


def test_remote_and_scheme_after_disconnect(make_request: Any) -> None:
    req = make_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", sslcontext=object())
    req.protocol.transport = None  # what the protocol remembered is used
    assert req.remote == "127.0.0.1"
    assert req.scheme == "https"
