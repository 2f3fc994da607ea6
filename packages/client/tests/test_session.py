"""ClientSession end to end against scripted servers: the request/response round trip,
options, defaults, context managers, lifecycle and warnings."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import sys
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import pytest
from multidict import CIMultiDict, MultiDict
from yarl import URL

from aioloom.client._exceptions import (
    ClientConnectionError,
    ClientResponseError,
    InvalidUrlClientError,
    NonHttpUrlClientError,
)
from aioloom.client._middleware import build_client_middlewares
from aioloom.client._request import ClientRequest
from aioloom.client._response import ClientResponse
from aioloom.client._session import ClientSession, request
from aioloom.client._tcp import TCPConnector
from aioloom.client._timeouts import DEFAULT_TIMEOUT, ClientTimeout
from aioloom.http._auth import BasicAuth
from aioloom.http._messages import HttpVersion10


def ok(body: bytes = b"ok", **headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def echo(req) -> bytes:
    payload = {
        "method": req.method,
        "target": req.target,
        "headers": list(req.headers.items()),
        "body": req.body.decode("latin-1"),
    }
    return ok(json.dumps(payload).encode(), Content_Type="application/json")


async def test_get_round_trip(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.get(srv.url("/path?q=1")) as resp:
            assert resp.status == 200
            assert resp.reason == "OK"
            assert resp.ok
            assert resp.version == (1, 1)
            data = await resp.json()
        assert data["method"] == "GET"
        assert data["target"] == "/path?q=1"
        headers = dict(data["headers"])
        assert headers["Host"] == f"127.0.0.1:{srv.port}"
        assert headers["Accept"] == "*/*"
        assert "gzip" in headers["Accept-Encoding"]
        assert headers["User-Agent"].startswith("Python/")


async def test_request_is_awaitable_and_context_manager(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        resp = await session.request("GET", srv.url("/a"))
        assert isinstance(resp, ClientResponse)
        assert (await resp.json())["target"] == "/a"
        resp.release()
        async with session.request("DELETE", str(srv.url("/b"))) as resp2:
            assert (await resp2.json())["method"] == "DELETE"
        assert resp2.closed


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
async def test_method_shortcuts(serve, handler_for, method: str) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with getattr(session, method)(srv.url("/m")) as resp:
            assert (await resp.json())["method"] == method.upper()


async def test_head_has_no_body_and_connection_is_reused(serve, handler_for) -> None:
    def respond(req) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + (
            b"" if req.method == "HEAD" else b"x" * 1000
        )

    async with serve(handler_for(respond)) as srv, ClientSession() as session:
        async with session.head(srv.url()) as resp:
            assert resp.content_length == 1000
            assert await resp.read() == b""
        async with session.get(srv.url()) as resp:
            assert len(await resp.read()) == 1000
        assert srv.connections == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"a": "1", "b": "x y"}, "/p?a=1&b=x+y"),
        (MultiDict([("a", "1"), ("a", "2")]), "/p?a=1&a=2"),
        ([("z", "1"), ("a", "2")], "/p?z=1&a=2"),
        ("raw=1&other=a+b", "/p?raw=1&other=a+b"),
        ({"n": 5}, "/p?n=5"),
    ],
)
async def test_params_encodings_keep_order(serve, handler_for, params, expected: str) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.get(srv.url("/p"), params=params) as resp:
            assert (await resp.json())["target"] == expected


async def test_params_extend_existing_query(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.get(srv.url("/p?first=1"), params={"second": "2"}) as resp:
            assert (await resp.json())["target"] == "/p?first=1&second=2"


@pytest.mark.parametrize(
    ("data", "body", "ctype"),
    [
        (b"raw-bytes", "raw-bytes", "application/octet-stream"),
        ("text é", "text é".encode().decode("latin-1"), "text/plain; charset=utf-8"),
        ({"k": "v", "n": 1}, "k=v&n=1", "application/x-www-form-urlencoded"),
        ([("k", "a"), ("k", "b")], "k=a&k=b", "application/x-www-form-urlencoded"),
        (MultiDict([("x", "1 2")]), "x=1+2", "application/x-www-form-urlencoded"),
        (io.BytesIO(b"from-file"), "from-file", "application/octet-stream"),
    ],
)
async def test_data_encodings(serve, handler_for, data, body: str, ctype: str) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.post(srv.url(), data=data) as resp:
            got = await resp.json()
    headers = dict(got["headers"])
    assert got["body"] == body
    assert headers["Content-Type"] == ctype
    assert headers["Content-Length"] == str(len(body.encode("latin-1")))


async def test_json_body(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.post(srv.url(), json={"a": [1, 2]}) as resp:
            got = await resp.json()
    assert json.loads(got["body"]) == {"a": [1, 2]}
    assert dict(got["headers"])["Content-Type"] == "application/json"


async def test_custom_json_serialize(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(json_serialize=lambda v: "custom") as session:
            async with session.post(srv.url(), json={"a": 1}) as resp:
                assert (await resp.json())["body"] == "custom"


async def test_data_and_json_together_raise() -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="data and json"):
            await session.post("http://127.0.0.1:1/", data=b"x", json={})


async def test_async_iterable_body_is_streamed_chunked(serve, handler_for) -> None:
    async def gen() -> AsyncIterator[bytes]:
        for part in (b"one-", b"two-", b"three"):
            await asyncio.sleep(0)
            yield part

    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.post(srv.url(), data=gen()) as resp:
            got = await resp.json()
    assert got["body"] == "one-two-three"
    headers = dict(got["headers"])
    assert headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in headers


async def test_multipart_form_via_dict_with_file(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        form = {"field": "v", "file": io.BytesIO(b"file-content")}
        async with session.post(srv.url(), data=form) as resp:
            got = await resp.json()
    assert dict(got["headers"])["Content-Type"].startswith("multipart/form-data; boundary=")
    assert "file-content" in got["body"]
    assert 'name="field"' in got["body"]


async def test_headers_merge_session_and_request(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(headers={"X-A": "session", "X-B": "session"}) as session:
            async with session.get(srv.url(), headers={"X-B": "request"}) as resp:
                headers = dict((await resp.json())["headers"])
    assert headers["X-A"] == "session"
    assert headers["X-B"] == "request"


async def test_skip_auto_headers(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(skip_auto_headers=["User-Agent"]) as session:
            async with session.get(srv.url(), skip_auto_headers=["accept-encoding"]) as resp:
                headers = dict((await resp.json())["headers"])
    assert "User-Agent" not in headers
    assert "Accept-Encoding" not in headers
    assert headers["Accept"] == "*/*"


async def test_explicit_host_header_wins(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.get(srv.url(), headers={"host": "example.org"}) as resp:
            headers = (await resp.json())["headers"]
    assert [v for k, v in headers if k.lower() == "host"] == ["example.org"]


async def test_basic_auth_param_and_url_credentials(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.get(srv.url(), auth=BasicAuth("user", "pass")) as resp:
            assert dict((await resp.json())["headers"])["Authorization"] == "Basic dXNlcjpwYXNz"
        url = srv.url().with_user("u").with_password("p")
        async with session.get(url) as resp:
            assert dict((await resp.json())["headers"])["Authorization"] == "Basic dTpw"
        with pytest.raises(ValueError, match="credentials encoded in URL"):
            await session.get(url, auth=BasicAuth("x", "y"))


async def test_session_auth_and_conflicting_header(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(auth=BasicAuth("s", "p")) as session:
            async with session.get(srv.url()) as resp:
                assert dict((await resp.json())["headers"])["Authorization"] == "Basic czpw"
            with pytest.raises(ValueError, match="AUTHORIZATION header"):
                await session.get(srv.url(), headers={"Authorization": "Bearer t"})


async def test_request_cookies_and_session_cookies(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(cookies={"s": "1"}) as session:
            async with session.get(srv.url(), cookies={"r": "2"}) as resp:
                cookie = dict((await resp.json())["headers"])["Cookie"]
    assert sorted(cookie.split("; ")) == ["r=2", "s=1"]


async def test_response_cookies_reach_the_jar(serve, handler_for) -> None:
    def respond(req) -> bytes:
        if req.target == "/set":
            return b"HTTP/1.1 200 OK\r\nSet-Cookie: token=abc; Path=/\r\nContent-Length: 0\r\n\r\n"
        return echo(req)

    jar = RecordingJar()
    async with serve(handler_for(respond)) as srv, ClientSession(cookie_jar=jar) as session:
        async with session.get(srv.url("/set")) as resp:
            assert resp.cookies["token"].value == "abc"
        async with session.get(srv.url("/next")) as resp:
            assert dict((await resp.json())["headers"])["Cookie"] == "token=abc"
    assert jar.updates == [(srv.url("/set"), ["token"])]
    assert jar.filtered == [srv.url("/set"), srv.url("/next")]


EMPTY = URL()


class RecordingJar:
    """Any object with filter_cookies/update_cookies works as the session's jar."""

    def __init__(self) -> None:
        self.cookies = SimpleCookie()
        self.updates: list[tuple[URL, list[str]]] = []
        self.filtered: list[URL] = []

    def update_cookies(self, cookies, response_url: URL = EMPTY) -> None:
        self.updates.append((response_url, list(cookies)))
        for name, morsel in cookies.items():
            self.cookies[name] = morsel.value

    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        self.filtered.append(request_url)
        result = SimpleCookie()
        for name, morsel in self.cookies.items():
            result[name] = morsel.value
        return result


async def test_default_jar_is_the_full_cookie_jar() -> None:
    from aioloom.client._cookiejar import CookieJar

    async with ClientSession() as session:
        assert isinstance(session.cookie_jar, CookieJar)


async def test_base_url_joining(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(srv.url("/api/")) as session:
            async with session.get("users") as resp:
                assert (await resp.json())["target"] == "/api/users"
            async with session.get("/root") as resp:  # RFC 3986: an absolute path replaces
                assert (await resp.json())["target"] == "/root"
            async with session.get("users?x=1", params={"y": "2"}) as resp:
                assert (await resp.json())["target"] == "/api/users?x=1&y=2"
            async with session.get(srv.url("/other")) as resp:  # absolute URLs win
                assert (await resp.json())["target"] == "/other"


@pytest.mark.parametrize("base", ["http://h/api", "/relative/", "relative"])
async def test_bad_base_url(base: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        ClientSession(base)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://host/file", NonHttpUrlClientError),
        ("/only/a/path", InvalidUrlClientError),
        ("http:///no-host", InvalidUrlClientError),
        ("http://[bad", InvalidUrlClientError),
    ],
)
async def test_unusable_urls(url: str, error: type[Exception]) -> None:
    async with ClientSession() as session:
        with pytest.raises(error):
            await session.get(url)


async def test_invalid_url_is_also_value_error() -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get("/only/a/path")


async def test_raise_for_status_session_request_and_callable(serve, handler_for, make_response):
    async with serve(handler_for(lambda r: make_response(404, b"nope"))) as srv:
        async with ClientSession(raise_for_status=True) as session:
            with pytest.raises(ClientResponseError) as info:
                await session.get(srv.url("/missing"))
            assert info.value.status == 404
            assert info.value.message == "Not Found"
            assert info.value.request_info.url == srv.url("/missing")
            async with session.get(srv.url(), raise_for_status=False) as resp:
                assert resp.status == 404

        seen = []

        async def check(resp: ClientResponse) -> None:
            seen.append(resp.status)

        async with ClientSession(raise_for_status=check) as session:
            async with session.get(srv.url()) as resp:
                assert resp.status == 404
        assert seen == [404]


async def test_raise_for_status_inside_context_keeps_response_usable(
    serve, handler_for, make_response
) -> None:
    async with serve(handler_for(lambda r: make_response(500, b"boom"))) as srv:
        async with ClientSession() as session, session.get(srv.url()) as resp:
            with pytest.raises(ClientResponseError) as info:
                resp.raise_for_status()
            assert info.value.status == 500
            assert await resp.read() == b"boom"


async def test_http10_request(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with ClientSession(version=HttpVersion10) as session:
            async with session.get(srv.url()) as resp:
                got = await resp.json()
    assert dict(got["headers"])["Connection"] == "keep-alive"


async def test_closed_session_refuses_requests() -> None:
    session = ClientSession()
    assert not session.closed
    await session.close()
    assert session.closed
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.get("http://127.0.0.1:1/")
    await session.close()  # idempotent


def test_session_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        ClientSession()


async def test_sync_with_is_refused() -> None:
    async with ClientSession() as session:
        with pytest.raises(TypeError, match="async with"), session:
            pass


async def test_timeout_must_be_client_timeout() -> None:
    with pytest.raises(ValueError, match="ClientTimeout"):
        ClientSession(timeout=10)  # type: ignore[arg-type]
    async with ClientSession() as session:
        assert session.timeout == DEFAULT_TIMEOUT
        assert DEFAULT_TIMEOUT.total == 300
        assert DEFAULT_TIMEOUT.sock_connect == 30


async def test_connector_not_owned_is_left_open() -> None:
    connector = TCPConnector()
    session = ClientSession(connector=connector, connector_owner=False)
    await session.close()
    assert not connector.closed
    await connector.close()


async def test_unclosed_session_warns_with_traceback_in_debug() -> None:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    contexts = []
    loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
    try:
        session = ClientSession()
        connector = session.connector
        with pytest.warns(ResourceWarning, match="Unclosed client session"):
            del session
            gc.collect()
    finally:
        loop.set_debug(False)
        loop.set_exception_handler(None)
    assert contexts[0]["message"] == "Unclosed client session"
    assert "source_traceback" in contexts[0]
    assert connector is not None
    await connector.close()


async def test_module_level_request(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv:
        async with request("POST", srv.url("/mod"), data=b"hi") as resp:
            got = await resp.json()
        assert got["body"] == "hi"
        assert dict(got["headers"])["Connection"] == "close"  # its own force_close connector


async def test_module_level_request_closes_session_on_error() -> None:
    with pytest.raises(NonHttpUrlClientError):
        async with request("GET", "ftp://x/"):
            pass


async def test_ws_connect_without_websocket_extra_names_pip_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "aioloom.websocket", None)
    async with ClientSession() as session:
        with pytest.raises(ImportError, match=r'pip install "aioloom-client\[websocket\]"'):
            session.ws_connect("ws://127.0.0.1:1/")


async def test_middlewares_session_and_per_request(serve, handler_for) -> None:
    calls: list[str] = []

    async def tag(req: ClientRequest, handler):
        calls.append(f"tag:{req.url.path}")
        req.headers["X-Tag"] = "1"
        return await handler(req)

    async def outer(req: ClientRequest, handler):
        calls.append("outer")
        return await handler(req)

    async with serve(handler_for(echo)) as srv:
        async with ClientSession(middlewares=(outer, tag)) as session:
            async with session.get(srv.url("/a")) as resp:
                assert dict((await resp.json())["headers"])["X-Tag"] == "1"
            async with session.get(srv.url("/b"), middlewares=()) as resp:
                assert "X-Tag" not in dict((await resp.json())["headers"])
    assert calls == ["outer", "tag:/a"]


async def test_middleware_can_retry(serve, handler_for, make_response) -> None:
    statuses = iter([503, 200])

    async def retry(req: ClientRequest, handler):
        resp = await handler(req)
        if resp.status == 503:
            resp.release()
            resp = await handler(req)
        return resp

    async with serve(handler_for(lambda r: make_response(next(statuses), b"x"))) as srv:
        async with ClientSession(middlewares=[retry]) as session:
            async with session.get(srv.url()) as resp:
                assert resp.status == 200
    assert len(srv.requests) == 2


async def test_build_client_middlewares_order() -> None:
    order: list[str] = []

    async def base(req):
        order.append("handler")
        return "resp"

    def mw(name: str):
        async def middleware(req, handler):
            order.append(name)
            return await handler(req)

        return middleware

    handler = build_client_middlewares(base, [mw("a"), mw("b")])
    assert await handler(object()) == "resp"
    assert order == ["a", "b", "handler"]
    assert build_client_middlewares(base, []) is base


async def test_release_then_read_raises_connection_error(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: ok(b"x" * 10))) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        resp.release()
        with pytest.raises(ClientConnectionError, match="Connection closed"):
            await resp.read()


async def test_read_after_context_returns_cached_body(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: ok(b"cached"))) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            assert await resp.read() == b"cached"
        assert await resp.text() == "cached"


async def test_session_properties() -> None:
    jar_session = ClientSession(
        headers=CIMultiDict({"A": "b"}),
        auth=BasicAuth("u"),
        raise_for_status=True,
        auto_decompress=False,
        requote_redirect_url=False,
        timeout=ClientTimeout(total=3),
    )
    try:
        assert jar_session.headers["a"] == "b"
        assert jar_session.auth == BasicAuth("u")
        assert jar_session.raise_for_status is True
        assert jar_session.auto_decompress is False
        assert jar_session.requote_redirect_url is False
        assert jar_session.timeout.total == 3
        assert jar_session.connector_owner is True
        assert jar_session.version == (1, 1)
        assert jar_session.cookie_jar is not None
        assert jar_session.trust_env is False
        assert jar_session.middlewares == ()
    finally:
        await jar_session.close()


async def test_detach_keeps_connector_open() -> None:
    session = ClientSession()
    connector = session.connector
    session.detach()
    assert session.closed
    assert connector is not None and not connector.closed
    await connector.close()


async def test_repr_of_response(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: ok(b""))) as srv, ClientSession() as session:
        async with session.get(srv.url("/r")) as resp:
            assert repr(resp).startswith(f"<ClientResponse({srv.url('/r')}) [200 OK]>")


async def test_url_fragment_is_not_sent(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        async with session.get(str(srv.url("/frag")) + "#part") as resp:
            assert (await resp.json())["target"] == "/frag"
            assert resp.real_url.fragment == "part"
            assert resp.url.fragment == ""
            assert resp.host == "127.0.0.1"


async def test_expect100_continue(serve) -> None:
    async def handler(conn) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        assert b"Expect: 100-continue" in head
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await conn.reader.readexactly(5)
        conn.write(ok(b"got " + body))
        await conn.writer.drain()
        await conn.reader.read()

    async with serve(handler) as srv, ClientSession() as session:
        async with session.post(srv.url(), data=b"hello", expect100=True) as resp:
            assert await resp.read() == b"got hello"


async def test_expect100_final_answer_without_continue_skips_body(serve) -> None:
    async def handler(conn) -> None:
        await conn.reader.readuntil(b"\r\n\r\n")
        conn.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
        await conn.writer.drain()
        assert await conn.reader.read() == b""  # no body was sent; the client closed

    async with serve(handler) as srv, ClientSession() as session:
        async with session.post(srv.url(), data=b"hello", expect100=True) as resp:
            assert resp.status == 417
        assert srv.connections == 1


async def test_request_class_and_response_class(serve, handler_for) -> None:
    class MyResponse(ClientResponse):
        marker = "mine"

    class MyRequest(ClientRequest):
        pass

    async with serve(handler_for(echo)) as srv:
        async with ClientSession(request_class=MyRequest, response_class=MyResponse) as session:
            async with session.get(srv.url()) as resp:
                assert isinstance(resp, MyResponse)
                assert resp.marker == "mine"


async def test_a_response_class_own_aenter_is_used(serve, handler_for) -> None:
    entered: list[ClientResponse] = []

    class EnteringResponse(ClientResponse):
        async def __aenter__(self) -> ClientResponse:
            entered.append(self)
            return await super().__aenter__()

    async with serve(handler_for(echo)) as srv:
        async with ClientSession(response_class=EnteringResponse) as session:
            async with session.get(srv.url()) as resp:
                assert entered == [resp]
                assert resp._in_context


async def test_url_object_and_yarl_encoded(serve, handler_for) -> None:
    async with serve(handler_for(echo)) as srv, ClientSession() as session:
        url = URL(f"http://127.0.0.1:{srv.port}/a%2Fb", encoded=True)
        async with session.get(url) as resp:
            assert (await resp.json())["target"] == "/a%2Fb"
