"""The smallest server (aiohttp's server quickstart, with aioloom).

Usage: ``python3 examples/server_hello.py [--port 8080]``, then open http://127.0.0.1:8080/John.
"""

from __future__ import annotations

import argparse

from aioloom import web

routes = web.RouteTableDef()


@routes.get("/")
@routes.get("/{name}")
async def handle(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "Anonymous")
    return web.Response(text=f"Hello, {name}")


def make_app() -> web.Application:
    app = web.Application()
    app.add_routes(routes)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port)
