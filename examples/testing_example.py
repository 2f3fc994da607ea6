"""Testing an application with the ``aioloom_client`` fixture (aiohttp's testing example).

The aioloom pytest plugin is installed with aioloom-testing and runs ``async def`` tests by
itself. Usage: ``python3 -m pytest examples/testing_example.py``.
"""

from __future__ import annotations

from aioloom import web
from aioloom.testing import AioloomClient


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello, world")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", hello)
    return app


async def test_hello(aioloom_client: AioloomClient) -> None:
    client = await aioloom_client(make_app())
    resp = await client.get("/")
    assert resp.status == 200
    assert "Hello, world" in await resp.text()
