"""The routing vocabulary: abstract resources and routes, routes, and the match info.

The router (:class:`~aioloom.web.UrlDispatcher`, in ``_urldispatcher``) maps a request to
a *resource* (a path or path pattern, in ``_resources``/``_static``) and the resource to a
*route* (one method and its handler). The result of routing is a
:class:`UrlMappingMatchInfo`: the dict of the path's variables, plus the route, the stack of
applications that routed the request (``apps``, root first) and the current one. A request
that matches nothing gets a :class:`MatchInfoError` whose route raises the 404 or 405.

Paths are compared in yarl's ``path_safe`` form: percent-decoded except ``%2F`` and ``%25``,
so that an encoded slash stays inside one path segment and is decoded only in the value of
a variable (:func:`unquote_path_safe`). Building URLs (``url_for``) goes the other way with
:func:`quote_path`.

Also here: :data:`HTTP_METHOD_RE` (a method is an RFC 9110 §9.1 token) and the default
``Expect`` handler of routes.
"""

from __future__ import annotations

import abc
import inspect
import re
import warnings
from collections.abc import (
    Awaitable,
    Callable,
    Container,
    Iterable,
    Iterator,
    Mapping,
    Set,
    Sized,
)
from functools import wraps
from typing import TYPE_CHECKING, Any, Final, TypedDict, Union

from yarl import URL

from aioloom.http import hdrs

from ._exceptions import HTTPException
from ._request import default_expect_handler
from ._stream_response import StreamResponse
from ._view import AbstractView

if TYPE_CHECKING:
    from pathlib import Path

    from ._app import Application
    from ._request import Request

__all__ = (
    "AbstractMatchInfo",
    "AbstractResource",
    "AbstractRoute",
    "AbstractRouter",
    "MatchInfoError",
    "ResourceRoute",
    "SystemRoute",
    "UrlMappingMatchInfo",
)

Handler = Callable[["Request"], Awaitable[StreamResponse]]
"""An application handler: ``async def handler(request) -> StreamResponse``."""
HandlerOrView = Handler | type[AbstractView]
ExpectHandler = Callable[["Request"], Awaitable[StreamResponse | None]]
"""Answers a request's ``Expect`` header before the handler runs (RFC 9110 §10.1.1)."""
Resolve = tuple[Union["UrlMappingMatchInfo", None], Set[str]]
"""What a resource's ``resolve`` gives: the match (or None) and the methods it allows."""

# RFC 9110 §9.1: a method is a token (RFC 9110 §5.6.2 tchar).
HTTP_METHOD_RE: Final = re.compile(r"[0-9A-Za-z!#$%&'*+\-.^_`|~]+")
NO_METHODS: Final[Set[str]] = frozenset()


class InfoDict(TypedDict, total=False):
    """What ``get_info()`` of resources, routes and match infos returns."""

    path: str
    formatter: str
    pattern: re.Pattern[str]
    directory: Path
    prefix: str
    routes: Mapping[str, AbstractRoute]
    app: Application
    domain: str
    rule: Any
    http_exception: HTTPException


# -- path forms ------------------------------------------------------------------------------


def quote_path(value: str) -> str:
    """Percent-encode ``value`` for a URL path (slashes stay separators)."""
    return URL.build(path=value, encoded=False).raw_path


def quote_segment(value: str) -> str:
    """Percent-encode ``value`` for one path segment (a slash becomes ``%2F``)."""
    return quote_path(value).replace("/", "%2F")


def safe_form(path: str) -> str:
    """The ``path_safe`` form of a decoded route path: only ``%`` is encoded (``%25``)."""
    return path.replace("%", "%25")


def unquote_path_safe(value: str) -> str:
    """Decode the two escapes ``path_safe`` keeps: ``%2F`` and ``%25``."""
    if "%" not in value:
        return value
    return value.replace("%2F", "/").replace("%25", "%")


async def _default_expect_handler(request: Request) -> None:
    """The routes' default ``Expect`` handler: aiohttp's 100-continue behaviour.

    It validates the expectation (417 for anything but ``100-continue``, 413 when the
    declared body is over ``client_max_size``) and sends ``100 Continue`` (RFC 9110
    §10.1.1). Application routes that keep this default do not call it eagerly: the server
    sends ``100 Continue`` only when the handler first reads the body, so a handler that
    answers without reading never invites the body.
    """
    await default_expect_handler(request)


# -- abstract bases ---------------------------------------------------------------------------


class AbstractMatchInfo(abc.ABC):
    """The result of routing a request (aiohttp's ``abc.AbstractMatchInfo``)."""

    __slots__ = ()

    @property
    @abc.abstractmethod
    def handler(self) -> Handler:
        """The handler to call."""

    @property
    @abc.abstractmethod
    def expect_handler(self) -> ExpectHandler:
        """The handler of the ``Expect`` header."""

    @property
    @abc.abstractmethod
    def http_exception(self) -> HTTPException | None:
        """The 404/405 exception when nothing matched, else None."""

    @abc.abstractmethod
    def get_info(self) -> InfoDict:
        """Information about the matched resource."""

    @property
    @abc.abstractmethod
    def apps(self) -> tuple[Application, ...]:
        """The applications that routed the request, root first."""

    @abc.abstractmethod
    def add_app(self, app: Application) -> None:
        """Push an application onto the stack (an outer one each time)."""

    @abc.abstractmethod
    def freeze(self) -> None:
        """Forbid further :meth:`add_app` calls."""

    @property
    @abc.abstractmethod
    def current_app(self) -> Application:
        """The application whose middlewares or handler runs now."""


class AbstractRouter(abc.ABC):
    """A router: resolves a request to a match info (aiohttp's ``abc.AbstractRouter``)."""

    def __init__(self) -> None:
        self._frozen = False

    def post_init(self, app: Application) -> None:  # noqa: B027 - optional hook, as aiohttp
        """Called once the application is set up (nothing to do by default)."""

    @property
    def frozen(self) -> bool:
        """True once :meth:`freeze` was called."""
        return self._frozen

    def freeze(self) -> None:
        """Forbid registering more resources."""
        self._frozen = True

    @abc.abstractmethod
    async def resolve(self, request: Request) -> AbstractMatchInfo:
        """Return the match info for ``request``."""


class AbstractResource(Sized, Iterable["AbstractRoute"]):
    """A path (or pattern, or prefix) and the routes registered on it.

    Args:
        name: the name used to find the resource again (``router[name]``).
    """

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name

    @property
    def name(self) -> str | None:
        """The resource's name, or None."""
        return self._name

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The resource's path as registered, e.g. ``/users/{id}``."""

    @abc.abstractmethod
    def url_for(self, **kwargs: str) -> URL:
        """Build the URL of this resource from the variables in ``kwargs``."""

    @abc.abstractmethod
    async def resolve(self, request: Request) -> Resolve:
        """Match ``request``: (match info or None, the methods allowed on the path)."""

    @abc.abstractmethod
    def add_prefix(self, prefix: str) -> None:
        """Put ``prefix`` in front of the path (a sub-application's prefix)."""

    @abc.abstractmethod
    def get_info(self) -> InfoDict:
        """Information for introspection."""

    def freeze(self) -> None:
        """Called when the router freezes."""

    @abc.abstractmethod
    def raw_match(self, path: str) -> bool:
        """True when ``path`` is exactly the path this resource was registered with."""

    def _index_key(self) -> str | None:
        """The router's index key: the static part of the path before any variable.

        None means the resource cannot be indexed by path (it is tried on every request).
        """
        key = self.canonical
        if "{" in key:
            key = key.partition("{")[0].rpartition("/")[0]
        return key.rstrip("/") or "/"


class AbstractRoute(abc.ABC):
    """One method of a resource and its handler.

    Args:
        method: the HTTP method (upper-cased), or ``*`` for any method.
        handler: an ``async def handler(request)`` or an :class:`AbstractView` subclass.
        expect_handler: an ``async def`` answering ``Expect`` (default: 100-continue).
        resource: the resource the route belongs to.

    Raises:
        ValueError: ``method`` is not an HTTP token.
        TypeError: ``expect_handler`` is not a coroutine function.
    """

    def __init__(
        self,
        method: str,
        handler: HandlerOrView,
        *,
        expect_handler: ExpectHandler | None = None,
        resource: AbstractResource | None = None,
    ) -> None:
        if expect_handler is None:
            expect_handler = _default_expect_handler
        if not inspect.iscoroutinefunction(expect_handler):
            raise TypeError(f"Coroutine is expected, got {expect_handler!r}")
        method = method.upper()
        if HTTP_METHOD_RE.fullmatch(method) is None:
            raise ValueError(f"{method} is not allowed HTTP method")
        self._method = method
        self._handler: Handler = _check_handler(handler)
        self._expect_handler = expect_handler
        self._resource = resource

    @property
    def method(self) -> str:
        """The route's method (``*`` for any)."""
        return self._method

    @property
    def handler(self) -> Handler:
        """The handler (a view class is called like one)."""
        return self._handler

    @property
    @abc.abstractmethod
    def name(self) -> str | None:
        """The route's name: its resource's name."""

    @property
    def resource(self) -> AbstractResource | None:
        """The resource the route belongs to."""
        return self._resource

    @abc.abstractmethod
    def get_info(self) -> InfoDict:
        """Information for introspection."""

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build the URL of the route's resource."""

    async def handle_expect_header(self, request: Request) -> StreamResponse | None:
        """Run the route's ``Expect`` handler."""
        return await self._expect_handler(request)


def _check_handler(handler: HandlerOrView) -> Handler:
    """Accept a coroutine function or a view class; wrap a plain callable (deprecated)."""
    if inspect.iscoroutinefunction(handler):
        return handler
    if isinstance(handler, type) and issubclass(handler, AbstractView):
        return handler  # calling the class gives an awaitable view
    if not callable(handler):
        raise TypeError(f"Handler must be callable, got {handler!r}")
    warnings.warn("Bare functions are deprecated, use async ones", DeprecationWarning, stacklevel=4)
    plain: Callable[..., Any] = handler

    @wraps(plain)
    async def wrapper(request: Request) -> StreamResponse:
        result = plain(request)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, StreamResponse):
            raise TypeError(f"Handler {plain!r} returned {result!r}, not a response")
        return result

    return wrapper


# -- routes -----------------------------------------------------------------------------------


class ResourceRoute(AbstractRoute):
    """A route registered on a resource."""

    def __init__(
        self,
        method: str,
        handler: HandlerOrView,
        resource: AbstractResource,
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> None:
        super().__init__(method, handler, expect_handler=expect_handler, resource=resource)

    def __repr__(self) -> str:
        return f"<ResourceRoute [{self.method}] {self._resource} -> {self.handler!r}"

    @property
    def name(self) -> str | None:
        """The resource's name."""
        return None if self._resource is None else self._resource.name

    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build the URL of the route's resource."""
        assert self._resource is not None
        return self._resource.url_for(*args, **kwargs)

    def get_info(self) -> InfoDict:
        """The resource's information."""
        assert self._resource is not None
        return self._resource.get_info()


class SystemRoute(AbstractRoute):
    """The route of a request nothing matched: its handler raises the 404 or 405."""

    def __init__(self, http_exception: HTTPException) -> None:
        # Built for every unmatched request: skip the checks of AbstractRoute.__init__,
        # whose inputs here are constants.
        self._method = hdrs.METH_ANY
        self._handler = self._handle
        self._expect_handler = _default_expect_handler
        self._resource = None
        self._http_exception = http_exception

    def url_for(self, *args: str, **kwargs: str) -> URL:
        """System routes have no URL.

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError(".url_for() is not allowed for SystemRoute")

    @property
    def name(self) -> str | None:
        """System routes have no name."""
        return None

    def get_info(self) -> InfoDict:
        """The exception the route raises."""
        return {"http_exception": self._http_exception}

    async def _handle(self, request: Request) -> StreamResponse:
        raise self._http_exception

    @property
    def status(self) -> int:
        """The status of the exception (404 or 405)."""
        return self._http_exception.status

    @property
    def reason(self) -> str:
        """The reason phrase of the exception."""
        return self._http_exception.reason

    def __repr__(self) -> str:
        return f"<SystemRoute {self.status}: {self.reason}>"


# -- match info ------------------------------------------------------------------------------


class UrlMappingMatchInfo(dict[str, str], AbstractMatchInfo):
    """A successful match: the path variables (it is a dict) and the route.

    Args:
        match_dict: the decoded values of the path's variables.
        route: the matched route.
    """

    __slots__ = ("_apps", "_current_app", "_frozen", "_route")

    def __init__(self, match_dict: dict[str, str], route: AbstractRoute) -> None:
        dict.__init__(self, match_dict)
        self._route = route
        self._apps: tuple[Application, ...] = ()
        self._current_app: Application | None = None
        self._frozen = False

    @property
    def handler(self) -> Handler:
        """The route's handler."""
        return self._route.handler

    @property
    def route(self) -> AbstractRoute:
        """The matched route."""
        return self._route

    @property
    def expect_handler(self) -> ExpectHandler:
        """The route's ``Expect`` handler."""
        return self._route.handle_expect_header

    @property
    def http_exception(self) -> HTTPException | None:
        """None: the request matched."""
        return None

    def get_info(self) -> InfoDict:
        """The route's information."""
        return self._route.get_info()

    @property
    def apps(self) -> tuple[Application, ...]:
        """The applications that routed the request, root first."""
        return self._apps

    def add_app(self, app: Application) -> None:
        """Push an outer application (the first one added is the current one).

        Raises:
            RuntimeError: the match info is frozen.
        """
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        if self._current_app is None:
            self._current_app = app
        self._apps = (app, *self._apps)

    def _enter(self, app: Application) -> Handler:
        """``add_app(app)`` then ``freeze()`` in one call (the root application's, per
        request); returns the handler."""
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        if self._current_app is None:
            self._current_app = app
        self._apps = (app, *self._apps)
        self._frozen = True
        return self._route.handler

    @property
    def current_app(self) -> Application:
        """The application whose middlewares or handler runs now."""
        app = self._current_app
        assert app is not None, "no application routed this request"
        return app

    @current_app.setter
    def current_app(self, app: Application) -> None:
        self._current_app = app

    def freeze(self) -> None:
        """Forbid further :meth:`add_app` calls."""
        self._frozen = True

    def __repr__(self) -> str:
        return f"<MatchInfo {super().__repr__()}: {self._route}>"


new_match_info: Final = UrlMappingMatchInfo.__new__
"""``new_match_info(UrlMappingMatchInfo)``: an empty match info without running
``__init__``; the router's resolvers fill it and set its four slots themselves (a Python
``__init__`` call is a large share of a request's routing cost)."""


class MatchInfoError(UrlMappingMatchInfo):
    """The match info of a request nothing matched: 404, or 405 with ``Allow``.

    Args:
        http_exception: the exception the handler raises.
    """

    __slots__ = ("_exception",)

    def __init__(self, http_exception: HTTPException) -> None:
        self._exception = http_exception
        super().__init__({}, SystemRoute(http_exception))

    @property
    def http_exception(self) -> HTTPException:
        """The 404 or 405 exception."""
        return self._exception

    def __repr__(self) -> str:
        return f"<MatchInfoError {self._exception.status}: {self._exception.reason}>"


# -- views of a router -----------------------------------------------------------------------


class ResourcesView(Sized, Iterable[AbstractResource], Container[AbstractResource]):
    """A read-only view of a router's resources, in registration order."""

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._resources = resources

    def __len__(self) -> int:
        return len(self._resources)

    def __iter__(self) -> Iterator[AbstractResource]:
        return iter(self._resources)

    def __contains__(self, resource: object) -> bool:
        return resource in self._resources


class RoutesView(Sized, Iterable[AbstractRoute], Container[AbstractRoute]):
    """A read-only view of a router's routes, in registration order."""

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._routes: list[AbstractRoute] = [route for res in resources for route in res]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes)

    def __contains__(self, route: object) -> bool:
        return route in self._routes
