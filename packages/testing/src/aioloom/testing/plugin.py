"""The aioloom pytest plugin (entry point ``pytest11: aioloom``).

It runs ``async def`` test functions, each on a fresh event loop (the ``loop`` fixture)
that is closed after the test. Tests that pytest-asyncio owns (marked ``asyncio``) are
left to it, so the two plugins never run one test twice.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest

from ._loop import loop_context, setup_test_loop, teardown_test_loop

__all__ = ("loop", "pytest_addoption", "pytest_pyfunc_call")


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
    debug = bool(request.config.getoption("--aioloom-debug"))
    the_loop = setup_test_loop()
    the_loop.set_debug(debug)
    try:
        yield the_loop
    finally:
        teardown_test_loop(the_loop, fast=fast)


def _owned_by_pytest_asyncio(pyfuncitem: pytest.Function) -> bool:
    marked = pyfuncitem.get_closest_marker("asyncio") is not None
    return marked and pyfuncitem.config.pluginmanager.has_plugin("asyncio")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test function to completion on the test's ``loop``."""
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func) or _owned_by_pytest_asyncio(pyfuncitem):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    the_loop = pyfuncitem.funcargs.get("loop")
    if isinstance(the_loop, asyncio.AbstractEventLoop):
        the_loop.run_until_complete(func(**kwargs))
    else:
        # The test asked for no loop fixture: give it a private one, torn down the same way.
        fast = bool(pyfuncitem.config.getoption("--aioloom-fast"))
        with loop_context(fast=fast) as own_loop:
            own_loop.set_debug(bool(pyfuncitem.config.getoption("--aioloom-debug")))
            own_loop.run_until_complete(func(**kwargs))
    return True
