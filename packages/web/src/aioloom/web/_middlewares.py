"""Middlewares: the :func:`middleware` marker and :func:`normalize_path_middleware`.

A middleware is ``async def mw(request, handler) -> StreamResponse``: it may change the
request, call ``await handler(request)`` (the next middleware, finally the route's
handler), change or replace the response, or catch exceptions, ``HTTPException`` included.
The application's middlewares run in list order, outermost first; a sub-application's run
inside its parents'. Every such function is a middleware (aiohttp's deprecated old-style
middleware factories are not supported); :func:`middleware` only marks it, as aiohttp's
decorator does.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeVar

from ._exceptions import HTTPMove, HTTPPermanentRedirect
from ._routing import Handler, SystemRoute

if TYPE_CHECKING:
    from ._app import Application
    from ._request import Request
    from ._stream_response import StreamResponse

__all__ = ("Middleware", "middleware", "normalize_path_middleware")

Middleware = Callable[["Request", Handler], Awaitable["StreamResponse"]]
"""``async def middleware(request, handler) -> StreamResponse``."""

_F = TypeVar("_F")
_SLASHES: Final = re.compile(r"//+")
_LEADING_SLASHES: Final = re.compile(r"^//+")


def middleware(f: _F) -> _F:
    """Mark ``f`` as a (new-style) middleware; it is returned unchanged."""
    f.__middleware_version__ = 1  # type: ignore[attr-defined]
    return f


async def _resolves(request: Request, path: str) -> bool:
    """True when ``path`` (with the request's query) routes to something in the app."""
    alt = request.clone(rel_url=path)
    match_info = await request.app.router.resolve(alt)
    return match_info.http_exception is None


def _candidates(
    path: str, trailing_slash: bool, *, append: bool, remove: bool, merge: bool
) -> list[str]:
    """The normalised paths to try, in aiohttp's order: merged, slash fixed, both."""
    out: list[str] = []
    if merge:
        out.append(_SLASHES.sub("/", path))
    if append and not trailing_slash:
        out.append(path + "/")
    if remove and trailing_slash:
        out.append(path[:-1])
    if merge and append:
        out.append(_SLASHES.sub("/", path + "/"))
    if merge and remove:
        out.append(_SLASHES.sub("/", path)[:-1])
    return out


def normalize_path_middleware(
    *,
    append_slash: bool = True,
    remove_slash: bool = False,
    merge_slashes: bool = True,
    redirect_class: type[HTTPMove] = HTTPPermanentRedirect,
) -> Middleware:
    """A middleware redirecting a path that does not resolve to a normalised one that does.

    It acts only on requests nothing matched (404/405). It tries, in order: the path with
    runs of slashes merged (``merge_slashes``), with a trailing slash added
    (``append_slash``) or removed (``remove_slash``), then both; the first that resolves
    is where the client is redirected (``redirect_class``, 308 by default, keeping the
    query string). A redirect never starts with ``//`` (that would be another host).

    Raises:
        ValueError: both ``append_slash`` and ``remove_slash`` are set.
    """
    if append_slash and remove_slash:
        raise ValueError("Cannot both remove and append slash")

    @middleware
    async def impl(request: Request, handler: Handler) -> StreamResponse:
        if isinstance(request.match_info.route, SystemRoute):
            path, sep, query = request.raw_path.partition("?")
            trailing_slash = request.path.endswith("/")
            for candidate in _candidates(
                path,
                trailing_slash,
                append=append_slash,
                remove=remove_slash,
                merge=merge_slashes,
            ):
                candidate = _LEADING_SLASHES.sub("/", candidate)  # no scheme-relative URLs
                if candidate and candidate != path and await _resolves(request, candidate):
                    raise redirect_class(candidate + sep + query)
        return await handler(request)

    return impl


def _fix_request_current_app(app: Application) -> Middleware:
    """The outermost middleware of each application: it makes ``request.app`` that app."""

    @middleware
    async def impl(request: Request, handler: Handler) -> StreamResponse:
        match_info = request.match_info
        previous = match_info.current_app
        match_info.current_app = app
        try:
            return await handler(request)
        finally:
            match_info.current_app = previous

    return impl
