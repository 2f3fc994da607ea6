"""A typed aiohttp-style application, kept clean under ``mypy --strict`` by test_typing.py.

It is written the way typed aiohttp 3.14 code is (``request: web.Request`` handlers under
``RouteTableDef`` decorators, ``AppKey`` state, class-based views) with only the import
changed, and it runs: test_typing.py serves it and requests every route. The
``assert_type`` lines are the static assertions; they do nothing at run time.

A line ending in ``# gap: NAME`` is where aioloom does not type-check yet as aiohttp does;
test_typing.py requires exactly those errors, so closing a gap fails the test until its
marker is removed (see ``GAPS`` there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aioloom import web

if TYPE_CHECKING:
    from typing_extensions import assert_type, reveal_type

routes = web.RouteTableDef()

tags_key = web.AppKey("tags", set[str])
counts_key = web.AppKey("counts", list[int])
name_key = web.AppKey("name", str)
# A union is not a class: its type is given as the key's type argument.
port_key = web.AppKey[int | None]("port", int | None)
request_id_key = web.RequestKey("request_id", str)


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    tags = request.app[tags_key]
    counts = request.app[counts_key]
    name: str = request.app[name_key]
    request[request_id_key] = "r-1"
    if TYPE_CHECKING:
        assert_type(tags, set[str])
        assert_type(counts, list[int])
        assert_type(request.app[port_key], int | None)
        assert_type(request[request_id_key], str)
    return web.Response(text=f"{name} {sorted(tags)} {sum(counts)} {request[request_id_key]}")


@routes.post("/items/{id}")
async def create_item(request: web.Request) -> web.Response:
    item_id = request.match_info["id"]
    body = await request.text()
    request.app[tags_key].add(item_id)
    return web.json_response({"id": item_id, "body": body}, status=201)


@routes.view("/items")
class Items(web.View):
    async def get(self) -> web.Response:
        # (Not sorted(app[key]) directly: with an invariant key, as aiohttp's, mypy infers
        # the key's type from sorted()'s parameter and rejects it.)
        tags = self.request.app[tags_key]
        return web.json_response(sorted(tags))


async def plain(request: web.BaseRequest) -> web.StreamResponse:
    return web.Response(text="plain")


async def on_startup(app: web.Application) -> None:
    app[counts_key].append(41)
    app[counts_key].append(1)


def make_app() -> web.Application:
    """Build the application: state, signals, the decorated routes and one plain route."""
    app = web.Application()
    app[tags_key] = {"seed"}
    app[counts_key] = []
    app[name_key] = "typed"
    app[port_key] = None
    app.on_startup.append(on_startup)
    app.add_routes(routes)
    app.router.add_get("/plain", plain)
    if TYPE_CHECKING:
        assert_type(tags_key, web.AppKey[set[str]])
        assert_type(counts_key, web.AppKey[list[int]])
        assert_type(app[tags_key], set[str])
        assert_type(app.get(name_key), str | None)
    return app


# The decorators hand the handler back with its own type.
if TYPE_CHECKING:
    assert_type(Items, type[Items])
    reveal_type(index)
    reveal_type(create_item)
