"""Incoming requests: :class:`BaseRequest` (low-level server) and :class:`Request` (apps).

A request wraps the parsed head (:class:`~aioloom.http.RawRequestMessage`), the body stream
and the connection. Everything beyond the head's own fields is computed on first use and
cached (``url``, ``query``, ``cookies``, ``forwarded``, the conditional headers...), so a
handler pays only for what it reads. The constructor takes no socket: the ``protocol``
is only asked for its ``transport`` (``get_extra_info("peername")``/``"sslcontext"``, read
lazily; after a disconnect the protocol's remembered ``peername``/``ssl_context``), so a
request is easy to build in tests, from a real unconnected protocol or a mock.

Body access (``read``, ``text``, ``json``, ``post``) enforces ``client_max_size`` (1 MiB by
default) while reading, with :class:`~aioloom.web.HTTPRequestEntityTooLarge` (413).
``multipart()`` and multipart ``post()`` need the ``aioloom-web[multipart]`` extra, imported
only when called.

Around the classes: the headers parsed on first use (cookies, ``Forwarded``, ``Range``,
preconditions) are in :mod:`._request_headers`, ``clone()`` in :mod:`._request_clone`, and
the ``Expect: 100-continue`` answer (:func:`default_expect_handler`) in :mod:`._expect`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import warnings
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast, overload

from multidict import CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from aioloom.http import hdrs
from aioloom.http._chainmap import ChainMapProxy
from aioloom.http._messages import HttpVersion, RawHeaders, RawRequestMessage
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._streams import EmptyStreamReader, StreamReader

from ._content_type import HeadersMixin
from ._exceptions import HTTPRequestEntityTooLarge, HTTPUnsupportedMediaType
from ._expect import default_expect_handler
from ._keys import RequestKey
from ._reify import reify
from ._request_clone import SENTINEL as _SENTINEL
from ._request_clone import clone_request
from ._request_form import (
    FileField,
    multipart_reader_class,
    read_multipart,
    read_urlencoded,
)
from ._request_headers import ParsedHeadersMixin
from ._signals import Signal
from ._typedefs import JSONDecoder, LooseHeaders, StrOrURL

if TYPE_CHECKING:
    from ._app import Application
    from ._protocol import RequestHandler
    from ._stream_response import StreamResponse

__all__ = ("BaseRequest", "FileField", "Request", "default_expect_handler")

_T = TypeVar("_T")

DEFAULT_CLIENT_MAX_SIZE: Final = 2**20
"""aiohttp's default ``client_max_size``: 1 MiB of request body."""
DEFAULT_CLIENT_MAX_FIELDS: Final = 1000
"""aiohttp 3.14's default ``client_max_fields``: form fields ``post()`` accepts."""


class BaseRequest(MutableMapping[Any, Any], ParsedHeadersMixin, HeadersMixin):
    """An HTTP request (aiohttp's ``BaseRequest``): what the low-level server hands over.

    Args:
        message: the parsed request head.
        payload: the body stream (``EMPTY_PAYLOAD`` when there is no body).
        protocol: the connection's :class:`~aioloom.web.RequestHandler`.
        payload_writer: the writer the response goes out through.
        task: the task running the handler.
        loop: the event loop.
        client_max_size: the largest body ``read()``/``post()`` accept (0: no limit).
        client_max_fields: the most fields ``post()`` accepts (0: no limit).
        state: the initial mapping contents (``clone`` copies them).
        scheme: overrides the scheme (``http``/``https``).
        host: overrides the host.
        remote: overrides the client address.

    It is a mutable mapping for sharing data between middlewares and handlers;
    :class:`~aioloom.web.RequestKey` keys are typed.
    """

    POST_METHODS: Final = frozenset(
        {hdrs.METH_PATCH, hdrs.METH_POST, hdrs.METH_PUT, hdrs.METH_TRACE, hdrs.METH_DELETE}
    )

    _has_prepare_hook: bool = False  # True when a subclass overrides _prepare_hook
    _read_bytes: bytes | None = None
    _post: MultiDictProxy[str | bytes | FileField] | None = None
    _disconnection_waiters: set[asyncio.Future[None]] | None = None

    def __init__(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        payload_writer: AbstractStreamWriter,
        task: asyncio.Task[None],
        loop: asyncio.AbstractEventLoop,
        *,
        client_max_size: int = DEFAULT_CLIENT_MAX_SIZE,
        client_max_fields: int = DEFAULT_CLIENT_MAX_FIELDS,
        state: dict[Any, Any] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
    ) -> None:
        self._message = message
        self._protocol = protocol
        self._payload_writer = payload_writer
        self._payload = payload
        self._headers: CIMultiDictProxy[str] = message.headers
        self._method = message.method
        self._version = message.version
        self._task = task
        self._loop = loop
        self._client_max_size = client_max_size
        self._client_max_fields = client_max_fields
        self._state: dict[Any, Any] = {} if state is None else state
        url = message.url
        if url.absolute:  # absolute-form request-target (RFC 9112 §3.2.2)
            if scheme is not None:
                url = url.with_scheme(scheme)
            if host is not None:
                url = url.with_host(host)
            self.__dict__["url"] = url
            self._rel_url = url.relative()
        else:
            self._rel_url = url
        if scheme is not None:
            self.__dict__["scheme"] = scheme
        if host is not None:
            self.__dict__["host"] = host
        if remote is not None:
            self.__dict__["remote"] = remote

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Responses skip awaiting the hook when it is the empty one (the common case).
        cls._has_prepare_hook = cls._prepare_hook is not BaseRequest._prepare_hook

    def clone(
        self,
        *,
        method: str = _SENTINEL,
        rel_url: StrOrURL = _SENTINEL,
        headers: LooseHeaders = _SENTINEL,
        scheme: str = _SENTINEL,
        host: str = _SENTINEL,
        remote: str = _SENTINEL,
        client_max_size: int = _SENTINEL,
        client_max_fields: int = _SENTINEL,
    ) -> BaseRequest:
        """Return a copy with some attributes replaced (state is copied, body shared).

        Raises:
            RuntimeError: the body was already read.
        """
        return clone_request(
            self,
            method=method,
            rel_url=rel_url,
            headers=headers,
            scheme=scheme,
            host=host,
            remote=remote,
            client_max_size=client_max_size,
            client_max_fields=client_max_fields,
        )

    # -- the connection -----------------------------------------------------------------

    @property
    def task(self) -> asyncio.Task[None]:
        """The task running the handler."""
        return self._task

    @property
    def protocol(self) -> RequestHandler:
        """The connection's protocol."""
        return self._protocol

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection's transport (None once closed)."""
        return self._protocol.transport

    @property
    def writer(self) -> AbstractStreamWriter:
        """The writer the response goes out through."""
        return self._payload_writer

    @property
    def client_max_size(self) -> int:
        """The largest body the read methods accept, in bytes."""
        return self._client_max_size

    @property
    def client_max_fields(self) -> int:
        """The most form fields ``post()`` accepts."""
        return self._client_max_fields

    @property
    def message(self) -> RawRequestMessage:
        """The parsed request head."""
        return self._message

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop (deprecated, as in aiohttp)."""
        warnings.warn("request.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Read ``name`` from the transport's extra info (``default`` when closed)."""
        transport = self._protocol.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    # -- the head ---------------------------------------------------------------------------

    @property
    def method(self) -> str:
        """The request method, e.g. ``"GET"``."""
        return self._method

    @property
    def version(self) -> HttpVersion:
        """The HTTP version, ``HttpVersion(1, 1)`` or ``HttpVersion(1, 0)``."""
        return self._version

    @property
    def rel_url(self) -> URL:
        """The request-target as a relative URL (path, query, fragment)."""
        return self._rel_url

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The request headers (case-insensitive, read-only)."""
        return self._headers

    @property
    def raw_headers(self) -> RawHeaders:
        """The headers as ``(name, value)`` byte pairs, as received."""
        return self._message.raw_headers

    @property
    def raw_path(self) -> str:
        """The request-target as received (may be percent-encoded)."""
        return self._message.path

    @property
    def keep_alive(self) -> bool:
        """True when the client allows the connection to stay open (RFC 9112 §9.3)."""
        return not self._message.should_close

    def _transport_info(self, name: str, cached: str) -> Any:
        # The transport when connected (mocked protocols provide one); after the
        # connection is gone, what the protocol remembered of it.
        transport = self._protocol.transport
        if transport is not None:
            return transport.get_extra_info(name)
        return getattr(self._protocol, cached, None)

    @reify
    def scheme(self) -> str:
        """``"https"`` over TLS, else ``"http"`` (or the value given to ``clone``)."""
        return "https" if self._transport_info("sslcontext", "ssl_context") else "http"

    @reify
    def secure(self) -> bool:
        """True when the scheme is https."""
        return self.scheme == "https"

    @reify
    def host(self) -> str:
        """The Host header, else the server's FQDN (or the value given to ``clone``)."""
        host = self._headers.get(hdrs.HOST)
        return host if host is not None else socket.getfqdn()

    @reify
    def remote(self) -> str | None:
        """The client's address (IP for TCP), or the value given to ``clone``."""
        peername = self._transport_info("peername", "peername")
        if peername is None:
            return None
        if isinstance(peername, (list, tuple)):
            return str(peername[0])
        return str(peername)

    @reify
    def url(self) -> URL:
        """The absolute URL: scheme, host and the request-target."""
        return URL.build(scheme=self.scheme, authority=self.host).join(self._rel_url)

    @reify
    def path(self) -> str:
        """The decoded path, e.g. ``/app/blog``."""
        return self._rel_url.path

    @reify
    def path_qs(self) -> str:
        """The path with the query string, e.g. ``/app/blog?id=10``."""
        return str(self._rel_url)

    @reify
    def query(self) -> MultiDictProxy[str]:
        """The query string parameters."""
        return self._rel_url.query

    @reify
    def query_string(self) -> str:
        """The decoded query string, e.g. ``id=10``."""
        return self._rel_url.query_string

    # -- the body ---------------------------------------------------------------------------

    @property
    def content(self) -> StreamReader:
        """The body stream."""
        return self._payload

    @property
    def body_exists(self) -> bool:
        """True when the request has a body (even one already read)."""
        return type(self._payload) is not EmptyStreamReader

    @property
    def can_read_body(self) -> bool:
        """True while body bytes remain to be read."""
        return not self._payload.at_eof()

    @property
    def has_body(self) -> bool:
        """Deprecated alias of :attr:`can_read_body`."""
        warnings.warn("Deprecated, use .can_read_body #2005", DeprecationWarning, stacklevel=2)
        return not self._payload.at_eof()

    async def release(self) -> None:
        """Read and drop the rest of the body."""
        while not self._payload.at_eof():
            await self._payload.readany()

    async def read(self) -> bytes:
        """Read the whole body (kept: later calls return the same bytes).

        Raises:
            HTTPRequestEntityTooLarge: the body is larger than ``client_max_size``.
        """
        if self._read_bytes is None:
            max_size = self._client_max_size
            payload = self._payload
            if payload.is_eof():
                # The whole body came with the head (a small upload): take it without
                # waiting; one chunk is returned as it is.
                body = payload.read_nowait()
                if max_size and len(body) > max_size:
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=len(body))
                self._read_bytes = body if type(body) is bytes else bytes(body)
                return self._read_bytes
            # The chunks are kept as they come and joined once: no bytearray growth, no
            # final copy, and a body that arrived in one piece is returned as it is.
            chunks: list[bytes] = []
            size = 0
            while chunk := await payload.readany():
                chunks.append(chunk)
                size += len(chunk)
                if max_size and size > max_size:
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=size)
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._read_bytes = body if type(body) is bytes else bytes(body)
        return self._read_bytes

    async def text(self) -> str:
        """Read the body and decode it with the charset (UTF-8 by default).

        Raises:
            HTTPUnsupportedMediaType: the charset is unknown.
        """
        body = await self.read()
        encoding = self.charset or "utf-8"
        try:
            return body.decode(encoding)
        except LookupError as exc:
            raise HTTPUnsupportedMediaType() from exc

    async def json(self, *, loads: JSONDecoder = json.loads) -> Any:
        """Read the body and decode it as JSON with ``loads``."""
        return loads(await self.text())

    async def multipart(self) -> Any:
        """Return a ``MultipartReader`` over the body (needs the multipart extra).

        Raises:
            ModuleNotFoundError: aioloom-multipart is not installed (the message names
                the pip command).
        """
        return multipart_reader_class()(self._headers, self._payload)

    async def post(self) -> MultiDictProxy[str | bytes | FileField]:
        """Read form fields from an urlencoded or multipart/form-data body (kept).

        Other methods than POST, PUT, PATCH, TRACE and DELETE, and other content types,
        give an empty multidict.

        Raises:
            HTTPRequestEntityTooLarge: the body is larger than ``client_max_size``.
            HTTPUnsupportedMediaType: the charset is unknown.
        """
        if self._post is not None:
            return self._post
        out: MultiDict[str | bytes | FileField] = MultiDict()
        if self._method in self.POST_METHODS:
            raw_type = self._headers.get(hdrs.CONTENT_TYPE)
            content_type = "" if raw_type is None else self.content_type
            if content_type == "multipart/form-data":
                multipart = await self.multipart()
                max_size, max_fields = self._client_max_size, self._client_max_fields
                await read_multipart(multipart, max_size, max_fields, out, self._loop)
            elif content_type in ("", "application/x-www-form-urlencoded"):
                charset = self.charset or "utf-8"
                read_urlencoded(await self.read(), charset, self._client_max_fields, out)
        self._post = MultiDictProxy(out)
        return self._post

    # -- mapping ----------------------------------------------------------------------------

    @overload
    def __getitem__(self, key: RequestKey[_T]) -> _T: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: Any) -> Any:
        return self._state[key]

    @overload
    def __setitem__(self, key: RequestKey[_T], value: _T) -> None: ...

    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...

    def __setitem__(self, key: Any, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._state)

    def __repr__(self) -> str:
        path = self.path.encode("ascii", "backslashreplace").decode("ascii")
        return f"<{self.__class__.__name__} {self._method} {path} >"

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return hash(id(self))

    def __bool__(self) -> bool:
        return True

    # -- hooks for the server and the application ---------------------------------------------

    async def _prepare_hook(self, response: StreamResponse) -> None:
        """Called by ``response.prepare``; :class:`Request` runs ``on_response_prepare``."""

    def _send_continue(self) -> None:
        """Send ``100 Continue`` once, if the final head has not gone out yet."""
        self._protocol.send_continue(self)

    def _cancel(self, exc: BaseException) -> None:
        """The client went away: fail body reads and wake ``wait_for_disconnection``."""
        self._payload.set_exception(exc)
        waiters = self._disconnection_waiters
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _finish(self) -> None:
        """The response is done: cancel waiters and close spooled upload files."""
        waiters = self._disconnection_waiters
        if waiters:
            for waiter in waiters:
                waiter.cancel()
        if self._post is None:
            return
        for value in self._post.values():
            if isinstance(value, FileField):
                value.file.close()

    async def wait_for_disconnection(self) -> None:
        """Wait until the client disconnects (cancelled when the response is done)."""
        waiter: asyncio.Future[None] = self._loop.create_future()
        if self._disconnection_waiters is None:
            self._disconnection_waiters = set()
        self._disconnection_waiters.add(waiter)
        try:
            await waiter
        finally:
            self._disconnection_waiters.discard(waiter)


class _NoMatchInfo(dict[str, str]):
    """The match info of a request no application routed: empty, no apps."""

    apps: tuple[Any, ...] = ()
    current_app: Any = None
    route: Any = None
    http_exception: Any = None

    def __repr__(self) -> str:
        return "<MatchInfo: no route>"


_NO_MATCH_INFO: Final = _NoMatchInfo()


class Request(BaseRequest):
    """A request routed by an :class:`~aioloom.web.Application` (aiohttp's ``Request``).

    The application layer sets ``_match_info`` (an ``AbstractMatchInfo``: the route's
    match dict with ``apps`` and ``current_app``) after routing. Without it the request
    still works: ``match_info`` is empty, ``app`` is None and ``config_dict`` is empty.
    """

    _match_info: Any = None

    def clone(
        self,
        *,
        method: str = _SENTINEL,
        rel_url: StrOrURL = _SENTINEL,
        headers: LooseHeaders = _SENTINEL,
        scheme: str = _SENTINEL,
        host: str = _SENTINEL,
        remote: str = _SENTINEL,
        client_max_size: int = _SENTINEL,
        client_max_fields: int = _SENTINEL,
    ) -> Request:
        """Return a copy with some attributes replaced; the match info is kept."""
        ret = super().clone(
            method=method,
            rel_url=rel_url,
            headers=headers,
            scheme=scheme,
            host=host,
            remote=remote,
            client_max_size=client_max_size,
            client_max_fields=client_max_fields,
        )
        new_ret = cast(Request, ret)
        new_ret._match_info = self._match_info
        return new_ret

    @property
    def match_info(self) -> Any:
        """The result of routing (an ``UrlMappingMatchInfo``); empty when not routed."""
        match_info = self._match_info
        return _NO_MATCH_INFO if match_info is None else match_info

    @property
    def app(self) -> Application:
        """The application that routed the request (None when it was not routed)."""
        match_info = self._match_info
        return cast("Application", None if match_info is None else match_info.current_app)

    @property
    def config_dict(self) -> ChainMapProxy[Any, Any]:
        """The state of the current application and its parents, innermost first."""
        match_info = self._match_info
        if match_info is None:
            return ChainMapProxy(())
        apps = list(match_info.apps)
        current = self.app
        index = apps.index(current) if current in apps else len(apps) - 1
        return ChainMapProxy(reversed(apps[: index + 1]))

    async def _prepare_hook(self, response: StreamResponse) -> None:
        match_info = self._match_info
        if match_info is None:
            return
        apps = getattr(match_info, "_apps", None)  # UrlMappingMatchInfo's tuple, no copy
        for app in match_info.apps if apps is None else apps:
            signal = app.on_response_prepare
            # An empty frozen signal sends nothing: skip the coroutine.
            if type(signal) is not Signal or signal._items or not signal._frozen:
                await signal.send(self, response)
