"""The callback lists of an application: freezable lists, signals and cleanup contexts.

An :class:`~aioloom.web.Application` keeps its middlewares, its cleanup contexts and its
signals (``on_startup``, ``on_shutdown``, ``on_cleanup``, ``on_response_prepare``) in
:class:`FrozenList` objects: ordinary mutable sequences until the application freezes them,
read-only after. :class:`FrozenList` and :class:`Signal` (aiohttp's ``frozenlist`` /
``aiosignal`` pair) are defined once in :mod:`aioloom.http._signals`, shared with the client's
``TraceConfig``, and re-exported here::

    app.on_startup.append(open_database)     # fine before the app starts
    app.freeze()
    app.on_startup.append(other)             # RuntimeError: Cannot modify frozen list.

A :class:`Signal` calls its async callbacks in order with the same arguments; it may only
be sent once frozen, so that a callback list cannot change while it runs.
:class:`CleanupContext` (``app.cleanup_ctx``) is the list of startup-and-cleanup callbacks:
each gives an async generator (one ``yield``) or an async context manager.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from aioloom.http._signals import FrozenList, Signal

__all__ = ("CleanupContext", "CleanupError", "FrozenList", "Signal", "raise_collected")

_A = TypeVar("_A")


class CleanupError(RuntimeError):
    """Several cleanup contexts failed; :attr:`exceptions` holds their errors."""

    @property
    def exceptions(self) -> list[BaseException]:
        """The errors, in teardown order."""
        return cast(list[BaseException], self.args[1])


class _IteratorContext:
    """Adapts a cleanup async generator (one ``yield``) to an async context manager."""

    __slots__ = ("_it",)

    def __init__(self, it: AsyncIterator[object]) -> None:
        self._it = it

    async def __aenter__(self) -> None:
        await self._it.__anext__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._it.__anext__()
        except StopAsyncIteration:
            return
        raise RuntimeError(f"{self._it!r} has more than one 'yield'")


class CleanupContext(
    FrozenList[Callable[[_A], AbstractAsyncContextManager[Any] | AsyncIterator[Any]]],
    Generic[_A],
):
    """``app.cleanup_ctx``: callbacks giving an async generator or async context manager.

    On startup each is entered in order (the code before ``yield``, or ``__aenter__``);
    on cleanup the entered ones exit in reverse order. An exit that fails does not stop
    the others: one error is re-raised as is, several as :class:`CleanupError`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._exits: list[AbstractAsyncContextManager[object] | _IteratorContext] = []

    async def _on_startup(self, app: _A) -> None:
        for callback in self:
            ctx = callback(app)
            entered: AbstractAsyncContextManager[object] | _IteratorContext
            if hasattr(ctx, "__aenter__") and hasattr(ctx, "__aexit__"):
                entered = cast(AbstractAsyncContextManager[object], ctx)
            elif hasattr(ctx, "__anext__"):
                entered = _IteratorContext(ctx)
            else:
                if inspect.iscoroutine(ctx):
                    ctx.close()  # a plain coroutine function: never awaited, do not leak it
                raise TypeError(
                    f"cleanup_ctx callback {callback!r} must return an async generator "
                    f"or an async context manager, got {ctx!r}"
                )
            await entered.__aenter__()
            self._exits.append(entered)  # only what started is torn down

    async def _on_cleanup(self, app: _A) -> None:
        errors: list[BaseException] = []
        while self._exits:
            ctx = self._exits.pop()
            try:
                await ctx.__aexit__(None, None, None)
            except (Exception, asyncio.CancelledError) as exc:
                errors.append(exc)
        raise_collected(errors)


def raise_collected(errors: list[BaseException]) -> None:
    """Raise the one error as is, several as a :class:`CleanupError`; none: return."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CleanupError("Multiple errors on cleanup stage", errors)
