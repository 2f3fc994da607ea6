"""The low-level HTTP server: :class:`Server`, a protocol factory around one handler.

``Server`` is what ``loop.create_server`` is given; it makes one
:class:`~aioloom.web.RequestHandler` per connection and keeps count of them. It needs no
application: any ``async def handler(request) -> StreamResponse`` serves::

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(text="Hello")

    server = web.Server(handler)
    await loop.create_server(server, "127.0.0.1", 8080)

Runners (``AppRunner``/``ServerRunner``) build on it; an ``Application`` passes its own
handler and ``request_factory``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aioloom.http._messages import RawRequestMessage
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._heap import keep_heap_warm
from aioloom.http.aio._streams import StreamReader

from ._protocol import RequestFactory, RequestHandler
from ._request import BaseRequest
from ._stream_response import StreamResponse

__all__ = ("Server",)


class Server:
    """A protocol factory that serves every connection with ``handler``.

    Args:
        handler: ``async def handler(request) -> StreamResponse``.
        request_factory: builds the request object (default: :class:`BaseRequest`),
            called as ``factory(message, payload, protocol, writer, task)``.
        handler_cancellation: cancel the handler's task when the client disconnects
            (off by default, as in aiohttp).
        loop: the event loop (default: the running loop).
        **kwargs: passed to every :class:`RequestHandler` (``keepalive_timeout``,
            ``max_line_size``, ``request_head_timeout``...).

    Attributes:
        requests_count: requests served over the server's lifetime.
    """

    def __init__(
        self,
        handler: Callable[[BaseRequest], Awaitable[StreamResponse]],
        *,
        request_factory: RequestFactory | None = None,
        handler_cancellation: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._connections: dict[RequestHandler, asyncio.Transport] = {}
        self._kwargs = kwargs
        self.requests_count = 0
        self.request_handler = handler
        self.request_factory: RequestFactory = request_factory or self._make_request
        self.handler_cancellation = handler_cancellation
        # Request bodies come and go in waves: keep glibc from returning the heap after
        # each one and faulting it in again (about 30 µs per 64 KiB upload, issue #4).
        keep_heap_warm()

    @property
    def connections(self) -> list[RequestHandler]:
        """The open connections."""
        return list(self._connections)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        """Called by a protocol when its connection opens."""
        self._connections[handler] = transport

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        """Called by a protocol when its connection closes."""
        if handler not in self._connections:
            return
        task = handler._task
        if task is not None and not task.done():
            # Still counted until its handler finishes, so shutdown() can wait for it.
            task.add_done_callback(lambda _: self._connections.pop(handler, None))
        else:
            del self._connections[handler]

    def _make_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> BaseRequest:
        return BaseRequest(message, payload, protocol, writer, task, self._loop)

    def pre_shutdown(self) -> None:
        """Stop accepting requests on every connection (each closes once idle)."""
        for conn in list(self._connections):
            conn.close()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Let in-flight requests finish within ``timeout`` seconds, then close everything."""
        await asyncio.gather(*(conn.shutdown(timeout) for conn in list(self._connections)))
        self._connections.clear()

    def __call__(self) -> RequestHandler:
        """Make the protocol of a new connection."""
        return RequestHandler(self, loop=self._loop, **self._kwargs)
