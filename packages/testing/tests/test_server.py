"""TestServer, RawTestServer and BaseTestServer on real loopback sockets."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable

import pytest
import trustme
from yarl import URL

from aioloom.client._session import ClientSession
from aioloom.testing import (
    REUSE_ADDRESS,
    BaseTestServer,
    RawTestServer,
    TestServer,
    _server,
    get_port_socket,
    get_unused_port_socket,
    unused_port,
)
from aioloom.testing._server import TEST_SHUTDOWN_TIMEOUT
from aioloom.web._app import Application
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response
from aioloom.web._server import Server
from aioloom.web._stream_response import StreamResponse

MakeApp = Callable[[], Application]


async def handler(request: BaseRequest) -> StreamResponse:
    return Response(text=f"{request.scheme} {request.path_qs}")


async def fetch(url: URL | str, **kwargs: object) -> tuple[int, str]:
    async with ClientSession() as session, session.get(url, **kwargs) as resp:  # type: ignore[arg-type]
        return resp.status, await resp.text()


async def test_test_server_serves_an_application(make_app: MakeApp) -> None:
    app = make_app()
    async with TestServer(app) as server:
        assert server.app is app
        assert server.started and not server.closed
        assert server.host == "127.0.0.1" and server.scheme == "http"
        assert isinstance(server.port, int) and server.port > 0
        assert await fetch(server.make_url("/hello/srv")) == (200, "hello srv")
    assert server.closed and not server.started
    assert server.runner is None


async def test_raw_test_server_serves_a_handler() -> None:
    async with RawTestServer(handler) as server:
        assert isinstance(server.server, Server)
        assert server.handler is server.server  # aiohttp's older name
        assert await fetch(server.make_url("/a?b=c")) == (200, "http /a?b=c")


async def test_the_application_starts_and_cleans_up_with_the_server(make_app: MakeApp) -> None:
    app = make_app()
    events: list[str] = []

    async def on_startup(app: Application) -> None:
        events.append("startup")

    async def on_cleanup(app: Application) -> None:
        events.append("cleanup")

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    server = TestServer(app)
    await server.start_server()
    await server.start_server()  # a second start does nothing
    assert events == ["startup"]
    await server.close()
    await server.close()  # idempotent
    assert events == ["startup", "cleanup"]


async def test_a_failed_startup_tears_down_what_had_started(make_app: MakeApp) -> None:
    app = make_app()
    events: list[str] = []

    async def context(app: Application) -> AsyncIterator[None]:
        events.append("context up")
        yield
        events.append("context down")

    async def fail(app: Application) -> None:
        raise RuntimeError("startup failed")

    app.cleanup_ctx.append(context)
    app.on_startup.append(fail)
    server = TestServer(app)
    with pytest.raises(RuntimeError, match="startup failed"):
        await server.start_server()
    assert events == ["context up", "context down"]
    assert not server.started


async def test_ssl_may_be_given_to_the_constructor() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with RawTestServer(handler, ssl=server_ctx) as server:
        assert server.scheme == "https"
        assert await fetch(server.make_url("/c"), ssl=client_ctx) == (200, "https /c")


async def test_a_closed_server_cannot_start_again() -> None:
    server = RawTestServer(handler)
    await server.start_server()
    await server.close()
    with pytest.raises(RuntimeError, match="closed"):
        await server.start_server()


async def test_closing_a_server_never_started_is_harmless() -> None:
    server = RawTestServer(handler)
    await server.close()
    assert server.closed and not server.started


async def test_make_url_appends_the_path_as_given() -> None:
    async with RawTestServer(handler) as server:
        root = f"http://127.0.0.1:{server.port}"
        assert str(server.make_url("/p/q?x=1")) == f"{root}/p/q?x=1"
        assert str(server.make_url("p")) == f"{root}/p"
        assert str(server.make_url("")) == f"{root}"
        assert str(server.make_url(URL("/with space"))) == f"{root}/with%20space"
        assert await fetch(server.make_url("/with space")) == (200, "http /with%20space")


async def test_make_url_with_url_asserts_joins_relative_paths() -> None:
    async with RawTestServer(handler, skip_url_asserts=False) as server:
        root = f"http://127.0.0.1:{server.port}"
        assert str(server.make_url("/p")) == f"{root}/p"
        assert str(server.make_url("p/q")) == f"{root}/p/q"
        with pytest.raises(ValueError, match="relative path"):
            server.make_url("http://example.com/p")


def test_make_url_before_start_is_an_error() -> None:
    server = RawTestServer(handler)
    with pytest.raises(RuntimeError, match="Start the test server first"):
        server.make_url("/")
    with pytest.raises(RuntimeError, match="not started"):
        server.server  # noqa: B018 - the property raises


async def test_a_port_in_use_fails_and_leaves_nothing_running(make_app: MakeApp) -> None:
    events: list[str] = []
    app = make_app()

    async def on_cleanup(app: Application) -> None:
        events.append("cleanup")

    app.on_cleanup.append(on_cleanup)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = TestServer(app, port=taken.getsockname()[1])
        with pytest.raises(OSError):
            await server.start_server()
    assert not server.started
    assert events == ["cleanup"]  # the runner was cleaned up after the failed bind


async def test_https_with_a_trusted_certificate() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with RawTestServer(handler) as server:
        pass  # a plain server first: the scheme follows the ssl argument, not habit
    assert server.scheme == "http"
    server = RawTestServer(handler)
    await server.start_server(ssl=server_ctx)
    try:
        assert server.scheme == "https"
        assert str(server.make_url("/s")).startswith("https://127.0.0.1:")
        assert await fetch(server.make_url("/s"), ssl=client_ctx) == (200, "https /s")
    finally:
        await server.close()


async def test_ipv6_hosts_are_bracketed_in_urls() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    try:
        get_port_socket("::1", 0, socket.AF_INET6).close()
    except OSError:
        pytest.skip("::1 is not configured")
    async with RawTestServer(handler, host="::1") as server:
        assert str(server.make_url("/")).startswith("http://[::1]:")
        assert await fetch(server.make_url("/six")) == (200, "http /six")


async def test_an_explicit_scheme_is_kept() -> None:
    async with RawTestServer(handler, scheme="http") as server:
        assert server.scheme == "http"


async def test_constructor_options_reach_the_runner() -> None:
    async with RawTestServer(handler, shutdown_timeout=0.5, keepalive_timeout=3) as server:
        assert server.runner is not None
        assert server.runner.shutdown_timeout == 0.5
        async with ClientSession() as session, session.get(server.make_url("/")) as resp:
            await resp.read()
        (conn,) = server.server.connections
        assert conn.keepalive_timeout == 3


async def test_closing_cancels_a_stuck_handler_after_the_test_shutdown_timeout() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(request: BaseRequest) -> StreamResponse:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Response()

    server = RawTestServer(stuck)
    await server.start_server()
    async with ClientSession() as session:
        request = asyncio.ensure_future(session.get(server.make_url("/")))
        await started.wait()
        begin = time.monotonic()
        await server.close()
        took = time.monotonic() - begin
        assert cancelled.is_set()
        assert took < TEST_SHUTDOWN_TIMEOUT + 1.0
        with pytest.raises(Exception):  # noqa: B017 - the connection died under it
            await request


def test_base_test_server_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseTestServer()  # type: ignore[abstract]


def test_unused_port_and_port_sockets() -> None:
    port = unused_port()
    with get_port_socket("127.0.0.1", port) as sock:
        assert sock.getsockname() == ("127.0.0.1", port)
        if hasattr(socket, "SO_REUSEADDR"):
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    with get_unused_port_socket("127.0.0.1") as sock:
        assert sock.getsockname()[1] > 0


def _leave_time_wait(port: int) -> None:
    """Accept one connection on ``port`` and close the server side first: TIME_WAIT."""
    with get_port_socket("127.0.0.1", port) as listener:
        listener.listen(1)
        with socket.create_connection(("127.0.0.1", port)) as client:
            conn, _ = listener.accept()
            conn.close()  # the active closer keeps the port in TIME_WAIT (RFC 9293 §3.6)
            assert client.recv(1) == b""


def test_reuse_address_is_aiohttps_value() -> None:
    # aiohttp.test_utils.REUSE_ADDRESS: POSIX semantics of SO_REUSEADDR, not Windows' nor
    # cygwin's (where it lets two live sockets share a port).
    assert REUSE_ADDRESS is (os.name == "posix" and sys.platform != "cygwin")


@pytest.mark.skipif(not REUSE_ADDRESS, reason="SO_REUSEADDR is not used on this platform")
def test_reuse_address_lets_a_port_in_time_wait_be_bound_again() -> None:
    port = unused_port()
    _leave_time_wait(port)
    with get_port_socket("127.0.0.1", port) as again:
        assert again.getsockname() == ("127.0.0.1", port)


@pytest.mark.skipif(not REUSE_ADDRESS, reason="SO_REUSEADDR is not used on this platform")
def test_without_reuse_address_time_wait_blocks_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    port = unused_port()
    _leave_time_wait(port)
    monkeypatch.setattr(_server, "REUSE_ADDRESS", False)
    with pytest.raises(OSError) as info:
        get_port_socket("127.0.0.1", port)
    assert info.value.errno == errno.EADDRINUSE


def test_get_port_socket_refuses_a_foreign_address() -> None:
    with pytest.raises(OSError):
        get_port_socket("192.0.2.1", 0)  # TEST-NET-1: never a local address


def test_pytest_does_not_collect_the_helpers() -> None:
    assert TestServer.__test__ is False
    assert RawTestServer.__test__ is False
