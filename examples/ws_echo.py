"""A WebSocket echo server and a client talking to it, in one script.

The server handler is aiohttp's documented one; the client sends three messages and prints
the echoes. Usage: ``python3 examples/ws_echo.py``.
"""

from __future__ import annotations

import asyncio

from aioloom import web
from aioloom.client import ClientSession


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is web.WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close()
            else:
                await ws.send_str(msg.data + "/answer")
        elif msg.type is web.WSMsgType.ERROR:
            print("ws connection closed with exception", ws.exception())
    return ws


async def main() -> None:
    app = web.Application()
    app.router.add_get("/ws", websocket_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)  # port 0: any free port
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with ClientSession() as session:
            async with session.ws_connect(f"http://{host}:{port}/ws") as ws:
                for text in ("hello", "aioloom", "close"):
                    await ws.send_str(text)
                    msg = await ws.receive()
                    print(msg.type.name, msg.data)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
