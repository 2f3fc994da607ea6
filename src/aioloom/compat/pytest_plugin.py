"""aiohttp's pytest plugin (``aiohttp.pytest_plugin``) on top of the aioloom plugin.

The aioloom plugin (:mod:`aioloom.testing.plugin`, registered by its ``pytest11`` entry point)
already runs ``async def`` tests and provides ``loop``, ``loop_factory`` and the
``aioloom_*`` fixtures. This module adds aiohttp's fixture names, each delegating to the
aioloom fixture that does the work, and aiohttp's command-line options, each forwarded to the
matching ``--aioloom-*`` option. A test suite written for aiohttp loads it as aiohttp's::

    from aioloom.compat import install_as_aiohttp

    install_as_aiohttp()
    pytest_plugins = ["aiohttp.pytest_plugin"]
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aioloom.testing import AioloomClient, AioloomRawServer, AioloomServer

__all__ = (
    "AiohttpClient",
    "AiohttpRawServer",
    "AiohttpServer",
    "aiohttp_client",
    "aiohttp_raw_server",
    "aiohttp_server",
    "aiohttp_unused_port",
    "fast",
    "loop_debug",
    "pytest_addoption",
    "pytest_configure",
)

# aiohttp's names for the factory types its fixtures return.
AiohttpClient = AioloomClient
AiohttpServer = AioloomServer
AiohttpRawServer = AioloomRawServer

# aiohttp option -> (the aioloom option's dest, help).
_OPTIONS: dict[str, tuple[str, str]] = {
    "--aiohttp-fast": ("aioloom_fast", "same as --aioloom-fast"),
    "--aiohttp-enable-loop-debug": ("aioloom_debug", "same as --aioloom-debug"),
    "--aiohttp-loop": ("aioloom_loop", "same as --aioloom-loop"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register aiohttp's ``--aiohttp-*`` options as spellings of the aioloom ones."""
    group = parser.getgroup("aiohttp", "aiohttp compatibility (aioloom.compat)")
    for option, (_dest, help_text) in _OPTIONS.items():
        if option == "--aiohttp-loop":
            group.addoption(option, default=None, help=help_text)
        else:
            group.addoption(option, action="store_true", default=False, help=help_text)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Copy the ``--aiohttp-*`` values onto the aioloom options before the aioloom plugin reads
    them (an explicit ``--aioloom-*`` value wins)."""
    for option, (dest, _help) in _OPTIONS.items():
        value = config.getoption(option)
        if value and not getattr(config.option, dest, None):
            setattr(config.option, dest, value)


@pytest.fixture
def fast(pytestconfig: pytest.Config) -> bool:
    """Whether the loop teardown skips its garbage-collection pass (``--aiohttp-fast``)."""
    return bool(pytestconfig.getoption("--aioloom-fast"))


@pytest.fixture
def loop_debug(pytestconfig: pytest.Config) -> bool:
    """Whether test loops run in debug mode (``--aiohttp-enable-loop-debug``)."""
    return bool(pytestconfig.getoption("--aioloom-debug"))


@pytest.fixture
def aiohttp_unused_port(aioloom_unused_port: Callable[[], int]) -> Callable[[], int]:
    """A function returning a free TCP port on 127.0.0.1 (``aioloom_unused_port``)."""
    return aioloom_unused_port


@pytest.fixture
def aiohttp_server(aioloom_server: AioloomServer) -> AioloomServer:
    """``await aiohttp_server(app, *, port=None, **kwargs)``: a started test server."""
    return aioloom_server


@pytest.fixture
def aiohttp_raw_server(aioloom_raw_server: AioloomRawServer) -> AioloomRawServer:
    """``await aiohttp_raw_server(handler, *, port=None, **kwargs)``: a low-level server."""
    return aioloom_raw_server


@pytest.fixture
def aiohttp_client(aioloom_client: AioloomClient) -> AioloomClient:
    """``await aiohttp_client(app_or_server, *, server_kwargs=None, **kwargs)``: a client."""
    return aioloom_client
