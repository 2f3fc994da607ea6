"""The streaming HTTP response of the server: :class:`StreamResponse`.

A response is a small state machine (aiohttp's): status, headers and cookies may change
until :meth:`StreamResponse.prepare` computes the framing headers (Content-Length or
chunked, Connection, Date, Server), runs the application's ``on_response_prepare`` signal
through ``request._prepare_hook`` and hands the head to the connection's writer. The writer
buffers the head, so a small response leaves as one ``transport.write`` of head and body.
Body writes go through the same writer, which applies compression and chunked framing and
waits (drains) while the peer is slow.

Framing (RFC 9112 §6): a known length gives Content-Length; otherwise HTTP/1.1 uses chunked
transfer coding and HTTP/1.0 closes the connection after the body. HEAD requests, 1xx, 204
and 304 answers (and 2xx answers to CONNECT) carry no body (RFC 9110 §6.4.1).

Compression: :meth:`StreamResponse.enable_compression` negotiates a coding from the
request's Accept-Encoding (see :mod:`._coding`) or uses a forced :class:`ContentCoding`;
the writer then compresses the stream (so the body is chunked).
"""

from __future__ import annotations

import asyncio
import math
import sys
import warnings
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

from multidict import CIMultiDict

from aioloom.http import hdrs
from aioloom.http._cookies import format_set_cookie
from aioloom.http._dates import format_http_date, parse_http_date
from aioloom.http._etag import ETag, format_etag, parse_etag
from aioloom.http._messages import HttpVersion10, HttpVersion11
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._writer import StreamWriter

from ._coding import ContentCoding, negotiate_coding
from ._content_type import DEFAULT_CONTENT_TYPE, HeadersMixin
from ._keys import ResponseKey
from ._typedefs import LooseHeaders

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = (
    "SERVER_SOFTWARE",
    "StreamResponse",
    "must_be_empty_body",
    "should_remove_content_length",
)

_T = TypeVar("_T")

SERVER_SOFTWARE: Final = f"Python/{sys.version_info[0]}.{sys.version_info[1]} aioloom/0.1.0"
"""The default ``Server`` header (aiohttp sends ``Python/3.x aiohttp/3.y``)."""

_REASONS: Final = {status.value: status.phrase for status in HTTPStatus}
_EPOCH_EXPIRES: Final = "Thu, 01 Jan 1970 00:00:00 GMT"


def must_be_empty_body(method: str, status: int) -> bool:
    """True when the answer carries no body (RFC 9110 §6.4.1, §9.3.2, §9.3.6)."""
    return (
        method == hdrs.METH_HEAD
        or status < 200
        or status in (204, 304)
        or (method == hdrs.METH_CONNECT and 200 <= status < 300)
    )


def should_remove_content_length(method: str, status: int) -> bool:
    """True when Content-Length must not be sent (RFC 9110 §8.6: 1xx, 204, CONNECT 2xx)."""
    return status < 200 or status == 204 or (method == hdrs.METH_CONNECT and 200 <= status < 300)


def _check_reason(reason: str) -> str:
    if "\n" in reason or "\r" in reason:
        raise ValueError("Reason cannot contain \\n or \\r")  # RFC 9112 §4: no response splitting
    return reason


class StreamResponse(MutableMapping[Any, Any], HeadersMixin):
    """An HTTP response whose body is written piece by piece (aiohttp's ``StreamResponse``).

    Args:
        status: the status code (100-999).
        reason: the reason phrase; derived from ``status`` when None.
        headers: initial headers (copied).

    It is also a mutable mapping for sharing data between middlewares and signal
    handlers; :class:`~aioloom.web.ResponseKey` keys are typed.
    """

    __http_exception__: bool = False  # True on HTTPException (a raisable response)
    _length_check: bool = True
    _keep_alive: bool | None = None
    _chunked: bool = False
    _compression: bool = False
    _compression_force: ContentCoding | None = None
    _compression_strategy: int | None = None
    _req: BaseRequest | None = None
    _payload_writer: AbstractStreamWriter | None = None
    _eof_sent: bool = False
    _must_be_empty_body: bool | None = None
    _body_length: int = 0
    _cookies: SimpleCookie | None = None
    _state: dict[Any, Any] | None = None
    _status: int
    _reason: str

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
        _real_headers: CIMultiDict[str] | None = None,
    ) -> None:
        if _real_headers is not None:
            self._headers: CIMultiDict[str] = _real_headers
        elif headers is not None:
            self._headers = CIMultiDict(headers)
        else:
            self._headers = CIMultiDict()
        if reason is None and type(status) is int and 100 <= status <= 999:
            self._status = status  # set_status() without its checks that cannot fail here
            self._reason = _REASONS.get(status, "")
        else:
            self.set_status(status, reason)

    # -- state ------------------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        """True once :meth:`prepare` ran (the head is on its way)."""
        return self._eof_sent or self._payload_writer is not None

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task serving the request, while the response is being sent."""
        return self._req.task if self._req is not None else None

    @property
    def status(self) -> int:
        """The status code."""
        return self._status

    @property
    def reason(self) -> str:
        """The reason phrase."""
        return self._reason

    @property
    def chunked(self) -> bool:
        """True when chunked transfer coding was enabled."""
        return self._chunked

    @property
    def compression(self) -> bool:
        """True when compression was enabled."""
        return self._compression

    def set_status(self, status: int, reason: str | None = None) -> None:
        """Set the status code and reason phrase.

        Raises:
            RuntimeError: the head was already sent.
            ValueError: the status is not 100-999 or the reason holds CR or LF.
        """
        if self._payload_writer is not None or self._eof_sent:
            raise RuntimeError(
                "Cannot change the response status code after the headers have been sent"
            )
        status = int(status)
        if not 100 <= status <= 999:  # RFC 9110 §15: a three-digit integer
            raise ValueError(f"Invalid HTTP status code {status}")
        self._status = status
        if reason is None:
            self._reason = _REASONS.get(status, "")
        else:
            self._reason = _check_reason(reason)

    @property
    def keep_alive(self) -> bool | None:
        """Whether the connection stays open after this response (None: as the request)."""
        return self._keep_alive

    def force_close(self) -> None:
        """Close the connection after this response."""
        self._keep_alive = False

    @property
    def body_length(self) -> int:
        """Bytes written for this response, head included (set by :meth:`write_eof`)."""
        return self._body_length

    @property
    def output_length(self) -> int:
        """Bytes written since the last drain (deprecated, as in aiohttp)."""
        warnings.warn("output_length is deprecated", DeprecationWarning, stacklevel=2)
        if self._payload_writer is None:
            raise RuntimeError("Response has not been started")
        return self._payload_writer.buffer_size

    def enable_chunked_encoding(self, chunk_size: int | None = None) -> None:
        """Send the body with chunked transfer coding (HTTP/1.1 only).

        Args:
            chunk_size: ignored (deprecated in aiohttp: each write is one chunk).

        Raises:
            RuntimeError: a Content-Length header is set.
        """
        if hdrs.CONTENT_LENGTH in self._headers:
            raise RuntimeError("You can't enable chunked encoding when a content length is set")
        if chunk_size is not None:
            warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=2)
        self._chunked = True

    def enable_compression(
        self, force: ContentCoding | bool | None = None, strategy: int | None = None
    ) -> None:
        """Compress the body.

        Args:
            force: a coding to use regardless of Accept-Encoding; None negotiates one.
                A bool is accepted for aiohttp compatibility (deprecated: True means
                deflate, False identity).
            strategy: a :mod:`zlib` strategy (``zlib.Z_DEFAULT_STRATEGY`` when None).
        """
        if isinstance(force, bool):
            force = ContentCoding.deflate if force else ContentCoding.identity
            warnings.warn(
                "Using boolean for force is deprecated #3318", DeprecationWarning, stacklevel=2
            )
        elif force is not None and not isinstance(force, ContentCoding):
            raise TypeError(f"force must be a ContentCoding, not {type(force).__name__}")
        self._compression = True
        self._compression_force = force
        self._compression_strategy = strategy

    @property
    def headers(self) -> CIMultiDict[str]:
        """The outgoing headers."""
        return self._headers

    # -- cookies ----------------------------------------------------------------------

    @property
    def cookies(self) -> SimpleCookie:
        """The outgoing cookies, written as Set-Cookie headers by :meth:`prepare`."""
        if self._cookies is None:
            self._cookies = SimpleCookie()
        return self._cookies

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Set a cookie (RFC 6265 §4.1; ``partitioned`` from CHIPS).

        Raises:
            http.cookies.CookieError: the name is not a valid cookie name.
        """
        cookies = self.cookies
        old = cookies.get(name)
        if old is not None and old.coded_value == "":
            cookies.pop(name, None)  # a deleted cookie is set again from scratch
        cookies[name] = value
        morsel = cookies[name]
        if expires is not None:
            morsel["expires"] = expires
        elif morsel.get("expires") == _EPOCH_EXPIRES:
            del morsel["expires"]
        if domain is not None:
            morsel["domain"] = domain
        if max_age is not None:
            morsel["max-age"] = str(max_age)
        elif "max-age" in morsel:
            del morsel["max-age"]
        morsel["path"] = path
        if secure is not None:
            morsel["secure"] = secure
        if httponly is not None:
            morsel["httponly"] = httponly
        if version is not None:
            morsel["version"] = version
        if samesite is not None:
            morsel["samesite"] = samesite
        if partitioned is not None:
            # Morsel only knows "partitioned" from Python 3.14; format_set_cookie writes it.
            dict.__setitem__(morsel, "partitioned", partitioned)

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Delete a cookie on the client: an empty value that expired in 1970."""
        self.cookies.pop(name, None)
        self.set_cookie(
            name,
            "",
            max_age=0,
            expires=_EPOCH_EXPIRES,
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    # -- header views -------------------------------------------------------------------

    @property
    def content_length(self) -> int | None:
        """Content-Length of the response, or None."""
        # HeadersMixin's getter, inlined: read once per response by the framing code.
        value = self._headers.get(hdrs.CONTENT_LENGTH)
        return None if value is None else int(value)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is not None:
            value = int(value)
            if self._chunked:
                raise RuntimeError("You can't set content length when chunked encoding is enable")
            self._headers[hdrs.CONTENT_LENGTH] = str(value)
        else:
            self._headers.pop(hdrs.CONTENT_LENGTH, None)

    @property
    def content_type(self) -> str:
        """The media type of Content-Type."""
        return super().content_type

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.content_type  # noqa: B018 - parse the current header first
        self._content_type = str(value)
        self._generate_content_type_header()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type (lower-cased when set)."""
        return super().charset

    @charset.setter
    def charset(self, value: str | None) -> None:
        ctype = self.content_type
        if ctype == DEFAULT_CONTENT_TYPE:
            raise RuntimeError(
                "Setting charset for application/octet-stream doesn't make sense, "
                "setup content_type first"
            )
        assert self._content_dict is not None
        if value is None:
            self._content_dict.pop("charset", None)
        else:
            self._content_dict["charset"] = str(value).lower()
        self._generate_content_type_header()

    def _generate_content_type_header(self) -> None:
        assert self._content_dict is not None
        params = "; ".join(f"{k}={v}" for k, v in self._content_dict.items())
        ctype = f"{self._content_type}; {params}" if params else self._content_type
        self._headers[hdrs.CONTENT_TYPE] = ctype

    @property
    def last_modified(self) -> datetime | None:
        """The Last-Modified header as an aware datetime, or None."""
        return parse_http_date(self._headers.get(hdrs.LAST_MODIFIED))

    @last_modified.setter
    def last_modified(self, value: int | float | datetime | str | None) -> None:
        if value is None:
            self._headers.pop(hdrs.LAST_MODIFIED, None)
        elif isinstance(value, (int, float)):
            self._headers[hdrs.LAST_MODIFIED] = format_http_date(math.ceil(value))
        elif isinstance(value, datetime):
            self._headers[hdrs.LAST_MODIFIED] = format_http_date(value)
        elif isinstance(value, str):
            self._headers[hdrs.LAST_MODIFIED] = value
        else:
            raise TypeError(f"Unsupported last_modified type: {type(value).__name__}")

    @property
    def etag(self) -> ETag | None:
        """The ETag header as an :class:`~aioloom.http.ETag`, or None (absent or invalid)."""
        value = self._headers.get(hdrs.ETAG)
        return parse_etag(value) if value else None

    @etag.setter
    def etag(self, value: ETag | str | None) -> None:
        if value is None:
            self._headers.pop(hdrs.ETAG, None)
        elif isinstance(value, (str, ETag)):
            self._headers[hdrs.ETAG] = format_etag(value)
        else:
            raise ValueError(
                f"Unsupported etag type: {type(value)}. etag must be str, ETag or None"
            )

    # -- sending ------------------------------------------------------------------------

    async def _do_start_compression(self, coding: ContentCoding) -> None:
        if coding is not ContentCoding.identity:
            assert self._payload_writer is not None
            self._headers[hdrs.CONTENT_ENCODING] = coding.value
            self._payload_writer.enable_compression(coding.value, self._compression_strategy)
            # The compressed size is unknown until the end: chunked (or close) framing.
            self._headers.popall(hdrs.CONTENT_LENGTH, None)

    async def _start_compression(self, request: BaseRequest) -> None:
        if self._compression_force is not None:
            await self._do_start_compression(self._compression_force)
            return
        coding = negotiate_coding(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
        if coding is not None:
            await self._do_start_compression(coding)

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        """Compute the framing headers and send the head (buffered with the first body bytes).

        Returns:
            The writer for the body, or None when the response was already finished.
        """
        if self._eof_sent:
            return None
        if self._payload_writer is not None:
            return self._payload_writer
        self._must_be_empty_body = must_be_empty_body(request._method, self._status)
        return await self._start(request)

    def _set_body_length(self, request: BaseRequest) -> None:
        """Hook for responses that know their body: set Content-Length (none here)."""

    async def _start(self, request: BaseRequest) -> AbstractStreamWriter:
        self._req = request
        writer = self._payload_writer = request._payload_writer
        self._set_body_length(request)
        if self._compression:
            await self._start_compression(request)
        self._prepare_headers(request, writer)
        if request._has_prepare_hook:
            await request._prepare_hook(self)
        # Only HTTP/1.0 and 1.1 are spoken; a 1.0 request gets a 1.0 status line.
        prefix = "HTTP/1.0 " if request._version == HttpVersion10 else "HTTP/1.1 "
        status_line = f"{prefix}{self._status} {self._reason}"
        # The server's own writer buffers the head without a coroutine (the common case).
        if type(writer) is not StreamWriter or not writer.buffer_headers(
            status_line, self._headers
        ):
            await writer.write_headers(status_line, self._headers)
        return writer

    def _prepare_headers(self, request: BaseRequest, writer: AbstractStreamWriter) -> None:
        """Compute the framing, Date, Server and Connection headers (RFC 9112 §6, §9)."""
        keep_alive = self._keep_alive
        if keep_alive is None:
            keep_alive = request.keep_alive
        version = request._version
        headers = self._headers
        if self._cookies:
            for morsel in self._cookies.values():
                headers.add(hdrs.SET_COOKIE, format_set_cookie(morsel))
        empty = self._must_be_empty_body
        if self._chunked:
            if version != HttpVersion11:
                raise RuntimeError(
                    f"Using chunked encoding is forbidden for HTTP/{version.major}.{version.minor}"
                )
            if not empty:
                writer.enable_chunking()
                headers[hdrs.TRANSFER_ENCODING] = "chunked"
            headers.popall(hdrs.CONTENT_LENGTH, None)
            length = None
        else:
            length = self.content_length
            if self._length_check:
                writer.length = length
                if length is None and not empty:
                    if version >= HttpVersion11:  # RFC 9112 §6.1: chunked delimits the body
                        writer.enable_chunking()
                        headers[hdrs.TRANSFER_ENCODING] = "chunked"
                    else:  # RFC 9112 §6.3 step 8: HTTP/1.0 reads until close
                        keep_alive = False
        if empty:
            status = self._status
            if should_remove_content_length(request.method, status):
                headers.popall(hdrs.CONTENT_LENGTH, None)
            # 1xx (101 Switching Protocols) and CONNECT 2xx: what follows the head belongs
            # to the new protocol, so writes pass through. HEAD, 204, 304: body bytes
            # written anyway are dropped, never sent.
            if status >= 200 and request.method != hdrs.METH_CONNECT:
                writer.length = 0
            headers.popall(hdrs.TRANSFER_ENCODING, None)  # RFC 9112 §6.1
        elif length != 0 and hdrs.CONTENT_TYPE not in headers:
            headers[hdrs.CONTENT_TYPE] = DEFAULT_CONTENT_TYPE  # RFC 9110 §8.3
        if hdrs.DATE not in headers:
            headers[hdrs.DATE] = format_http_date()
        if hdrs.SERVER not in headers:
            headers[hdrs.SERVER] = SERVER_SOFTWARE
        self._keep_alive = keep_alive
        if hdrs.CONNECTION not in headers:
            if keep_alive:
                if version == HttpVersion10:
                    headers[hdrs.CONNECTION] = "keep-alive"
            elif version == HttpVersion11:
                headers[hdrs.CONNECTION] = "close"

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send body bytes; waits while the peer reads slowly.

        Raises:
            TypeError: ``data`` is not bytes-like.
            RuntimeError: :meth:`prepare` was not called, or :meth:`write_eof` was.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._payload_writer is None:
            raise RuntimeError("Cannot call write() before prepare()")
        await self._payload_writer.write(data)

    async def drain(self) -> None:
        """Wait for the transport (deprecated: :meth:`write` already drains)."""
        if self._eof_sent or self._payload_writer is None:
            raise RuntimeError("drain() needs a prepared response that is not finished")
        warnings.warn(
            "drain method is deprecated, use await resp.write()", DeprecationWarning, stacklevel=2
        )
        await self._payload_writer.drain()

    async def write_eof(self, data: bytes | bytearray | memoryview = b"") -> None:
        """Finish the body; later calls do nothing.

        Raises:
            TypeError: ``data`` is not bytes-like.
            RuntimeError: :meth:`prepare` was not called.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        if self._eof_sent:
            return
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        await writer.write_eof(data if isinstance(data, bytes) else bytes(data))
        self._eof_sent = True
        self._req = None
        self._body_length = writer.output_size
        self._payload_writer = None

    # -- mapping and object protocol ----------------------------------------------------

    def _state_dict(self) -> dict[Any, Any]:
        state = self._state
        if state is None:
            state = self._state = {}
        return state

    @overload
    def __getitem__(self, key: ResponseKey[_T]) -> _T: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: Any) -> Any:
        return self._state_dict()[key]

    @overload
    def __setitem__(self, key: ResponseKey[_T], value: _T) -> None: ...

    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...

    def __setitem__(self, key: Any, value: Any) -> None:
        self._state_dict()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._state_dict()[key]

    def __len__(self) -> int:
        return 0 if self._state is None else len(self._state)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._state_dict())

    def __hash__(self) -> int:
        return hash(id(self))

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        if self._eof_sent:
            info = "eof"
        elif self._req is not None:
            info = f"{self._req.method} {self._req.path} "
        else:
            info = "not prepared"
        return f"<{self.__class__.__name__} {self.reason} {info}>"
