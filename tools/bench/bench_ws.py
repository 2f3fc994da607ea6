"""The ``ws`` benchmark: WebSocket echo round trips on one connection, with and without deflate.

The client (the measuring process) sends a message and waits for its echo before the
next (sequential round trips); the echo server is this module run as a script, in its
own process pinned to the other core, built with the same library as the client:
aioloom (``ClientSession.ws_connect`` / ``web.WebSocketResponse``), aiohttp (the same
API) or websockets (``websockets.asyncio``). Each echo is checked against what was sent.

Cases: 32-byte text messages (round trips/s) and 64 KiB binary messages (MB/s of
payload one way), each plain and with permessage-deflate (RFC 7692) offered by the
client and accepted by the server.

Top level: standard library and ``harness`` only (``run.py`` imports this module).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import harness
from harness import Benchmark, Case, CheckFailed, Context, System, measure

MB = 1_000_000
TEXT = "0123456789abcdef" * 2  # 32 bytes
# 64 KiB of hex digits: compressible about 2:1, so deflate has real work on both sides.
BINARY = os.urandom(32 * 1024).hex().encode()
ROUND_TRIPS = {"text": 200, "binary": 10}  # per call of the timed function

Echo = Callable[[Any], Awaitable[Any]]

# ---------------------------------------------------------------------------------------------
# The servers (``python bench_ws.py FLAVOUR``; deflate is accepted whenever the client offers)


async def _serve_aiohttp_style(module_name: str) -> None:
    web: Any = importlib.import_module(module_name)
    msg_types: Any = importlib.import_module(
        "aiohttp" if module_name == "aiohttp.web" else "aioloom.websocket"
    ).WSMsgType

    async def echo(request: Any) -> Any:
        ws = web.WebSocketResponse(compress=True, max_msg_size=0)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == msg_types.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == msg_types.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


async def _serve_websockets() -> None:
    server_module: Any = importlib.import_module("websockets.asyncio.server")

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async with server_module.serve(
        echo, "127.0.0.1", 0, compression="deflate", max_size=None
    ) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await server.serve_forever()


def _serve(flavour: str) -> None:
    if flavour == "websockets":
        asyncio.run(_serve_websockets())
    else:
        asyncio.run(_serve_aiohttp_style("aioloom.web" if flavour == "aioloom" else "aiohttp.web"))


# ---------------------------------------------------------------------------------------------
# The clients


def _deflate(case: Case) -> bool:
    return case.name.endswith("-deflate")


def _payload(case: Case) -> str | bytes:
    return TEXT if case.name.startswith("text") else BINARY


async def _aiohttp_style_client(
    module: Any, url: str, deflate: bool
) -> tuple[Echo, Callable[[], Awaitable[None]]]:
    """aioloom.client and aiohttp: ``ws_connect`` with ``compress=15`` to offer deflate."""
    session = module.ClientSession()
    ws = await session.ws_connect(url, compress=15 if deflate else 0, max_msg_size=0)

    async def echo(data: Any) -> Any:
        if isinstance(data, str):
            await ws.send_str(data)
        else:
            await ws.send_bytes(data)
        return (await ws.receive()).data

    async def close() -> None:
        await ws.close()
        await session.close()

    return echo, close


async def _websockets_client(url: str, deflate: bool) -> tuple[Echo, Callable[[], Awaitable[None]]]:
    client: Any = importlib.import_module("websockets.asyncio.client")
    ws = await client.connect(url, compression="deflate" if deflate else None, max_size=None)

    async def echo(data: Any) -> Any:
        await ws.send(data)
        return await ws.recv()

    return echo, ws.close


def _runner(flavour: str) -> harness.Runner:
    def run(case: Case, ctx: Context) -> float:
        deflate = _deflate(case)
        argv = [sys.executable, os.path.abspath(__file__), flavour]
        with harness.serving(argv, ctx.core(1)) as (_process, port):
            url = f"ws://127.0.0.1:{port}/"
            loop = asyncio.new_event_loop()
            try:
                if flavour == "websockets":
                    connect = _websockets_client(url, deflate)
                else:
                    module = importlib.import_module(
                        "aioloom.client" if flavour == "aioloom" else "aiohttp"
                    )
                    connect = _aiohttp_style_client(module, url, deflate)
                echo, close = loop.run_until_complete(connect)
                try:
                    return _time(case, ctx, loop, echo)
                finally:
                    loop.run_until_complete(close())
            finally:
                loop.close()

    return run


def _time(case: Case, ctx: Context, loop: asyncio.AbstractEventLoop, echo: Echo) -> float:
    payload = _payload(case)
    trips = ROUND_TRIPS["text" if isinstance(payload, str) else "binary"]

    async def batch() -> None:
        for _ in range(trips):
            await echo(payload)

    answer = loop.run_until_complete(echo(payload))
    if answer != payload:
        raise CheckFailed(f"echo of {len(payload)} units came back as {str(answer)[:40]!r}...")
    rate = measure(lambda: loop.run_until_complete(batch()), ctx.min_time, units=trips)
    return rate if isinstance(payload, str) else rate * len(payload) / MB


CASES = (
    Case("text", f"{len(TEXT)}-byte text messages, no compression; unit round trips/s"),
    Case("text-deflate", "as `text`, with permessage-deflate negotiated; unit round trips/s"),
    Case(
        "binary",
        f"{len(BINARY) // 1024} KiB binary messages (hex digits, deflate ~2:1), no compression;"
        " unit MB/s of payload one way (10^6 bytes)",
    ),
    Case("binary-deflate", "as `binary`, with permessage-deflate negotiated; unit MB/s"),
)

BENCHMARK = Benchmark(
    name="ws",
    title="WebSocket echo",
    description=(
        "Sequential echo round trips on one WebSocket connection: the client (measuring"
        " process, plain asyncio loop) sends a message and awaits its echo (checked) before"
        " the next; the server, built with the same library, runs in its own process pinned"
        " to the other core and accepts permessage-deflate whenever the client offers it"
        " (client `compress=15` / websockets `compression='deflate'`). Message size limits"
        " are off on both ends."
    ),
    unit="trips/s | MB/s",
    cases=CASES,
    systems=(
        System(
            "aioloom",
            "`aioloom.client.ClientSession.ws_connect` <-> `aioloom.web.WebSocketResponse`",
            _runner("aioloom"),
        ),
        System(
            "aiohttp",
            "`aiohttp.ClientSession.ws_connect` <-> `aiohttp.web.WebSocketResponse`, C"
            " extensions on",
            _runner("aiohttp"),
        ),
        System(
            "websockets",
            "`websockets.asyncio.client.connect` <-> `websockets.asyncio.server.serve`",
            _runner("websockets"),
        ),
    ),
    reference="aiohttp",
    cores_per_measurement=2,
    packages=("aioloom-client", "aioloom-web", "aioloom-websocket", "aiohttp", "websockets"),
)


if __name__ == "__main__":
    _serve(sys.argv[1])
