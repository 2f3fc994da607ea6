"""AppRunner: the application's lifecycle around the sites, and the shutdown order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._log import AbstractAccessLogger, AccessLogger
from aioloom.web._request import BaseRequest, Request
from aioloom.web._response import Response, StreamResponse
from aioloom.web._runner import AppRunner, TCPSite


async def _ask(port: int, path: str = "/") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return data


def test_app_runner_type_checks() -> None:
    with pytest.raises(TypeError, match="web.Application"):
        AppRunner(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AbstractAccessLogger"):
        AppRunner(Application(), access_log_class=object)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AbstractAccessLogger"):
        AppRunner(Application(), access_log_class=AccessLogger("x"))  # type: ignore[arg-type]


async def test_serves_routes_and_runs_signals_in_order(h11_parse: Any) -> None:
    events: list[str] = []
    app = Application()
    started = asyncio.Event()

    async def slow(request: Request) -> StreamResponse:
        started.set()
        await asyncio.sleep(0.3)
        events.append("request finished")
        return Response(text="slow done")

    async def fast(request: Request) -> StreamResponse:
        return Response(text=f"fast {request.match_info['name']}")

    async def on_startup(app: Application) -> None:
        events.append("startup")

    async def on_shutdown(app: Application) -> None:
        events.append("shutdown")

    async def on_cleanup(app: Application) -> None:
        events.append("cleanup")

    async def context(app: Application) -> Any:
        events.append("ctx enter")
        yield
        events.append("ctx exit")

    app.router.add_get("/slow", slow)
    app.router.add_get("/fast/{name}", fast)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    app.cleanup_ctx.append(context)

    runner = AppRunner(app, shutdown_timeout=5)
    assert runner.app is app
    assert runner.server is None
    await runner.setup()
    assert events == ["ctx enter", "startup"]
    assert app.frozen
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    (answer,) = h11_parse(await _ask(site.port, "/fast/x"))
    assert (answer.status, answer.body) == (200, b"fast x")

    async def callback() -> None:
        events.append("shutdown callback")

    runner.shutdown_callback = callback
    client = asyncio.ensure_future(_ask(site.port, "/slow"))
    await started.wait()
    await runner.cleanup()
    (answer,) = h11_parse(await client)
    assert answer.body == b"slow done"
    # aiohttp's order: on_shutdown, then in-flight requests finish, then on_cleanup (whose
    # first callback, registered by the Application itself, exits the cleanup contexts).
    assert events == [
        "ctx enter",
        "startup",
        "shutdown",
        "shutdown callback",
        "request finished",
        "ctx exit",
        "cleanup",
    ]
    assert runner.server is None


async def test_failed_startup_leaves_no_server() -> None:
    app = Application()

    async def broken(app: Application) -> None:
        raise RuntimeError("no database")

    app.on_startup.append(broken)
    runner = AppRunner(app)
    with pytest.raises(RuntimeError, match="no database"):
        await runner.setup()
    assert runner.server is None
    with pytest.raises(RuntimeError, match="runner.setup"):
        TCPSite(runner)


async def test_handler_args_and_kwargs_reach_the_protocol() -> None:
    app = Application(handler_args={"keepalive_timeout": 3.5})
    seen: list[float] = []

    async def handler(request: Request) -> StreamResponse:
        seen.append(request.protocol.keepalive_timeout)
        return Response()

    app.router.add_get("/", handler)
    runner = AppRunner(app, keepalive_timeout=99.0, request_head_timeout=7.0)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await _ask(site.port)
    server = runner.server
    assert server is not None
    protocol = server()
    assert protocol.request_head_timeout == 7.0
    await runner.cleanup()
    assert seen == [3.5]  # handler_args win over the runner's kwargs


async def test_access_log_through_runner() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.runner.access")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = Keep()
    logger.addHandler(handler)
    app = Application()

    async def ok(request: BaseRequest) -> StreamResponse:
        return Response(text="ok")

    app.router.add_get("/logged", ok)
    runner = AppRunner(app, access_log=logger, access_log_format="%r %s")
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await _ask(site.port, "/logged")
    await runner.cleanup()
    logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["GET /logged HTTP/1.1 200"]


async def test_custom_access_log_class() -> None:
    seen: list[int] = []

    class Counter(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            seen.append(response.status)

    app = Application()
    runner = AppRunner(app, access_log_class=Counter)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await _ask(site.port, "/missing")
    await runner.cleanup()
    assert seen == [404]
