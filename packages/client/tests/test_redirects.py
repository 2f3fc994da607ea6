"""Redirects: the pure policy, then every kind end to end against scripted servers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from multidict import CIMultiDict
from yarl import URL

from aioloom.client._exceptions import (
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
    TooManyRedirects,
)
from aioloom.client._redirects import REDIRECT_STATUSES, RedirectHop, hop_headers, next_hop
from aioloom.client._session import ClientSession
from aioloom.http._auth import BasicAuth

BASE = URL("http://a.example/dir/page?x=1")

# -- the policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method", "new_method", "keep_body"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (303, "HEAD", "HEAD", True),
        (301, "PUT", "PUT", True),
        (302, "GET", "GET", True),
        (307, "POST", "POST", True),
        (308, "PATCH", "PATCH", True),
    ],
)
def test_method_rewriting(status: int, method: str, new_method: str, keep_body: bool) -> None:
    hop = next_hop(status, method, BASE, "/next")
    assert hop == RedirectHop(new_method, URL("http://a.example/next"), keep_body, False)


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("other", "http://a.example/dir/other"),
        ("../up", "http://a.example/up"),
        ("?y=2", "http://a.example/dir/page?y=2"),
        ("//b.example/p", "http://b.example/p"),
        ("https://c.example:8443/s", "https://c.example:8443/s"),
        ("/caf%C3%A9", "http://a.example/caf%C3%A9"),
    ],
)
def test_locations_are_resolved(location: str, target: str) -> None:
    hop = next_hop(302, "GET", BASE, location)
    assert hop is not None
    assert hop.url == URL(target)


def test_not_a_redirect_or_no_location() -> None:
    assert next_hop(200, "GET", BASE, "/x") is None
    assert next_hop(304, "GET", BASE, "/x") is None
    assert next_hop(302, "GET", BASE, None) is None
    assert REDIRECT_STATUSES == {301, 302, 303, 307, 308}


@pytest.mark.parametrize("location", ["ftp://x/f", "javascript:alert(1)", "file:///etc/passwd"])
def test_non_http_location_is_refused(location: str) -> None:
    with pytest.raises(NonHttpUrlRedirectClientError) as info:
        next_hop(302, "GET", BASE, location)
    assert isinstance(info.value, RedirectClientError)
    assert location in str(info.value)


@pytest.mark.parametrize("location", ["http://[::1", "http:///nohost", "https://"])
def test_invalid_location_is_refused(location: str) -> None:
    with pytest.raises(InvalidUrlRedirectClientError) as info:
        next_hop(302, "GET", BASE, location)
    assert isinstance(info.value, RedirectClientError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("location", "cross"),
    [
        ("/same", False),
        ("http://a.example:80/same", False),
        ("https://a.example/tls", True),
        ("http://a.example:8080/port", True),
        ("http://b.example/host", True),
    ],
)
def test_cross_origin_detection(location: str, cross: bool) -> None:
    hop = next_hop(302, "GET", BASE, location)
    assert hop is not None and hop.cross_origin is cross


def test_hop_headers_drop_content_and_credentials() -> None:
    headers = CIMultiDict(
        {
            "Content-Type": "text/plain",
            "Content-Length": "3",
            "Authorization": "Basic x",
            "Cookie": "a=b",
            "X-Keep": "1",
        }
    )
    same_get = hop_headers(headers, RedirectHop("GET", BASE, False, False))
    assert set(same_get) == {"Authorization", "Cookie", "X-Keep"}
    cross_keep = hop_headers(headers, RedirectHop("POST", BASE, True, True))
    assert set(cross_keep) == {"Content-Type", "Content-Length", "X-Keep"}
    assert "Authorization" in headers  # the input is not modified


def test_requote_off_keeps_location_bytes() -> None:
    hop = next_hop(302, "GET", BASE, "/a%2Fb", requote=False)
    assert hop is not None and hop.url.raw_path == "/a%2Fb"


# -- end to end -----------------------------------------------------------------------------


def redirecting(routes: dict[str, bytes]):
    def respond(req) -> bytes:
        path = req.target.split("?")[0]
        if path in routes:
            return routes[path]
        body = f"{req.method} {req.target} body={req.body.decode()}".encode()
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    return respond


def redirect(status: int, location: str, body: bytes = b"") -> bytes:
    return b"HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: %d\r\n\r\n%s" % (
        status,
        location.encode(),
        len(body),
        body,
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (301, "GET /final body="),
        (302, "GET /final body="),
        (303, "GET /final body="),
        (307, "POST /final body=payload"),
        (308, "POST /final body=payload"),
    ],
)
async def test_post_redirects(serve, handler_for, status: int, expected: str) -> None:
    routes = {"/start": redirect(status, "/final")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        async with session.post(srv.url("/start"), data=b"payload") as resp:
            assert await resp.text() == expected
            assert resp.url == srv.url("/final")
            assert [r.status for r in resp.history] == [status]
            assert resp.history[0].url == srv.url("/start")
    final = srv.requests[-1]
    if status in (307, 308):
        assert final.headers["Content-Length"] == "7"
    else:
        assert "Content-Length" not in final.headers
        assert "Content-Type" not in final.headers
    assert srv.connections == 1  # the small redirect bodies were read: one connection


async def test_307_resends_a_file_body(serve, handler_for) -> None:
    routes = {"/start": redirect(307, "/final")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        async with session.put(srv.url("/start"), data=io.BytesIO(b"file-data")) as resp:
            assert await resp.text() == "PUT /final body=file-data"


async def test_307_with_a_streamed_body_cannot_be_followed(serve, handler_for) -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"once"

    routes = {"/start": redirect(307, "/final")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        with pytest.raises(RedirectClientError, match="cannot be sent again"):
            await session.post(srv.url("/start"), data=gen())


async def test_head_stays_head_on_303(serve, handler_for) -> None:
    routes = {"/start": redirect(303, "/final")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        async with session.head(srv.url("/start"), allow_redirects=True) as resp:
            assert resp.status == 200
    assert srv.requests[-1].method == "HEAD"


async def test_relative_location_and_query_are_followed(serve, handler_for) -> None:
    routes = {"/a/b": redirect(302, "c?q=1")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        async with session.get(srv.url("/a/b"), params={"drop": "me"}) as resp:
            assert await resp.text() == "GET /a/c?q=1 body="


async def test_chain_and_too_many_redirects(serve, handler_for) -> None:
    routes = {f"/r{i}": redirect(302, f"/r{i + 1}") for i in range(20)}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        with pytest.raises(TooManyRedirects) as info:
            await session.get(srv.url("/r0"))
        assert len(info.value.history) == 10
        assert info.value.request_info.url == srv.url("/r0")
        async with session.get(srv.url("/r17"), max_redirects=5) as resp:
            assert await resp.text() == "GET /r20 body="
            assert len(resp.history) == 3
        with pytest.raises(TooManyRedirects) as info:
            await session.get(srv.url("/r0"), max_redirects=2)
        assert len(info.value.history) == 2


async def test_allow_redirects_false_returns_the_redirect(serve, handler_for) -> None:
    routes = {"/start": redirect(302, "/final", b"moved")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        async with session.get(srv.url("/start"), allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/final"
            assert await resp.read() == b"moved"


async def test_redirect_without_location_is_returned(serve, handler_for) -> None:
    routes = {"/start": b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n"}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        async with session.get(srv.url("/start")) as resp:
            assert resp.status == 302
            assert resp.history == ()


async def test_non_http_redirect_raises(serve, handler_for) -> None:
    routes = {"/start": redirect(302, "ftp://files.example/x")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        with pytest.raises(NonHttpUrlRedirectClientError):
            await session.get(srv.url("/start"))


async def test_invalid_redirect_raises(serve, handler_for) -> None:
    routes = {"/start": redirect(302, "http://[broken")}
    async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
        with pytest.raises(InvalidUrlRedirectClientError):
            await session.get(srv.url("/start"))


async def test_cross_origin_redirect_drops_authorization(serve, handler_for) -> None:
    async with serve(handler_for(redirecting({}))) as other:
        routes = {
            "/same": redirect(302, "/landing"),
            "/cross": redirect(302, str(other.url("/landing"))),
        }
        async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
            auth = BasicAuth("user", "secret")
            async with session.get(srv.url("/same"), auth=auth) as resp:
                await resp.read()
            assert srv.requests[-1].headers["Authorization"] == auth.encode()
            async with session.get(
                srv.url("/cross"), auth=auth, headers={"X-Other": "kept"}
            ) as resp:
                await resp.read()
    landed = other.requests[-1]
    assert "Authorization" not in landed.headers
    assert landed.headers["X-Other"] == "kept"


async def test_cookies_follow_the_jar_per_host(serve, handler_for) -> None:
    class HostJar:
        def __init__(self) -> None:
            self.asked: list[URL] = []

        def update_cookies(self, cookies, response_url=None) -> None:
            pass

        def filter_cookies(self, request_url: URL):
            from http.cookies import SimpleCookie

            self.asked.append(request_url)
            cookie = SimpleCookie()
            cookie["host"] = request_url.host or ""
            if request_url.port:
                cookie["port"] = str(request_url.port)
            return cookie

    async with serve(handler_for(redirecting({}))) as other:
        routes = {"/cross": redirect(302, str(other.url("/landing")))}
        jar = HostJar()
        async with serve(handler_for(redirecting(routes))) as srv:
            async with ClientSession(cookie_jar=jar) as session:
                async with session.get(srv.url("/cross"), headers={"Cookie": "leak=1"}) as resp:
                    await resp.read()
    assert jar.asked == [srv.url("/cross"), other.url("/landing")]
    assert "leak=1" in srv.requests[0].headers["Cookie"]
    landed = other.requests[-1].headers["Cookie"]
    assert "leak" not in landed
    assert f"port={other.port}" in landed


async def test_redirect_to_another_server_opens_a_connection(serve, handler_for) -> None:
    async with serve(handler_for(redirecting({}))) as other:
        routes = {"/go": redirect(301, str(other.url("/there")))}
        async with serve(handler_for(redirecting(routes))) as srv, ClientSession() as session:
            async with session.get(srv.url("/go")) as resp:
                assert await resp.text() == "GET /there body="
                assert resp.url == other.url("/there")
    assert other.connections == 1
