"""TestClient against real aioloom.web servers, with the real aioloom client underneath."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aioloom.client._cookiejar import CookieJar, DummyCookieJar
from aioloom.client._exceptions import ClientConnectionError
from aioloom.client._response import ClientResponse
from aioloom.client._session import ClientSession
from aioloom.testing import RawTestServer, TestClient, TestServer
from aioloom.web._app import Application
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response
from aioloom.web._stream_response import StreamResponse

MakeApp = Callable[[], Application]


async def test_every_method_reaches_the_server(make_app: MakeApp) -> None:
    async with TestClient(TestServer(make_app())) as client:
        calls = {
            "GET": client.get,
            "POST": client.post,
            "PUT": client.put,
            "PATCH": client.patch,
            "DELETE": client.delete,
            "OPTIONS": client.options,
        }
        for method, call in calls.items():
            async with call("/echo?m=1", data=b"body") as resp:
                assert resp.status == 200
                assert resp.headers["X-Method"] == method
                assert resp.headers["X-Path"] == "/echo?m=1"
                assert await resp.read() == b"body"
        async with client.head("/echo") as resp:
            assert resp.headers["X-Method"] == "HEAD"
            assert await resp.read() == b""
        async with client.request("PROPFIND", "/echo") as resp:
            assert resp.headers["X-Method"] == "PROPFIND"


async def test_responses_are_normal_client_responses(make_app: MakeApp) -> None:
    async with TestClient(TestServer(make_app())) as client:
        resp = await client.get("/hello/plain")
        assert isinstance(resp, ClientResponse)
        assert resp.url == client.make_url("/hello/plain")
        assert await resp.text() == "hello plain"
        assert resp.headers["Content-Type"].startswith("text/plain")


async def test_the_default_jar_keeps_cookies_for_an_ip_address(make_app: MakeApp) -> None:
    async with TestClient(TestServer(make_app())) as client:
        async with client.get("/set-cookie?value=rye") as resp:
            assert resp.cookies["flavour"].value == "rye"
        assert isinstance(client.session.cookie_jar, CookieJar)
        async with client.get("/cookies") as resp:
            assert await resp.json() == {"flavour": "rye"}


async def test_a_jar_of_ones_own_is_used(make_app: MakeApp) -> None:
    jar = DummyCookieJar()
    async with TestClient(TestServer(make_app()), cookie_jar=jar) as client:
        assert client.session.cookie_jar is jar
        (await client.get("/set-cookie")).release()
        async with client.get("/cookies") as resp:
            assert await resp.json() == {}


async def test_session_options_are_passed_on(make_app: MakeApp) -> None:
    async with TestClient(TestServer(make_app()), headers={"X-Test": "1"}) as client:
        assert client.session.headers["X-Test"] == "1"


async def test_redirects_are_followed_within_the_server(make_app: MakeApp) -> None:
    async with TestClient(TestServer(make_app())) as client, client.get("/redirect") as resp:
        assert await resp.text() == "hello redirected"
        assert [r.status for r in resp.history] == [302]


async def test_properties_mirror_the_server(make_app: MakeApp) -> None:
    app = make_app()
    server = TestServer(app)
    client = TestClient(server)
    try:
        assert client.server is server
        assert client.app is app
        assert isinstance(client.session, ClientSession)
        assert client.port is None  # not started yet
        await client.start_server()
        assert (client.scheme, client.host, client.port) == (
            server.scheme,
            server.host,
            server.port,
        )
        assert client.make_url("/x") == server.make_url("/x")
    finally:
        await client.close()


async def test_a_raw_server_client_has_no_app() -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return Response(text="raw")

    async with TestClient(RawTestServer(handler)) as client:
        assert client.app is None
        async with client.get("/") as resp:
            assert await resp.text() == "raw"


async def test_close_releases_responses_and_closes_everything(make_app: MakeApp) -> None:
    client = TestClient(TestServer(make_app()))
    await client.start_server()
    resp = await client.get("/hello")  # never read nor released by the test
    await client.close()
    assert client.closed and client.session.closed and client.server.closed
    assert resp.closed
    with pytest.raises(ClientConnectionError):
        await resp.read()
    await client.close()  # idempotent


async def test_a_failing_session_close_still_closes_the_server(make_app: MakeApp) -> None:
    client = TestClient(TestServer(make_app()))
    await client.start_server()

    async def broken() -> None:
        raise RuntimeError("session close failed")

    real_close = client.session.close
    client.session.close = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="session close failed"):
        await client.close()
    assert client.server.closed
    await real_close()


async def test_ws_connect_delegates_to_the_session(make_app: MakeApp) -> None:
    async with TestClient(TestServer(make_app())) as client:
        url = client.make_url("/hello")
        # /hello is no WebSocket endpoint: whatever the session's ws_connect does with it
        # (the missing-extra error today, a failed handshake once WebSockets land),
        # TestClient.ws_connect does the same.
        with pytest.raises(Exception) as direct:
            await client.session.ws_connect(url)
        with pytest.raises(type(direct.value)):
            await client.ws_connect("/hello")
        with pytest.raises(type(direct.value)):
            async with client.ws_connect("/hello"):
                pass


def test_a_client_needs_a_test_server() -> None:
    with pytest.raises(TypeError, match="server must be a TestServer instance"):
        TestClient("http://127.0.0.1:8080")  # type: ignore[arg-type]


def test_a_client_needs_a_running_loop(make_app: MakeApp) -> None:
    with pytest.raises(RuntimeError):
        TestClient(TestServer(make_app()))


def test_pytest_does_not_collect_the_client() -> None:
    assert TestClient.__test__ is False


async def test_ws_connect_echo_through_the_fixture(aioloom_client: Any) -> None:
    """A WebSocket echo through TestClient.ws_connect against a real aioloom.web handler."""
    from aioloom.web import Application, Request, WebSocketResponse

    async def echo(request: Request) -> WebSocketResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str("echo:" + msg.data)
        return ws

    app = Application()
    app.router.add_get("/ws", echo)
    client = await aioloom_client(app)
    async with client.ws_connect("/ws") as ws:
        await ws.send_str("ping")
        assert await ws.receive_str() == "echo:ping"
