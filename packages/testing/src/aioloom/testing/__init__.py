"""aioloom.testing: the pytest plugin and test utilities for aioloom (aiohttp's ``test_utils``).

The plugin (:mod:`aioloom.testing.plugin`) is registered through the ``pytest11`` entry
point, so installing aioloom-testing is enough for ``async def`` tests to run and for the
``aioloom_client`` / ``aioloom_server`` / ``aioloom_raw_server`` fixtures to exist. The
utilities below serve any test framework. Importing this package loads neither
aioloom.web nor aioloom.client: each utility imports them when it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._client import TestClient
from ._deadline import TestTimeoutError
from ._fixtures import AioloomClient, AioloomRawServer, AioloomServer
from ._loop import loop_context, setup_test_loop, teardown_test_loop
from ._memory import MemoryTransport, memory_transport_pair
from ._server import (
    REUSE_ADDRESS,
    TEST_SHUTDOWN_TIMEOUT,
    BaseTestServer,
    RawTestServer,
    TestServer,
    get_port_socket,
    get_unused_port_socket,
    unused_port,
)
from ._unittest import AioHTTPTestCase

if TYPE_CHECKING:
    from ._mock_connector import MockConnector
    from ._mocks import RecordingTransport, make_mocked_coro, make_mocked_request

__all__ = (
    "REUSE_ADDRESS",
    "TEST_SHUTDOWN_TIMEOUT",
    "AioHTTPTestCase",
    "AioloomClient",
    "AioloomRawServer",
    "AioloomServer",
    "BaseTestServer",
    "MemoryTransport",
    "MockConnector",
    "RawTestServer",
    "RecordingTransport",
    "TestClient",
    "TestServer",
    "TestTimeoutError",
    "get_port_socket",
    "get_unused_port_socket",
    "loop_context",
    "make_mocked_coro",
    "make_mocked_request",
    "memory_transport_pair",
    "setup_test_loop",
    "teardown_test_loop",
    "unused_port",
)


# Imported on first use: they load aioloom.http (and MockConnector aioloom.client), which
# the pytest plugin -- imported with this package by every pytest run -- does not need.
_LAZY = {
    "MockConnector": "._mock_connector",
    "RecordingTransport": "._mocks",
    "make_mocked_coro": "._mocks",
    "make_mocked_request": "._mocks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
