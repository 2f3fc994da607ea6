"""Route definitions: ``web.get(...)``, ``web.static(...)`` and :class:`RouteTableDef`.

A definition records a route without a router; ``app.add_routes(definitions)`` (or
``router.add_routes``) registers them in order. Two styles, as in aiohttp::

    app.add_routes([web.get("/", index), web.post("/items", create, name="create")])

    routes = web.RouteTableDef()

    @routes.get("/items/{id}")
    async def item(request: web.Request) -> web.Response: ...

    app.add_routes(routes)
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from aioloom.http import hdrs

from ._routing import HandlerOrView
from ._view import AbstractView

if TYPE_CHECKING:
    from ._routing import AbstractRoute
    from ._urldispatcher import UrlDispatcher

__all__ = (
    "AbstractRouteDef",
    "RouteDef",
    "RouteTableDef",
    "StaticDef",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "static",
    "view",
)

PathLike = str | os.PathLike[str]


class AbstractRouteDef(abc.ABC):
    """Something ``add_routes`` can register."""

    __slots__ = ()

    @abc.abstractmethod
    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        """Register on ``router``; return the routes added."""


def _kwargs_repr(kwargs: dict[str, Any]) -> str:
    return "".join(f", {name}={value!r}" for name, value in sorted(kwargs.items()))


@dataclass(frozen=True, repr=False, slots=True)
class RouteDef(AbstractRouteDef):
    """A route: method, path, handler and the keyword arguments of ``add_route``."""

    method: str
    path: str
    handler: HandlerOrView
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        name = getattr(self.handler, "__name__", repr(self.handler))
        return f"<RouteDef {self.method} {self.path} -> {name!r}{_kwargs_repr(self.kwargs)}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        """``router.add_get``/``add_post``... for known methods, else ``add_route``."""
        if self.method in hdrs.METH_ALL:
            add = getattr(router, "add_" + self.method.lower())
            return [add(self.path, self.handler, **self.kwargs)]
        return [router.add_route(self.method, self.path, self.handler, **self.kwargs)]


@dataclass(frozen=True, repr=False, slots=True)
class StaticDef(AbstractRouteDef):
    """A static files directory: prefix, path and the keyword arguments of ``add_static``."""

    prefix: str
    path: PathLike
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        return f"<StaticDef {self.prefix} -> {self.path}{_kwargs_repr(self.kwargs)}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        """``router.add_static``; returns its routes (GET and HEAD)."""
        resource = router.add_static(self.prefix, self.path, **self.kwargs)
        return list(resource)


def route(method: str, path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A route for ``method`` (``*``: any method)."""
    return RouteDef(method, path, handler, kwargs)


def head(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A HEAD route."""
    return route(hdrs.METH_HEAD, path, handler, **kwargs)


def options(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """An OPTIONS route."""
    return route(hdrs.METH_OPTIONS, path, handler, **kwargs)


def get(
    path: str,
    handler: HandlerOrView,
    *,
    name: str | None = None,
    allow_head: bool = True,
    **kwargs: Any,
) -> RouteDef:
    """A GET route (and HEAD, unless ``allow_head`` is false)."""
    return route(hdrs.METH_GET, path, handler, name=name, allow_head=allow_head, **kwargs)


def post(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A POST route."""
    return route(hdrs.METH_POST, path, handler, **kwargs)


def put(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A PUT route."""
    return route(hdrs.METH_PUT, path, handler, **kwargs)


def patch(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A PATCH route."""
    return route(hdrs.METH_PATCH, path, handler, **kwargs)


def delete(path: str, handler: HandlerOrView, **kwargs: Any) -> RouteDef:
    """A DELETE route."""
    return route(hdrs.METH_DELETE, path, handler, **kwargs)


def view(path: str, handler: type[AbstractView], **kwargs: Any) -> RouteDef:
    """A class-based view for every method."""
    return route(hdrs.METH_ANY, path, handler, **kwargs)


def static(prefix: str, path: PathLike, **kwargs: Any) -> StaticDef:
    """A static files directory (``add_static`` arguments in ``kwargs``)."""
    return StaticDef(prefix, path, kwargs)


_HT = TypeVar("_HT", bound=HandlerOrView)
_VT = TypeVar("_VT", bound=type[AbstractView])


class _Deco(Protocol):
    """What ``@routes.get(path)`` returns: records the handler and gives it back unchanged.

    A protocol with a generic ``__call__`` (rather than ``Callable[[_HT], _HT]``) keeps the
    type variable unbound until the decorator is applied, so a type checker sees the
    decorated function keep its own type instead of collapsing to ``Never``.
    """

    def __call__(self, handler: _HT, /) -> _HT: ...


class _ViewDeco(Protocol):
    """What ``@routes.view(path)`` returns: records the view class and gives it back."""

    def __call__(self, handler: _VT, /) -> _VT: ...


class RouteTableDef(Sequence[AbstractRouteDef]):
    """A list of route definitions filled by decorators (``@routes.get("/")``)."""

    def __init__(self) -> None:
        self._items: list[AbstractRouteDef] = []

    def __repr__(self) -> str:
        return f"<RouteTableDef count={len(self._items)}>"

    @overload
    def __getitem__(self, index: int) -> AbstractRouteDef: ...

    @overload
    def __getitem__(self, index: slice) -> list[AbstractRouteDef]: ...

    def __getitem__(self, index: int | slice) -> AbstractRouteDef | list[AbstractRouteDef]:
        return self._items[index]

    def __iter__(self) -> Iterator[AbstractRouteDef]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def route(self, method: str, path: str, **kwargs: Any) -> _Deco:
        """Decorator: add a route for ``method`` with the decorated handler.

        The decorated function (or view class) is returned unchanged, with its own type.
        """

        def inner(handler: _HT, /) -> _HT:
            self._items.append(RouteDef(method, path, handler, kwargs))
            return handler

        return inner

    def head(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: a HEAD route."""
        return self.route(hdrs.METH_HEAD, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: a GET route (and HEAD, unless ``allow_head=False``)."""
        return self.route(hdrs.METH_GET, path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: a POST route."""
        return self.route(hdrs.METH_POST, path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: a PUT route."""
        return self.route(hdrs.METH_PUT, path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: a PATCH route."""
        return self.route(hdrs.METH_PATCH, path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: a DELETE route."""
        return self.route(hdrs.METH_DELETE, path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> _Deco:
        """Decorator: an OPTIONS route."""
        return self.route(hdrs.METH_OPTIONS, path, **kwargs)

    def view(self, path: str, **kwargs: Any) -> _ViewDeco:
        """Decorator: a class-based view (an :class:`AbstractView` subclass) for every method."""

        def inner(handler: _VT, /) -> _VT:
            self._items.append(RouteDef(hdrs.METH_ANY, path, handler, kwargs))
            return handler

        return inner

    def static(self, prefix: str, path: PathLike, **kwargs: Any) -> None:
        """Add a static files directory."""
        self._items.append(StaticDef(prefix, path, kwargs))
