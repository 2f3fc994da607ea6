"""The streaming multipart reader: aiohttp 3.14's ``MultipartReader`` and ``BodyPartReader``.

A :class:`MultipartReader` walks a ``multipart/*`` body part by part::

    reader = MultipartReader(request.headers, request.content)
    async for part in reader:                  # BodyPartReader, or MultipartReader if nested
        if part.filename:
            while chunk := await part.read_chunk():
                sink.write(chunk)
        else:
            value = await part.text()

Framing is done by the sans-I/O :class:`~aioloom.multipart._parser.MultipartScanner`, fed
at most 256 KiB at a time, so memory stays bounded however large a part is; a part is only
held whole when :meth:`BodyPartReader.read` (or ``text``/``json``/``form``) asks for it.
Moving to the next part skips what is left of the current one. A nested ``multipart/*``
part is read by a reader of the same class over that part's content.

Decoding (``read(decode=True)``, ``text``, ``json``, ``form``, ``decode``) undoes the
Content-Transfer-Encoding (base64, quoted-printable; 7bit/8bit/binary as they are) and then
the Content-Encoding (gzip, deflate, identity), except in ``multipart/form-data`` where RFC
7578 §4.8 has recipients ignore Content-Encoding, as aiohttp does. Decompression is bounded
by ``max_decompress_size``.
"""

from __future__ import annotations

import codecs
import inspect
import json
from collections.abc import AsyncIterator, Mapping
from functools import cached_property
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from aioloom.http import hdrs
from aioloom.http._content_disposition import (
    content_disposition_filename,
    parse_content_disposition,
)
from aioloom.http._mime import parse_mimetype
from aioloom.multipart._exceptions import BoundaryError, MultipartError
from aioloom.multipart._parser import (
    DEFAULT_MAX_FIELD_SIZE,
    DEFAULT_MAX_HEADERS,
    Done,
    MultipartScanner,
    PartStart,
)
from aioloom.multipart._transfer import PartDecoder

from ._feed import READ_SIZE, ByteSource, EventFeed, PartStream

__all__ = (
    "DEFAULT_MAX_DECOMPRESS_SIZE",
    "BodyPartReader",
    "MultipartReader",
    "MultipartResponseWrapper",
)

# aiohttp's bound on what one part may decompress to (32 MiB).
DEFAULT_MAX_DECOMPRESS_SIZE: Final = 2**25
# RFC 7578 §4.6: the value of a "_charset_" field is a charset name. The longest name in
# the WHATWG Encoding Standard has 19 characters; aiohttp rejects 32 bytes or more.
_MAX_CHARSET_LENGTH: Final = 31
_BASE64_IGNORED: Final = b" \t\r\n"

_PartT = TypeVar("_PartT", bound="BodyPartReader")
_WrapperT = TypeVar("_WrapperT", bound="MultipartResponseWrapper")
_ReaderT = TypeVar("_ReaderT", bound="MultipartReader")


class BodyPartReader:
    """Reader of one body part (aiohttp's ``BodyPartReader``).

    :class:`MultipartReader` creates these; built directly, ``content`` is a stream
    positioned at the part's content (after its header block), read up to the next
    delimiter.

    Args:
        boundary: the dash-boundary, ``b"--" + boundary``.
        headers: the part's headers.
        content: the stream the part is read from.
        subtype: the subtype of the enclosing multipart body (``form-data`` ignores
            Content-Encoding, RFC 7578 §4.8).
        default_charset: the charset text parts use when they name none (set from a
            ``_charset_`` field, RFC 7578 §4.6).
        max_decompress_size: the most bytes the part may decompress to.

    Attributes:
        headers: the part's header fields.
    """

    chunk_size = 8192

    def __init__(
        self,
        boundary: bytes,
        headers: Mapping[str, str],
        content: ByteSource | PartStream,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        max_decompress_size: int = DEFAULT_MAX_DECOMPRESS_SIZE,
    ) -> None:
        if isinstance(headers, CIMultiDictProxy):
            self.headers: CIMultiDictProxy[str] = headers
        else:
            self.headers = CIMultiDictProxy(CIMultiDict(headers))
        self._boundary = boundary
        self._content = content
        if isinstance(content, PartStream):
            self._stream = content
        else:
            bare = boundary[2:] if boundary.startswith(b"--") else boundary
            scanner = MultipartScanner(bare, in_part=True)
            self._stream = PartStream(EventFeed(content, scanner))
        self._default_charset = default_charset
        self._is_form_data = subtype == "form-data"
        self._max_decompress_size = max_decompress_size
        self._at_eof = False

    def __repr__(self) -> str:
        disposition = self.headers.get(hdrs.CONTENT_DISPOSITION)
        return f"<{type(self).__name__} Content-Disposition={disposition!r}>"

    def __aiter__(self: _PartT) -> _PartT:
        return self

    async def __anext__(self) -> bytearray:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def next(self) -> bytearray | None:
        """Read the whole part (:meth:`read`); None once it has been read."""
        item = await self.read()
        return item or None

    def at_eof(self) -> bool:
        """True once the part's closing delimiter has been reached."""
        if not self._at_eof and self._stream.at_eof():
            self._at_eof = True
        return self._at_eof

    async def read(self, *, decode: bool = False) -> bytearray:
        """Read the rest of the part into memory.

        Args:
            decode: undo the Content-Transfer-Encoding and Content-Encoding.

        Returns:
            The data (empty when the part was read already).

        Raises:
            MultipartError: the body is malformed or truncated, or the part's coding is
                unknown or corrupt.
        """
        data = bytearray()
        if self._at_eof:
            return data
        if decode:
            async for piece in self._decoded():
                data += piece
        else:
            while piece := await self._stream.read(READ_SIZE):
                data += piece
            self._at_eof = True
        return data

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Read up to ``size`` bytes of the part's raw (still encoded) content.

        With base64 the chunk is extended so that it holds whole 4-character groups, and
        with quoted-printable so that it does not end inside an escape, so that
        :meth:`decode` works on each chunk.

        Returns:
            The data; b"" at the end of the part.

        Raises:
            ValueError: ``size`` is not positive.
            MultipartError: the body is malformed or truncated.
        """
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        if self._at_eof:
            return b""
        chunk = await self._stream.read(size)
        if chunk:
            chunk = await self._complete_encoded_units(chunk)
        if self._stream.at_eof():
            self._at_eof = True
        return chunk

    async def _complete_encoded_units(self, chunk: bytes) -> bytes:
        encoding = self.headers.get(hdrs.CONTENT_TRANSFER_ENCODING, "").strip().lower()
        missing = 0
        if encoding == "base64":
            missing = -len(chunk.translate(None, _BASE64_IGNORED)) % 4
            if missing:
                # At most one more chunk's worth, however much white space follows.
                chunk += await self._stream.read_base64_tail(missing, len(chunk))
        elif encoding == "quoted-printable":
            # "=XX" escapes and "=" CRLF soft line breaks are three bytes long: complete
            # an "=" among the last two bytes.
            tail = chunk[-2:]
            missing = tail.rindex(b"=") + 3 - len(tail) if b"=" in tail else 0
            while missing:
                more = await self._stream.read(missing)
                if not more:
                    break
                chunk += more
                missing -= len(more)
        return chunk

    async def readline(self) -> bytes:
        """Read one line of the part, its line break included (the last line has none).

        Raises:
            LineTooLong: the line is longer than 128 KiB.
            MultipartError: the body is malformed or truncated.
        """
        if self._at_eof:
            return b""
        line = await self._stream.readline()
        if self._stream.at_eof():
            self._at_eof = True
        return line

    async def release(self) -> None:
        """Skip the rest of the part (read it to the void)."""
        if not self._at_eof:
            await self._stream.skip()
            self._at_eof = True

    async def text(self, *, encoding: str | None = None) -> str:
        """Read the rest of the part, decoded, as text.

        Args:
            encoding: the charset; default: the part's ``charset`` parameter, else the
                body's default charset, else UTF-8.
        """
        data = await self.read(decode=True)
        return data.decode(encoding or self.get_charset(default="utf-8"))

    async def json(self, *, encoding: str | None = None) -> Any:
        """Read the rest of the part, decoded, as JSON; None for an empty part."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset(default="utf-8")))

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """Read the rest of the part as ``application/x-www-form-urlencoded`` pairs.

        Raises:
            ValueError: the data cannot be decoded with the charset.
        """
        data = await self.read(decode=True)
        if not data:
            return []
        real_encoding = encoding if encoding is not None else self.get_charset("utf-8")
        try:
            text = data.rstrip().decode(real_encoding)
        except UnicodeDecodeError:
            raise ValueError(f"data cannot be decoded with {real_encoding} encoding") from None
        return parse_qsl(text, keep_blank_values=True, encoding=real_encoding)

    def _decoder(self) -> PartDecoder:
        content_encoding = None if self._is_form_data else self.headers.get(hdrs.CONTENT_ENCODING)
        return PartDecoder(
            self.headers.get(hdrs.CONTENT_TRANSFER_ENCODING),
            content_encoding,
            max_size=self._max_decompress_size,
        )

    def iter_decoded(self) -> AsyncIterator[bytes]:
        """The rest of the part, decoded, in pieces of at most 64 KiB (an aioloom addition).

        One decoder runs across the whole part, so a compressed part is decoded correctly
        however the body arrives, and the caller can count (and refuse) what it receives
        before the next piece is read.

        Raises:
            MultipartError: the body is malformed or truncated, or the part's coding is
                unknown or corrupt.
        """
        if self._at_eof:
            return _empty_iterator()
        return self._decoded()

    async def _decoded(self) -> AsyncIterator[bytes]:
        """The rest of the part, decoded, in bounded pieces."""
        decoder = self._decoder()
        while raw := await self._stream.read(READ_SIZE):
            for piece in decoder.feed(raw):
                yield piece
        self._at_eof = True
        for piece in decoder.flush():
            yield piece

    def decode(self, data: bytes | bytearray) -> bytes:
        """Decode ``data`` by the part's Content-Transfer-Encoding and Content-Encoding.

        ``data`` is taken as a whole encoded unit (the whole part, or one chunk from
        :meth:`read_chunk` when no compression is used).

        Raises:
            UnknownPartEncoding: a coding is unknown (also a ``RuntimeError``).
            PartDecodeError: the transfer-encoded data is corrupt.
            ContentEncodingError: the compressed data is corrupt or truncated.
            DecompressSizeError: it decompresses to more than ``max_decompress_size``.
        """
        decoder = self._decoder()
        return b"".join([*decoder.feed(bytes(data)), *decoder.flush()])

    async def decode_iter(self, data: bytes | bytearray) -> AsyncIterator[bytes]:
        """Like :meth:`decode`, yielding the result in pieces of at most 64 KiB."""
        decoder = self._decoder()
        for piece in decoder.feed(bytes(data)):
            yield piece
        for piece in decoder.flush():
            yield piece

    def get_charset(self, default: str) -> str:
        """The part's ``charset`` parameter, else the body's default charset, else ``default``."""
        mimetype = parse_mimetype(self.headers.get(hdrs.CONTENT_TYPE, ""))
        return mimetype.parameters.get("charset", self._default_charset or default)

    @cached_property
    def name(self) -> str | None:
        """The ``name`` of the Content-Disposition, or None when missing or malformed."""
        _, params = parse_content_disposition(self.headers.get(hdrs.CONTENT_DISPOSITION))
        return content_disposition_filename(params, "name")

    @cached_property
    def filename(self) -> str | None:
        """The ``filename`` of the Content-Disposition, or None when missing or malformed."""
        _, params = parse_content_disposition(self.headers.get(hdrs.CONTENT_DISPOSITION))
        return content_disposition_filename(params, "filename")


class _ResponseContent(ByteSource, Protocol):
    def at_eof(self) -> bool: ...


class _Response(Protocol):
    """What :meth:`MultipartReader.from_response` needs of a client response."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> _ResponseContent: ...

    def release(self) -> object: ...


class MultipartResponseWrapper:
    """A :class:`MultipartReader` over a client response, releasing it at the end.

    Args:
        resp: the response.
        stream: the reader of the response body.
    """

    def __init__(self, resp: _Response, stream: MultipartReader) -> None:
        self.resp = resp
        self.stream = stream

    def __aiter__(self: _WrapperT) -> _WrapperT:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True when the whole response body has been read."""
        return self.resp.content.at_eof()

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part; the response is released after the last one."""
        item = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return item

    async def release(self) -> None:
        """Release the connection (the rest of the body is discarded)."""
        result = self.resp.release()
        if inspect.isawaitable(result):
            await result


class MultipartReader:
    """Reader of a ``multipart/*`` body (aiohttp's ``MultipartReader``).

    Args:
        headers: the message headers; ``Content-Type`` must be ``multipart/*`` with a
            ``boundary``.
        content: the body stream (``request.content``, ``response.content``).
        max_field_size: the most bytes of one part header field.
        max_headers: the most header fields of one part.

    Raises:
        MultipartError: the Content-Type is not ``multipart/*``.
        BoundaryError: the boundary is missing or invalid (1 to 70 characters).

    Attributes:
        headers: the message headers given.
    """

    #: The wrapper :meth:`from_response` returns.
    response_wrapper_cls: type[MultipartResponseWrapper] = MultipartResponseWrapper
    #: The reader of nested ``multipart/*`` parts; None means ``type(self)``.
    multipart_reader_cls: type[MultipartReader] | None = None
    #: The reader of other parts.
    part_reader_cls: type[BodyPartReader] = BodyPartReader

    def __init__(
        self,
        headers: Mapping[str, str],
        content: ByteSource,
        *,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        ctype = headers.get(hdrs.CONTENT_TYPE, "")
        self._mimetype = parse_mimetype(ctype)
        if self._mimetype.type != "multipart":
            raise MultipartError(f"multipart/* content type expected, got {ctype!r}")
        boundary = self._mimetype.parameters.get("boundary")
        if boundary is None:
            raise BoundaryError(f"boundary missed for Content-Type: {ctype}")
        scanner = MultipartScanner(boundary, max_field_size=max_field_size, max_headers=max_headers)
        self.headers = headers
        self._boundary = b"--" + scanner.boundary
        self._content = content
        self._feed = EventFeed(content, scanner)
        self._limits = {"max_field_size": max_field_size, "max_headers": max_headers}
        self._default_charset: str | None = None
        self._last_part: MultipartReader | BodyPartReader | None = None
        self._part_stream: PartStream | None = None
        self._at_eof = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} boundary={self._boundary[2:]!r}>"

    def __aiter__(self: _ReaderT) -> _ReaderT:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    @classmethod
    def from_response(cls, response: _Response) -> MultipartResponseWrapper:
        """Build a reader of a client response's body, wrapped to release the response."""
        return cls.response_wrapper_cls(response, cls(response.headers, response.content))

    def at_eof(self) -> bool:
        """True once the close delimiter has been reached."""
        return self._at_eof

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """Return the reader of the next part, or None after the last one.

        What is left unread of the previous part is skipped first.

        Raises:
            MultipartError: the body is malformed or truncated.
        """
        if self._at_eof:
            return None
        await self._maybe_release_last_part()
        part = await self.fetch_next_part()
        if (
            part is not None
            and self._mimetype.subtype == "form-data"
            and isinstance(part, BodyPartReader)
            and "_charset_" in part.headers.get(hdrs.CONTENT_DISPOSITION, "")  # fast path
            and part.name == "_charset_"
        ):
            await self._read_default_charset(part)
            part = await self.fetch_next_part()
        if part is None:
            self._at_eof = True
        self._last_part = part
        return part

    async def _read_default_charset(self, part: BodyPartReader) -> None:
        # RFC 7578 §4.6: a "_charset_" field names the charset of the fields without one.
        value = await part.read_chunk(_MAX_CHARSET_LENGTH + 1)
        if len(value) > _MAX_CHARSET_LENGTH:
            raise MultipartError(f"Invalid default charset {value[:40]!r}")
        try:
            charset = value.strip().decode("ascii")
            codecs.lookup(charset)
        except (UnicodeDecodeError, LookupError):
            raise MultipartError(f"Invalid default charset {value!r}") from None
        self._default_charset = charset
        self._last_part = part
        await self._maybe_release_last_part()

    async def release(self) -> None:
        """Skip every remaining part, up to the close delimiter."""
        while not self._at_eof:
            item = await self.next()
            if item is None:
                break
            await item.release()

    async def fetch_next_part(self) -> MultipartReader | BodyPartReader | None:
        """Read the next part's headers and return its reader (None at the end).

        The previous part must have been read or released (use :meth:`next`).
        """
        event = await self._feed.next()
        if isinstance(event, Done):
            return None
        if not isinstance(event, PartStart):
            raise MultipartError("The previous part was not read to its end")
        self._part_stream = PartStream(self._feed)
        return self._get_part_reader(event.headers)

    def _get_part_reader(self, headers: CIMultiDictProxy[str]) -> MultipartReader | BodyPartReader:
        """The reader for a part: a nested reader for ``multipart/*``, else a part reader."""
        stream = self._part_stream
        assert stream is not None
        mimetype = parse_mimetype(headers.get(hdrs.CONTENT_TYPE, ""))
        if mimetype.type == "multipart":
            cls = self.multipart_reader_cls or type(self)
            return cls(headers, stream, **self._limits)
        return self.part_reader_cls(
            self._boundary,
            headers,
            stream,
            subtype=self._mimetype.subtype,
            default_charset=self._default_charset,
        )

    async def _maybe_release_last_part(self) -> None:
        """Make sure the last part was read to its end.

        A body part is released; an unread nested body is skipped as raw bytes, without
        parsing it (so a malformed nested body that nobody reads is no error).
        """
        last, self._last_part = self._last_part, None
        if isinstance(last, BodyPartReader) and not last.at_eof():
            await last.release()
        elif isinstance(last, MultipartReader):
            last._at_eof = True  # skipped: it has no more parts to give
        if self._part_stream is not None:
            await self._part_stream.skip()  # e.g. a nested body or its epilogue
            self._part_stream = None


async def _empty_iterator() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this function an async generator
