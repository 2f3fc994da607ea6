"""The objects ``session.get(...)`` and ``request(...)`` return.

:class:`_RequestContextManager` is both awaitable (``resp = await session.get(url)``) and an
async context manager that releases the response on exit (``async with session.get(url)
as resp``). :class:`_SessionRequestContextManager` does the same for the module-level
``request()`` and also closes the one-off session it made.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._response import ClientResponse

if TYPE_CHECKING:
    from ._session import ClientSession

__all__ = ("_AwaitableContext", "_RequestContextManager", "_SessionRequestContextManager")

_T = TypeVar("_T")
_RESPONSE_AENTER: Any = ClientResponse.__aenter__
_RESPONSE_AEXIT: Any = ClientResponse.__aexit__
_RESPONSE_WAIT: Any = ClientResponse.wait_for_close


class _AwaitableContext(Coroutine[Any, Any, _T], Generic[_T]):
    """A coroutine wrapper that can also be used with ``async with``.

    It forwards the coroutine protocol to the wrapped coroutine, so it can be awaited
    directly; subclasses add ``__aenter__``/``__aexit__`` and keep the result in ``_resp``.
    """

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, _T]) -> None:
        self._coro = coro
        self._resp: _T | None = None

    def send(self, arg: None) -> Any:
        return self._coro.send(arg)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()


class _RequestContextManager(_AwaitableContext["ClientResponse"]):
    """Awaitable, and an async context manager releasing the response on exit."""

    __slots__ = ()

    async def __aenter__(self) -> ClientResponse:
        resp = self._resp = await self._coro
        if type(resp).__aenter__ is _RESPONSE_AENTER:
            resp._in_context = True  # what ClientResponse.__aenter__ does, minus a coroutine
            return resp
        return await resp.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resp = self._resp
        assert resp is not None
        cls = type(resp)
        if cls.__aexit__ is not _RESPONSE_AEXIT or cls.wait_for_close is not _RESPONSE_WAIT:
            await resp.__aexit__(exc_type, exc, tb)
            return
        # What ClientResponse.__aexit__ does, minus its two coroutines when the request body
        # is already written (a GET's always is): then wait_for_close would only release
        # the connection a second time, which the first release already did.
        resp._in_context = False
        resp.release()
        writer = resp._writer
        if writer is not None and not writer.done():
            await resp.wait_for_close()


class _SessionRequestContextManager:
    """The response of a one-off session, in ``async with``; the session closes on exit."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._session = session
        self._resp: ClientResponse | None = None

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._resp is not None
        self._resp.release()
        await self._resp.wait_for_close()
        await self._session.close()
