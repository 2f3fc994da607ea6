"""Gunicorn workers for aioloom.web applications (aiohttp's ``aiohttp.worker``).

Name the worker class on gunicorn's command line; gunicorn owns the listening sockets
and the process management, each worker runs one event loop serving the application::

    gunicorn myproject.app:app --bind 127.0.0.1:8080 --workers 4 \\
        --worker-class aioloom.web.worker.GunicornWebWorker

``myproject.app:app`` is an :class:`~aioloom.web.Application`, or an ``async def``
factory returning one (or an :class:`~aioloom.web.AppRunner`).

This is the only module of aioloom that imports gunicorn, and ``aioloom.web`` does not
import it: gunicorn is needed only where these workers are used.

Signals (gunicorn's meaning): SIGTERM stops gracefully (in-flight requests get 95% of
``--graceful-timeout``), SIGINT and SIGQUIT stop as well after gunicorn's ``worker_int``
hook, SIGABRT exits at once with status 1, SIGUSR1 reopens the log files.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import ssl
import sys
from types import FrameType
from typing import Any, Final

try:
    # gunicorn ships no type information (types-gunicorn is not a dependency).
    from gunicorn.config import (  # type: ignore[import-untyped,unused-ignore]
        AccessLogFormat as _GunicornAccessLogFormat,
    )
    from gunicorn.workers import base  # type: ignore[import-untyped,unused-ignore]
except ImportError as exc:  # the whole module is the gunicorn integration
    raise ImportError(
        "aioloom.web.worker needs gunicorn: pip install 'aioloom-web[gunicorn]' "
        "(or pip install gunicorn)"
    ) from exc

from ._app import Application
from ._log import AccessLogger
from ._runner import AppRunner, SockSite

__all__ = ("GunicornUVLoopWebWorker", "GunicornWebWorker")

# gunicorn expects a sign of life at least every --timeout seconds; the worker also
# rechecks alive / max_requests / the parent at this pace.
_NOTIFY_INTERVAL: Final = 1.0
_GUNICORN_STYLE_RE: Final = re.compile(r"%\([^\)]+\)")


class GunicornWebWorker(base.Worker):  # type: ignore[misc,unused-ignore]  # untyped base
    """Serves the application on gunicorn's sockets with an asyncio event loop."""

    alive: bool  # set by gunicorn's Worker; False asks the serving loop to stop

    DEFAULT_AIOHTTP_LOG_FORMAT: Final = AccessLogger.LOG_FORMAT
    DEFAULT_GUNICORN_LOG_FORMAT: Final = _GunicornAccessLogFormat.default

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._task: asyncio.Task[None] | None = None
        self._notify_waiter: asyncio.Future[bool] | None = None
        self.exit_code = 0
        self.loop: asyncio.AbstractEventLoop

    def init_process(self) -> None:
        """After the fork: a fresh event loop for this process, then gunicorn's setup."""
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        super().init_process()

    def run(self) -> None:
        """Serve until told to stop, then exit the process with :attr:`exit_code`."""
        self._task = self.loop.create_task(self._run())
        try:
            self.loop.run_until_complete(self._task)
        except Exception:
            self.log.exception("Exception in gunicorn worker")
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        sys.exit(self.exit_code)

    async def _make_runner(self) -> AppRunner:
        wsgi = self.wsgi
        if inspect.iscoroutinefunction(wsgi):
            wsgi = await wsgi()
            if isinstance(wsgi, AppRunner):
                return wsgi
        if not isinstance(wsgi, Application):
            raise RuntimeError(
                "wsgi app should be either Application or async function returning "
                f"Application, got {wsgi}"
            )
        access_log = self.log.access_log if self.cfg.accesslog else None
        return AppRunner(
            wsgi,
            logger=self.log,
            keepalive_timeout=self.cfg.keepalive,
            access_log=access_log,
            access_log_format=self._get_valid_log_format(self.cfg.access_log_format),
            # Finish before gunicorn's --graceful-timeout makes the arbiter kill us.
            shutdown_timeout=self.cfg.graceful_timeout / 100 * 95,
        )

    async def _run(self) -> None:
        runner = await self._make_runner()
        await runner.setup()
        try:
            context = self._create_ssl_context(self.cfg) if self.cfg.is_ssl else None
            for sock in self.sockets:
                await SockSite(runner, sock, ssl_context=context).start()
            server = runner.server
            assert server is not None
            pid = os.getpid()
            while self.alive:
                self.notify()
                if self.max_requests and server.requests_count > self.max_requests:
                    self.alive = False
                    self.log.info("Max requests, shutting down: %s", self)
                elif pid == os.getpid() and self.ppid != os.getppid():
                    self.alive = False
                    self.log.info("Parent changed, shutting down: %s", self)
                else:
                    await self._wait_next_notify()
        finally:
            await runner.cleanup()

    def _wait_next_notify(self) -> asyncio.Future[bool]:
        self._notify_waiter_done()
        self._notify_waiter = waiter = self.loop.create_future()
        self.loop.call_later(_NOTIFY_INTERVAL, self._notify_waiter_done, waiter)
        return waiter

    def _notify_waiter_done(self, waiter: asyncio.Future[bool] | None = None) -> None:
        if waiter is None:
            waiter = self._notify_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)
        if waiter is self._notify_waiter:
            self._notify_waiter = None

    # -- signals --------------------------------------------------------------------------

    def init_signals(self) -> None:
        """Handle gunicorn's signals through the event loop (no handler runs mid-request)."""
        for sig in self.SIGNALS:
            # SIG_DFL first: the arbiter's handlers (SIGCHLD above all, which would
            # swallow the exit status of the application's subprocesses) are inherited.
            signal.signal(sig, signal.SIG_DFL)
        handlers = {
            signal.SIGQUIT: self.handle_quit,
            signal.SIGTERM: self.handle_exit,
            signal.SIGINT: self.handle_quit,
            signal.SIGWINCH: self.handle_winch,
            signal.SIGUSR1: self.handle_usr1,
            signal.SIGABRT: self.handle_abort,
        }
        for sig, handler in handlers.items():
            self.loop.add_signal_handler(sig, handler, sig, None)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM: stop gracefully."""
        self.alive = False
        self._notify_waiter_done()  # wake the serving loop now, not at the next tick

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        """SIGINT/SIGQUIT: run gunicorn's ``worker_int`` hook, then stop."""
        self.alive = False
        self.cfg.worker_int(self)
        self._notify_waiter_done()

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        """SIGABRT (sent by the arbiter on a timeout): exit at once with status 1."""
        self.alive = False
        self.exit_code = 1
        self.cfg.worker_abort(self)
        sys.exit(1)

    # -- configuration ----------------------------------------------------------------------

    @staticmethod
    def _create_ssl_context(cfg: Any) -> ssl.SSLContext:
        """The SSLContext for gunicorn's ``--certfile``/``--keyfile``... settings."""
        try:
            from gunicorn.sock import (  # type: ignore[import-untyped,unused-ignore]
                ssl_context as gunicorn_ssl_context,
            )
        except ImportError:  # gunicorn before 21 builds no context itself
            context = ssl.SSLContext(cfg.ssl_version)
            context.load_cert_chain(cfg.certfile, cfg.keyfile)
            context.verify_mode = cfg.cert_reqs
            if cfg.ca_certs:
                context.load_verify_locations(cfg.ca_certs)
            if cfg.ciphers:
                context.set_ciphers(cfg.ciphers)
            return context
        built: ssl.SSLContext = gunicorn_ssl_context(cfg)
        return built

    def _get_valid_log_format(self, source_format: str) -> str:
        """Translate gunicorn's default access log format to aiohttp's.

        Raises:
            ValueError: a gunicorn-style ``%(name)s`` format other than the default.
        """
        if source_format == self.DEFAULT_GUNICORN_LOG_FORMAT:
            return self.DEFAULT_AIOHTTP_LOG_FORMAT
        if _GUNICORN_STYLE_RE.search(source_format):
            raise ValueError(
                "Gunicorn's style options in form of `%(name)s` are not supported for the "
                "log formatting. Please use aioloom's format specification to configure "
                "access log formatting (see aioloom.web.AccessLogger)."
            )
        return source_format


class GunicornUVLoopWebWorker(GunicornWebWorker):
    """:class:`GunicornWebWorker` on a uvloop event loop (needs ``pip install uvloop``)."""

    def init_process(self) -> None:
        """After the fork: a uvloop event loop, then gunicorn's setup."""
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # optional

        self.loop = uvloop.new_event_loop()
        asyncio.set_event_loop(self.loop)
        base.Worker.init_process(self)
