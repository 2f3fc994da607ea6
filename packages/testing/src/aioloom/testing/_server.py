"""Test servers on a real loopback socket: aiohttp's ``TestServer`` and ``RawTestServer``.

:class:`BaseTestServer` binds a socket (127.0.0.1, a free port by default), serves it with a
runner from aioloom.web and builds the URLs tests request. :class:`TestServer` serves an
:class:`~aioloom.web.Application` (through ``AppRunner``: startup and cleanup signals run),
:class:`RawTestServer` a bare handler on the low-level :class:`~aioloom.web.Server`
(through ``ServerRunner``). Both are async context managers; :meth:`BaseTestServer.close`
is idempotent.

Handlers are cancelled when their client disconnects (``handler_cancellation=True``), and
closing a test server gives in-flight handlers :data:`TEST_SHUTDOWN_TIMEOUT` (1 s) before
cancelling them, so a test that gives up on a request never leaves its handler running
into the next test, nor waits long for it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from yarl import URL

if TYPE_CHECKING:
    from ssl import SSLContext

    from aioloom.web import (
        Application,
        AppRunner,
        BaseRequest,
        BaseRunner,
        Server,
        ServerRunner,
        StreamResponse,
    )

__all__ = (
    "REUSE_ADDRESS",
    "TEST_SHUTDOWN_TIMEOUT",
    "BaseTestServer",
    "RawTestServer",
    "SocketFactory",
    "TestServer",
    "get_port_socket",
    "get_unused_port_socket",
    "unused_port",
)

REUSE_ADDRESS: Final = os.name == "posix" and sys.platform != "cygwin"
"""Whether test sockets set ``SO_REUSEADDR`` (so a port freed by a test is reusable at once)."""

_Server = TypeVar("_Server", bound="BaseTestServer")
TEST_SHUTDOWN_TIMEOUT: Final = 1.0
"""Seconds a closing test server lets in-flight handlers finish (a runner's default is 60).

A handler still running when its test ends is stuck or forgotten; the test should not
wait a minute for it. Pass ``shutdown_timeout`` to :meth:`BaseTestServer.start_server`
(or to the constructor) to test graceful shutdown itself.
"""

SocketFactory = Callable[[str, int, socket.AddressFamily], socket.socket]
Handler = Callable[["BaseRequest"], Awaitable["StreamResponse"]]


def get_port_socket(
    host: str, port: int, family: socket.AddressFamily = socket.AF_INET
) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` (not listening yet).

    Raises:
        OSError: the address cannot be bound (in use, not local).
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if REUSE_ADDRESS:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def get_unused_port_socket(
    host: str, family: socket.AddressFamily = socket.AF_INET
) -> socket.socket:
    """A TCP socket bound to a free port of ``host``."""
    return get_port_socket(host, 0, family)


def unused_port() -> int:
    """A TCP port of 127.0.0.1 that is free now (another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _url_host(host: str) -> tuple[str, socket.AddressFamily]:
    """The host as it appears in a URL (IPv6 in brackets), and its address family."""
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        version = 4  # a name: resolved as IPv4 by the socket factory
    if version == 6:
        return f"[{host}]", socket.AF_INET6
    return host, socket.AF_INET


class BaseTestServer(ABC):
    """A server on a local socket for one test (aiohttp's ``BaseTestServer``).

    Args:
        scheme: ``http`` or ``https``; empty: chosen by whether ``ssl`` is given to
            :meth:`start_server`.
        host: the address to bind (127.0.0.1).
        port: the port; None or 0 for a free one.
        skip_url_asserts: :meth:`make_url` appends the path to the root URL (adding the
            leading ``/`` when missing); when False it checks that the path is relative
            and joins it (RFC 3986 §5.2).
        socket_factory: makes the bound socket (:func:`get_port_socket`).
        **kwargs: defaults for the runner options of :meth:`start_server`.

    Attributes:
        runner: the web runner, once started.
        host: the bound address.
        port: the bound port, once started.
        scheme: the URL scheme, once started.
    """

    __test__ = False  # a helper, not a test class for pytest to collect

    def __init__(
        self,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        skip_url_asserts: bool = True,
        socket_factory: SocketFactory = get_port_socket,
        **kwargs: Any,
    ) -> None:
        self.runner: BaseRunner | None = None
        self._root: URL | None = None
        self.host = host
        self.port = port
        self.scheme = scheme
        self.skip_url_asserts = skip_url_asserts
        self.socket_factory = socket_factory
        self._runner_kwargs = kwargs
        self._closed = False

    async def start_server(self, **kwargs: Any) -> None:
        """Start serving (nothing happens when already started).

        Args:
            **kwargs: ``ssl`` (an :class:`ssl.SSLContext`: serve HTTPS), and runner and
                server options (``shutdown_timeout``, ``keepalive_timeout``,
                ``handler_cancellation``, ``max_line_size``...).

        Raises:
            OSError: the socket cannot be bound.
            RuntimeError: the server was closed already.
        """
        if self.runner is not None:
            return
        if self._closed:
            raise RuntimeError("This test server is closed; make a new one")
        options = {
            "handler_cancellation": True,
            "shutdown_timeout": TEST_SHUTDOWN_TIMEOUT,
            **self._runner_kwargs,
            **kwargs,
        }
        ssl_context: SSLContext | None = options.pop("ssl", None)
        runner = self._make_runner(**options)
        try:
            await runner.setup()
            await self._listen(runner, ssl_context)
        except BaseException:
            # Whatever started (cleanup contexts, the socket) is torn down again.
            await runner.cleanup()
            raise
        self.runner = runner

    async def _listen(self, runner: BaseRunner, ssl_context: SSLContext | None) -> None:
        from aioloom.web import SockSite

        family = _url_host(self.host)[1]
        sock = self.socket_factory(self.host, self.port or 0, family)
        try:
            self.host, port = sock.getsockname()[:2]
            site = SockSite(runner, sock, ssl_context=ssl_context)
            await site.start()
        except BaseException:
            sock.close()
            raise
        self.port = port
        if not self.scheme:
            self.scheme = "https" if ssl_context is not None else "http"
        url_host = _url_host(self.host)[0]
        self._root = URL(f"{self.scheme}://{url_host}:{port}")

    @abstractmethod
    def _make_runner(self, **kwargs: Any) -> BaseRunner:
        """The runner serving this server's handler."""

    def make_url(self, path: str | URL) -> URL:
        """The absolute URL of ``path`` on this server.

        Raises:
            RuntimeError: the server is not started.
            ValueError: ``skip_url_asserts`` is False and ``path`` is absolute.
        """
        root = self._root
        if root is None:
            raise RuntimeError("Start the test server first (await server.start_server())")
        url = URL(path)
        if not self.skip_url_asserts:
            if url.absolute:
                raise ValueError(f"make_url() takes a relative path, got {str(path)!r}")
            return root.join(url)
        text = str(path)
        if text and not text.startswith(("/", "?", "#")):
            text = "/" + text
        return URL(str(root) + text)

    @property
    def started(self) -> bool:
        """True once :meth:`start_server` succeeded (and until :meth:`close`)."""
        return self.runner is not None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def server(self) -> Server:
        """The low-level :class:`~aioloom.web.Server` (the protocol factory) being served.

        Raises:
            RuntimeError: the server is not started.
        """
        runner = self.runner
        server = None if runner is None else runner.server
        if server is None:
            raise RuntimeError("The test server is not started")
        return server

    handler = server  # aiohttp's older name for the same object

    async def close(self) -> None:
        """Stop serving: the runner's graceful cleanup (idempotent)."""
        runner = self.runner
        if runner is None or self._closed:
            self._closed = True
            return
        self._closed = True
        self._root = None
        try:
            await runner.cleanup()
        finally:
            self.runner = None

    async def __aenter__(self: _Server) -> _Server:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class TestServer(BaseTestServer):
    """Serves an :class:`~aioloom.web.Application` on a local socket.

    Args:
        app: the application (started and cleaned up with the server).
        scheme, host, port: see :class:`BaseTestServer`.
        **kwargs: see :class:`BaseTestServer`.
    """

    def __init__(
        self,
        app: Application,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    def _make_runner(self, **kwargs: Any) -> AppRunner:
        from aioloom.web import AppRunner

        return AppRunner(self.app, **kwargs)


class RawTestServer(BaseTestServer):
    """Serves a bare ``async def handler(request) -> StreamResponse`` on a local socket.

    Args:
        handler: the request handler (a low-level :class:`~aioloom.web.Server` serves it;
            tracebacks show on 500 pages unless ``debug=False`` is given).
        scheme, host, port: see :class:`BaseTestServer`.
        **kwargs: see :class:`BaseTestServer`.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    def _make_runner(self, **kwargs: Any) -> ServerRunner:
        from aioloom.web import Server, ServerRunner

        runner_options = {
            name: kwargs.pop(name) for name in ("shutdown_timeout",) if name in kwargs
        }
        kwargs.setdefault("debug", True)
        return ServerRunner(Server(self._handler, **kwargs), **runner_options)
