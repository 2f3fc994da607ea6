"""Freezable lists and :class:`Signal`, aiohttp's ``frozenlist``/``aiosignal`` pair.

A :class:`FrozenList` is an ordinary mutable sequence until :meth:`FrozenList.freeze` is
called, read-only after: every mutation then raises ``RuntimeError("Cannot modify frozen
list.")``. Like ``frozenlist.FrozenList`` it compares equal to the list of its items and
hashes only once frozen.

A :class:`Signal` is a frozen list of async callbacks that :meth:`Signal.send` awaits in order,
all with the same arguments. Like ``aiosignal.Signal`` it may only be sent once frozen, so that
the callback list cannot change while it runs::

    signal: Signal[[Application]] = Signal(app)
    signal.append(open_database)
    signal.freeze()
    await signal.send(app)

aioloom.web keeps an application's middlewares and signals in these; aioloom.client its
``TraceConfig`` signals. Sending needs no event loop machinery of its own (it only awaits the
callbacks), so this module stays in the sans-I/O core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableSequence
from typing import Any, Generic, ParamSpec, TypeVar, overload

__all__ = ("FrozenList", "Signal")

_T = TypeVar("_T")
_R = TypeVar("_R")
_P = ParamSpec("_P")


class FrozenList(MutableSequence[_T]):
    """A list that becomes read-only after :meth:`freeze`.

    Args:
        items: the initial items (none when omitted or ``None``).

    Every mutation of a frozen list raises ``RuntimeError``. The list is ``==`` to the list
    of its items; ``hash()`` works only once frozen (the hash of the tuple of items) and
    raises ``RuntimeError`` before.
    """

    __slots__ = ("_frozen", "_items")

    def __init__(self, items: Iterable[_T] | None = None) -> None:
        self._frozen = False
        self._items: list[_T] = [] if items is None else list(items)

    @property
    def frozen(self) -> bool:
        """True once :meth:`freeze` was called."""
        return self._frozen

    def freeze(self) -> None:
        """Make the list read-only (idempotent)."""
        self._frozen = True

    def _check_mutable(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        return self._items[index]

    @overload
    def __setitem__(self, index: int, value: _T) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[_T]) -> None: ...

    def __setitem__(self, index: int | slice, value: Any) -> None:
        self._check_mutable()
        self._items[index] = value

    def __delitem__(self, index: int | slice) -> None:
        self._check_mutable()
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
        self._check_mutable()
        self._items.insert(index, value)

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    def __hash__(self) -> int:
        if not self._frozen:
            raise RuntimeError("Cannot hash unfrozen list.")
        return hash(tuple(self._items))

    def __repr__(self) -> str:
        return f"<FrozenList(frozen={self._frozen}, {self._items!r})>"


class Signal(FrozenList[Callable[_P, Awaitable[Any]]], Generic[_P]):
    """An ordered list of async callbacks, all awaited by :meth:`send`.

    Args:
        owner: the object the signal belongs to (shown in ``repr``).

    ``Signal[[Application]]`` is the type of a signal whose callbacks take the application;
    ``Signal[[Any, Any, TraceRequestStartParams]]`` one of ``TraceConfig``'s. Calling the
    signal with a function appends it and returns it, so it works as a decorator.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: object) -> None:
        super().__init__()
        self._owner = owner

    async def send(self, *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Await every callback in order with the given arguments.

        An exception from a callback propagates; the callbacks after it are not called.

        Raises:
            RuntimeError: the signal is not frozen yet.
        """
        if not self._frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for receiver in self._items:
            await receiver(*args, **kwargs)

    def __call__(self, func: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
        """Append ``func`` and return it unchanged (``@app.on_startup`` as a decorator).

        Raises:
            RuntimeError: the signal is frozen.
        """
        self.append(func)
        return func

    def __repr__(self) -> str:
        # aiosignal formats the owner with str(), not repr().
        return f"<Signal owner={self._owner}, frozen={self._frozen}, {self._items!r}>"
