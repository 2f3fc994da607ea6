"""The per-request shortcuts of a plain request keep the behaviour of the full path.

``ClientRequest`` prepares a request without body, credentials, cookies or proxy in one
step (``_prepare_plain``) unless a subclass overrides a preparation step; the protocol
keeps its response parser across keep-alive responses; the session caches checked ``str``
URLs and does not ask an empty ``CookieJar`` for cookies; ``TimerContext`` leaves without
looking up the task when it is the only one inside.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from yarl import URL

from aioloom.client import ClientResponseError, NonHttpUrlClientError
from aioloom.client import _urls as urls_module
from aioloom.client._connection import ResponseHandler
from aioloom.client._cookiejar import CookieJar
from aioloom.client._request import ClientRequest
from aioloom.client._session import ClientSession
from aioloom.client._timeouts import TimerContext

from .conftest import Request, response


class _FullPath(ClientRequest):
    """Overrides a step (unchanged): every step of the preparation runs."""

    def update_cookies(self, cookies: Any) -> None:
        super().update_cookies(cookies)


def _prepared(cls: type[ClientRequest], method: str, **kwargs: Any) -> tuple[object, ...]:
    req = cls(method, URL("http://example.com:8080/p?q=1"), **kwargs)
    return (
        list(req.headers.items()),
        req.chunked,
        req.expect100,
        req.body,
        req.auth,
        req.skip_auto_headers,
        req.status_line(),
    )


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("HEAD", {}),
        ("POST", {}),
        ("DELETE", {}),
        ("GET", {"headers": {"X-One": "1", "Accept": "text/plain"}}),
        ("GET", {"headers": {"Expect": "100-continue"}}),
        ("POST", {"headers": {"Transfer-Encoding": "chunked"}}),
        ("GET", {"skip_auto_headers": ["User-Agent"]}),
        ("PUT", {"skip_auto_headers": ["Host"], "headers": [("X-Two", "a"), ("X-Two", "b")]}),
    ],
)
def test_plain_preparation_matches_the_full_one(method: str, kwargs: dict[str, Any]) -> None:
    assert ClientRequest._plain_init
    assert not _FullPath._plain_init
    assert _prepared(ClientRequest, method, **kwargs) == _prepared(_FullPath, method, **kwargs)


def test_plain_get_has_the_auto_headers_in_order() -> None:
    req = ClientRequest("GET", URL("http://example.com/"))
    assert list(req.headers) == ["Host", "Accept", "Accept-Encoding", "User-Agent"]
    assert req.headers["Host"] == "example.com"
    assert "Content-Length" not in req.headers


def test_an_overridden_step_is_called_for_a_plain_request() -> None:
    calls: list[object] = []

    class Tracked(ClientRequest):
        def update_auth(self, auth: Any) -> None:
            calls.append(auth)
            super().update_auth(auth)

    Tracked("GET", URL("http://example.com/"))
    assert calls == [None]


def test_credentials_in_the_url_take_the_full_path() -> None:
    req = ClientRequest("GET", URL("http://user:pw@example.com/"))
    assert req.headers["Authorization"].startswith("Basic ")
    assert req.url.user is None


async def test_keep_alive_reuses_the_parser(serve: Any, handler_for: Any) -> None:
    def ok(request: Request) -> bytes:
        return response(200, b"hello")

    async with serve(handler_for(ok)) as srv, ClientSession() as session:
        parsers = []
        for _ in range(3):
            async with session.get(srv.url("/")) as resp:
                assert await resp.read() == b"hello"
            connector = session.connector
            assert connector is not None
            ((proto, _),) = connector._conns[next(iter(connector._conns))]
            assert proto._parser is None
            parsers.append(proto._idle_parser)
        assert parsers[0] is not None
        assert parsers[0] is parsers[1] is parsers[2]
        assert srv.connections == 1


async def test_a_reused_parser_follows_the_method(serve: Any, handler_for: Any) -> None:
    def answer(request: Request) -> bytes:
        if request.method == "HEAD":
            # RFC 9110 §9.3.2: the Content-Length of the GET, no content.
            return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        return response(200, b"hello")

    async with serve(handler_for(answer)) as srv, ClientSession() as session:
        for method in ("GET", "HEAD", "GET", "HEAD", "HEAD", "GET"):
            async with session.request(method, srv.url("/")) as resp:
                assert await resp.read() == (b"" if method == "HEAD" else b"hello")
        assert srv.connections == 1
        assert [r.method for r in srv.requests] == ["GET", "HEAD", "GET", "HEAD", "HEAD", "GET"]


async def test_other_limits_get_a_parser_of_their_own(serve: Any, handler_for: Any) -> None:
    def long_field(request: Request) -> bytes:
        return response(200, b"ok", {"X-Long": "v" * 200})

    async with serve(handler_for(long_field)) as srv, ClientSession() as session:
        async with session.get(srv.url("/")) as resp:
            assert await resp.read() == b"ok"
        with pytest.raises(ClientResponseError):
            async with session.get(srv.url("/"), max_field_size=50) as resp:
                await resp.read()
        async with session.get(srv.url("/")) as resp:
            assert await resp.read() == b"ok"


async def test_a_closing_response_leaves_no_parser(
    serve: Any, handler_for: Any, monkeypatch: Any
) -> None:
    def closing(request: Request) -> bytes:
        return response(200, b"bye", {"Connection": "close"})

    protocols: list[ResponseHandler] = []
    original = ResponseHandler.expect_response

    def recording(self: ResponseHandler, *args: Any) -> None:
        protocols.append(self)
        original(self, *args)

    monkeypatch.setattr(ResponseHandler, "expect_response", recording)
    async with serve(handler_for(closing, close_after=True)) as srv, ClientSession() as session:
        for _ in range(2):
            async with session.get(srv.url("/")) as resp:
                assert await resp.read() == b"bye"
        assert srv.connections == 2
        assert len(protocols) == 2
        assert protocols[0] is not protocols[1]
        assert all(proto._idle_parser is None for proto in protocols)
        connector = session.connector
        assert connector is not None
        assert not connector._conns


async def test_str_urls_are_cached_once_checked(serve: Any, handler_for: Any) -> None:
    def ok(request: Request) -> bytes:
        return response(200, b"x")

    async with serve(handler_for(ok)) as srv, ClientSession() as session:
        text = str(srv.url("/cached"))
        urls_module._CHECKED_STR_URLS.pop(text, None)
        async with session.get(text) as resp:
            await resp.read()
        cached = urls_module._CHECKED_STR_URLS[text]
        assert cached == URL(text)
        async with session.get(text) as resp:
            assert resp.url is cached
        for _ in range(2):  # a refused URL is never cached
            with pytest.raises(NonHttpUrlClientError):
                await session.get("ftp://example.com/")
        assert "ftp://example.com/" not in urls_module._CHECKED_STR_URLS


async def test_relative_urls_of_a_base_url_session_are_not_cached(
    serve: Any, handler_for: Any
) -> None:
    def ok(request: Request) -> bytes:
        return response(200, request.target.encode())

    async with serve(handler_for(ok)) as srv:
        for base in ("/a/", "/b/"):
            async with ClientSession(base_url=srv.url(base)) as session:
                async with session.get("x") as resp:
                    assert await resp.read() == f"{base}x".encode()
        assert "x" not in urls_module._CHECKED_STR_URLS


async def test_an_empty_jar_still_gets_and_sends_cookies(serve: Any, handler_for: Any) -> None:
    def cookie(request: Request) -> bytes:
        return response(200, request.headers.get("Cookie", "-").encode(), {"Set-Cookie": "a=1"})

    async with serve(handler_for(cookie)) as srv, ClientSession() as default:
        assert default._plain_jar is default.cookie_jar
    jar = CookieJar(unsafe=True)  # the server is an IP address
    async with serve(handler_for(cookie)) as srv, ClientSession(cookie_jar=jar) as session:
        assert session._plain_jar is jar
        for expected in (b"-", b"a=1"):
            async with session.get(srv.url("/")) as resp:
                assert await resp.read() == expected


async def test_a_jar_subclass_is_always_asked(serve: Any, handler_for: Any) -> None:
    asked: list[URL] = []

    class Jar(CookieJar):
        def filter_cookies(self, request_url: URL) -> Any:
            asked.append(request_url)
            return super().filter_cookies(request_url)

    def ok(request: Request) -> bytes:
        return response(200, b"x")

    async with serve(handler_for(ok)) as srv, ClientSession(cookie_jar=Jar()) as session:
        assert session._plain_jar is None
        async with session.get(srv.url("/")) as resp:
            await resp.read()
        assert asked == [srv.url("/")]


async def test_timer_context_with_two_tasks_inside() -> None:
    timer = TimerContext(asyncio.get_running_loop())
    inside = asyncio.Event()
    release = asyncio.Event()

    async def guest() -> None:
        with timer:
            inside.set()
            await release.wait()

    task = asyncio.create_task(guest())
    await inside.wait()
    with timer:  # two tasks inside: the exit finds its own entry among them
        assert len(timer._entries) == 2
    assert [entry[0] for entry in timer._entries] == [task]
    timer.timeout()  # fires the guest, still inside
    with pytest.raises(asyncio.TimeoutError):
        await task
    assert timer._entries == []


async def test_a_connector_overriding_connect_is_always_asked(serve: Any, handler_for: Any) -> None:
    from aioloom.client import TCPConnector

    asked: list[str] = []

    class Counting(TCPConnector):
        async def connect(self, req: Any, traces: Any = None, timeout: Any = None) -> Any:
            asked.append(req.method)
            return await super().connect(req, traces=traces, timeout=timeout)

    def ok(request: Request) -> bytes:
        return response(200, b"x")

    async with serve(handler_for(ok)) as srv:
        async with ClientSession(connector=Counting()) as session:
            for _ in range(3):
                async with session.get(srv.url("/")) as resp:
                    assert await resp.read() == b"x"
        assert asked == ["GET"] * 3
        assert srv.connections == 1  # the pooled connection still served all three


async def test_read_of_a_body_buffered_in_pieces(serve: Any) -> None:
    parts = [b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", b"def", b"ghi"]

    async def handler(conn: Any) -> None:
        await conn.read_request()
        for part in parts:
            conn.write(part)
            await conn.writer.drain()
            await asyncio.sleep(0.02)
        await conn.read_request()

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url("/")) as resp:
            await asyncio.sleep(0.2)  # every piece is in the stream, which is at its end
            assert resp.content.is_eof()
            assert await resp.read() == b"abcdefghi"
            assert await resp.read() == b"abcdefghi"  # cached
        async with session.get(srv.url("/")) as resp:  # read while pieces still arrive
            assert not resp.content.is_eof()
            assert await resp.read() == b"abcdefghi"
