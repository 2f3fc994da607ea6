"""``run_app``: serve an application until SIGINT/SIGTERM, then shut down gracefully.

:func:`run_app` owns an event loop for the whole run: it starts an :class:`AppRunner`
with one site per host, Unix path and socket it is given, prints aiohttp's banner, and
serves until a signal (or Ctrl+C) arrives. The shutdown then follows
:meth:`~aioloom.web.BaseRunner.cleanup`, with one step more than a bare runner: before
connections are closed it waits, within ``shutdown_timeout``, for every task started
while serving (request handlers and the background tasks they spawned), as aiohttp does.

Unlike aiohttp, the serving task is not cancelled to stop: it is told to stop, so the
graceful shutdown runs in a task that is not being cancelled (a cancellation still
pending in it would cut a ``shutdown_timeout`` wait short).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from weakref import WeakSet

from ._app import Application
from ._log import AbstractAccessLogger, AccessLogger, access_logger
from ._runner import AppRunner, BaseSite, GracefulExit, SockSite, TCPSite, UnixSite

if TYPE_CHECKING:
    from ssl import SSLContext

__all__ = ("run_app",)

# The serving task wakes up this often while idle (only so that a stuck loop is visible in
# a debugger; stopping does not wait for it).
_IDLE_WAKEUP: Final = 3600.0

AppOrFactory = Application | Awaitable[Application]
HostArg = str | Sequence[str] | None
PathArg = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None
SockArg = socket.socket | Iterable[socket.socket] | None


def _make_sites(
    runner: AppRunner,
    *,
    host: HostArg,
    port: int | None,
    path: PathArg,
    sock: SockArg,
    ssl_context: SSLContext | None,
    backlog: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
) -> list[BaseSite]:
    """One TCPSite per host (or one on every interface), one UnixSite per path, one
    SockSite per socket."""
    sites: list[BaseSite] = []
    tcp = partial(
        TCPSite,
        runner,
        port=port,
        ssl_context=ssl_context,
        backlog=backlog,
        reuse_address=reuse_address,
        reuse_port=reuse_port,
    )
    if host is not None:
        hosts = [host] if isinstance(host, str) else list(host)
        sites.extend(tcp(name) for name in hosts)
    elif (path is None and sock is None) or port is not None:
        sites.append(tcp())  # every interface
    if path is not None:
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        sites.extend(
            UnixSite(runner, one, ssl_context=ssl_context, backlog=backlog) for one in paths
        )
    if sock is not None:
        socks = [sock] if isinstance(sock, socket.socket) else list(sock)
        sites.extend(
            SockSite(runner, one, ssl_context=ssl_context, backlog=backlog) for one in socks
        )
    return sites


async def _wait_for_tasks(exclude: WeakSet[asyncio.Task[Any]], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for the tasks not in ``exclude`` to finish."""

    async def wait_all() -> None:
        current = asyncio.current_task()
        assert current is not None
        exclude.add(current)
        while tasks := asyncio.all_tasks() - set(exclude):
            await asyncio.wait(tasks)

    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wait_all(), timeout)


async def _serve(
    app: AppOrFactory,
    stop: asyncio.Future[None],
    *,
    host: HostArg,
    port: int | None,
    path: PathArg,
    sock: SockArg,
    shutdown_timeout: float,
    ssl_context: SSLContext | None,
    print: Callable[..., None] | None,  # aiohttp's keyword
    backlog: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
    **runner_kwargs: Any,
) -> None:
    """Start the application and its sites, serve until ``stop`` is done, clean up."""
    if not isinstance(app, Application):
        app = await app
    runner = AppRunner(app, shutdown_timeout=shutdown_timeout, **runner_kwargs)
    try:
        # Inside the try: when startup fails, cleanup still exits the cleanup contexts
        # that were entered and removes the signal handlers.
        await runner.setup()
        # Tasks running now (the loop's own, the application's startup tasks) are not
        # waited for at shutdown: they may well run forever. Everything started later is.
        starting_tasks: WeakSet[asyncio.Task[Any]] = WeakSet(asyncio.all_tasks())
        runner.shutdown_callback = partial(_wait_for_tasks, starting_tasks, shutdown_timeout)
        sites = _make_sites(
            runner,
            host=host,
            port=port,
            path=path,
            sock=sock,
            ssl_context=ssl_context,
            backlog=backlog,
            reuse_address=reuse_address,
            reuse_port=reuse_port,
        )
        for site in sites:
            await site.start()
        if print is not None:
            names = ", ".join(sorted(str(site.name) for site in runner.sites))
            print(f"======== Running on {names} ========\n(Press CTRL+C to quit)")
        while not stop.done():
            await asyncio.wait({stop}, timeout=_IDLE_WAKEUP)
    finally:
        await runner.cleanup()


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on ``loop`` and wait for it (as ``asyncio.run`` does)."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during run_app() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


def _configure_debug_logging(access_log: logging.Logger | None) -> None:
    # In debug mode the default access logger prints, unless the user configured it.
    if access_log is None or access_log.name != access_logger.name:
        return
    if access_log.level == logging.NOTSET:
        access_log.setLevel(logging.DEBUG)
    if not access_log.hasHandlers():
        access_log.addHandler(logging.StreamHandler())


def run_app(
    app: Application | Coroutine[Any, Any, Application],
    *,
    debug: bool = False,
    host: HostArg = None,
    port: int | None = None,
    path: PathArg = None,
    sock: SockArg = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: SSLContext | None = None,
    print: Callable[..., None] | None = builtins.print,  # aiohttp's keyword
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
) -> None:
    """Run ``app`` until SIGINT or SIGTERM, then shut it down gracefully.

    Args:
        app: the application, or a coroutine that returns it (awaited on the loop).
        debug: run the loop in debug mode (the default access log then prints).
        host: a host or a list of hosts to bind (one TCP site each).
        port: the TCP port (default 8080, 8443 with ``ssl_context``).
        path: a Unix socket path or a list of them.
        sock: a bound socket or a list of them.
        shutdown_timeout: seconds in-flight requests and pending tasks get at shutdown.
        keepalive_timeout: seconds an idle keep-alive connection stays open.
        ssl_context: serve HTTPS on every site.
        print: prints the banner (None: no banner).
        backlog: the listen backlog.
        access_log_class: the access logger class.
        access_log_format: its format (see :class:`AccessLogger`).
        access_log: the access logger (None: no access log).
        handle_signals: stop on SIGINT and SIGTERM.
        reuse_address: ``SO_REUSEADDR`` for TCP sites.
        reuse_port: ``SO_REUSEPORT`` for TCP sites.
        handler_cancellation: cancel a handler when its client disconnects.
        loop: the event loop to use (default: a new one); it is closed at the end.
    """
    if loop is None:
        loop = asyncio.new_event_loop()
    loop.set_debug(debug)
    if loop.get_debug():
        _configure_debug_logging(access_log)
    stop: asyncio.Future[None] = loop.create_future()
    main_task = loop.create_task(
        _serve(
            app,
            stop,
            host=host,
            port=port,
            path=path,
            sock=sock,
            shutdown_timeout=shutdown_timeout,
            ssl_context=ssl_context,
            print=print,
            backlog=backlog,
            reuse_address=reuse_address,
            reuse_port=reuse_port,
            handle_signals=handle_signals,
            access_log_class=access_log_class,
            access_log_format=access_log_format,
            access_log=access_log,
            keepalive_timeout=keepalive_timeout,
            handler_cancellation=handler_cancellation,
        )
    )
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main_task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main_task.done():
                stop.set_result(None)  # graceful: the serving task cleans up, uncancelled
                loop.run_until_complete(main_task)
        finally:
            try:
                _cancel_tasks(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
