"""``ClientResponse``: a response's head, its streamed body, and their release.

The body is ``content``, a flow-controlled :class:`StreamReader`: nothing is buffered
beyond its limits until the application reads. ``read()``/``text()``/``json()`` read it
whole and cache it. The connection goes back to the pool by itself once the body was read
to its end (and the response allows persistence); :meth:`ClientResponse.release` before
that closes it instead, since the rest of the body is still on the wire. After a release,
reading the body raises :class:`ClientConnectionError`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import re
import traceback
import warnings
from collections.abc import Callable, Generator
from http.cookies import SimpleCookie
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from multidict import CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from aioloom.http import hdrs
from aioloom.http._content_disposition import (
    content_disposition_filename,
    parse_content_disposition,
)
from aioloom.http._cookies import parse_set_cookie_headers
from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._messages import HttpVersion, RawHeaders
from aioloom.http._mime import parse_content_type, parse_mimetype
from aioloom.http._quoting import unquote_string_lenient
from aioloom.http.aio._streams import StreamReader

from ._exceptions import ClientConnectionError, ClientResponseError, ContentTypeError
from ._reqrep_info import RequestInfo
from ._timeouts import TimerContext
from ._tracer import NO_TRACER, _Tracer

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ("ClientResponse", "ContentDisposition", "parse_links")

JSONDecoder = Callable[[str], Any]
FallbackCharsetResolver = Callable[["ClientResponse", bytes], str]

# RFC 8259 §11 / RFC 6839 §3.1: application/json and application/*+json.
_JSON_RE: Final = re.compile(r"^application/(?:[\w.+-]+?\+)?json")
# RFC 8288 §3: Link = #link-value; link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
_LINK_RE: Final = re.compile(
    r'\s*<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[^;,\s=]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)\s*,?'
)
_LINK_PARAM_RE: Final = re.compile(r';\s*([^;,\s=]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?')


class _Noop:
    """An awaitable that completes at once (what ``release()`` returns)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # a generator that finishes without suspending


_NOOP: Final = _Noop()


class ContentDisposition(NamedTuple):
    """A parsed Content-Disposition field (RFC 6266)."""

    type: str | None
    parameters: MappingProxyType[str, str]
    filename: str | None


def _default_charset(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


def parse_links(value: str, base: URL) -> MultiDictProxy[MultiDictProxy[str | URL]]:
    """Parse a Link field (RFC 8288) into aiohttp's ``links`` shape.

    Each link is keyed by its ``rel`` (or its URL when it has none) and maps its
    parameters plus ``url``: the target resolved against ``base``.
    """
    links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
    for match in _LINK_RE.finditer(value):
        if not match.group(0).strip():
            continue
        link: MultiDict[str | URL] = MultiDict()
        for param in _LINK_PARAM_RE.finditer(match.group("params")):
            raw = param.group(2) or ""
            link.add(param.group(1).lower(), unquote_string_lenient(raw) if raw[:1] == '"' else raw)
        url = match.group("url")
        key = link.get("rel", url)
        link.add("url", base.join(URL(url)))
        links.add(str(key), MultiDictProxy(link))
    return MultiDictProxy(links)


class ClientResponse:
    """The response to one request.

    Args:
        method: the request method.
        url: the request URL.
        writer: the task still writing the request body, if any.
        continue100: the future a ``100 Continue`` resolves (``expect100``), if any.
        timer: the request's total timeout, entered while waiting for the body.
        request_info: the request as sent.
        traces: the request's tracer.
        loop: the event loop.
        session: the session that made the request (for its cookie jar and charset
            fallback), or None.
    """

    version: HttpVersion | None = None
    status: int = None  # type: ignore[assignment]  # set by start()
    reason: str | None = None
    content: StreamReader = None  # type: ignore[assignment]  # set by start()
    _body: bytes | None = None
    _headers: CIMultiDictProxy[str] = None  # type: ignore[assignment]
    _raw_headers: RawHeaders = ()
    _connection: Connection | None = None
    _cookies: SimpleCookie | None = None
    _closed = True
    _released = False
    _in_context = False
    _writer: asyncio.Task[None] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        writer: asyncio.Task[None] | None,
        continue100: asyncio.Future[bool] | None,
        timer: TimerContext | None,
        request_info: RequestInfo,
        traces: _Tracer | None,
        loop: asyncio.AbstractEventLoop,
        session: Any,
    ) -> None:
        self.method = method
        self._real_url = url
        self._url = url.with_fragment(None) if url.raw_fragment else url
        self._writer = writer
        self._continue = continue100
        self._timer = timer
        self._request_info = request_info
        self._traces = traces if traces is not None else NO_TRACER
        self._loop = loop
        self._session = session
        self._history: tuple[ClientResponse, ...] = ()
        self._resolve_charset: FallbackCharsetResolver = _default_charset
        if session is not None:
            self._resolve_charset = getattr(session, "_resolve_charset", _default_charset)
        self._source_traceback = traceback.extract_stack(limit=16) if loop.get_debug() else None

    # -- head -----------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The URL of the request (without fragment)."""
        return self._url

    @property
    def real_url(self) -> URL:
        """The URL as requested, fragment included."""
        return self._real_url

    @property
    def host(self) -> str:
        """The host of the URL."""
        host = self._url.host
        assert host is not None
        return host

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response header fields."""
        return self._headers

    @property
    def raw_headers(self) -> RawHeaders:
        """The header fields as received: ``((name, value), ...)`` in bytes."""
        return self._raw_headers

    @property
    def request_info(self) -> RequestInfo:
        """The request as sent."""
        return self._request_info

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        """The redirect responses that led to this one, oldest first."""
        return self._history

    @property
    def connection(self) -> Connection | None:
        """The connection, until the response is released."""
        return self._connection

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status < 400

    @property
    def closed(self) -> bool:
        """True once released, closed, or read to its end."""
        return self._closed

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies set by the response's Set-Cookie fields (RFC 6265 §5.2)."""
        if self._cookies is None:
            cookies = SimpleCookie()
            if self._headers is not None:
                values = self._headers.getall(hdrs.SET_COOKIE, ())
                for name, morsel in parse_set_cookie_headers(values):
                    dict.__setitem__(cookies, name, morsel)
            self._cookies = cookies
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: SimpleCookie) -> None:
        self._cookies = cookies

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        """The Link field, parsed (RFC 8288)."""
        values = self._headers.getall(hdrs.LINK, ()) if self._headers is not None else ()
        return parse_links(", ".join(values), self._url)

    @property
    def content_type(self) -> str:
        """The media type, lower-cased; ``application/octet-stream`` when absent."""
        raw = self._headers.get(hdrs.CONTENT_TYPE, "") if self._headers is not None else ""
        return parse_content_type(raw)[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of the Content-Type, if any."""
        raw = self._headers.get(hdrs.CONTENT_TYPE, "") if self._headers is not None else ""
        return parse_content_type(raw)[1].get("charset")

    @property
    def content_length(self) -> int | None:
        """The Content-Length, if given."""
        raw = self._headers.get(hdrs.CONTENT_LENGTH) if self._headers is not None else None
        return int(raw) if raw is not None else None

    @property
    def content_disposition(self) -> ContentDisposition | None:
        """The parsed Content-Disposition field, if any."""
        raw = self._headers.get(hdrs.CONTENT_DISPOSITION) if self._headers is not None else None
        if raw is None:
            return None
        disptype, params = parse_content_disposition(raw)
        return ContentDisposition(
            disptype, MappingProxyType(params), content_disposition_filename(params)
        )

    def __repr__(self) -> str:
        ascii_url = str(self._url).encode("ascii", "backslashreplace").decode("ascii")
        reason = (self.reason or "").encode("ascii", "backslashreplace").decode("ascii")
        return f"<ClientResponse({ascii_url}) [{self.status} {reason}]>\n{self._headers!r}\n"

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed or self._connection is None or self._loop.is_closed():
            return
        self._connection.release()
        self._cleanup_writer()
        if self._loop.get_debug():
            _warnings.warn(f"Unclosed response {self!r}", ResourceWarning, source=self)
            context: dict[str, object] = {"client_response": self, "message": "Unclosed response"}
            if self._source_traceback is not None:
                context["source_traceback"] = self._source_traceback
            self._loop.call_exception_handler(context)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, connection: Connection) -> ClientResponse:
        """Read the response head from ``connection`` (interim 1xx heads are consumed).

        Raises:
            ClientResponseError: the head is malformed (status: the parser's hint).
            ServerDisconnectedError, ClientOSError, SocketTimeoutError: see the connection.
        """
        self._closed = False
        self._connection = connection
        protocol = connection._protocol
        assert protocol is not None
        while True:
            try:
                message, payload = await protocol.read_head()
            except HttpProcessingError as exc:
                raise ClientResponseError(
                    self.request_info,
                    self.history,
                    status=exc.code,
                    message=exc.message,
                    headers=exc.headers,
                ) from exc
            if not 100 <= message.code < 200 or message.code == 101:
                break
            if self._continue is not None and not self._continue.done():
                self._continue.set_result(True)  # RFC 9110 §15.2.1: send the content now
        self.version = message.version
        self.status = message.code
        self.reason = message.reason
        self._headers = message.headers
        self._raw_headers = message.raw_headers
        self.content = payload
        if self._continue is not None and not self._continue.done():
            # A final status without 100 Continue: the content is not sent (RFC 9110
            # §10.1.1), and the connection cannot be reused since the server was told
            # a body would follow.
            protocol.force_close()
            self._cleanup_writer()
        payload.on_eof(self._response_eof)
        return self

    def _response_eof(self) -> None:
        if self._closed:
            return
        connection = self._connection
        protocol = connection._protocol if connection is not None else None
        if protocol is not None and protocol._upgraded:
            return
        self._closed = True
        self._release_connection()

    def _notify_content(self) -> None:
        content = self.content
        if content is not None and content.exception() is None:
            content.set_exception(ClientConnectionError("Connection closed"))
        self._released = True

    def _cleanup_writer(self) -> None:
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()

    def _release_connection(self) -> None:
        connection = self._connection
        if connection is None:
            return
        writer = self._writer
        if writer is not None and not writer.done():
            writer.add_done_callback(lambda _: self._release_connection())
            return
        self._connection = None
        connection.release()

    def release(self) -> _Noop:
        """Give the connection back; an unread body makes it close instead.

        Returns:
            An awaitable that does nothing, so that code written for old aiohttp versions
            (``await resp.release()``) keeps working; calling it without ``await`` is fine.
        """
        if not self._released:
            self._notify_content()
        self._closed = True
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()
        if self._connection is not None:
            self._release_connection()
        return _NOOP

    def close(self) -> None:
        """Close the connection (whatever the state of the body)."""
        if not self._released:
            self._notify_content()
        self._closed = True
        if self._loop.is_closed():
            return
        self._cleanup_writer()
        connection = self._connection
        if connection is not None:
            self._connection = None
            connection.close()

    async def wait_for_close(self) -> None:
        """Wait until the request body is written (or abandoned), then release."""
        writer = self._writer
        if writer is not None and not writer.done():
            await asyncio.wait([writer])
        self.release()

    def raise_for_status(self) -> None:
        """Raise :class:`ClientResponseError` for a status of 400 or more."""
        if self.ok:
            return
        if not self._in_context:
            self.release()
        raise ClientResponseError(
            self.request_info,
            self.history,
            status=self.status,
            message=self.reason or "",
            headers=self.headers,
        )

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._in_context = False
        self.release()
        await self.wait_for_close()

    # -- body -------------------------------------------------------------------------------

    async def read(self) -> bytes:
        """Read the whole body (once; later calls return the same bytes).

        Raises:
            ClientConnectionError: the response was released before its body was read.
            ClientPayloadError: the body is malformed or truncated.
        """
        if self._body is not None:
            return self._body
        if self._released:
            raise ClientConnectionError("Connection closed")
        content = self.content
        try:
            if type(content) is StreamReader and content.is_eof():
                # The whole body is buffered already (a small response's usual case):
                # read() would return the same bytes through three coroutines.
                body = content.read_nowait()
            else:
                body = await content.read()
        except BaseException:
            self.close()
            raise
        self._body = body
        tracer = self._traces
        if tracer.enabled:
            await tracer.send_response_chunk_received(self.method, self._url, body)
        return body

    def get_encoding(self) -> str:
        """The charset of the body: Content-Type's, then UTF-8 for JSON, then the fallback.

        Raises:
            RuntimeError: the fallback is needed but the body was not read yet.
        """
        ctype = self._headers.get(hdrs.CONTENT_TYPE, "").lower() if self._headers else ""
        mimetype = parse_mimetype(ctype)
        encoding = mimetype.parameters.get("charset")
        if encoding:
            with contextlib.suppress(LookupError, ValueError):
                return codecs.lookup(encoding).name
        if mimetype.type == "application" and mimetype.subtype in ("json", "rdap"):
            return "utf-8"  # RFC 8259 §8.1; RFC 9083 (application/rdap+json)
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._resolve_charset(self, self._body)

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """Read the body and decode it (see :meth:`get_encoding`)."""
        body = await self.read()
        if encoding is None:
            encoding = self.get_encoding()
        return body.decode(encoding, errors=errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: JSONDecoder = json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """Read the body and parse it as JSON; an empty body gives None.

        Args:
            encoding: the text encoding (see :meth:`get_encoding` when None).
            loads: the JSON decoder.
            content_type: the media type required (None: no check); for
                ``application/json`` any ``application/*+json`` type matches.

        Raises:
            ContentTypeError: the response's media type is not the expected one.
        """
        body = await self.read()
        if content_type:
            actual = self.content_type
            matches = (
                _JSON_RE.match(actual) is not None
                if content_type == "application/json"
                else content_type in actual
            )
            if not matches:
                raise ContentTypeError(
                    self.request_info,
                    self.history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {actual}",
                    headers=self.headers,
                )
        stripped = body.strip()
        if not stripped:
            return None
        if encoding is None:
            encoding = self.get_encoding()
        return loads(stripped.decode(encoding))
