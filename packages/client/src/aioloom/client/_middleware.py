"""Client middlewares (aiohttp 3.12+): functions wrapped around sending one request.

A middleware is ``async def mw(request, handler) -> ClientResponse``: it may change the
request, call ``handler`` (the next middleware, and finally the function that connects,
sends and reads the response head) once, several times (retries, authentication
challenges) or not at all, and may replace the response.

Middlewares run once per hop: a redirect builds a new request and the chain runs again.
A session's ``middlewares`` apply to all its requests; ``middlewares=`` on one request
replaces them (``middlewares=()`` disables them for that request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from ._request import ClientRequest
    from ._response import ClientResponse

__all__ = ("ClientHandlerType", "ClientMiddlewareType", "build_client_middlewares")

ClientHandlerType: TypeAlias = "Callable[[ClientRequest], Awaitable[ClientResponse]]"
ClientMiddlewareType: TypeAlias = (
    "Callable[[ClientRequest, ClientHandlerType], Awaitable[ClientResponse]]"
)


def _bind(middleware: ClientMiddlewareType, handler: ClientHandlerType) -> ClientHandlerType:
    async def call(request: ClientRequest) -> ClientResponse:
        return await middleware(request, handler)

    return call


def build_client_middlewares(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """Wrap ``handler`` in ``middlewares``; the first one is the outermost.

    Nothing is cached: a middleware holding state sees each chain built afresh.
    """
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler
