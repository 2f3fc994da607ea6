"""In-memory responses: :class:`Response`, :func:`json_response`, :func:`json_bytes_response`.

A :class:`Response` holds its whole body (bytes or a payload), so it knows its
Content-Length and leaves as one ``transport.write`` of head and body. With compression it
compresses the body in one piece, off the event loop above ``zlib_executor_size`` bytes,
and still sends Content-Length.

This module is also the import point of the response API:
:class:`~._stream_response.StreamResponse` and :class:`~._coding.ContentCoding` are
re-exported from here.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from aioloom.http import hdrs
from aioloom.http.aio._payload import PAYLOAD_REGISTRY, Payload
from aioloom.http.aio._payload import LookupError as PayloadLookupError

from ._coding import ContentCoding, compress_body
from ._content_type import DEFAULT_CONTENT_TYPE
from ._stream_response import StreamResponse, should_remove_content_length
from ._typedefs import JSONEncoder, LooseHeaders

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = (
    "ContentCoding",
    "Response",
    "StreamResponse",
    "json_bytes_response",
    "json_response",
)

# aiohttp 3.14's default zlib_executor_size: a body larger than this is compressed in an
# executor, so compressing a large body never holds the event loop.
MAX_SYNC_CHUNK_SIZE: Final = 4096
# The Content-Type of ``Response(text=...)`` without content_type or charset.
_TEXT_PLAIN_UTF8: Final = "text/plain; charset=utf-8"
# The Content-Type of ``json_response(...)`` with the default content_type.
_JSON_UTF8: Final = "application/json; charset=utf-8"


class Response(StreamResponse):
    """A response with the whole body in memory (aiohttp's ``Response``).

    Args:
        body: bytes, or any value the payload registry knows (str, file, JSON payload...).
        status: the status code.
        reason: the reason phrase.
        text: a str body (Content-Type ``text/plain; charset=utf-8`` unless given).
        headers: initial headers; a :class:`~multidict.CIMultiDict` is used as is.
        content_type: the media type (without charset).
        charset: the charset parameter.
        zlib_executor_size: a body larger than this is compressed in an executor
            (default 4096, as aiohttp 3.14), so the event loop is not held; None
            compresses inline whatever the size.
        zlib_executor: the executor for that (the loop's default when None).

    Raises:
        ValueError: both ``body`` and ``text`` are given, ``content_type`` has a charset,
            or Content-Type is given both as header and as argument.
        TypeError: ``text`` is not a str.
    """

    _body: bytes | bytearray | Payload | None = None
    _compressed_body: bytes | None = None
    _zlib_executor_size: int | None = MAX_SYNC_CHUNK_SIZE
    _zlib_executor: Executor | None = None

    def __init__(
        self,
        *,
        body: Any = None,
        status: int = 200,
        reason: str | None = None,
        text: str | None = None,
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        zlib_executor_size: int | None = MAX_SYNC_CHUNK_SIZE,
        zlib_executor: Executor | None = None,
    ) -> None:
        if (
            type(text) is str
            and body is None
            and headers is None
            and charset is None
            and zlib_executor_size == MAX_SYNC_CHUNK_SIZE
            and (content_type is None or content_type == "application/json")
        ):
            # The common ``Response(text=...)`` and ``json_response(...)``: what the general
            # path below computes for them, without its checks (none can fail here).
            super().__init__(
                status=status,
                reason=reason,
                _real_headers=CIMultiDict(
                    {hdrs.CONTENT_TYPE: _TEXT_PLAIN_UTF8 if content_type is None else _JSON_UTF8}
                ),
            )
            self._body = text.encode("utf-8")
            return
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        if headers is None:
            real_headers: CIMultiDict[str] = CIMultiDict()
        elif isinstance(headers, CIMultiDict):
            real_headers = headers
        else:
            real_headers = CIMultiDict(headers)
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")
        if text is not None:
            if hdrs.CONTENT_TYPE in real_headers:
                if content_type or charset:
                    raise ValueError(
                        "passing both Content-Type header and content_type or charset params "
                        "is forbidden"
                    )
            else:
                if not isinstance(text, str):
                    raise TypeError(f"text argument must be str ({type(text)!r})")
                charset = charset or "utf-8"
                ctype = content_type or "text/plain"
                real_headers[hdrs.CONTENT_TYPE] = f"{ctype}; charset={charset}"
                body = text.encode(charset)
                text = None
        elif hdrs.CONTENT_TYPE in real_headers:
            if content_type is not None or charset is not None:
                raise ValueError(
                    "passing both Content-Type header and content_type or charset params "
                    "is forbidden"
                )
        elif content_type is not None:
            if charset is not None:
                content_type += "; charset=" + charset
            real_headers[hdrs.CONTENT_TYPE] = content_type
        super().__init__(status=status, reason=reason, _real_headers=real_headers)
        if text is not None:
            self.text = text
        elif type(body) is bytes:
            self._body = body
        elif body is not None:
            self.body = body
        if zlib_executor_size != MAX_SYNC_CHUNK_SIZE:
            self._zlib_executor_size = zlib_executor_size
        if zlib_executor is not None:
            self._zlib_executor = zlib_executor

    @property
    def body(self) -> bytes | bytearray | Payload | None:
        """The body: bytes, a :class:`~aioloom.http.aio.Payload`, or None."""
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        if value is None or isinstance(value, (bytes, bytearray)):
            self._body = value
        else:
            try:
                payload = PAYLOAD_REGISTRY.get(value)
            except PayloadLookupError as exc:
                raise ValueError(f"Unsupported body type {type(value)!r}") from exc
            self._body = payload
            headers = self._headers
            if hdrs.CONTENT_TYPE not in headers:
                headers[hdrs.CONTENT_TYPE] = payload.content_type
            for key, val in payload.headers.items():
                if key not in headers:
                    headers[key] = val
        self._compressed_body = None

    @property
    def text(self) -> str | None:
        """The body decoded with the charset (UTF-8 by default), or None."""
        body = self._body
        if body is None:
            return None
        if isinstance(body, Payload):
            return body.decode(self.charset or "utf-8")
        return body.decode(self.charset or "utf-8")

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str ({type(text)!r})")
        if self.content_type == DEFAULT_CONTENT_TYPE:
            self.content_type = "text/plain"
        if self.charset is None:
            self.charset = "utf-8"
        self._body = text.encode(self.charset or "utf-8")
        self._compressed_body = None

    @property
    def content_length(self) -> int | None:
        """The body length: from the header, else the (compressed) body; None if unknown."""
        if self._chunked:
            return None
        value = self._headers.get(hdrs.CONTENT_LENGTH)
        if value is not None:
            return int(value)
        if self._compressed_body is not None:
            return len(self._compressed_body)
        body = self._body
        if body is None:
            return 0
        if type(body) is bytes or type(body) is bytearray:
            return len(body)
        assert isinstance(body, Payload)
        return body.size

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("Content length is set automatically")

    async def write_eof(self, data: bytes | bytearray | memoryview = b"") -> None:
        """Send the body (unless the answer must be empty) and finish.

        Raises:
            RuntimeError: :meth:`prepare` was not called.
        """
        if self._eof_sent:
            return
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        body: bytes | bytearray | Payload | None
        body = self._compressed_body if self._compressed_body is not None else self._body
        if body is None or self._must_be_empty_body:
            await writer.write_eof()
        elif type(body) is bytes or type(body) is bytearray:  # not isinstance: Payload is an ABC
            # One transport write with the buffered head (see StreamWriter.write_eof).
            await writer.write_eof(body if type(body) is bytes else bytes(body))
        else:
            assert isinstance(body, Payload)
            await body.write(writer)
            await writer.write_eof()
        self._eof_sent = True
        self._req = None
        self._body_length = writer.output_size
        self._payload_writer = None

    def _set_body_length(self, request: BaseRequest) -> None:
        """Content-Length from the body, before the framing is computed."""
        headers = self._headers
        if hdrs.CONTENT_LENGTH in headers:
            if should_remove_content_length(request.method, self._status):
                del headers[hdrs.CONTENT_LENGTH]
        elif not self._chunked:
            body = self._body
            if body is not None and type(body) is not bytes and isinstance(body, Payload):
                if body.size is not None:
                    headers[hdrs.CONTENT_LENGTH] = str(body.size)
            else:
                size = len(body) if body is not None else 0
                # RFC 9110 §8.6: no "Content-Length: 0" for HEAD or 304, whose length is
                # that of the representation they describe.
                if size or (
                    self._status != 304
                    and request.method != hdrs.METH_HEAD
                    and not should_remove_content_length(request.method, self._status)
                ):
                    headers[hdrs.CONTENT_LENGTH] = str(size)

    async def _do_start_compression(self, coding: ContentCoding) -> None:
        body = self._body
        if self._chunked or isinstance(body, Payload):
            await super()._do_start_compression(coding)
            return
        if coding is ContentCoding.identity or body is None:
            return
        threshold = self._zlib_executor_size
        strategy = self._compression_strategy
        if threshold is not None and len(body) > threshold:
            loop = asyncio.get_running_loop()
            compressed = await loop.run_in_executor(
                self._zlib_executor, compress_body, coding.value, strategy, body
            )
        else:
            compressed = compress_body(coding.value, strategy, body)
        self._compressed_body = compressed
        self._headers[hdrs.CONTENT_ENCODING] = coding.value
        self._headers[hdrs.CONTENT_LENGTH] = str(len(compressed))


_SENTINEL: Final[Any] = object()


def json_response(
    data: Any = _SENTINEL,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
    dumps: JSONEncoder = json.dumps,
) -> Response:
    """Build a JSON :class:`Response` (aiohttp's ``json_response``).

    Args:
        data: the value to serialise with ``dumps``.
        text: an already serialised JSON text (instead of ``data``).
        body: already serialised JSON bytes (instead of ``data``).
        status: the status code.
        reason: the reason phrase.
        headers: extra headers.
        content_type: the media type (``application/json``).
        dumps: the serialiser.

    Raises:
        ValueError: ``data`` is given together with ``text`` or ``body``.
    """
    if data is not _SENTINEL:
        if text or body:
            raise ValueError("only one of data, text, or body should be specified")
        text = dumps(data)
    return Response(
        text=text,
        body=body,
        status=status,
        reason=reason,
        headers=headers,
        content_type=content_type,
    )


def json_bytes_response(
    data: Any = _SENTINEL,
    *,
    dumps: Any,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
) -> Response:
    """Build a JSON :class:`Response` with a serialiser that returns bytes (e.g. orjson).

    Raises:
        ValueError: ``data`` is given together with ``body``.
    """
    if data is not _SENTINEL:
        if body is not None:
            raise ValueError("only one of data or body should be specified")
        body = dumps(data)
    return Response(
        body=body, status=status, reason=reason, headers=headers, content_type=content_type
    )
