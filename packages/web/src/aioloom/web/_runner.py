"""Runners and sites: serving an :class:`Application` or a low-level :class:`Server`.

A runner owns the lifecycle: :meth:`BaseRunner.setup` starts the application (its
``on_startup`` signal) and makes the :class:`~aioloom.web.Server` protocol factory; sites
(:class:`TCPSite`, :class:`UnixSite`, :class:`SockSite`) listen with it; and
:meth:`BaseRunner.cleanup` shuts everything down gracefully, as aiohttp 3.14 does:

1. every site stops listening, so new connections are refused;
2. idle keep-alive connections close at once; busy ones close after their response
   (``Server.pre_shutdown``);
3. the application's ``on_shutdown`` signal runs (``run_app`` then also waits, within
   ``shutdown_timeout``, for tasks started while serving: see ``shutdown_callback``);
4. in-flight requests get ``shutdown_timeout`` seconds to finish; the handlers still
   running then are cancelled and their connections closed (``Server.shutdown``);
5. the application's ``on_cleanup`` signal runs (cleanup contexts exit).

aiohttp's ``NamedPipeSite`` (Windows named pipes through the proactor loop) is not
provided: aioloom targets POSIX hosts.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import warnings
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from ._app import Application
from ._log import AbstractAccessLogger, AccessLogger
from ._server import Server
from ._ws import shutdown_websockets

if TYPE_CHECKING:
    import os
    from ssl import SSLContext

__all__ = (
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
)

_DEFAULT_SHUTDOWN_TIMEOUT: Final = 60.0


class GracefulExit(SystemExit):
    """Raised by the runners' SIGINT/SIGTERM handlers to stop ``run_app`` gracefully."""

    code = 1


def _raise_graceful_exit() -> None:
    raise GracefulExit()


class BaseSite(ABC):
    """A listening endpoint of a runner (aiohttp's ``BaseSite``).

    Args:
        runner: a runner whose :meth:`~BaseRunner.setup` has run.
        shutdown_timeout: deprecated (set it on the runner); a value other than the
            default is copied to the runner with a :class:`DeprecationWarning`.
        ssl_context: serve HTTPS with this context.
        backlog: the listen backlog.

    Raises:
        RuntimeError: the runner was not set up.
    """

    __slots__ = ("_backlog", "_runner", "_server", "_ssl_context")

    def __init__(
        self,
        runner: BaseRunner,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:
            raise RuntimeError("Call runner.setup() before making a site")
        if shutdown_timeout != _DEFAULT_SHUTDOWN_TIMEOUT:
            warnings.warn(
                "shutdown_timeout should be set on BaseRunner", DeprecationWarning, stacklevel=2
            )
            runner._shutdown_timeout = shutdown_timeout
        self._runner = runner
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._server: asyncio.Server | None = None

    @property
    def _scheme(self) -> str:
        return "https" if self._ssl_context else "http"

    @property
    @abstractmethod
    def name(self) -> str:
        """The URL the site serves, as ``run_app`` prints it."""

    @abstractmethod
    async def start(self) -> None:
        """Start listening (subclasses call this first: it registers the site).

        Raises:
            RuntimeError: the site was already started.
        """
        self._runner._reg_site(self)

    async def stop(self) -> None:
        """Stop listening; open connections are left to the runner's cleanup.

        Raises:
            RuntimeError: the site is not registered with its runner.
        """
        self._runner._check_site(self)
        if self._server is not None:  # None: never started
            # Not wait_closed(): on Python 3.12+ it waits for every connection to close,
            # which is the runner's graceful shutdown, not this step.
            self._server.close()
        self._runner._unreg_site(self)

    def _server_factory(self) -> Server:
        server = self._runner.server
        assert server is not None  # checked in __init__; cleared only by cleanup()
        return server


class TCPSite(BaseSite):
    """Listen on a TCP host and port (aiohttp's ``TCPSite``).

    Args:
        runner: the runner.
        host: the address or name to bind; None binds every interface.
        port: the port; default 8080 (8443 with ``ssl_context``); 0 picks a free one,
            readable from :attr:`port` after :meth:`start`.
        shutdown_timeout: deprecated, see :class:`BaseSite`.
        ssl_context: serve HTTPS.
        backlog: the listen backlog.
        reuse_address: set ``SO_REUSEADDR`` (default: on, on POSIX).
        reuse_port: set ``SO_REUSEPORT`` so several processes can share the port.
    """

    __slots__ = ("_host", "_port", "_reuse_address", "_reuse_port")

    def __init__(
        self,
        runner: BaseRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._host = host
        if port is None:
            port = 8443 if self._ssl_context else 8080
        self._port = port
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def port(self) -> int:
        """The port: the one actually bound once started (useful with ``port=0``)."""
        server = self._server
        if server is not None:
            for sock in server.sockets:
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    port: int = sock.getsockname()[1]
                    return port
        return self._port

    @property
    def name(self) -> str:
        """``http://host:port`` (``0.0.0.0`` when every interface is bound)."""
        host = self._host or "0.0.0.0"
        return str(URL.build(scheme=self._scheme, host=host, port=self.port))

    async def start(self) -> None:
        """Bind and listen."""
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._server_factory(),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


class UnixSite(BaseSite):
    """Listen on a Unix domain socket (aiohttp's ``UnixSite``).

    Args:
        runner: the runner.
        path: the socket's file system path.
        shutdown_timeout: deprecated, see :class:`BaseSite`.
        ssl_context: serve HTTPS.
        backlog: the listen backlog.
    """

    __slots__ = ("_path",)

    def __init__(
        self,
        runner: BaseRunner,
        path: str | os.PathLike[str],
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._path = path

    @property
    def name(self) -> str:
        """``http://unix:/path/to/socket:``."""
        return f"{self._scheme}://unix:{self._path}:"

    async def start(self) -> None:
        """Bind the socket file and listen."""
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            self._server_factory(), self._path, ssl=self._ssl_context, backlog=self._backlog
        )


class SockSite(BaseSite):
    """Listen on a socket that is already bound (aiohttp's ``SockSite``).

    Args:
        runner: the runner.
        sock: a bound TCP or Unix stream socket (e.g. inherited from a process manager).
        shutdown_timeout: deprecated, see :class:`BaseSite`.
        ssl_context: serve HTTPS.
        backlog: the listen backlog.
    """

    __slots__ = ("_name", "_sock")

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        *,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._sock = sock
        if hasattr(socket, "AF_UNIX") and sock.family == socket.AF_UNIX:
            self._name = f"{self._scheme}://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = str(URL.build(scheme=self._scheme, host=host, port=port))

    @property
    def name(self) -> str:
        """The socket's URL (``http://host:port`` or ``http://unix:/path:``)."""
        return self._name

    async def start(self) -> None:
        """Listen on the socket."""
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._server_factory(), sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )


class BaseRunner(ABC):
    """The lifecycle shared by :class:`AppRunner` and :class:`ServerRunner`.

    Args:
        handle_signals: turn SIGINT and SIGTERM into :class:`GracefulExit` while set up.
        shutdown_timeout: seconds in-flight requests get to finish in :meth:`cleanup`.
        **kwargs: passed on to the :class:`~aioloom.web.Server` the runner makes.

    Attributes:
        shutdown_callback: awaited in :meth:`cleanup` after the ``shutdown`` step and
            before connections are closed (``run_app`` waits for pending tasks there).
    """

    __slots__ = (
        "_handle_signals",
        "_kwargs",
        "_server",
        "_shutdown_timeout",
        "_sites",
        "shutdown_callback",
    )

    def __init__(
        self,
        *,
        handle_signals: bool = False,
        shutdown_timeout: float = _DEFAULT_SHUTDOWN_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        self.shutdown_callback: Callable[[], Awaitable[None]] | None = None
        self._handle_signals = handle_signals
        self._kwargs = kwargs
        self._server: Server | None = None
        self._sites: list[BaseSite] = []
        self._shutdown_timeout = shutdown_timeout

    @property
    def server(self) -> Server | None:
        """The protocol factory, set by :meth:`setup` and cleared by :meth:`cleanup`."""
        return self._server

    @property
    def shutdown_timeout(self) -> float:
        """Seconds in-flight requests get to finish during :meth:`cleanup`."""
        return self._shutdown_timeout

    @property
    def addresses(self) -> list[Any]:
        """The bound addresses of the started sites (``getsockname()`` of each socket)."""
        found: list[Any] = []
        for site in self._sites:
            server = site._server
            if server is not None:
                found.extend(sock.getsockname() for sock in server.sockets)
        return found

    @property
    def sites(self) -> set[BaseSite]:
        """The started sites."""
        return set(self._sites)

    async def setup(self) -> None:
        """Install the signal handlers (when asked) and make the server."""
        loop = asyncio.get_running_loop()
        if self._handle_signals:
            try:
                loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit)
                loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit)
            except NotImplementedError:  # a loop without signal support
                pass
        self._server = await self._make_server()

    @abstractmethod
    async def shutdown(self) -> None:
        """Let long-lived connections know the server is going away (on_shutdown)."""

    async def cleanup(self) -> None:
        """Shut down gracefully (see the module documentation for the steps)."""
        # One site at a time: a failure leaves the sites not yet stopped registered.
        for site in list(self._sites):
            await site.stop()
        server = self._server
        if server is not None:  # setup() succeeded
            # Let connections accepted just before the sites closed read their first
            # request, so they count as busy rather than idle.
            await asyncio.sleep(0)
            server.pre_shutdown()
            # Open WebSockets get their closing handshake (1001, going away) while the
            # connections still read input: after server.shutdown() they could not.
            await shutdown_websockets(server.connections)
            await self.shutdown()
            if self.shutdown_callback is not None:
                await self.shutdown_callback()
            await server.shutdown(self._shutdown_timeout)
        await self._cleanup_server()
        self._server = None
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            try:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
            except NotImplementedError:
                pass

    @abstractmethod
    async def _make_server(self) -> Server: ...

    @abstractmethod
    async def _cleanup_server(self) -> None: ...

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _check_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")

    def _unreg_site(self, site: BaseSite) -> None:
        self._check_site(site)
        self._sites.remove(site)


class ServerRunner(BaseRunner):
    """Runs a low-level :class:`~aioloom.web.Server` (aiohttp's ``ServerRunner``).

    Args:
        web_server: the server to run.
        handle_signals: see :class:`BaseRunner`.
        **kwargs: ``shutdown_timeout``.
    """

    __slots__ = ("_web_server",)

    def __init__(self, web_server: Server, *, handle_signals: bool = False, **kwargs: Any) -> None:
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._web_server = web_server

    async def shutdown(self) -> None:
        """Nothing to notify: a bare server has no on_shutdown signal."""

    async def _make_server(self) -> Server:
        return self._web_server

    async def _cleanup_server(self) -> None:
        pass


class AppRunner(BaseRunner):
    """Runs an :class:`~aioloom.web.Application` (aiohttp's ``AppRunner``).

    Args:
        app: the application.
        handle_signals: see :class:`BaseRunner`.
        access_log_class: the access logger class (an :class:`AbstractAccessLogger`).
        **kwargs: ``shutdown_timeout``, and anything the server protocol takes
            (``access_log``, ``access_log_format``, ``keepalive_timeout``,
            ``handler_cancellation``, ``max_line_size``...). The application's
            ``handler_args`` override them.

    Raises:
        TypeError: ``app`` is not an Application, or ``access_log_class`` is not an
            AbstractAccessLogger subclass.
    """

    __slots__ = ("_app",)

    def __init__(
        self,
        app: Application,
        *,
        handle_signals: bool = False,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> None:
        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        kwargs["access_log_class"] = access_log_class
        if app._handler_args:
            kwargs.update(app._handler_args)
        log_class = kwargs["access_log_class"]
        if not (isinstance(log_class, type) and issubclass(log_class, AbstractAccessLogger)):
            raise TypeError(
                "access_log_class must be subclass of aioloom.web.AbstractAccessLogger, "
                f"got {log_class}"
            )
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._app = app

    @property
    def app(self) -> Application:
        """The application."""
        return self._app

    async def shutdown(self) -> None:
        """Send the application's ``on_shutdown`` signal."""
        await self._app.shutdown()

    async def _make_server(self) -> Server:
        loop = asyncio.get_running_loop()
        self._app._set_loop(loop)
        self._app.on_startup.freeze()
        await self._app.startup()
        self._app.freeze()
        return self._app._make_handler(loop=loop, **self._kwargs)

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()
