"""Typed keys for the state mappings of applications, requests and responses.

``AppKey``, ``RequestKey`` and ``ResponseKey`` have aiohttp 3.14's shape: a name and an
optional type, used as keys of ``app[...]``, ``request[...]`` and ``response[...]`` so that
type checkers know the type of the stored value::

    db_key = web.AppKey("db", Database)
    app[db_key] = Database()           # type checked
    request_id = web.RequestKey("request_id", str)

The name is prefixed with the defining module (``"myapp.views.db"``) so that two libraries
using the same short name do not collide, and keys sort before plain strings. A key compares
by identity, as in aiohttp: two keys with the same name are different keys.

Typing: ``AppKey("db", Database)`` is an ``AppKey[Database]``, and a parametrised class
infers too (``AppKey("tags", set[str])`` is an ``AppKey[set[str]]``). A type that is not a
class (a union, a ``Callable``, a ``Literal``) cannot be inferred from the argument: give it
as the key's type argument, ``AppKey[int | None]("port", int | None)``, or annotate the
variable; the second ``__init__`` overload accepts any such runtime object for ``repr``.
"""

from __future__ import annotations

import inspect
from typing import Any, Generic, TypeVar, final, get_args, overload

__all__ = ("AppKey", "RequestKey", "ResponseKey")

_T = TypeVar("_T")


def _defining_module() -> str:
    """Return the ``__name__`` of the module whose top level creates the key."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            return str(frame.f_globals.get("__name__", "__main__"))
        frame = frame.f_back
    return "__main__"


def _type_repr(t: object) -> str:
    if t is None:
        return "<<Unknown>>"
    if isinstance(t, type):
        if t.__module__ == "builtins":
            return t.__qualname__
        return f"{t.__module__}.{t.__qualname__}"
    return repr(t)


class _BaseKey(Generic[_T]):
    """The shared implementation of the three key classes."""

    __slots__ = ("__orig_class__", "_name", "_t")

    __orig_class__: type[object]

    @overload
    def __init__(self, name: str, t: type[_T] | None = None) -> None: ...

    @overload
    def __init__(self, name: str, t: object) -> None: ...

    def __init__(self, name: str, t: object = None) -> None:
        self._name = _defining_module() + "." + name
        self._t = t

    @property
    def name(self) -> str:
        """The key's name, prefixed with the defining module."""
        return self._name

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _BaseKey):
            return self._name < other._name
        return True  # keys sort before every other kind of key

    def __repr__(self) -> str:
        t: Any = self._t
        if t is None:
            # AppKey[int]("x") records its type argument on the instance.
            try:
                t = get_args(self.__orig_class__)[0]
            except (AttributeError, IndexError):
                t = None
        return f"<{type(self).__name__}({self._name}, type={_type_repr(t)})>"


@final
class AppKey(_BaseKey[_T]):
    """A typed key for :class:`~aioloom.web.Application` state (``app[key]``)."""

    __slots__ = ()


@final
class RequestKey(_BaseKey[_T]):
    """A typed key for request state (``request[key]``)."""

    __slots__ = ()


@final
class ResponseKey(_BaseKey[_T]):
    """A typed key for response state (``response[key]``)."""

    __slots__ = ()
