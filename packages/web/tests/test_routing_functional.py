"""Routing over real sockets: 404 vs 405 with Allow, HEAD, any-method routes, decoded values,
and a large route table."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._response import Response, json_response


@pytest.fixture
def serve_app(loop: asyncio.AbstractEventLoop) -> Any:
    @contextlib.asynccontextmanager
    async def factory(app: Application) -> AsyncIterator[int]:
        await app.startup()
        server = app._make_handler()
        listener = await loop.create_server(server, "127.0.0.1", 0)
        try:
            yield listener.sockets[0].getsockname()[1]
        finally:
            listener.close()
            await server.shutdown(0.5)
            await listener.wait_closed()

    return factory


@pytest.fixture
def fetch(client_exchange: Any, h11_parse: Any) -> Any:
    async def do(port: int, method: str, target: str) -> Any:
        data = await client_exchange(
            port, f"{method} {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".encode()
        )
        answers = h11_parse(data, [method])
        assert len(answers) == 1
        return answers[0]

    return do


async def echo_match(request: Any) -> Response:
    return json_response({"method": request.method, "match": dict(request.match_info)})


async def test_404_405_and_allow(serve_app: Any, fetch: Any) -> None:
    app = Application()
    app.router.add_get("/thing", echo_match)
    app.router.add_put("/thing", echo_match)
    app.router.add_route("*", "/any", echo_match)
    async with serve_app(app) as port:
        missing = await fetch(port, "GET", "/other")
        assert (missing.status, missing.body) == (404, b"404: Not Found")
        assert missing.header("Allow") is None
        refused = await fetch(port, "DELETE", "/thing")
        assert (refused.status, refused.body) == (405, b"405: Method Not Allowed")
        assert refused.header("Allow") == "GET,HEAD,PUT"
        head = await fetch(port, "HEAD", "/thing")
        assert (head.status, head.body) == (200, b"")
        assert int(head.header("Content-Length") or 0) > 0
        for method in ("GET", "POST", "PROPFIND"):
            answer = await fetch(port, method, "/any")
            assert answer.body == f'{{"method": "{method}", "match": {{}}}}'.encode()


async def test_decoded_values_on_the_wire(serve_app: Any, fetch: Any) -> None:
    app = Application()
    app.router.add_get("/v/{value}", echo_match)
    app.router.add_get("/tail/{rest:.*}", echo_match)
    async with serve_app(app) as port:
        answer = await fetch(port, "GET", "/v/a%2Fb%20c%25")
        assert b'"match": {"value": "a/b c%"}' in answer.body
        answer = await fetch(port, "GET", "/tail/x/y%2Fz")
        assert b'"match": {"rest": "x/y/z"}' in answer.body
        answer = await fetch(port, "GET", "/tail/")
        assert b'"match": {"rest": ""}' in answer.body


async def test_large_route_table(serve_app: Any, fetch: Any) -> None:
    app = Application()
    for i in range(500):
        app.router.add_get(f"/static/{i}", echo_match)
        app.router.add_get(f"/{{org}}/repo{i}/{{id:\\d+}}", echo_match)
    async with serve_app(app) as port:
        assert (await fetch(port, "GET", "/static/499")).status == 200
        answer = await fetch(port, "GET", "/acme/repo321/77")
        assert b'"match": {"org": "acme", "id": "77"}' in answer.body
        assert (await fetch(port, "GET", "/acme/repo321/x")).status == 404
        assert (await fetch(port, "POST", "/acme/repo321/7")).header("Allow") == "GET,HEAD"
