"""An ordinary aiohttp program, written against aiohttp's API and not modified for aioloom.

tests/test_compat_program.py runs it after ``aioloom.compat.install_as_aiohttp()``: a small
application (a route, a middleware, a WebSocket echo) served on a real socket and exercised
with ``aiohttp.ClientSession``, ``ws_connect`` included. It prints one line per check.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

COUNTER = web.AppKey("counter", list)


@web.middleware
async def stamp(request: web.Request, handler):  # type: ignore[no-untyped-def]
    response = await handler(request)
    response.headers["X-Stamp"] = "mw"
    return response


async def hello(request: web.Request) -> web.Response:
    request.app[COUNTER].append(request.match_info["name"])
    return web.json_response({"hello": request.match_info["name"]})


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close()
            else:
                await ws.send_str("echo:" + msg.data)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data[::-1])
    return ws


def make_app() -> web.Application:
    app = web.Application(middlewares=[stamp])
    app[COUNTER] = []
    app.router.add_get("/hello/{name}", hello)
    app.router.add_get("/ws", echo)
    return app


async def main() -> None:
    app = make_app()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(base + "/hello/world") as resp:
                print("status", resp.status, resp.headers["X-Stamp"])
                print("json", await resp.json())
            async with session.get(base + "/missing") as resp:
                print("missing", resp.status, resp.headers.get("X-Stamp"))
            try:
                async with session.get(base + "/missing") as resp:
                    resp.raise_for_status()
            except aiohttp.ClientResponseError as exc:
                print("raised", exc.status)
            async with session.ws_connect(base + "/ws") as ws:
                await ws.send_str("hi")
                msg = await ws.receive()
                print("ws text", msg.type is aiohttp.WSMsgType.TEXT, msg.data)
                await ws.send_bytes(b"abc")
                print("ws bytes", (await ws.receive_bytes()))
                await ws.send_str("close")
                msg = await ws.receive()
                print("ws closed", msg.type is aiohttp.WSMsgType.CLOSE)
        print("counter", app[COUNTER])
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
