"""Class-based views: :class:`AbstractView` and :class:`View`.

A view class is registered like a handler (``router.add_view("/path", MyView)``, or any
``add_route`` with the class): the router calls ``MyView(request)`` and awaits the
instance. :class:`View` dispatches on the method name, ``GET`` to ``async def get(self)``
and so on; a method the class does not define is answered ``405 Method Not Allowed`` with
an ``Allow`` header naming the methods it does define (RFC 9110 §15.5.6)::

    class Items(web.View):
        async def get(self) -> web.StreamResponse:
            return web.json_response(await load(self.request))

        async def post(self) -> web.StreamResponse:
            ...
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, NoReturn

from aioloom.http import hdrs

from ._exceptions import HTTPMethodNotAllowed

if TYPE_CHECKING:
    from ._request import Request
    from ._stream_response import StreamResponse

__all__ = ("AbstractView", "View")


class AbstractView(abc.ABC):
    """The base of class-based views: built with the request, then awaited.

    Args:
        request: the request being handled.
    """

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def request(self) -> Request:
        """The request being handled."""
        return self._request

    @abc.abstractmethod
    def __await__(self) -> Generator[Any, None, StreamResponse]:
        """Handle the request; the result of ``await view`` is the response."""


class View(AbstractView):
    """A view that calls the method named after the request method (``get``, ``post``...).

    Raises (from ``await``):
        HTTPMethodNotAllowed: the method is unknown or has no coroutine method here.
    """

    async def _iter(self) -> StreamResponse:
        method = self.request.method
        if method not in hdrs.METH_ALL:
            self._raise_allowed_methods()
        handler: Callable[[], Awaitable[StreamResponse]] | None
        handler = getattr(self, method.lower(), None)
        if handler is None:
            self._raise_allowed_methods()
        response: StreamResponse = await handler()
        return response

    def __await__(self) -> Generator[Any, None, StreamResponse]:
        return self._iter().__await__()

    def _raise_allowed_methods(self) -> NoReturn:
        allowed = {m for m in hdrs.METH_ALL if hasattr(self, m.lower())}
        raise HTTPMethodNotAllowed(self.request.method, allowed)
