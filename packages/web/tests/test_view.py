"""Class-based views: method dispatch, 405 with Allow, and views behind the router."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._exceptions import HTTPMethodNotAllowed
from aioloom.web._response import Response
from aioloom.web._routedef import RouteTableDef
from aioloom.web._view import AbstractView, View


class Items(View):
    async def get(self) -> Response:
        return Response(text=f"list {self.request.match_info.get('id', '-')}")

    async def post(self) -> Response:
        return Response(status=201, text=(await self.request.read()).decode())


def test_abstract_view_needs_await() -> None:
    with pytest.raises(TypeError):
        AbstractView(None)  # type: ignore[abstract,arg-type]


async def test_dispatch_by_method(make_app_request: Any) -> None:
    request = make_app_request(b"GET /items HTTP/1.1\r\nHost: h\r\n\r\n")
    view = Items(request)
    assert view.request is request
    response = await view
    assert isinstance(response, Response)
    assert response.text == "list -"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "BREW"])
async def test_missing_method_is_405_with_allow(make_app_request: Any, method: str) -> None:
    request = make_app_request(f"{method} /items HTTP/1.1\r\nHost: h\r\n\r\n".encode())
    with pytest.raises(HTTPMethodNotAllowed) as caught:
        await Items(request)
    assert caught.value.status == 405
    assert caught.value.allowed_methods == {"GET", "POST"}
    assert caught.value.headers["Allow"] == "GET,POST"
    assert caught.value.method == method


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


async def test_views_over_sockets(serve_app: Any, client_exchange: Any, h11_parse: Any) -> None:
    routes = RouteTableDef()

    @routes.view("/deco/{id}")
    class Decorated(Items):
        pass

    seen: list[str] = []

    async def mw(request: Any, handler: Any) -> Any:
        seen.append(handler.__name__)  # the wrapped handler is named after the view
        return await handler(request)

    app = Application(middlewares=[mw])
    app.router.add_view("/items", Items)
    app.add_routes(routes)
    async with serve_app(app) as port:

        async def send(data: bytes, method: str = "GET") -> Any:
            return h11_parse(await client_exchange(port, data), [method])[0]

        listed = await send(b"GET /items HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        assert (listed.status, listed.body) == (200, b"list -")
        created = await send(
            b"POST /items HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 3\r\n\r\nnew",
            "POST",
        )
        assert (created.status, created.body) == (201, b"new")
        refused = await send(b"PATCH /items HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        assert refused.status == 405
        assert refused.header("Allow") == "GET,POST"
        deco = await send(b"GET /deco/9 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        assert deco.body == b"list 9"
    assert seen == ["Items", "Items", "Items", "Decorated"]
