"""The aioloom pytest plugin (entry point ``pytest11: aioloom``): aiohttp's ``pytest_plugin``.

Installing aioloom-testing enables it. It

* runs ``async def`` tests, and ``async def`` / async-generator fixtures, on a fresh event
  loop per test (the ``loop`` fixture), closed after the test with its pending tasks
  cancelled;
* runs each such test once per loop implementation named by ``--aioloom-loop`` (``pyloop``
  by default; ``pyloop,uvloop``; ``all``), with the test id ``[pyloop]``, ``[uvloop]``; a
  named loop that is not installed skips its variant with the reason;
* reports what a test left unclosed (sessions, connectors, transports, sockets, coroutines
  never awaited) as warnings of that test -- errors of its teardown under ``-W error``
  (see :mod:`aioloom.testing._leaks`);
* optionally bounds every async test and fixture step in time (``--aioloom-timeout``, ini
  ``aioloom_timeout``, marker ``aioloom_timeout(seconds)``), failing it with a report of
  where it and the loop's other tasks were waiting;
* provides the fixtures ``aioloom_client``, ``aioloom_server``, ``aioloom_raw_server``,
  ``aioloom_unused_port`` and ``aioloom_client_cls``; everything they start is closed at
  teardown, whether the test passed or not;
* shares the session with pytest-asyncio: the tests and fixtures pytest-asyncio owns
  (strict or auto mode) are left to it, and the aioloom fixtures then use its loop
  (see :mod:`aioloom.testing._coexist`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any, Final, TypeVar

import pytest
from _pytest.fixtures import resolve_fixture_function

from ._client import TestClient
from ._coexist import (
    asyncio_mode,
    asyncio_plugin_active,
    asyncio_plugin_loop,
    is_coroutine_test,
    owned_by_pytest_asyncio,
)
from ._deadline import TestTimeoutError, run_with_deadline
from ._fixtures import AioloomClient, AioloomRawServer, AioloomServer
from ._leaks import collect_leaks
from ._loop import (
    LoopChoice,
    LoopFactory,
    select_loop_factories,
    setup_test_loop,
    teardown_test_loop,
)
from ._server import unused_port

__all__ = (
    "aioloom_client",
    "aioloom_client_cls",
    "aioloom_raw_server",
    "aioloom_server",
    "aioloom_unused_port",
    "loop",
    "loop_factory",
    "pytest_addoption",
    "pytest_configure",
    "pytest_fixture_setup",
    "pytest_generate_tests",
    "pytest_pyfunc_call",
)

_T = TypeVar("_T")
_LOOP_CHOICES: Final = pytest.StashKey[list[LoopChoice]]()
_TIMEOUT_MARKER: Final = "aioloom_timeout"
# The least time the server and client fixtures get to close everything at teardown.
_MIN_TEARDOWN_TIMEOUT: Final = 10.0


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--aioloom-*`` options and their ini keys."""
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
    group.addoption(
        "--aioloom-loop",
        default=None,
        help="run async tests under each of these loops: pyloop, uvloop (comma-separated), "
        "or all (default: the aioloom_loop ini value, pyloop)",
    )
    group.addoption(
        "--aioloom-timeout",
        type=float,
        default=None,
        help="fail an async test or fixture step after this many seconds (0: no limit; "
        "default: the aioloom_timeout ini value)",
    )
    parser.addini("aioloom_loop", "the loops --aioloom-loop defaults to", default="pyloop")
    parser.addini("aioloom_timeout", "the time limit of --aioloom-timeout", default="0")


def pytest_configure(config: pytest.Config) -> None:
    """Register the timeout marker; check the loop names and the time limit early.

    Raises:
        pytest.UsageError: an unknown loop name or a bad time limit.
    """
    config.addinivalue_line(
        "markers",
        f"{_TIMEOUT_MARKER}(seconds): fail this async test after that many seconds (0: none)",
    )
    spec = config.getoption("--aioloom-loop") or str(config.getini("aioloom_loop"))
    try:
        config.stash[_LOOP_CHOICES] = select_loop_factories(spec)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc
    _config_timeout(config)  # refuse a bad value now, not in the middle of the run


# -- time limits ---------------------------------------------------------------------------


def _seconds(value: Any, source: str) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"{source} must be a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise pytest.UsageError(f"{source} must not be negative, got {value!r}")
    return seconds or None


def _config_timeout(config: pytest.Config) -> float | None:
    option = config.getoption("--aioloom-timeout")
    if option is not None:
        return _seconds(option, "--aioloom-timeout")
    return _seconds(config.getini("aioloom_timeout"), "the aioloom_timeout ini value")


def _timeout_for(node: pytest.Item | pytest.Collector) -> float | None:
    """The time limit of one test: its marker, else the command line, else the ini value."""
    marker = node.get_closest_marker(_TIMEOUT_MARKER)
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("seconds")
        return _seconds(value, f"@pytest.mark.{_TIMEOUT_MARKER}")
    return _config_timeout(node.config)


def _run(
    the_loop: asyncio.AbstractEventLoop, aw: Awaitable[_T], timeout: float | None, what: str
) -> _T:
    try:
        return run_with_deadline(the_loop, aw, timeout=timeout, what=what)
    except TestTimeoutError as exc:
        report = str(exc)  # failed below, outside this block, so that no chain is shown
    pytest.fail(report, pytrace=False)


# -- loops -----------------------------------------------------------------------------------


def _chosen_by_user(metafunc: pytest.Metafunc, name: str) -> bool:
    """True when the test parametrizes ``name`` itself, or a conftest overrides the fixture."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",")]
        if name in names:
            return True
    definitions = metafunc._arg2fixturedefs.get(name)
    if definitions is None:  # a name this plugin added to the test
        manager = metafunc.definition.session._fixturemanager
        definitions = manager.getfixturedefs(name, metafunc.definition)
    if not definitions:
        return False
    return bool(definitions[-1].func.__module__ != __name__)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give aioloom's coroutine tests the ``loop`` fixture; run them under each chosen loop."""
    definition = metafunc.definition
    if owned_by_pytest_asyncio(definition, metafunc.function):
        return
    if is_coroutine_test(metafunc.function):
        for name in ("loop", "loop_factory"):
            if name not in metafunc.fixturenames:
                metafunc.fixturenames.append(name)
    if "loop_factory" not in metafunc.fixturenames:
        return
    if _chosen_by_user(metafunc, "loop_factory"):
        return
    params = [
        pytest.param(choice.factory, id=choice.name)
        if choice.factory is not None
        else pytest.param(None, id=choice.name, marks=pytest.mark.skip(reason=choice.missing))
        for choice in metafunc.config.stash[_LOOP_CHOICES]
    ]
    metafunc.parametrize("loop_factory", params)


@pytest.fixture
def loop_factory(pytestconfig: pytest.Config) -> LoopFactory:
    """What makes the test's loop: the loop chosen with ``--aioloom-loop`` (parametrized)."""
    for choice in pytestconfig.stash[_LOOP_CHOICES]:
        if choice.factory is not None:
            return choice.factory
    return asyncio.new_event_loop


@pytest.fixture
def loop(
    request: pytest.FixtureRequest, loop_factory: LoopFactory
) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh event loop for one test, closed (its pending tasks cancelled) afterwards.

    In a test that pytest-asyncio runs, this is pytest-asyncio's loop instead (and
    pytest-asyncio closes it).
    """
    node = request.node
    if isinstance(node, pytest.Function) and owned_by_pytest_asyncio(node, node.obj):
        yield asyncio_plugin_loop(request)
        return
    config = request.config
    the_loop = setup_test_loop(loop_factory)
    the_loop.set_debug(bool(config.getoption("--aioloom-debug")))
    try:
        yield the_loop
    finally:
        __tracebackhide__ = True
        with collect_leaks() as leaks:
            teardown_test_loop(the_loop, fast=bool(config.getoption("--aioloom-fast")))
        leaks.report()


# -- async tests -------------------------------------------------------------------------------


def _test_loop(item: pytest.Function) -> asyncio.AbstractEventLoop:
    the_loop = item.funcargs.get("loop")
    if the_loop is None:
        the_loop = item._request.getfixturevalue("loop")
    assert isinstance(the_loop, asyncio.AbstractEventLoop)
    return the_loop


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test (Hypothesis' ``@given`` ones too) on the test's ``loop``."""
    func = pyfuncitem.obj
    if not is_coroutine_test(func) or owned_by_pytest_asyncio(pyfuncitem, func):
        return None
    the_loop = _test_loop(pyfuncitem)
    timeout = _timeout_for(pyfuncitem)
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    if inspect.iscoroutinefunction(func):
        _run(the_loop, func(**kwargs), timeout, pyfuncitem.name)
        return True
    hypothesis = func.hypothesis
    inner = hypothesis.inner_test

    @functools.wraps(inner)
    def run_example(*args: Any, **example_kwargs: Any) -> None:
        _run(the_loop, inner(*args, **example_kwargs), timeout, pyfuncitem.name)

    hypothesis.inner_test = run_example
    try:
        func(**kwargs)
    finally:
        hypothesis.inner_test = inner
    return True


# -- async fixtures ----------------------------------------------------------------------------


def _is_async_function(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _runs_async_fixture(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> bool:
    """True when aioloom (not pytest-asyncio) runs this async fixture for this test."""
    config = request.config
    if not asyncio_plugin_active(config):
        return True
    if getattr(fixturedef.func, "_force_asyncio_fixture", False):
        return False  # declared with @pytest_asyncio.fixture
    if asyncio_mode(config) == "auto":
        return False  # pytest-asyncio runs every async fixture in auto mode
    node = request.node
    return not (isinstance(node, pytest.Function) and owned_by_pytest_asyncio(node, node.obj))


def _run_async_fixture(
    func: Callable[..., Any], request: pytest.FixtureRequest, kwargs: dict[str, Any]
) -> Any:
    the_loop: asyncio.AbstractEventLoop = request.getfixturevalue("loop")
    timeout = _timeout_for(request.node)
    what = f"fixture {request.fixturename!r}"
    if not inspect.isasyncgenfunction(func):
        return _run(the_loop, func(**kwargs), timeout, what)
    agen = func(**kwargs)
    value = _run(the_loop, agen.__anext__(), timeout, what)

    def finish() -> None:
        try:
            _run(the_loop, agen.__anext__(), timeout, f"teardown of {what}")
        except StopAsyncIteration:
            return
        _run(the_loop, agen.aclose(), timeout, f"teardown of {what}")
        raise RuntimeError(f"async generator fixture {request.fixturename!r} yielded twice")

    request.addfinalizer(finish)
    return value


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Run an ``async def`` or async-generator fixture on the test's ``loop``."""
    if not _is_async_function(fixturedef.func) or not _runs_async_fixture(fixturedef, request):
        return (yield)
    if fixturedef.scope != "function":
        raise pytest.UsageError(
            f"async fixture {fixturedef.argname!r} has scope {fixturedef.scope!r}: the aioloom "
            "plugin runs async fixtures on the test's own loop, so they must be function-scoped"
        )
    func = resolve_fixture_function(fixturedef, request)

    def run_fixture(**kwargs: Any) -> Any:
        return _run_async_fixture(func, request, kwargs)

    with pytest.MonkeyPatch.context() as patch:
        # Only for this call: the next test decides afresh who runs the fixture.
        patch.setattr(fixturedef, "func", run_fixture)
        return (yield)


# -- server and client fixtures ------------------------------------------------------------


def _close_factory(
    the_loop: asyncio.AbstractEventLoop,
    factory: AioloomClient | AioloomServer | AioloomRawServer,
    request: pytest.FixtureRequest,
) -> None:
    what = f"teardown of {request.fixturename}"
    timeout = _timeout_for(request.node)
    if timeout is not None:
        # Closing servers is graceful (in-flight handlers get their shutdown_timeout):
        # never cut it shorter than that because the test's own limit is short.
        timeout = max(timeout, _MIN_TEARDOWN_TIMEOUT)
    _run(the_loop, factory.close(), timeout, what)


@pytest.fixture
def aioloom_unused_port() -> Callable[[], int]:
    """A function returning a free TCP port of 127.0.0.1 (aiohttp's ``aiohttp_unused_port``)."""
    return unused_port


@pytest.fixture
def aioloom_server(
    loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> Iterator[AioloomServer]:
    """Start a :class:`TestServer` for an application: ``await aioloom_server(app)``."""
    factory = AioloomServer()
    yield factory
    _close_factory(loop, factory, request)


@pytest.fixture
def aioloom_raw_server(
    loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> Iterator[AioloomRawServer]:
    """Start a :class:`RawTestServer` for a handler: ``await aioloom_raw_server(handler)``."""
    factory = AioloomRawServer()
    yield factory
    _close_factory(loop, factory, request)


@pytest.fixture
def aioloom_client_cls() -> type[TestClient]:
    """The client class ``aioloom_client`` makes (override it to use a subclass)."""
    return TestClient


@pytest.fixture
def aioloom_client(
    loop: asyncio.AbstractEventLoop,
    aioloom_client_cls: type[TestClient],
    request: pytest.FixtureRequest,
) -> Iterator[AioloomClient]:
    """Make a :class:`TestClient` for an application or a test server.

    ``await aioloom_client(app, server_kwargs=None, **client_kwargs)``.
    """
    factory = AioloomClient(aioloom_client_cls)
    yield factory
    _close_factory(loop, factory, request)
