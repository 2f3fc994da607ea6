"""The types the server's connection protocol is plugged together with.

:class:`~aioloom.web.RequestHandler` takes an access logger class, a request factory and
an expect handler from its :class:`~aioloom.web.Server`, and hands an upgraded connection
to an :class:`UpgradedParser`. These are the structural types of those seams, so that the
modules around the protocol (the server, the WebSocket integration) can name them without
importing the protocol itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aioloom.http._messages import RawRequestMessage
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._streams import StreamReader

if TYPE_CHECKING:
    from ._protocol import RequestHandler
    from ._request import BaseRequest
    from ._stream_response import StreamResponse

__all__ = (
    "AccessLoggerClass",
    "AccessLoggerLike",
    "ExpectHandler",
    "RequestFactory",
    "UpgradedParser",
)


class AccessLoggerLike(Protocol):
    """What the protocol needs from an access logger (``aiohttp.abc.AbstractAccessLogger``)."""

    @property
    def enabled(self) -> bool: ...

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None: ...


class UpgradedParser(Protocol):
    """What :meth:`RequestHandler.set_parser` accepts (e.g. a WebSocket frame reader)."""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> Any: ...


AccessLoggerClass = Callable[[logging.Logger, str], AccessLoggerLike]
"""An access logger class, called as ``cls(access_log, access_log_format)``."""

RequestFactory = Callable[
    [RawRequestMessage, StreamReader, "RequestHandler", AbstractStreamWriter, "asyncio.Task[None]"],
    "BaseRequest",
]
"""Makes the request object from the head, body stream, protocol, writer and task."""

ExpectHandler = Callable[["BaseRequest"], Awaitable[Any]]
"""Answers a request's ``Expect`` header when the handler first reads the body."""
