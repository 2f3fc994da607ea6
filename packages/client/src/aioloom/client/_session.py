"""``ClientSession`` and the module-level ``request()``: configuration and orchestration.

The session parses nothing and opens no socket. For each call it merges its defaults with
the call's options, then runs the hop loop: build a :class:`ClientRequest`, pass it through
the middlewares to the innermost handler (connector -> :func:`send_request` ->
``ClientResponse.start``), store cookies, and follow redirects as :mod:`._redirects`
decides. One total deadline (:class:`Deadline`) covers the whole exchange including
reading the body; it is disarmed when the connection is released.

The innermost handler, one exchange on one connection (with the retry of a request whose
pooled connection turned out to be dead), is :class:`~._exchange.Exchange`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, istr
from yarl import URL

from aioloom.http import hdrs
from aioloom.http._auth import BasicAuth
from aioloom.http._limits import DEFAULT_MAX_FIELD_SIZE, DEFAULT_MAX_HEADERS, DEFAULT_MAX_LINE_SIZE
from aioloom.http._messages import HttpVersion, HttpVersion11
from aioloom.http.aio._payload import JsonPayload

from ._chain import Hop, HopOptions, RequestChain, hop_options
from ._connector import BaseConnector
from ._context import _RequestContextManager, _SessionRequestContextManager
from ._cookie_seam import CookieJarLike, LooseCookies, default_cookie_jar
from ._exchange import Exchange, HopSettings, hop_settings
from ._fingerprint import SSLArg
from ._middleware import ClientHandlerType, ClientMiddlewareType, build_client_middlewares
from ._options import SENTINEL, RaiseForStatus, RequestOptions, Sentinel
from ._request import ClientRequest, LooseHeaders, Params
from ._response import ClientResponse, FallbackCharsetResolver
from ._tcp import TCPConnector
from ._timeouts import DEFAULT_TIMEOUT, ClientTimeout, Deadline
from ._tracer import NO_TRACER, load_tracing, make_tracer
from ._upload import UploadTracker
from ._urls import build_url, check_base_url, checked_url

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._cookiejar import CookieJar

__all__ = ("ClientSession", "request")

JSONEncoder = Callable[[Any], str]

_WEBSOCKET_HINT: Final = (
    'ws_connect needs aioloom.websocket: pip install "aioloom-client[websocket]"'
)


def _default_charset(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


class ClientSession:
    """A client session: default settings, a connection pool and a cookie jar.

    Create it inside a running event loop and close it (``async with``, or
    ``await session.close()``). The arguments are aiohttp 3.14's; see
    :meth:`request` for the per-request options.

    Raises:
        RuntimeError: created without a running event loop, or the connector belongs to
            another loop.
        ValueError: ``base_url`` is not absolute or has a path without a trailing ``/``;
            ``timeout`` is not a :class:`ClientTimeout`.
    """

    _source_traceback: traceback.StackSummary | None = None
    _connector: BaseConnector | None = None

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        connector: BaseConnector | None = None,
        cookies: LooseCookies | None = None,
        headers: LooseHeaders | None = None,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: JSONEncoder = json.dumps,
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        version: HttpVersion = HttpVersion11,
        cookie_jar: CookieJarLike | None = None,
        connector_owner: bool = True,
        raise_for_status: RaiseForStatus = False,
        timeout: ClientTimeout | Sentinel = SENTINEL,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: Sequence[Any] | None = None,
        middlewares: Sequence[ClientMiddlewareType] = (),
        read_bufsize: int = 2**16,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        fallback_charset_resolver: FallbackCharsetResolver = _default_charset,
    ) -> None:
        loop = asyncio.get_running_loop()  # RuntimeError outside a running loop
        self._loop = loop
        self._base_url = check_base_url(base_url)
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack(limit=16)
        if isinstance(timeout, Sentinel):
            timeout = DEFAULT_TIMEOUT
        elif not isinstance(timeout, ClientTimeout):
            raise ValueError(
                f"timeout parameter cannot be of {type(timeout)} type, "
                "please use 'timeout=ClientTimeout(...)'"
            )
        self._timeout = timeout
        if connector is None:
            connector = TCPConnector()
        if connector._loop is not loop:
            raise RuntimeError("Session and connector have to use the same event loop")
        self._connector = connector
        self._connector_owner = connector_owner
        self._cookie_jar = default_cookie_jar() if cookie_jar is None else cookie_jar
        # The jar itself when it is a plain CookieJar: an empty one is not even asked.
        jar_module = sys.modules.get("aioloom.client._cookiejar")
        self._plain_jar: CookieJar | None = (
            self._cookie_jar  # type: ignore[assignment]
            if jar_module is not None and type(self._cookie_jar) is jar_module.CookieJar
            else None
        )
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._skip_auto_headers = frozenset(istr(name) for name in skip_auto_headers or ())
        self._default_auth = auth
        self._default_proxy = URL(proxy) if isinstance(proxy, str) else proxy
        self._default_proxy_auth = proxy_auth
        self._json_serialize = json_serialize
        self._request_class = request_class
        self._response_class = response_class
        self._version = version
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._trace_configs = tuple(trace_configs or ())
        if self._trace_configs:
            load_tracing()  # fail here, not on the first request
            for config in self._trace_configs:
                config.freeze()
        self._middlewares = tuple(middlewares)
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._resolve_charset = fallback_charset_resolver
        # Shared, never mutated, by every request that overrides none of them.
        self._default_options = HopOptions(
            skip_auto_headers=self._skip_auto_headers,
            cookies=None,
            compress=None,
            chunked=None,
            expect100=False,
            proxy=self._default_proxy,
            proxy_auth=proxy_auth,
            ssl=True,
            server_hostname=None,
            proxy_headers=None,
        )
        self._default_settings: HopSettings = {
            "read_until_eof": True,
            "auto_decompress": auto_decompress,
            "read_bufsize": read_bufsize,
            "limits": (max_line_size, max_field_size, max_headers),
        }

    def __repr__(self) -> str:
        return f"<ClientSession closed={self.closed}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if self.closed:
            return
        _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
        context: dict[str, object] = {
            "client_session": self,
            "message": "Unclosed client session",
        }
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)

    # -- properties -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once closed (or detached from its connector)."""
        return self._connector is None or self._connector.closed

    @property
    def connector(self) -> BaseConnector | None:
        """The connector (None once closed)."""
        return self._connector

    @property
    def cookie_jar(self) -> CookieJarLike:
        """The cookie jar."""
        return self._cookie_jar

    @property
    def version(self) -> HttpVersion:
        """The HTTP version of the requests."""
        return self._version

    @property
    def requote_redirect_url(self) -> bool:
        """Whether Location values are re-quoted."""
        return self._requote_redirect_url

    @property
    def timeout(self) -> ClientTimeout:
        """The default timeouts."""
        return self._timeout

    @property
    def headers(self) -> CIMultiDict[str]:
        """The default headers."""
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[istr]:
        """Header names never added automatically."""
        return self._skip_auto_headers

    @property
    def auth(self) -> BasicAuth | None:
        """The default credentials."""
        return self._default_auth

    @property
    def json_serialize(self) -> JSONEncoder:
        """The JSON encoder for ``json=``."""
        return self._json_serialize

    @property
    def connector_owner(self) -> bool:
        """Whether closing the session closes the connector."""
        return self._connector_owner

    @property
    def raise_for_status(self) -> RaiseForStatus:
        """The default ``raise_for_status``."""
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        """Whether bodies are decoded by their Content-Encoding."""
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        """Whether proxy settings and credentials come from the environment."""
        return self._trust_env

    @property
    def trace_configs(self) -> tuple[Any, ...]:
        """The trace configs."""
        return self._trace_configs

    @property
    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        """The session's middlewares."""
        return self._middlewares

    # -- lifecycle --------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the session (and its connector, when it owns it)."""
        connector = self._connector
        if connector is not None:
            self._connector = None
            if self._connector_owner and not connector.closed:
                await connector.close()

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None

    def __enter__(self) -> None:
        raise TypeError("Use async with instead")

    def __exit__(self, *exc: object) -> None:
        raise TypeError("Use async with instead")  # pragma: no cover - __enter__ raised

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- requests ---------------------------------------------------------------------------

    def request(
        self, method: str, url: str | URL, **kwargs: Unpack[RequestOptions]
    ) -> _RequestContextManager:
        """Send a request: ``await`` it, or use it with ``async with``.

        Options (all keyword): ``params``, ``data``, ``json``, ``cookies``, ``headers``,
        ``skip_auto_headers``, ``auth``, ``allow_redirects``, ``max_redirects``,
        ``compress``, ``chunked``, ``expect100``, ``raise_for_status``,
        ``read_until_eof``, ``proxy``, ``proxy_auth``, ``timeout``, ``ssl``,
        ``server_hostname``, ``proxy_headers``, ``trace_request_ctx``, ``read_bufsize``,
        ``auto_decompress``, ``max_line_size``, ``max_field_size``, ``max_headers``,
        ``middlewares``, ``upload_tracker`` (an :class:`UploadTracker`) -- as in aiohttp
        3.14.
        """
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send a GET request."""
        return _RequestContextManager(self._request(hdrs.METH_GET, url, **kwargs))

    def options(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send an OPTIONS request."""
        return _RequestContextManager(self._request(hdrs.METH_OPTIONS, url, **kwargs))

    def head(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send a HEAD request (redirects are not followed unless asked for)."""
        kwargs.setdefault("allow_redirects", False)
        return _RequestContextManager(self._request(hdrs.METH_HEAD, url, **kwargs))

    def post(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send a POST request."""
        return _RequestContextManager(self._request(hdrs.METH_POST, url, **kwargs))

    def put(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send a PUT request."""
        return _RequestContextManager(self._request(hdrs.METH_PUT, url, **kwargs))

    def patch(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send a PATCH request."""
        return _RequestContextManager(self._request(hdrs.METH_PATCH, url, **kwargs))

    def delete(self, url: str | URL, **kwargs: Unpack[RequestOptions]) -> _RequestContextManager:
        """Send a DELETE request."""
        return _RequestContextManager(self._request(hdrs.METH_DELETE, url, **kwargs))

    def ws_connect(self, url: str | URL, **kwargs: Any) -> Any:
        """Open a WebSocket (needs the ``websocket`` extra).

        Raises:
            ImportError: aioloom.websocket is not installed; the message names the pip
                command.
        """
        try:
            importlib.import_module("aioloom.websocket")
        except ModuleNotFoundError as exc:
            raise ImportError(_WEBSOCKET_HINT) from exc
        # The client side of the WebSocket lives in its own module (lazy, like the extra).
        ws = importlib.import_module("aioloom.client._ws")
        return ws._WSRequestContextManager(ws.ws_connect(self, url, **kwargs))

    # -- the request machinery --------------------------------------------------------------

    def _build_url(self, str_or_url: str | URL) -> URL:
        return build_url(self._base_url, str_or_url)

    def _prepare_headers(self, headers: LooseHeaders | None) -> CIMultiDict[str]:
        """The session's headers overridden (not extended) by the request's."""
        result: CIMultiDict[str] = CIMultiDict(self._default_headers)
        if headers:
            added: set[str] = set()
            items = CIMultiDict(headers).items()
            for name, value in items:
                if name in added:
                    result.add(name, value)
                else:
                    result[name] = value
                    added.add(name)
        return result

    def _real_timeout(self, timeout: ClientTimeout | float | None | Sentinel) -> ClientTimeout:
        if isinstance(timeout, Sentinel):
            return self._timeout
        if isinstance(timeout, ClientTimeout):
            return timeout
        return ClientTimeout(total=timeout)

    async def _request(
        self,
        method: str,
        str_or_url: str | URL,
        *,
        params: Params | None = None,
        data: Any = None,
        json: Any = None,
        cookies: LooseCookies | None = None,
        headers: LooseHeaders | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        raise_for_status: RaiseForStatus | None = None,
        read_until_eof: bool = True,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timeout: ClientTimeout | float | None | Sentinel = SENTINEL,
        ssl: SSLArg | None = True,
        server_hostname: str | None = None,
        proxy_headers: LooseHeaders | None = None,
        trace_request_ctx: object = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
        middlewares: Sequence[ClientMiddlewareType] | None = None,
        upload_tracker: UploadTracker | None = None,
    ) -> ClientResponse:
        if upload_tracker is not None:
            upload_tracker._bind()
        try:
            connector = self._connector
            if connector is None or connector._closed:
                raise RuntimeError("Session is closed")
            if data is not None and json is not None:
                raise ValueError("data and json parameters can not be used at the same time")
            if json is not None:
                data = JsonPayload(json, dumps=self._json_serialize)
            url = checked_url(self._base_url, str_or_url)
            if proxy is None:
                proxy, proxy_auth = self._default_proxy, proxy_auth or self._default_proxy_auth
            if (
                auth is None
                and self._default_auth is not None
                and url.raw_user is None
                and url.raw_password is None  # no credentials in the URL (BasicAuth.from_url)
            ):
                auth = self._default_auth
            hop_headers = (
                self._prepare_headers(headers) if headers else CIMultiDict(self._default_headers)
            )
            hop = Hop(method, url, params, data, hop_headers, auth)
            if (
                cookies is None
                and compress is None
                and chunked is None
                and not expect100
                and proxy is self._default_proxy
                and proxy_auth is self._default_proxy_auth
                and ssl is True
                and server_hostname is None
                and proxy_headers is None
                and upload_tracker is None
                and not skip_auto_headers
            ):
                options = self._default_options  # shared, never changed
            else:
                options = hop_options(
                    self,
                    skip_auto_headers=skip_auto_headers,
                    cookies=cookies,
                    compress=compress,
                    chunked=chunked,
                    expect100=expect100,
                    proxy=proxy,
                    proxy_auth=proxy_auth,
                    ssl=ssl,
                    server_hostname=server_hostname,
                    proxy_headers=proxy_headers,
                    upload_tracker=upload_tracker,
                )
            settings = hop_settings(
                self._default_settings,
                read_until_eof=read_until_eof,
                auto_decompress=auto_decompress,
                read_bufsize=read_bufsize,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
                max_headers=max_headers,
            )
            real_timeout = self._timeout if timeout is SENTINEL else self._real_timeout(timeout)
            tracer = (
                make_tracer(self, self._trace_configs, trace_request_ctx)
                if self._trace_configs
                else NO_TRACER
            )
            if tracer.enabled:
                start_url = url.extend_query(params) if params else url
                await tracer.send_request_start(method, start_url, hop.headers)
            deadline = Deadline(self._loop, real_timeout.total, real_timeout.ceil_threshold)
            timer = deadline.timer
            handler: ClientHandlerType = Exchange(self, real_timeout, timer, tracer, settings)
            chain = self._middlewares if middlewares is None else tuple(middlewares)
            if chain:
                handler = build_client_middlewares(handler, chain)
            hops = RequestChain(
                self,
                hop,
                options,
                handler,
                timer,
                tracer,
                allow_redirects=allow_redirects,
                max_redirects=max_redirects,
            )
            try:
                with timer if timer is not None else contextlib.nullcontext():
                    # The first hop is sent from here, not from a RequestChain coroutine:
                    # one coroutine layer fewer on every resume of a request.
                    req = hops.make_request()
                    resp = await handler(req)
                    target = hops.redirect_target(req, resp)
                    if target is not None:
                        resp = await hops.run_redirects(req, resp, target)
                check = self._raise_for_status if raise_for_status is None else raise_for_status
                if check is True:
                    resp.raise_for_status()
                elif check is not False and callable(check):
                    await check(resp)
                connection = resp._connection
                if connection is not None:
                    connection.add_callback(deadline.cancel)
                else:
                    deadline.cancel()
                if tracer.enabled:
                    await tracer.send_request_end(hop.method, hop.url, hop.headers, resp)
                return resp
            except BaseException as exc:
                deadline.cancel()
                if tracer.enabled:
                    await tracer.send_request_exception(hop.method, hop.url, hop.headers, exc)
                raise
        finally:
            if upload_tracker is not None:
                upload_tracker._request_finished()


def request(
    method: str,
    url: str | URL,
    *,
    version: HttpVersion = HttpVersion11,
    connector: BaseConnector | None = None,
    **kwargs: Unpack[RequestOptions],
) -> _SessionRequestContextManager:
    """Send one request with a session of its own: ``async with request(...) as resp``.

    Without ``connector`` a :class:`TCPConnector` with ``force_close=True`` is used and
    closed afterwards; the session (and an owned connector) close when the block ends.
    """
    connector_owner = connector is None
    if connector is None:
        connector = TCPConnector(force_close=True)
    session = ClientSession(
        cookies=kwargs.pop("cookies", None),
        version=version,
        timeout=kwargs.pop("timeout", SENTINEL),  # type: ignore[arg-type]
        connector=connector,
        connector_owner=connector_owner,
    )
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
