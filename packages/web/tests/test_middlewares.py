"""Middlewares: the ``middleware`` marker, chaining, and ``normalize_path_middleware``
(over real sockets, reading the redirects a raw client gets)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._exceptions import HTTPMovedPermanently
from aioloom.web._middlewares import middleware, normalize_path_middleware
from aioloom.web._response import Response


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
            await app.cleanup()

    return factory


@pytest.fixture
def fetch(client_exchange: Any, h11_parse: Any) -> Any:
    async def do(port: int, target: str, method: str = "GET") -> Any:
        data = await client_exchange(
            port, f"{method} {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".encode()
        )
        return h11_parse(data, [method])[0]

    return do


async def ok(request: Any) -> Response:
    return Response(text=f"ok {request.path}")


def test_middleware_marker_returns_the_function() -> None:
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)

    assert middleware(mw) is mw
    assert mw.__middleware_version__ == 1  # type: ignore[attr-defined]


def test_normalize_path_rejects_contradictory_options() -> None:
    with pytest.raises(ValueError, match="both remove and append"):
        normalize_path_middleware(append_slash=True, remove_slash=True)


async def test_plain_functions_are_new_style_middlewares(serve_app: Any, fetch: Any) -> None:
    async def unmarked(request: Any, handler: Any) -> Any:  # no @middleware
        response = await handler(request)
        response.headers["X-Seen"] = "yes"
        return response

    app = Application(middlewares=[unmarked])
    app.router.add_get("/", ok)
    async with serve_app(app) as port:
        answer = await fetch(port, "/")
        assert answer.header("X-Seen") == "yes"


async def test_middleware_may_replace_the_request(serve_app: Any, fetch: Any) -> None:
    @middleware
    async def rewrite(request: Any, handler: Any) -> Any:
        return await handler(request.clone(rel_url="/rewritten"))

    async def show(request: Any) -> Response:
        return Response(text=f"{request.path} {request.match_info['x']}")

    app = Application(middlewares=[rewrite])
    app.router.add_get("/{x}", show)
    async with serve_app(app) as port:
        # The match info was computed before the middleware ran; the clone keeps it.
        assert (await fetch(port, "/orig")).body == b"/rewritten orig"


@pytest.fixture
def slash_app() -> Any:
    def build(**options: Any) -> Application:
        app = Application(middlewares=[normalize_path_middleware(**options)])
        app.router.add_get("/with-slash/", ok)
        app.router.add_get("/without", ok)
        app.router.add_get("/a/b/", ok)
        app.router.add_get("/p/{x}/", ok)
        return app

    return build


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/with-slash", "/with-slash/"),
        ("/with-slash?q=1&r=%20", "/with-slash/?q=1&r=%20"),
        ("//with-slash//", "/with-slash/"),
        ("/a//b", "/a/b/"),
        ("/a///b/", "/a/b/"),
        ("/p/value", "/p/value/"),
        ("/p/a%2Fb", "/p/a%2Fb/"),
    ],
)
async def test_append_and_merge(
    serve_app: Any, fetch: Any, slash_app: Any, target: str, location: str
) -> None:
    async with serve_app(slash_app()) as port:
        answer = await fetch(port, target)
        assert answer.status == 308
        assert answer.header("Location") == location


@pytest.mark.parametrize("target", ["/without", "/with-slash/", "/a/b/"])
async def test_existing_paths_are_not_redirected(
    serve_app: Any, fetch: Any, slash_app: Any, target: str
) -> None:
    async with serve_app(slash_app()) as port:
        answer = await fetch(port, target)
        assert (answer.status, answer.body) == (200, f"ok {target}".encode())


@pytest.mark.parametrize("target", ["/nothing", "/without/", "/with-slash/x"])
async def test_unresolvable_paths_stay_404(
    serve_app: Any, fetch: Any, slash_app: Any, target: str
) -> None:
    async with serve_app(slash_app()) as port:
        assert (await fetch(port, target)).status == 404


async def test_remove_slash(serve_app: Any, fetch: Any, slash_app: Any) -> None:
    async with serve_app(slash_app(append_slash=False, remove_slash=True)) as port:
        answer = await fetch(port, "/without/")
        assert (answer.status, answer.header("Location")) == (308, "/without")
        merged = await fetch(port, "//without//")
        assert (merged.status, merged.header("Location")) == (308, "/without")
        assert (await fetch(port, "/with-slash")).status == 404  # appending is off


async def test_merge_off_and_other_redirect_class(
    serve_app: Any, fetch: Any, slash_app: Any
) -> None:
    app = slash_app(merge_slashes=False, redirect_class=HTTPMovedPermanently)
    async with serve_app(app) as port:
        answer = await fetch(port, "/with-slash")
        assert (answer.status, answer.header("Location")) == (301, "/with-slash/")
        assert (await fetch(port, "/a//b")).status == 404


async def test_never_redirects_to_another_host(serve_app: Any, fetch: Any) -> None:
    """GHSA-v6wp-4m6f-gcjg: ``//evil.com`` must not become a scheme-relative Location."""
    app = Application(middlewares=[normalize_path_middleware()])
    app.router.add_get("/{tail:.+}/", ok)
    async with serve_app(app) as port:
        answer = await fetch(port, "//evil.com")
        assert answer.status == 308
        location = answer.header("Location")
        assert location is not None and not location.startswith("//")
        assert location == "/evil.com/"


async def test_normalize_path_in_a_subapp_uses_the_full_path(serve_app: Any, fetch: Any) -> None:
    root = Application(middlewares=[normalize_path_middleware()])
    sub = Application()
    sub.router.add_get("/page/", ok)
    root.add_subapp("/sub", sub)
    async with serve_app(root) as port:
        answer = await fetch(port, "/sub/page")
        assert (answer.status, answer.header("Location")) == (308, "/sub/page/")
        assert (await fetch(port, "/sub//page/")).header("Location") == "/sub/page/"
