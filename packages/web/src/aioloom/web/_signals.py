"""Freezable lists and :class:`Signal`, the callback lists of an application.

An :class:`~aioloom.web.Application` keeps its middlewares, its cleanup contexts and its
signals (``on_startup``, ``on_shutdown``, ``on_cleanup``, ``on_response_prepare``) in
:class:`FrozenList` objects: ordinary mutable sequences until the application freezes them,
read-only after. This is aiohttp's ``frozenlist``/``aiosignal`` pair, without the extra
dependencies::

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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, MutableSequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, cast, overload

__all__ = ("CleanupContext", "CleanupError", "FrozenList", "Signal", "raise_collected")

_T = TypeVar("_T")
_A = TypeVar("_A")
_P = ParamSpec("_P")


class FrozenList(MutableSequence[_T]):
    """A list that becomes read-only after :meth:`freeze`.

    Args:
        items: the initial items.

    Every mutation of a frozen list raises ``RuntimeError``.
    """

    __slots__ = ("_frozen", "_items")

    def __init__(self, items: Iterable[_T] = ()) -> None:
        self._frozen = False
        self._items: list[_T] = list(items)

    @property
    def frozen(self) -> bool:
        """True once :meth:`freeze` was called."""
        return self._frozen

    def freeze(self) -> None:
        """Make the list read-only (idempotent)."""
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> MutableSequence[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | MutableSequence[_T]:
        return self._items[index]

    @overload
    def __setitem__(self, index: int, value: _T) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[_T]) -> None: ...

    def __setitem__(self, index: int | slice, value: Any) -> None:
        self._check()
        self._items[index] = value

    def __delitem__(self, index: int | slice) -> None:
        self._check()
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[_T]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[_T]:
        return reversed(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def insert(self, index: int, value: _T) -> None:
        """Insert ``value`` before ``index``.

        Raises:
            RuntimeError: the list is frozen.
        """
        self._check()
        self._items.insert(index, value)

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]  # mutable, like list

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(frozen={self._frozen}, {self._items!r})>"


class Signal(FrozenList[Callable[_P, Awaitable[Any]]], Generic[_P]):
    """An ordered list of async callbacks, all called by :meth:`send`.

    Args:
        owner: the object the signal belongs to (shown in ``repr``).

    ``Signal[[Application]]`` is the type of a signal whose callbacks take the
    application; ``Signal[[Request, StreamResponse]]`` is ``on_response_prepare``'s.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: object) -> None:
        super().__init__()
        self._owner = owner

    async def send(self, *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Await every callback in order with the given arguments.

        An exception from a callback stops the sending and propagates.

        Raises:
            RuntimeError: the signal is not frozen yet.
        """
        if not self._frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for receiver in self._items:
            await receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {self._items!r}>"


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
