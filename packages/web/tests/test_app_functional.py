"""Applications end to end over real sockets: sub-apps, domains, URL reversal, signals,
middleware order, Expect handling, errors, frozen-app errors.

Each test starts ``loop.create_server(app._make_handler(), "127.0.0.1", 0)`` after
``app.startup()``, talks to it with a raw ``asyncio.open_connection`` client sending exact
bytes, and reads the answers with h11 (the ``h11_parse`` fixture of conftest).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._exceptions import (
    HTTPExpectationFailed,
    HTTPForbidden,
    HTTPNotFound,
    HTTPServiceUnavailable,
)
from aioloom.web._keys import AppKey
from aioloom.web._response import Response, json_response
from aioloom.web._routing import ExpectHandler, _default_expect_handler

NAME = AppKey("name", str)
LEVEL = AppKey("level", int)


@pytest.fixture
def serve_app(loop: asyncio.AbstractEventLoop) -> Any:
    """``async with serve_app(app) as port``: started, served, then shut down and cleaned."""

    @contextlib.asynccontextmanager
    async def factory(app: Application, **kwargs: Any) -> AsyncIterator[int]:
        await app.startup()
        server = app._make_handler(**kwargs)
        listener = await loop.create_server(server, "127.0.0.1", 0)
        try:
            yield listener.sockets[0].getsockname()[1]
        finally:
            listener.close()
            await server.shutdown(0.5)
            await listener.wait_closed()
            await app.shutdown()
            await app.cleanup()

    return factory


@pytest.fixture
def fetch(client_exchange: Any, h11_parse: Any) -> Any:
    """``await fetch(port, "GET", "/path", headers=..., body=...)`` -> the parsed answer."""

    async def do(
        port: int,
        method: str,
        target: str,
        *,
        host: str = "localhost",
        headers: str = "",
        body: bytes = b"",
    ) -> Any:
        head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        data = await client_exchange(port, head.encode() + b"\r\n" + body)
        answers = h11_parse(data, [method])
        assert len(answers) == 1, data
        return answers[0]

    return do


async def describe(request: Any) -> Response:
    """Say which app handled the request and what the chained config holds."""
    config = request.config_dict
    return json_response(
        {
            "app": request.app[NAME],
            "name_from_config": config[NAME],
            "level": config.get(LEVEL),
            "match": dict(request.match_info),
            "apps": [app[NAME] for app in request.match_info.apps],
        }
    )


def named_app(name: str, level: int | None = None) -> Application:
    app = Application()
    app[NAME] = name
    if level is not None:
        app[LEVEL] = level
    return app


# -- sub-applications ----------------------------------------------------------------------------


async def test_prefixed_subapps_route_and_chain_config(serve_app: Any, fetch: Any) -> None:
    root = named_app("root", level=0)
    root.router.add_get("/", describe)
    sub = named_app("sub")
    sub.router.add_get("/items/{id}", describe)
    sub.router.add_get("", describe)  # the prefix itself
    inner = named_app("inner", level=2)
    inner.router.add_get("/deep", describe)
    sub.add_subapp("/inner", inner)
    root.add_subapp("/sub", sub)
    async with serve_app(root) as port:
        answer = await fetch(port, "GET", "/sub/items/7")
        assert answer.status == 200
        assert answer.body == (
            b'{"app": "sub", "name_from_config": "sub", "level": 0, '
            b'"match": {"id": "7"}, "apps": ["root", "sub"]}'
        )
        deep = await fetch(port, "GET", "/sub/inner/deep")
        assert b'"app": "inner"' in deep.body and b'"level": 2' in deep.body
        assert b'"apps": ["root", "sub", "inner"]' in deep.body
        assert b'"app": "sub"' in (await fetch(port, "GET", "/sub")).body
        assert b'"app": "root"' in (await fetch(port, "GET", "/")).body
        # The sub-application owns its prefix: its 404 is final, the root never sees it.
        assert (await fetch(port, "GET", "/sub/nope")).status == 404
        assert (await fetch(port, "GET", "/subx/items/7")).status == 404
        not_allowed = await fetch(port, "POST", "/sub/items/7")
        assert not_allowed.status == 405
        assert not_allowed.header("Allow") == "GET,HEAD"


async def test_url_reversal_through_prefixes(serve_app: Any, fetch: Any) -> None:
    async def links(request: Any) -> Response:
        router = request.app.router
        user = router["user"].url_for(name="Jane Doe/2").with_query(tab="a b")
        return Response(text=f"{user} {router['home'].url_for()}")

    root = named_app("root")
    sub = named_app("sub")
    sub.router.add_get("/users/{name}", links, name="user")
    sub.router.add_get("/", links, name="home")
    root.add_subapp("/api/v1", sub)
    async with serve_app(root) as port:
        answer = await fetch(port, "GET", "/api/v1/users/x")
        assert answer.body == b"/api/v1/users/Jane%20Doe%2F2?tab=a+b /api/v1/"
        # ...and the reversed URL resolves back to the same route and value.
        back = await fetch(port, "GET", "/api/v1/users/Jane%20Doe%2F2")
        assert back.status == 200


async def test_domains_and_wildcards(serve_app: Any, fetch: Any) -> None:
    root = named_app("root")
    root.router.add_get("/", describe)
    exact = named_app("exact")
    exact.router.add_get("/", describe)
    wild = named_app("wild")
    wild.router.add_get("/", describe)
    wild.router.add_get("/only-wild", describe)
    ported = named_app("ported")
    ported.router.add_get("/", describe)
    root.add_domain("example.com", exact)
    root.add_domain("*.example.org", wild)
    root.add_domain("api.example.net:8080", ported)
    async with serve_app(root) as port:
        for host, expected in [
            ("example.com", b'"app": "exact"'),
            ("EXAMPLE.com", b'"app": "exact"'),
            ("a.example.org", b'"app": "wild"'),
            ("a.b.example.org:9000", b'"app": "wild"'),
            ("api.example.net:8080", b'"app": "ported"'),
            ("api.example.net", b'"app": "root"'),
            ("example.org", b'"app": "root"'),
            ("other.com", b'"app": "root"'),
        ]:
            answer = await fetch(port, "GET", "/", host=host)
            assert expected in answer.body, host
        assert (await fetch(port, "GET", "/only-wild", host="x.example.org")).status == 200
        assert (await fetch(port, "GET", "/only-wild", host="example.com")).status == 404


# -- middlewares and signals ----------------------------------------------------------------------


async def test_middleware_order_and_current_app(serve_app: Any, fetch: Any) -> None:
    order: list[str] = []

    def tracing(label: str) -> Any:
        async def mw(request: Any, handler: Any) -> Any:
            order.append(f"{label}:{request.app[NAME]}")
            response = await handler(request)
            order.append(f"/{label}")
            return response

        return mw

    async def leaf(request: Any) -> Response:
        order.append(f"handler:{request.app[NAME]}")
        return Response(text="leaf")

    root = named_app("root")
    root.middlewares.append(tracing("r1"))
    root.middlewares.append(tracing("r2"))
    sub = named_app("sub")
    sub.middlewares.append(tracing("s1"))
    sub.router.add_get("/leaf", leaf)
    root.add_subapp("/sub", sub)
    root.router.add_get("/top", leaf)
    async with serve_app(root) as port:
        assert (await fetch(port, "GET", "/sub/leaf")).body == b"leaf"
        assert order == [
            "r1:root",
            "r2:root",
            "s1:sub",
            "handler:sub",
            "/s1",
            "/r2",
            "/r1",
        ]
        order.clear()
        await fetch(port, "GET", "/top")
        assert order == ["r1:root", "r2:root", "handler:root", "/r2", "/r1"]
        order.clear()
        assert (await fetch(port, "GET", "/missing")).status == 404
        assert order == ["r1:root", "r2:root"]  # the 404 propagates through both


async def test_middlewares_catch_http_exceptions_and_errors(serve_app: Any, fetch: Any) -> None:
    async def pages(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except HTTPNotFound:
            return Response(status=404, text="custom not found")
        except ZeroDivisionError:
            raise HTTPServiceUnavailable(text="try later") from None

    async def divide(request: Any) -> Response:
        return Response(text=str(1 // int(request.match_info["n"])))

    app = Application(middlewares=[pages])
    app.router.add_get("/div/{n}", divide)
    async with serve_app(app) as port:
        assert (await fetch(port, "GET", "/div/1")).body == b"1"
        missing = await fetch(port, "GET", "/nothing")
        assert (missing.status, missing.body) == (404, b"custom not found")
        failed = await fetch(port, "GET", "/div/0")
        assert (failed.status, failed.body) == (503, b"try later")


@pytest.mark.parametrize("debug", [False, True])
async def test_handler_errors_and_http_exceptions(
    serve_app: Any, fetch: Any, loop: asyncio.AbstractEventLoop, debug: bool
) -> None:
    async def boom(request: Any) -> Response:
        raise KeyError("secret detail")

    async def forbidden(request: Any) -> Response:
        raise HTTPForbidden(text="no entry")

    loop.set_debug(debug)  # the application takes its debug flag from the loop
    app = Application()
    app.router.add_get("/boom", boom)
    app.router.add_get("/forbidden", forbidden)
    async with serve_app(app) as port:
        error = await fetch(port, "GET", "/boom")
        assert error.status == 500
        # The traceback is shown only in debug mode.
        assert (b"secret detail" in error.body) is debug
        refused = await fetch(port, "GET", "/forbidden")
        assert (refused.status, refused.body) == (403, b"no entry")


async def test_on_response_prepare_runs_for_every_app_in_the_stack(
    serve_app: Any, fetch: Any
) -> None:
    def mark(label: str) -> Any:
        async def on_prepare(request: Any, response: Any) -> None:
            response.headers.add("X-Prepared", f"{label}:{request.app[NAME]}")

        return on_prepare

    root = named_app("root")
    sub = named_app("sub")
    root.on_response_prepare.append(mark("root"))
    sub.on_response_prepare.append(mark("sub"))
    sub.router.add_get("/x", describe)
    root.router.add_get("/y", describe)
    root.add_subapp("/sub", sub)
    async with serve_app(root) as port:
        answer = await fetch(port, "GET", "/sub/x")
        assert answer.headers[b"x-prepared"] == [b"root:sub", b"sub:sub"]
        answer = await fetch(port, "GET", "/y")
        assert answer.headers[b"x-prepared"] == [b"root:root"]
        missing = await fetch(port, "GET", "/zzz")  # error answers are prepared too
        assert missing.headers[b"x-prepared"] == [b"root:root"]


async def test_lifecycle_signals_around_serving(serve_app: Any, fetch: Any) -> None:
    log: list[str] = []
    resource = AppKey("resource", str)

    async def ctx(app: Application) -> AsyncIterator[None]:
        app[resource] = "open"
        log.append("ctx-enter")
        yield
        log.append("ctx-exit")

    async def read_resource(request: Any) -> Response:
        log.append("request")
        return Response(text=request.app[resource])

    async def on_shutdown(app: Application) -> None:
        log.append("shutdown")

    app = Application()
    app.cleanup_ctx.append(ctx)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/", read_resource)
    async with serve_app(app) as port:
        assert (await fetch(port, "GET", "/")).body == b"open"
        with pytest.raises(RuntimeError, match="forbidden"):
            app[resource] = "changed while serving"
    assert log == ["ctx-enter", "request", "shutdown", "ctx-exit"]


async def test_state_is_frozen_while_serving(serve_app: Any, fetch: Any) -> None:
    counter = AppKey("counter", int)

    async def bump(request: Any) -> Response:
        try:
            request.app[counter] += 1
        except RuntimeError as exc:
            return Response(status=409, text=str(exc))
        return Response(text="bumped")

    app = Application()
    app[counter] = 0
    app.router.add_get("/bump", bump)
    async with serve_app(app) as port:
        answer = await fetch(port, "GET", "/bump")
        assert answer.status == 409
        assert b"forbidden" in answer.body


# -- Expect: 100-continue ------------------------------------------------------------------


async def echo(request: Any) -> Response:
    return Response(body=await request.read())


async def ignore_body(request: Any) -> Response:
    return Response(text="not reading")


async def raw_expect(port: int, target: str, extra: str = "") -> tuple[bytes, bytes]:
    """Send a head with Expect; return (what came before the body was sent, the rest)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                f"Expect: 100-continue\r\nConnection: close\r\n{extra}\r\n"
            ).encode()
        )
        first = await asyncio.wait_for(reader.read(65536), 5)
        if first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
            writer.write(b"hello")
            await writer.drain()
        rest = await asyncio.wait_for(reader.read(), 5)
        return first, rest
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_default_expect_sends_continue_only_when_the_body_is_read(
    serve_app: Any, h11_parse: Any
) -> None:
    app = Application()
    app.router.add_post("/echo", echo)
    app.router.add_post("/ignore", ignore_body)
    async with serve_app(app) as port:
        first, rest = await raw_expect(port, "/echo")
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        answer = h11_parse(first[len(b"HTTP/1.1 100 Continue\r\n\r\n") :] + rest)[0]
        assert (answer.status, answer.body) == (200, b"hello")
        first, rest = await raw_expect(port, "/ignore")
        assert not first.startswith(b"HTTP/1.1 100")  # the body was never invited
        assert h11_parse(first + rest)[0].body == b"not reading"
        first, rest = await raw_expect(port, "/missing")
        assert h11_parse(first + rest)[0].status == 404


async def test_custom_expect_handler_runs_before_the_handler(
    serve_app: Any, h11_parse: Any
) -> None:
    calls: list[str] = []

    async def check_token(request: Any) -> Any:
        calls.append("expect")
        if request.headers.get("X-Token") != "good":
            raise HTTPForbidden(text="bad token")
        await _default_expect_handler(request)  # validated: invite the body
        return None

    async def answer_directly(request: Any) -> Any:
        return Response(status=202, text="answered by the expect handler")

    async def reject_expect(request: Any) -> Any:
        raise HTTPExpectationFailed(text="no")

    custom: ExpectHandler = check_token
    app = Application()
    app.router.add_post("/guarded", echo, expect_handler=custom)
    app.router.add_post("/direct", echo, expect_handler=answer_directly)
    app.router.add_post("/reject", echo, expect_handler=reject_expect)
    async with serve_app(app) as port:
        first, rest = await raw_expect(port, "/guarded", "X-Token: good\r\n")
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        tail = first[len(b"HTTP/1.1 100 Continue\r\n\r\n") :] + rest
        assert h11_parse(tail)[0].body == b"hello"
        assert b"100 Continue" not in tail  # sent once
        first, rest = await raw_expect(port, "/guarded", "X-Token: bad\r\n")
        refused = h11_parse(first + rest)[0]
        assert (refused.status, refused.body) == (403, b"bad token")
        first, rest = await raw_expect(port, "/direct")
        assert h11_parse(first + rest)[0].status == 202
        first, rest = await raw_expect(port, "/reject")
        assert h11_parse(first + rest)[0].status == 417
    assert calls == ["expect", "expect"]


async def test_client_max_size_applies_to_app_requests(serve_app: Any, fetch: Any) -> None:
    app = Application(client_max_size=4)
    app.router.add_post("/echo", echo)
    async with serve_app(app) as port:
        assert (await fetch(port, "POST", "/echo", body=b"1234")).body == b"1234"
        assert (await fetch(port, "POST", "/echo", body=b"12345")).status == 413
