"""Sharing a test session with pytest-asyncio: which plugin owns which test, and its loop.

The rule is pytest-asyncio's own: a coroutine test is pytest-asyncio's when that plugin is
active and the test carries the ``asyncio`` marker (in its ``auto`` mode it marks every
coroutine test itself). Every other coroutine test is run by the aioloom plugin, so no test
is ever run twice, and each plugin runs the async fixtures of its own tests.

The aioloom fixtures (``loop``, ``aioloom_client``...) work in pytest-asyncio's tests as
well: ``loop`` is then the loop pytest-asyncio runs the test on, taken from its loop-runner
fixture (``_<scope>_scoped_runner``, pytest-asyncio 1.x), and it is left for
pytest-asyncio to close.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

__all__ = (
    "asyncio_mode",
    "asyncio_plugin_active",
    "asyncio_plugin_loop",
    "is_coroutine_test",
    "owned_by_pytest_asyncio",
)

_PLUGIN_NAME = "asyncio"  # pytest-asyncio's pytest11 entry point name


def is_coroutine_test(func: Any) -> bool:
    """True for an ``async def`` test, including one wrapped by Hypothesis' ``@given``."""
    if inspect.iscoroutinefunction(func):
        return True
    inner = getattr(getattr(func, "hypothesis", None), "inner_test", None)
    return inner is not None and inspect.iscoroutinefunction(inner)


def asyncio_mode(config: pytest.Config) -> str:
    """pytest-asyncio's mode for this session (``strict``, ``auto``)."""
    value = config.getoption("asyncio_mode", None)
    if value is None:
        try:
            value = config.getini("asyncio_mode")
        except ValueError:  # not registered: pytest-asyncio is not loaded
            return "strict"
    return str(value)


def asyncio_plugin_active(config: pytest.Config) -> bool:
    """True when pytest-asyncio is installed and enabled in this session."""
    return config.pluginmanager.has_plugin(_PLUGIN_NAME)


def owned_by_pytest_asyncio(node: pytest.Item, func: Any) -> bool:
    """True when pytest-asyncio, not aioloom, runs the test ``node`` (function ``func``).

    Args:
        node: the test item (or the ``FunctionDefinition`` during parametrisation).
        func: the test function.
    """
    config = node.config
    if not asyncio_plugin_active(config) or not is_coroutine_test(func):
        return False
    if node.get_closest_marker("asyncio") is not None:
        return True
    return asyncio_mode(config) == "auto"


def asyncio_plugin_loop(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoop:
    """The loop pytest-asyncio runs the current test on.

    Raises:
        pytest.UsageError: this pytest-asyncio has no loop-runner fixture aioloom knows.
    """
    scope = getattr(request.node, "_loop_scope", None) or "function"
    name = f"_{scope}_scoped_runner"
    try:
        runner = request.getfixturevalue(name)
    except pytest.FixtureLookupError as exc:
        raise pytest.UsageError(
            f"{request.node.nodeid}: pytest-asyncio runs this test, and aioloom cannot find "
            f"its loop (no {name!r} fixture; aioloom supports pytest-asyncio>=1.0)"
        ) from exc
    loop = runner.get_loop()
    assert isinstance(loop, asyncio.AbstractEventLoop)
    return loop
