"""ServerRunner and the sites over real sockets: ports, names, Unix sockets, graceful exit.

The runner serves the low-level ``Server``; clients are raw sockets and answers are read
back with h11. ``AppRunner`` is in ``test_runner_app.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import signal
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._request import BaseRequest
from aioloom.web._response import Response, StreamResponse
from aioloom.web._runner import (
    BaseRunner,
    GracefulExit,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
)
from aioloom.web._server import Server


async def hello(request: BaseRequest) -> StreamResponse:
    return Response(text=f"hello {request.path}")


@contextlib.asynccontextmanager
async def running(handler: Any = hello, **kwargs: Any) -> AsyncIterator[ServerRunner]:
    runner = ServerRunner(Server(handler), **kwargs)
    await runner.setup()
    try:
        yield runner
    finally:
        await runner.cleanup()


async def _ask(port: int, path: str = "/") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return data


def test_graceful_exit_is_system_exit() -> None:
    assert issubclass(GracefulExit, SystemExit)
    assert GracefulExit().code == 1


async def test_tcp_site_port_zero(h11_parse: Any) -> None:
    async with running() as runner:
        site = TCPSite(runner, "127.0.0.1", 0)
        assert site.port == 0
        await site.start()
        port = site.port
        assert port > 0
        assert site.name == f"http://127.0.0.1:{port}"
        assert runner.addresses == [("127.0.0.1", port)]
        assert runner.sites == {site}
        (answer,) = h11_parse(await _ask(port, "/p"))
        assert (answer.status, answer.body) == (200, b"hello /p")
    assert runner.sites == set()
    assert runner.server is None
    with pytest.raises(OSError):
        await _ask(port)


async def test_site_names_before_start() -> None:
    async with running() as runner:
        assert TCPSite(runner).name == "http://0.0.0.0:8080"
        assert TCPSite(runner, "localhost", 9000).name == "http://localhost:9000"
        assert TCPSite(runner, "::1", 9000).name == "http://[::1]:9000"
        assert UnixSite(runner, "/tmp/x.sock").name == "http://unix:/tmp/x.sock:"


async def test_https_site_defaults(tls_context: Any) -> None:
    async with running() as runner:
        site = TCPSite(runner, ssl_context=tls_context)
        assert site.port == 8443
        assert site.name == "https://0.0.0.0:8443"


@pytest.fixture
def tls_context() -> Any:
    import ssl

    return ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)


async def test_site_needs_setup() -> None:
    runner = ServerRunner(Server(hello))
    with pytest.raises(RuntimeError, match="runner.setup"):
        TCPSite(runner)


async def test_site_shutdown_timeout_is_deprecated() -> None:
    async with running() as runner:
        assert runner.shutdown_timeout == 60.0
        with pytest.warns(DeprecationWarning, match="BaseRunner"):
            TCPSite(runner, shutdown_timeout=5.0)
        assert runner.shutdown_timeout == 5.0


async def test_site_registration_errors() -> None:
    async with running() as runner:
        site = TCPSite(runner, "127.0.0.1", 0)
        with pytest.raises(RuntimeError, match="not registered"):
            await site.stop()
        await site.start()
        with pytest.raises(RuntimeError, match="already registered"):
            await site.start()
        await site.stop()
        assert runner.sites == set()


async def test_unix_site(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    path = tmp_path / "web.sock"
    async with running() as runner:
        site = UnixSite(runner, path)
        await site.start()
        assert site.name == f"http://unix:{path}:"
        assert runner.addresses == [str(path)]
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(b"GET /unix HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        (answer,) = h11_parse(await asyncio.wait_for(reader.read(), 5))
        writer.close()
        await writer.wait_closed()
    assert answer.body == b"hello /unix"
    with pytest.raises(OSError):
        await asyncio.open_unix_connection(str(path))


async def test_sock_site(h11_parse: Any) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    async with running() as runner:
        site = SockSite(runner, sock)
        assert site.name == f"http://127.0.0.1:{port}"
        await site.start()
        (answer,) = h11_parse(await _ask(port, "/sock"))
    assert answer.body == b"hello /sock"
    sock.close()


async def test_sock_site_unix(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    async with running() as runner:
        site = SockSite(runner, sock)
        assert site.name == f"http://unix:{path}:"
    sock.close()


async def test_several_sites_one_runner(h11_parse: Any, tmp_path: pathlib.Path) -> None:
    async with running() as runner:
        first = TCPSite(runner, "127.0.0.1", 0)
        second = TCPSite(runner, "127.0.0.1", 0)
        unix = UnixSite(runner, tmp_path / "u.sock")
        for site in (first, second, unix):
            await site.start()
        assert len(runner.addresses) == 3
        for site in (first, second):
            (answer,) = h11_parse(await _ask(site.port))
            assert answer.status == 200
        server = runner.server
        assert server is not None and server.requests_count == 2


async def test_signal_handlers_installed_and_removed() -> None:
    before = signal.getsignal(signal.SIGINT)
    runner = ServerRunner(Server(hello), handle_signals=True)
    await runner.setup()
    assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    await runner.cleanup()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


async def test_cleanup_without_setup() -> None:
    runner = ServerRunner(Server(hello))
    await runner.cleanup()
    assert runner.server is None


def test_base_runner_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseRunner()  # type: ignore[abstract]


# -- graceful shutdown ----------------------------------------------------------------------


async def test_in_flight_request_finishes(h11_parse: Any) -> None:
    started = asyncio.Event()

    async def slow(request: BaseRequest) -> StreamResponse:
        started.set()
        await asyncio.sleep(0.3)
        return Response(text="finished")

    runner = ServerRunner(Server(slow), shutdown_timeout=5.0)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site.port
    client = asyncio.ensure_future(_ask(port))
    await started.wait()
    begin = time.monotonic()
    await runner.cleanup()
    elapsed = time.monotonic() - begin
    (answer,) = h11_parse(await client)
    assert (answer.status, answer.body) == (200, b"finished")
    assert 0.2 < elapsed < 3  # waited for the handler, not for a timeout
    with pytest.raises(OSError):
        await _ask(port)  # no longer listening


async def test_handler_past_timeout_is_cancelled() -> None:
    started = asyncio.Event()
    outcome: list[str] = []

    async def forever(request: BaseRequest) -> StreamResponse:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        return Response()

    runner = ServerRunner(Server(forever), shutdown_timeout=0.2)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await started.wait()
    begin = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - begin < 2
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed without an answer
    await asyncio.sleep(0)
    assert outcome == ["cancelled"]
    writer.close()
    await writer.wait_closed()


async def test_idle_keep_alive_closed_at_once(h11_parse: Any, read_answers: Any) -> None:
    runner = ServerRunner(Server(hello, keepalive_timeout=60), shutdown_timeout=30)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    writer.write(b"GET /ka HTTP/1.1\r\nHost: x\r\n\r\n")
    (answer,) = h11_parse(await asyncio.wait_for(read_answers(reader, 1), 5))
    assert answer.header("Connection") is None  # kept alive
    begin = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - begin < 1  # neither keepalive_timeout nor shutdown_timeout
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    await writer.wait_closed()


async def test_busy_keep_alive_connection_closes_after_its_answer(h11_parse: Any) -> None:
    started = asyncio.Event()

    async def slow(request: BaseRequest) -> StreamResponse:
        started.set()
        await asyncio.sleep(0.2)
        return Response(text="last")

    runner = ServerRunner(Server(slow), shutdown_timeout=5)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive request
    await started.wait()
    await runner.cleanup()
    data = await asyncio.wait_for(reader.read(), 5)  # the answer, then EOF
    (answer,) = h11_parse(data)
    assert answer.body == b"last"
    writer.close()
    await writer.wait_closed()


async def test_idle_connection_closed_while_others_finish(
    h11_parse: Any, read_answers: Any
) -> None:
    started = asyncio.Event()

    async def handler(request: BaseRequest) -> StreamResponse:
        if request.path == "/slow":
            started.set()
            await asyncio.sleep(0.6)
        return Response(text=request.path)

    runner = ServerRunner(Server(handler, keepalive_timeout=60), shutdown_timeout=30)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", site.port)
    idle_writer.write(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.wait_for(read_answers(idle_reader, 1), 5)
    busy = asyncio.ensure_future(_ask(site.port, "/slow"))
    await started.wait()

    async def wait_for_tasks() -> None:  # as run_app does, after on_shutdown
        await asyncio.sleep(0.5)

    runner.shutdown_callback = wait_for_tasks
    cleanup = asyncio.ensure_future(runner.cleanup())
    # The idle connection is closed at once (Server.pre_shutdown), not after the waits.
    assert await asyncio.wait_for(idle_reader.read(), 0.3) == b""
    assert not cleanup.done()
    (answer,) = h11_parse(await busy)
    assert answer.body == b"/slow"
    await cleanup
    idle_writer.close()
    await idle_writer.wait_closed()
