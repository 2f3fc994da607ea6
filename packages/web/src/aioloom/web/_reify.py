"""``reify``: a property computed on first access and then stored on the instance.

It is a non-data descriptor: the first access calls the function and stores the result in
the instance ``__dict__`` under the same name, so every later access is a plain attribute
lookup (no descriptor call). Request properties (``url``, ``query``, ``cookies``...) use it:
they cost nothing unless a handler reads them, and almost nothing after the first read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

__all__ = ("reify",)

_T = TypeVar("_T")


class reify(Generic[_T]):
    """Cache the result of ``wrapped(instance)`` on the instance."""

    def __init__(self, wrapped: Callable[[Any], _T]) -> None:
        self.wrapped = wrapped
        self.name = wrapped.__name__
        self.__doc__ = wrapped.__doc__

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> reify[_T]: ...

    @overload
    def __get__(self, inst: object, owner: type[Any]) -> _T: ...

    def __get__(self, inst: object, owner: type[Any]) -> _T | reify[_T]:
        if inst is None:
            return self
        value = self.wrapped(inst)
        inst.__dict__[self.name] = value
        return value
