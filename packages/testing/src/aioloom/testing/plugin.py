"""The aioloom pytest plugin (entry point ``pytest11: aioloom``).

It runs ``async def`` test functions and ``async def`` / async-generator fixtures, each test on
a fresh event loop (the ``loop`` fixture) that is closed after the test. Every coroutine test
is given the ``loop`` fixture at collection, so its async fixtures and the test body share one
loop. Tests that pytest-asyncio owns (marked ``asyncio`` while that plugin is active) are left
to it, so the two plugins never run one test twice.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from typing import Any

import pytest

from ._loop import setup_test_loop, teardown_test_loop

__all__ = (
    "loop",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_fixture_setup",
    "pytest_pyfunc_call",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aioloom")
    group.addoption(
        "--aioloom-fast",
        action="store_true",
        default=False,
        help="skip the garbage-collection pass after each test's loop is closed",
    )
    group.addoption(
        "--aioloom-debug",
        action="store_true",
        default=False,
        help="run each test's event loop in debug mode",
    )


@pytest.fixture
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh event loop for one test, closed (with its pending tasks cancelled) afterwards."""
    fast = bool(request.config.getoption("--aioloom-fast"))
    the_loop = setup_test_loop()
    the_loop.set_debug(bool(request.config.getoption("--aioloom-debug")))
    try:
        yield the_loop
    finally:
        teardown_test_loop(the_loop, fast=fast)


def _owned_by_pytest_asyncio(item: pytest.Item) -> bool:
    marked = item.get_closest_marker("asyncio") is not None
    return marked and item.config.pluginmanager.has_plugin("asyncio")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every coroutine test the ``loop`` fixture, so its async fixtures share that loop."""
    for item in items:
        if not isinstance(item, pytest.Function) or _owned_by_pytest_asyncio(item):
            continue
        if inspect.iscoroutinefunction(item.obj) and "loop" not in item.fixturenames:
            item.fixturenames.append("loop")


def _run_async_fixture(
    func: Callable[..., Any], request: pytest.FixtureRequest, kwargs: dict[str, Any]
) -> Any:
    if request.scope != "function":
        raise pytest.UsageError(
            f"async fixture {func.__name__!r} has scope {request.scope!r}: the aioloom plugin "
            "runs async fixtures on the test's own loop, so they must be function-scoped"
        )
    the_loop: asyncio.AbstractEventLoop = request.getfixturevalue("loop")
    if inspect.isasyncgenfunction(func):
        agen: AsyncGenerator[Any, None] = func(**kwargs)
        value = the_loop.run_until_complete(agen.__anext__())

        def finish() -> None:
            try:
                the_loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return
            raise RuntimeError(f"async generator fixture {func.__name__!r} yielded twice")

        request.addfinalizer(finish)
        return value
    coro: Coroutine[Any, Any, Any] = func(**kwargs)
    return the_loop.run_until_complete(coro)


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> None:
    """Turn an ``async def`` or async-generator fixture into one that runs on ``loop``."""
    func = fixturedef.func
    if not (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)):
        return
    if _owned_by_pytest_asyncio(request.node):
        return
    # pytest declares these attributes Final for its own code; rewriting them in this hook is
    # the documented way plugins run async fixtures, hence setattr.
    wants_request = "request" in fixturedef.argnames
    if not wants_request:
        setattr(fixturedef, "argnames", (*fixturedef.argnames, "request"))  # noqa: B010

    @functools.wraps(func)
    def sync_fixture(**kwargs: Any) -> Any:
        fixture_request: pytest.FixtureRequest = (
            kwargs["request"] if wants_request else kwargs.pop("request")
        )
        return _run_async_fixture(func, fixture_request, kwargs)

    setattr(fixturedef, "func", sync_fixture)  # noqa: B010


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test function to completion on the test's ``loop``."""
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func) or _owned_by_pytest_asyncio(pyfuncitem):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    the_loop = pyfuncitem.funcargs["loop"]
    assert isinstance(the_loop, asyncio.AbstractEventLoop)
    the_loop.run_until_complete(func(**kwargs))
    return True
