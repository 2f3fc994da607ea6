"""Route definitions: ``web.get(...)`` and friends, ``static()``, ``RouteTableDef``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aioloom.http import hdrs
from aioloom.web import _routedef as web
from aioloom.web._app import Application
from aioloom.web._response import Response
from aioloom.web._routedef import RouteDef, RouteTableDef, StaticDef
from aioloom.web._static import StaticResource
from aioloom.web._urldispatcher import UrlDispatcher
from aioloom.web._view import View


async def handler(request: Any) -> Response:
    return Response(text="ok")


class Things(View):
    async def get(self) -> Response:
        return Response(text="things")


@pytest.mark.parametrize(
    ("factory", "method"),
    [
        (web.head, "HEAD"),
        (web.options, "OPTIONS"),
        (web.post, "POST"),
        (web.put, "PUT"),
        (web.patch, "PATCH"),
        (web.delete, "DELETE"),
    ],
)
def test_method_helpers_register_one_route(factory: Any, method: str) -> None:
    definition = factory("/p", handler, name="n")
    assert isinstance(definition, RouteDef)
    assert (definition.method, definition.path, definition.handler) == (method, "/p", handler)
    assert definition.kwargs == {"name": "n"}
    routes = UrlDispatcher().add_routes([definition])
    assert [r.method for r in routes] == [method]
    assert routes[0].name == "n"


def test_get_registers_head_unless_disabled() -> None:
    router = UrlDispatcher()
    added = router.add_routes([web.get("/a", handler), web.get("/b", handler, allow_head=False)])
    assert [r.method for r in added] == ["GET", "GET"]
    assert sorted(r.method for r in router.routes()) == ["GET", "GET", "HEAD"]


def test_route_view_and_custom_methods() -> None:
    router = UrlDispatcher()
    added = router.add_routes(
        [web.route("PROPFIND", "/dav", handler), web.route("*", "/any", handler)]
    )
    added += router.add_routes([web.view("/things", Things)])
    assert [r.method for r in added] == ["PROPFIND", "*", hdrs.METH_ANY]
    assert added[2].handler is Things


def test_definitions_are_immutable_and_have_reprs() -> None:
    definition = web.post("/p", handler, name="x", expect_handler=None)
    with pytest.raises(AttributeError):
        definition.path = "/other"  # type: ignore[misc]
    assert repr(definition) == "<RouteDef POST /p -> 'handler', expect_handler=None, name='x'>"
    static = web.static("/s", "/tmp", show_index=True)
    assert isinstance(static, StaticDef)
    assert repr(static) == "<StaticDef /s -> /tmp, show_index=True>"


def test_static_definition_registers_get_and_head(tmp_path: Path) -> None:
    router = UrlDispatcher()
    added = router.add_routes([web.static("/files", tmp_path, name="files")])
    assert sorted(r.method for r in added) == ["GET", "HEAD"]
    assert isinstance(router["files"], StaticResource)


def test_route_table_def_decorators() -> None:
    routes = RouteTableDef()

    @routes.get("/g", name="g")
    async def g(request: Any) -> Response:
        return Response()

    @routes.post("/p")
    async def p(request: Any) -> Response:
        return Response()

    routes.put("/u")(handler)
    routes.patch("/pa")(handler)
    routes.delete("/d")(handler)
    routes.head("/h")(handler)
    routes.options("/o")(handler)
    routes.route("LOCK", "/l")(handler)
    routes.view("/v")(Things)
    routes.static("/st", "/tmp")
    assert len(routes) == 10
    assert repr(routes) == "<RouteTableDef count=10>"
    first = routes[0]
    assert isinstance(first, RouteDef) and first.handler is g  # decorators return the handler
    assert [d.method for d in routes[:9]] == [  # type: ignore[attr-defined]
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "HEAD",
        "OPTIONS",
        "LOCK",
        "*",
    ]
    assert first in routes and list(routes)[1].handler is p  # type: ignore[attr-defined]


def test_view_decorator_returns_the_class_and_records_it() -> None:
    routes = RouteTableDef()
    assert routes.view("/things", name="things")(Things) is Things
    (definition,) = routes
    assert definition == RouteDef("*", "/things", Things, {"name": "things"})
    app = Application()
    app.add_routes(routes)
    assert app.router["things"].url_for().path == "/things"


def test_app_add_routes_with_a_table(tmp_path: Path) -> None:
    routes = RouteTableDef()
    routes.get("/x", name="x")(handler)
    routes.static("/s", tmp_path)
    app = Application()
    added = app.add_routes(routes)
    assert len(added) == 3  # add_get gives its GET route; add_static GET and HEAD
    assert app.router["x"].url_for().path == "/x"
