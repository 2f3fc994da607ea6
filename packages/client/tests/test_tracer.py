"""The tracing seam: which hooks fire, in which order, with what; and the no-op default."""

from __future__ import annotations

import asyncio
import types
from typing import Any

import pytest

from aioloom.client import _tracer
from aioloom.client._session import ClientSession
from aioloom.client._tracer import NO_TRACER, make_tracer

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
REDIRECT = b"HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n"


class Recorder:
    """A tracer that records every hook call."""

    enabled = True

    def __init__(self, calls: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("send_"):
            raise AttributeError(name)

        async def hook(*args: Any) -> None:
            self.calls.append((name[5:], args))

        return hook


class FakeConfig:
    def __init__(self) -> None:
        self.frozen = False

    def freeze(self) -> None:
        self.frozen = True


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[str, tuple[Any, ...]]]:
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def build_tracer(session: object, configs: Any, ctx: object) -> Recorder:
        return Recorder(calls)

    fake = types.SimpleNamespace(build_tracer=build_tracer)
    monkeypatch.setattr(_tracer, "load_tracing", lambda: fake)
    return calls


async def test_hooks_fire_in_order(serve, handler_for, recorded) -> None:
    config = FakeConfig()

    def respond(req) -> bytes:
        return REDIRECT if req.target == "/start" else OK

    async with serve(handler_for(respond)) as srv:
        async with ClientSession(trace_configs=[config]) as session:
            async with session.post(srv.url("/start"), data=b"body") as resp:
                assert await resp.read() == b"ok"
            async with session.get(srv.url("/again")) as resp:
                await resp.read()
    assert config.frozen
    names = [name for name, _ in recorded]
    assert names[:9] == [
        "request_start",
        "connection_create_start",
        "connection_create_end",
        "request_headers",
        "request_chunk_sent",
        "request_redirect",
        "connection_reuseconn",
        "request_headers",
        "request_end",
    ]
    assert names[9:] == [
        "response_chunk_received",
        "request_start",
        "connection_reuseconn",
        "request_headers",
        "request_end",
        "response_chunk_received",
    ]
    start = recorded[0][1]
    assert start[0] == "POST" and start[1] == srv.url("/start")
    chunk = recorded[4][1]
    assert chunk[2] == b"body"
    end_args = recorded[8][1]
    assert end_args[0] == "GET" and end_args[1] == srv.url("/final")


async def test_exception_hook(serve, recorded) -> None:
    async def handler(conn) -> None:
        await conn.read_request()

    async with serve(handler) as srv:
        async with ClientSession(trace_configs=[FakeConfig()]) as session:
            with pytest.raises(Exception) as info:
                await session.get(srv.url())
    name, args = recorded[-1]
    assert name == "request_exception"
    assert args[3] is info.value


async def test_queue_hooks(serve, recorded) -> None:
    from aioloom.client._tcp import TCPConnector

    async def slow(conn) -> None:
        while await conn.read_request() is not None:
            conn.write(OK[:-1])  # the body stays incomplete for a while
            await conn.writer.drain()

    async with serve(slow) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector, trace_configs=[FakeConfig()]) as session:
            first = await session.get(srv.url())
            waiting = session.get(srv.url())
            task = asyncio.ensure_future(waiting)
            await asyncio.sleep(0.05)
            first.release()
            second = await task
            second.release()
    names = [name for name, _ in recorded]
    assert "connection_queued_start" in names
    assert names.index("connection_queued_end") > names.index("connection_queued_start")


async def test_dns_hooks(serve, handler_for, recorded) -> None:
    async with serve(handler_for(lambda r: OK)) as srv:
        async with ClientSession(trace_configs=[FakeConfig()]) as session:
            for _ in range(2):
                async with session.get(f"http://localhost:{srv.port}/", ssl=False) as resp:
                    await resp.read()
    names = [name for name, _ in recorded]
    assert names.count("dns_cache_miss") == 1
    assert "dns_resolvehost_start" in names and "dns_resolvehost_end" in names


def test_no_trace_configs_means_the_no_op_tracer() -> None:
    assert make_tracer(object(), (), None) is NO_TRACER
    assert NO_TRACER.enabled is False


async def test_no_op_hooks_do_nothing() -> None:
    await NO_TRACER.send_request_start("GET", None, None)  # type: ignore[arg-type]
    await NO_TRACER.send_dns_cache_hit("h")


def test_missing_tracing_module_is_a_clear_error(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "aioloom.client._tracing", None)
    with pytest.raises(RuntimeError, match="request tracing"):
        make_tracer(object(), [object()], None)


async def test_with_the_real_trace_config(serve, handler_for) -> None:
    from aioloom.client._tracing import TraceConfig

    seen: list[tuple[str, object]] = []
    config = TraceConfig()

    async def on_start(session, ctx, params) -> None:
        seen.append(("start", params.url))

    async def on_end(session, ctx, params) -> None:
        seen.append(("end", params.response.status))

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    async with serve(handler_for(lambda r: OK)) as srv:
        async with ClientSession(trace_configs=[config]) as session:
            async with session.get(srv.url("/t")) as resp:
                await resp.read()
    assert seen == [("start", srv.url("/t")), ("end", 200)]
