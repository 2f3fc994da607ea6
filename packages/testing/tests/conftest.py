"""Shared pieces of the aioloom.testing tests.

* ``make_app``: a real :class:`~aioloom.web.Application` with a handful of routes (hello,
  echo, cookies, redirects, a handler that never answers, one that fails), for the test
  servers, the test client and the mock connector to serve.
* ``run_pytest``: run a test file in a fresh pytest process (pytester), as users run the
  plugin: loaded through its entry point, with ``-W error``.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable

import pytest

from aioloom.web._app import Application
from aioloom.web._request import Request
from aioloom.web._response import Response, json_response
from aioloom.web._stream_response import StreamResponse

RunPytest = Callable[..., pytest.RunResult]


async def hello(request: Request[object]) -> StreamResponse:
    return Response(text=f"hello {request.match_info.get('name', 'world')}")


async def echo(request: Request[object]) -> StreamResponse:
    body = await request.read()
    return Response(
        body=body,
        headers={
            "X-Method": request.method,
            "X-Path": request.path_qs,
            "X-Host": request.host,
            "X-Secure": str(request.secure),
            "X-Remote": str(request.remote),
        },
    )


async def set_cookie(request: Request[object]) -> StreamResponse:
    resp = Response(text="set")
    resp.set_cookie("flavour", request.query.get("value", "oat"))
    return resp


async def show_cookies(request: Request[object]) -> StreamResponse:
    return json_response(dict(request.cookies))


async def redirect(request: Request[object]) -> StreamResponse:
    return Response(status=302, headers={"Location": "/hello/redirected"})


async def hang(request: Request[object]) -> StreamResponse:
    await asyncio.sleep(3600)
    return Response(text="never")


async def fail(request: Request[object]) -> StreamResponse:
    raise RuntimeError("handler failed on purpose")


def build_app() -> Application:
    """A fresh application with the routes above."""
    app = Application()
    router = app.router
    router.add_get("/hello", hello)
    router.add_get("/hello/{name}", hello)
    router.add_route("*", "/echo", echo)
    router.add_get("/set-cookie", set_cookie)
    router.add_get("/cookies", show_cookies)
    router.add_get("/redirect", redirect)
    router.add_get("/hang", hang)
    router.add_get("/fail", fail)
    return app


@pytest.fixture
def make_app() -> Callable[[], Application]:
    """Builds the test application (a fresh one per call)."""
    return build_app


# Inner pytest runs load installed plugins through their entry points, as a user's run does;
# these keep out the ones hatch's test environment adds that would change what is measured
# (test order, reruns, parallelism) and pytest-asyncio, which has tests of its own.
INNER_RUN_ARGS = (
    "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:rerunfailures",
    "-p", "no:xdist", "-p", "no:asyncio",
)  # fmt: skip


@pytest.fixture
def run_pytest(pytester: pytest.Pytester) -> RunPytest:
    """Write ``source`` as a test module and run pytest on it in a subprocess."""

    def run(source: str, *args: str, name: str = "test_subject") -> pytest.RunResult:
        pytester.makepyfile(**{name: textwrap.dedent(source)})
        return pytester.runpytest_subprocess("-W", "error", *INNER_RUN_ARGS, *args)

    return run
