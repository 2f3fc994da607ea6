"""The application: :class:`Application`, its life cycle and sub-applications.

An application is a router, a middleware list, a state mapping (``app[key]``, typed with
:class:`~aioloom.web.AppKey`) and four signals. Its life cycle (the runner drives it):

1. Build: add routes, middlewares, signal callbacks, cleanup contexts, sub-applications.
2. ``await app.startup()``: ``on_startup`` callbacks run in order, cleanup contexts first
   (each runs up to its ``yield``/``__aenter__``). Callbacks may still fill ``app[...]``.
3. ``app.freeze()`` (the runner calls it through ``_make_handler``): from now on every
   change (state, routes, middlewares, signals) raises ``RuntimeError``.
4. Serving: :meth:`Application._handle` routes each request, pushes the application
   stack onto the match info and runs the middleware chain, then the handler.
5. ``await app.shutdown()`` (``on_shutdown``), then ``await app.cleanup()``
   (``on_cleanup``: cleanup contexts are torn down in reverse order). If startup failed,
   ``cleanup()`` still tears down every context that had started.

Sub-applications (``add_subapp(prefix, app)``, ``add_domain(domain, app)``) get their
signals sent with the parent's, are frozen with it, and see requests under their prefix
(or Host); their middlewares run inside the parent's.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
)
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast, overload

from aioloom.http import hdrs
from aioloom.http._messages import RawRequestMessage
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._streams import StreamReader

from ._exceptions import NotAppKeyWarning
from ._keys import AppKey
from ._log import AbstractAccessLogger, AccessLogger, web_logger
from ._middlewares import Middleware, _fix_request_current_app
from ._request import Request
from ._request_body import ExpectContinueReader
from ._routing import (
    AbstractResource,
    AbstractRoute,
    Handler,
    SystemRoute,
    UrlMappingMatchInfo,
    _default_expect_handler,
)
from ._server import Server
from ._signals import CleanupContext, CleanupError, FrozenList, Signal, raise_collected
from ._stream_response import StreamResponse
from ._subapp_resources import (
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
)
from ._urldispatcher import UrlDispatcher

if TYPE_CHECKING:
    from ._protocol import RequestHandler
    from ._request import BaseRequest
    from ._routedef import AbstractRouteDef

__all__ = ("Application", "CleanupContext", "CleanupError")

_T = TypeVar("_T")
_U = TypeVar("_U")
_R = TypeVar("_R", bound=AbstractResource)

AppSignal = Signal[["Application"]]
ResponsePrepareSignal = Signal[[Request, StreamResponse]]
_NOT_SET: Final[Any] = ...


async def _noop_expect(request: object) -> None:
    """Stands in for the server's lazy 100-continue once a custom expect handler ran."""


class Application(MutableMapping[str | AppKey[Any], Any]):
    """A web application (aiohttp's ``web.Application``).

    Args:
        logger: the framework's logger (``aioloom.web``).
        middlewares: ``async def mw(request, handler)`` callables, outermost first.
        handler_args: extra keyword arguments for the server protocol
            (``keepalive_timeout``, ``max_line_size``...), applied by ``_make_handler``.
        client_max_size: the largest request body ``request.read()``/``post()`` accept.
        debug: deprecated (as in aiohttp); the loop's debug mode is used.

    It is a mutable mapping for application state; use :class:`~aioloom.web.AppKey` keys
    (a plain ``str`` key warns with :class:`~aioloom.web.NotAppKeyWarning`).
    """

    def __init__(
        self,
        *,
        logger: logging.Logger = web_logger,
        middlewares: Iterable[Middleware] = (),
        handler_args: Mapping[str, Any] | None = None,
        client_max_size: int = 1024**2,
        debug: Any = _NOT_SET,
    ) -> None:
        if debug is not _NOT_SET:
            warnings.warn("debug argument is deprecated", DeprecationWarning, stacklevel=2)
        self._debug = debug
        self._router = UrlDispatcher()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler_args = handler_args
        self.logger = logger
        self._middlewares: FrozenList[Middleware] = FrozenList(middlewares)
        self._middlewares_handlers: tuple[Middleware, ...] = ()
        self._run_middlewares: bool | None = None
        self._handler_cache: dict[tuple[Handler, tuple[Application, ...]], Handler] = {}
        self._state: dict[str | AppKey[Any], Any] = {}
        self._frozen = False
        self._pre_frozen = False
        self._subapps: list[Application] = []
        self._on_response_prepare: ResponsePrepareSignal = Signal(self)
        self._on_startup: AppSignal = Signal(self)
        self._on_shutdown: AppSignal = Signal(self)
        self._on_cleanup: AppSignal = Signal(self)
        self._cleanup_ctx: CleanupContext[Application] = CleanupContext()
        self._on_startup.append(self._cleanup_ctx._on_startup)
        self._on_cleanup.append(self._cleanup_ctx._on_cleanup)
        self._client_max_size = client_max_size

    def __init_subclass__(cls, **kwargs: Any) -> None:
        warnings.warn(
            f"Inheritance class {cls.__name__} from web.Application is discouraged",
            DeprecationWarning,
            stacklevel=3,
        )
        super().__init_subclass__(**kwargs)

    # -- the state mapping ---------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    @overload
    def __getitem__(self, key: AppKey[_T]) -> _T: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str | AppKey[Any]) -> Any:
        return self._state[key]

    def _check_frozen(self) -> None:
        if self._frozen:
            raise RuntimeError("Changing state of started or joined application is forbidden")

    @overload
    def __setitem__(self, key: AppKey[_T], value: _T) -> None: ...

    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...

    def __setitem__(self, key: str | AppKey[Any], value: Any) -> None:
        self._check_frozen()
        if not isinstance(key, AppKey):
            warnings.warn(
                "It is recommended to use web.AppKey instances for keys.",
                category=NotAppKeyWarning,
                stacklevel=2,
            )
        self._state[key] = value

    def __delitem__(self, key: str | AppKey[Any]) -> None:
        self._check_frozen()
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[str | AppKey[Any]]:
        return iter(self._state)

    @overload  # type: ignore[override]
    def get(self, key: AppKey[_T], default: None = ...) -> _T | None: ...

    @overload
    def get(self, key: AppKey[_T], default: _U) -> _T | _U: ...

    @overload
    def get(self, key: str, default: Any = ...) -> Any: ...

    def get(self, key: str | AppKey[Any], default: Any = None) -> Any:
        """``app[key]``, or ``default`` when absent."""
        return self._state.get(key, default)

    # -- freezing ------------------------------------------------------------------------------

    @property
    def pre_frozen(self) -> bool:
        """True once routes, middlewares and signals are frozen."""
        return self._pre_frozen

    def pre_freeze(self) -> None:
        """Freeze routes, middlewares and signals (not the state), here and in sub-apps."""
        if self._pre_frozen:
            return
        self._pre_frozen = True
        self._middlewares.freeze()
        self._router.freeze()
        self._on_response_prepare.freeze()
        self._cleanup_ctx.freeze()
        self._on_startup.freeze()
        self._on_shutdown.freeze()
        self._on_cleanup.freeze()
        self._middlewares_handlers = (*reversed(self._middlewares), _fix_request_current_app(self))
        run = bool(self._middlewares)
        for subapp in self._subapps:
            subapp.pre_freeze()
            run = run or bool(subapp._run_middlewares)
        self._run_middlewares = run

    @property
    def frozen(self) -> bool:
        """True once the application (state included) is frozen."""
        return self._frozen

    def freeze(self) -> None:
        """Forbid every further change, here and in sub-applications."""
        if self._frozen:
            return
        self.pre_freeze()
        self._frozen = True
        for subapp in self._subapps:
            subapp.freeze()

    @property
    def debug(self) -> bool:
        """Deprecated: the debug flag."""
        warnings.warn("debug property is deprecated", DeprecationWarning, stacklevel=2)
        return bool(self._debug) if self._debug is not _NOT_SET else False

    # -- sub-applications ----------------------------------------------------------------------

    def _reg_subapp_signals(self, subapp: Application) -> None:
        def forward(signal: AppSignal) -> Callable[[Application], Awaitable[None]]:
            async def handler(app: Application) -> None:
                await signal.send(subapp)

            return handler

        self._on_startup.append(forward(subapp.on_startup))
        self._on_shutdown.append(forward(subapp.on_shutdown))
        self._on_cleanup.append(forward(subapp.on_cleanup))

    def add_subapp(self, prefix: str, subapp: Application) -> PrefixedSubAppResource:
        """Serve ``subapp`` under ``prefix``: its routes and ``url_for`` get the prefix.

        Raises:
            TypeError: ``prefix`` is not a str.
            ValueError: ``prefix`` is empty (or ``/``).
            RuntimeError: this application or ``subapp`` is frozen.
        """
        if not isinstance(prefix, str):
            raise TypeError("Prefix must be str")
        prefix = prefix.rstrip("/")
        if not prefix:
            raise ValueError("Prefix cannot be empty")
        return self._add_subapp(lambda: PrefixedSubAppResource(prefix, subapp), subapp)

    def add_domain(self, domain: str, subapp: Application) -> MatchedSubAppResource:
        """Serve ``subapp`` for requests whose Host is ``domain`` (``*`` wildcards allowed).

        Raises:
            TypeError: ``domain`` is not a str.
            ValueError: ``domain`` is not a valid host name (or mask).
            RuntimeError: this application or ``subapp`` is frozen.
        """
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        rule = MaskDomain(domain) if "*" in domain else Domain(domain)
        return self._add_subapp(lambda: MatchedSubAppResource(rule, subapp), subapp)

    def _add_subapp(self, factory: Callable[[], _R], subapp: Application) -> _R:
        if self._frozen:
            raise RuntimeError("Cannot add sub application to frozen application")
        if subapp._frozen:
            raise RuntimeError("Cannot add frozen application")
        if subapp is self or subapp in self._subapps:
            raise RuntimeError("Cannot add an application to itself or twice")
        resource = factory()
        self._router.register_resource(resource)
        self._reg_subapp_signals(subapp)
        self._subapps.append(subapp)
        subapp.pre_freeze()
        return resource

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[AbstractRoute]:
        """Register route definitions on the router.

        Raises:
            RuntimeError: the application is frozen.
        """
        return self._router.add_routes(routes)

    # -- attributes ------------------------------------------------------------------------------

    @property
    def on_response_prepare(self) -> ResponsePrepareSignal:
        """Sent as ``(request, response)`` before each response's head is sent."""
        return self._on_response_prepare

    @property
    def on_startup(self) -> AppSignal:
        """Sent with the application at startup."""
        return self._on_startup

    @property
    def on_shutdown(self) -> AppSignal:
        """Sent with the application when the server stops (before cleanup)."""
        return self._on_shutdown

    @property
    def on_cleanup(self) -> AppSignal:
        """Sent with the application last."""
        return self._on_cleanup

    @property
    def cleanup_ctx(self) -> CleanupContext[Application]:
        """Startup-and-cleanup callbacks (async generators or async context managers)."""
        return self._cleanup_ctx

    @property
    def router(self) -> UrlDispatcher:
        """The router."""
        return self._router

    @property
    def middlewares(self) -> FrozenList[Middleware]:
        """The middlewares, outermost first."""
        return self._middlewares

    # -- life cycle ------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Send ``on_startup`` (cleanup contexts first); freezes that signal."""
        self._on_startup.freeze()
        await self._on_startup.send(self)

    async def shutdown(self) -> None:
        """Send ``on_shutdown``; call before :meth:`cleanup`."""
        self._on_shutdown.freeze()
        await self._on_shutdown.send(self)

    async def cleanup(self) -> None:
        """Send ``on_cleanup``; call after :meth:`shutdown`.

        When the application never finished starting (``on_cleanup`` is not frozen), only
        the cleanup contexts that started are torn down, here and in sub-applications.
        """
        if self._on_cleanup.frozen:
            await self._on_cleanup.send(self)
        else:
            await self._teardown_contexts()

    async def _teardown_contexts(self) -> None:
        errors: list[BaseException] = []
        for app in (self, *self._subapps):
            try:
                if app is self:
                    await self._cleanup_ctx._on_cleanup(self)
                else:
                    await app._teardown_contexts()
            except CleanupError as exc:
                errors.extend(exc.exceptions)
            except (Exception, asyncio.CancelledError) as exc:
                errors.append(exc)
        raise_collected(errors)

    # -- the server side ---------------------------------------------------------------------------

    def _set_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        if loop is None:
            loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError("web.Application instance initialized with different loop")
        self._loop = loop
        if self._debug is _NOT_SET:
            self._debug = loop.get_debug()
        for subapp in self._subapps:
            subapp._set_loop(loop)

    def _make_handler(
        self,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> Server:
        """Freeze the application and build the :class:`~aioloom.web.Server` serving it.

        Args:
            loop: the event loop (default: the running one).
            access_log_class: the access logger class.
            **kwargs: passed to the server protocol; ``handler_args`` override them.

        Raises:
            TypeError: ``access_log_class`` is not an ``AbstractAccessLogger`` subclass.
        """
        if not (
            isinstance(access_log_class, type)
            and issubclass(access_log_class, AbstractAccessLogger)
        ):
            raise TypeError(
                "access_log_class must be subclass of "
                f"aioloom.web.AbstractAccessLogger, got {access_log_class}"
            )
        self._set_loop(loop)
        self.freeze()
        kwargs["debug"] = bool(self._debug)
        kwargs["access_log_class"] = access_log_class
        if self._handler_args:
            kwargs.update(self._handler_args)
        return Server(
            cast("Callable[[BaseRequest], Awaitable[StreamResponse]]", self._handle),
            request_factory=self._make_request,
            loop=self._loop,
            **kwargs,
        )

    def make_handler(
        self,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> Server:
        """Deprecated: use ``AppRunner``."""
        warnings.warn(
            "Application.make_handler(...) is deprecated, use AppRunner API instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._make_handler(loop=loop, access_log_class=access_log_class, **kwargs)

    def _make_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
        _cls: type[Request] = Request,
    ) -> Request:
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        return _cls(
            message,
            payload,
            protocol,
            writer,
            task,
            loop,
            client_max_size=self._client_max_size,
        )

    async def _handle(self, request: Request) -> StreamResponse:
        """Route ``request``, answer ``Expect``, run the middlewares and the handler."""
        if not self._pre_frozen:
            self.pre_freeze()
        match_info = await self._router.resolve(request)
        if type(match_info) is UrlMappingMatchInfo:  # not a subclass that may override
            handler = match_info._enter(self)  # add_app + freeze + handler, in one call
        else:
            match_info.add_app(self)
            match_info.freeze()
            handler = match_info.handler
        request._match_info = match_info
        if hdrs.EXPECT in request._headers:
            response = await self._expect(request, match_info.route)
            if response is not None:
                return response
        if self._run_middlewares:
            handler = self._with_middlewares(handler, match_info.apps, match_info.route)
        return await handler(request)

    async def _expect(self, request: Request, route: AbstractRoute) -> StreamResponse | None:
        """Run a route's own ``Expect`` handler (RFC 9110 §10.1.1).

        With the default handler nothing happens here: the server sends ``100 Continue``
        when the handler first reads the body. A custom handler runs now and replaces that
        (it answers, raises, or sends ``100 Continue`` itself).
        """
        if getattr(route, "_expect_handler", None) is _default_expect_handler:
            return None
        payload = request.content
        if isinstance(payload, ExpectContinueReader) and payload.expect_request is not None:
            payload.expect_handler = _noop_expect  # the custom handler decides instead
        response = await route.handle_expect_header(request)
        await request.writer.drain()
        return response

    def _with_middlewares(
        self, handler: Handler, apps: tuple[Application, ...], route: AbstractRoute
    ) -> Handler:
        """The handler wrapped by every application's middlewares (root outermost)."""
        key = (handler, apps)
        cached = self._handler_cache.get(key)
        if cached is not None:
            return cached
        for app in reversed(apps):
            for mw in app._middlewares_handlers:
                handler = _wrap(mw, handler)
        if not isinstance(route, SystemRoute):  # a 404/405 route is new per request
            self._handler_cache[key] = handler
        return handler

    def __call__(self) -> Application:
        """gunicorn compatibility: the application is its own factory."""
        return self

    def __repr__(self) -> str:
        return f"<Application 0x{id(self):x}>"

    def __bool__(self) -> bool:
        return True


def _wrap(mw: Middleware, handler: Handler) -> Handler:
    """``handler`` as seen by ``mw``'s caller: ``mw(request, handler)``."""

    async def call(request: Request) -> StreamResponse:
        return await mw(request, handler)

    # Name and docstring of the handler, not its __dict__ (a view class's would be copied).
    return update_wrapper(call, handler, updated=())
