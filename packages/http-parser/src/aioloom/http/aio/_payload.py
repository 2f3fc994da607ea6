"""Message bodies built from Python values: aiohttp 3.14's payloads and their registry.

This module owns :class:`Payload` (the interface the client and the server write bodies
through), the in-memory payloads (:class:`BytesPayload`, :class:`StringPayload`,
:class:`JsonPayload`), the streaming ones (:class:`AsyncIterablePayload`,
:class:`StreamReaderPayload`) and the registry that picks a payload class for a value:
:data:`PAYLOAD_REGISTRY`, :func:`get_payload`, :func:`register_payload` and the
:class:`payload_type` decorator. File payloads live in :mod:`._payload_io`, which this module
imports at the end so that ``get_payload`` always knows them.

A payload writes itself through an
:class:`~aioloom.http.aio._abc.AbstractStreamWriter` (``await writer.write(chunk)``), either
whole (:meth:`Payload.write`) or cut at a ``Content-Length`` (:meth:`Payload.write_with_length`).

Reuse (aiohttp 3.12+: a 307/308 redirect sends the same body again). A payload can be
written again as long as :attr:`Payload.consumed` is False:

* bytes, strings and JSON: always;
* seekable files: every write first seeks back to where the file was when first used;
  :meth:`Payload.close` closes the file and makes the payload consumed;
* async iterables: no; a write pulls the items from the iterator, and the payload is
  consumed afterwards. :meth:`AsyncIterablePayload.as_bytes` reads and caches everything,
  after which the payload can be written any number of times.

:attr:`Payload.autoclose` is True when the payload holds no resource, so nobody needs to
await :meth:`Payload.close`.
"""

from __future__ import annotations

import builtins
import enum
import json
import mimetypes
import sys
import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from itertools import chain
from typing import Final, TypeVar

from multidict import CIMultiDict

from aioloom.http import hdrs
from aioloom.http._content_disposition import content_disposition_header
from aioloom.http._mime import parse_mimetype
from aioloom.http._serialize import _serialize_fields

from ._abc import AbstractStreamWriter
from ._streams import StreamReader

__all__ = (
    "PAYLOAD_REGISTRY",
    "READ_SIZE",
    "TOO_LARGE_BYTES_BODY",
    "AsyncIterablePayload",
    "BytesPayload",
    "JsonPayload",
    "Order",
    "Payload",
    "PayloadRegistry",
    "StreamReaderPayload",
    "StringPayload",
    "get_payload",
    "payload_type",
    "register_payload",
)

# A bytes body above this size gets a ResourceWarning, as in aiohttp: writing it in one
# call (and compressing it in one call) holds the event loop.
TOO_LARGE_BYTES_BODY: Final = 2**20
# File payloads read and write this much at a time (never a whole file): aiohttp's
# DEFAULT_CHUNK_SIZE (256 KiB). Each read is one executor job, so a smaller read costs a
# thread hand-off per 64 KiB; 256 KiB is still a small, fixed amount of memory.
READ_SIZE: Final = 2**18

LooseHeaders = Mapping[str, str] | Iterable[tuple[str, str]]
PayloadFactory = Callable[..., "Payload"]
_FactoryT = TypeVar("_FactoryT", bound=PayloadFactory)


class LookupError(builtins.LookupError):  # aiohttp's name, shadowing the built-in
    """No payload class is registered for the type of the given value.

    Reach it as ``_payload.LookupError`` (aiohttp: ``aiohttp.payload.LookupError``); it is
    left out of ``__all__`` so that a star import never hides the built-in. It subclasses
    the built-in, so ``except LookupError`` catches it either way.
    """


class Order(str, enum.Enum):
    """Where a registered payload factory is tried: first, in order, or last."""

    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


def check_content_length(content_length: int | None) -> None:
    """Reject a negative length given to ``write_with_length``."""
    if content_length is not None and content_length < 0:
        raise ValueError(f"content_length must not be negative, not {content_length!r}")


class PayloadRegistry:
    """Maps value types to payload factories (aiohttp's ``PayloadRegistry``).

    An exact type match among the ``normal`` registrations is one dict lookup; otherwise
    the ``try_first``, ``normal`` and ``try_last`` registrations are tried in order with
    ``isinstance``.
    """

    __slots__ = ("_first", "_last", "_normal", "_normal_lookup")

    def __init__(self) -> None:
        self._first: list[tuple[PayloadFactory, type | tuple[type, ...]]] = []
        self._normal: list[tuple[PayloadFactory, type | tuple[type, ...]]] = []
        self._last: list[tuple[PayloadFactory, type | tuple[type, ...]]] = []
        self._normal_lookup: dict[type, PayloadFactory] = {}

    def get(self, data: object, *args: object, **kwargs: object) -> Payload:
        """Build the payload for ``data`` (a :class:`Payload` is returned as it is).

        Raises:
            LookupError: no factory is registered for the type of ``data``.
        """
        for factory, type_ in self._first:
            if isinstance(data, type_):
                return factory(data, *args, **kwargs)
        exact = self._normal_lookup.get(type(data))
        if exact is not None:
            return exact(data, *args, **kwargs)
        if isinstance(data, Payload):
            return data
        for factory, type_ in chain(self._normal, self._last):
            if isinstance(data, type_):
                return factory(data, *args, **kwargs)
        raise LookupError(f"no payload registered for {type(data).__name__!r} values")

    def register(
        self,
        factory: PayloadFactory,
        type: type | tuple[type, ...],  # aiohttp's keyword
        *,
        order: Order = Order.normal,
    ) -> None:
        """Register ``factory`` for values of ``type`` (a class or a tuple of classes).

        Raises:
            TypeError: ``type`` is neither a class nor a tuple of classes.
            ValueError: ``order`` is not an :class:`Order`.
        """
        types = type if isinstance(type, tuple) else (type,)
        if not types or not all(isinstance(t, builtins.type) for t in types):
            raise TypeError(f"payload types must be classes, not {type!r}")
        if order is Order.try_first:
            self._first.append((factory, type))
        elif order is Order.normal:
            self._normal.append((factory, type))
            for t in types:
                self._normal_lookup[t] = factory
        elif order is Order.try_last:
            self._last.append((factory, type))
        else:
            raise ValueError(f"Unsupported order {order!r}")


def get_payload(data: object, *args: object, **kwargs: object) -> Payload:
    """Wrap ``data`` in the payload class registered for its type.

    Raises:
        LookupError: the type of ``data`` has no payload class.
    """
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


def register_payload(
    factory: PayloadFactory,
    type: type | tuple[type, ...],  # aiohttp's keyword
    *,
    order: Order = Order.normal,
) -> None:
    """Register a payload factory for a type in :data:`PAYLOAD_REGISTRY`."""
    PAYLOAD_REGISTRY.register(factory, type, order=order)


class payload_type:  # aiohttp's (lower-case) name
    """Class decorator registering a payload class: ``@payload_type(MyType)``."""

    def __init__(
        self,
        type: type | tuple[type, ...],  # aiohttp's keyword
        *,
        order: Order = Order.normal,
    ) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: _FactoryT) -> _FactoryT:
        register_payload(factory, self.type, order=self.order)
        return factory


def _guess_content_type(filename: str, default: str) -> str:
    if sys.version_info >= (3, 13):
        guessed = mimetypes.guess_file_type(filename)[0]
    else:
        guessed = mimetypes.guess_type(filename)[0]
    return default if guessed is None else guessed


class Payload(ABC):
    """A message body (aiohttp's ``Payload``).

    Args:
        value: the data the payload wraps.
        headers: extra headers of the body (for a multipart part, its part headers); a
            ``Content-Type`` among them wins over ``content_type``.
        content_type: the media type; when None it is guessed from ``filename``, else
            ``application/octet-stream``.
        filename: the file name, for the guess and for ``Content-Disposition``.
        encoding: the text encoding of the value, when it has one.
    """

    _default_content_type: str = "application/octet-stream"
    _size: int | None = None
    _consumed: bool = False
    _autoclose: bool = False

    def __init__(
        self,
        value: object,
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: object,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        if content_type is None:
            if filename is not None:
                content_type = _guess_content_type(filename, self._default_content_type)
            else:
                content_type = self._default_content_type
        self._headers[hdrs.CONTENT_TYPE] = content_type
        if headers:
            self._headers.update(headers)

    @property
    def size(self) -> int | None:
        """Bytes the payload writes (after encoding), or None when unknown."""
        return self._size

    @property
    def filename(self) -> str | None:
        """The file name of the payload, if any."""
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        """The body's own headers (``Content-Type``, ``Content-Disposition``...)."""
        return self._headers

    @property
    def _binary_headers(self) -> bytes:
        """The headers serialized as a multipart part head, blank line included.

        Raises:
            ValueError: a name is not a token, or a value holds CR, LF or NUL (it would end
                the part's head early: RFC 9110 §5.5).
        """
        return _serialize_fields(self._headers, "part header").encode("utf-8") + b"\r\n"

    @property
    def encoding(self) -> str | None:
        """The text encoding of the payload, if any."""
        return self._encoding

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` of the body."""
        return self._headers.get(hdrs.CONTENT_TYPE, self._default_content_type)

    @property
    def consumed(self) -> bool:
        """True when the payload cannot be written again."""
        return self._consumed

    @property
    def autoclose(self) -> bool:
        """True when the payload holds no resource, so :meth:`close` is not needed."""
        return self._autoclose

    def set_content_disposition(
        self,
        disptype: str,
        quote_fields: bool = True,
        _charset: str = "utf-8",
        **params: str,
    ) -> None:
        """Set the ``Content-Disposition`` header (RFC 6266 §4, RFC 7578 §4.2).

        Raises:
            ValueError: ``disptype`` or a parameter name is not a token, or a value would
                inject CR, LF or NUL.
        """
        self._headers[hdrs.CONTENT_DISPOSITION] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    @abstractmethod
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Return the body as text (named like ``bytes.decode``)."""

    @abstractmethod
    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body to ``writer``."""

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Write at most ``content_length`` bytes of the body (all of it with None).

        Payload classes override this; the default writes the whole body.

        Raises:
            ValueError: ``content_length`` is negative.
        """
        check_content_length(content_length)
        await self.write(writer)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Return the whole body as bytes."""
        actual = self._encoding or encoding
        return self.decode(actual, errors).encode(actual)

    def _close(self) -> None:
        """Release resources without blocking (the default holds none)."""
        return None

    async def close(self) -> None:
        """Release the payload's resources; it never waits for slow work."""
        self._close()


def _byte_view(value: memoryview) -> memoryview:
    """A flat view of unsigned bytes, so that slicing and ``len`` count bytes."""
    try:
        return value.cast("B")
    except TypeError:  # not C-contiguous
        return memoryview(value.tobytes())


class BytesPayload(Payload):
    """A body of ``bytes``, ``bytearray`` or ``memoryview``; reusable.

    Raises:
        TypeError: ``value`` is not bytes-like.
    """

    _value: bytes | bytearray | memoryview
    _autoclose = True

    def __init__(
        self,
        value: bytes | bytearray | memoryview,
        headers: LooseHeaders | None = None,
        content_type: str | None = "application/octet-stream",
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: object,
    ) -> None:
        if isinstance(value, memoryview):
            value = _byte_view(value)
        elif not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        super().__init__(value, headers, content_type, filename, encoding)
        self._size = len(value)
        if self._size > TOO_LARGE_BYTES_BODY:
            warnings.warn(
                "Sending a large body directly with raw bytes might lock the event loop. "
                "You should probably pass an io.BytesIO object instead",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return str(self._value, encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        value = self._value
        return value if isinstance(value, bytes) else bytes(value)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(self._value)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        check_content_length(content_length)
        if content_length is None or content_length >= len(self._value):
            await writer.write(self._value)
        else:
            await writer.write(self._value[:content_length])


class StringPayload(BytesPayload):
    """A ``str`` body, encoded once at construction; reusable.

    The encoding is ``encoding``, else the ``charset`` of ``content_type``, else UTF-8;
    the default content type is ``text/plain; charset=<encoding>``.

    Raises:
        TypeError: ``value`` is not a ``str``.
        LookupError: the encoding is unknown (the built-in ``LookupError``).
        UnicodeEncodeError: the text cannot be encoded with it.
    """

    def __init__(
        self,
        value: str,
        headers: LooseHeaders | None = None,
        *,
        encoding: str | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        **kwargs: object,
    ) -> None:
        if not isinstance(value, str):
            raise TypeError(f"value argument must be str, not {type(value)!r}")
        real_encoding, content_type = text_encoding(encoding, content_type)
        super().__init__(
            value.encode(real_encoding),
            headers,
            content_type=content_type,
            filename=filename,
            encoding=real_encoding,
        )


def text_encoding(encoding: str | None, content_type: str | None) -> tuple[str, str]:
    """The (encoding, content type) of a text payload, as aiohttp derives them."""
    if encoding is None:
        if content_type is None:
            return "utf-8", "text/plain; charset=utf-8"
        return parse_mimetype(content_type).parameters.get("charset", "utf-8"), content_type
    if content_type is None:
        content_type = f"text/plain; charset={encoding}"
    return encoding, content_type


class JsonPayload(BytesPayload):
    """A value serialized as JSON once, at construction; reusable.

    Args:
        value: any value ``dumps`` accepts.
        encoding: the encoding of the JSON text.
        content_type: the media type.
        dumps: the serializer (``json.dumps`` by default).
    """

    def __init__(
        self,
        value: object,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[object], str] = json.dumps,
        *,
        headers: LooseHeaders | None = None,
        filename: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding),
            headers,
            content_type=content_type,
            filename=filename,
            encoding=encoding,
        )


class AsyncIterablePayload(Payload):
    """A body produced by an async iterable of ``bytes``; written once.

    Writing pulls the chunks from the iterator, so the payload is consumed afterwards
    (it cannot be sent again, e.g. after a redirect) unless :meth:`as_bytes` was called
    first, which reads every chunk and keeps them.

    Raises:
        TypeError: ``value`` is not an async iterable.
    """

    _autoclose = True

    def __init__(
        self,
        value: AsyncIterable[bytes],
        headers: LooseHeaders | None = None,
        content_type: str | None = "application/octet-stream",
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: object,
    ) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                "value argument must support collections.abc.AsyncIterable interface, "
                f"got {type(value)!r}"
            )
        super().__init__(value, headers, content_type, filename, encoding)
        self._iter: AsyncIterator[bytes] | None = value.__aiter__()
        self._cached_chunks: list[bytes] | None = None

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        check_content_length(content_length)
        if self._cached_chunks is not None:
            await _write_chunks(writer, self._cached_chunks, content_length)
            return
        iterator = self._iter
        if iterator is None or content_length == 0:
            return
        # Items taken from the iterator cannot be replayed.
        self._consumed = True
        remaining = content_length
        async for chunk in iterator:
            if remaining is None:
                await writer.write(chunk)
                continue
            await writer.write(chunk if remaining >= len(chunk) else chunk[:remaining])
            remaining -= len(chunk)
            if remaining <= 0:
                return  # the rest of the iterator is left unread
        self._iter = None

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Return the cached body as text.

        Raises:
            TypeError: :meth:`as_bytes` has not read the body yet.
        """
        if self._cached_chunks is not None:
            return b"".join(self._cached_chunks).decode(encoding, errors)
        raise TypeError("Unable to decode - content not cached. Call as_bytes() first.")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Read (once) and return the whole body; afterwards the payload is reusable."""
        if self._cached_chunks is not None:
            return b"".join(self._cached_chunks)
        iterator = self._iter
        if iterator is None:
            return b""
        chunks = [chunk async for chunk in iterator]
        self._iter = None
        self._cached_chunks = chunks
        self._consumed = False
        return b"".join(chunks)


async def _write_chunks(
    writer: AbstractStreamWriter, chunks: list[bytes], content_length: int | None
) -> None:
    remaining = content_length
    for chunk in chunks:
        if remaining is None:
            await writer.write(chunk)
        elif remaining > 0:
            await writer.write(chunk if remaining >= len(chunk) else chunk[:remaining])
            remaining -= len(chunk)
        else:
            return


class StreamReaderPayload(AsyncIterablePayload):
    """The body of another message, forwarded as it arrives (a proxy); written once."""

    def __init__(
        self,
        value: StreamReader,
        headers: LooseHeaders | None = None,
        content_type: str | None = "application/octet-stream",
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: object,
    ) -> None:
        if not isinstance(value, StreamReader):
            raise TypeError(f"value argument must be a StreamReader, not {type(value)!r}")
        super().__init__(value.iter_any(), headers, content_type, filename, encoding)


PAYLOAD_REGISTRY = PayloadRegistry()
PAYLOAD_REGISTRY.register(BytesPayload, (bytes, bytearray, memoryview))
PAYLOAD_REGISTRY.register(StringPayload, str)
PAYLOAD_REGISTRY.register(StreamReaderPayload, StreamReader)
# try_last: more specific async iterables (a multipart body part reader) come first.
PAYLOAD_REGISTRY.register(AsyncIterablePayload, AsyncIterable, order=Order.try_last)

# The file payloads subclass Payload, so they live in a module that imports this one; it
# registers them (StringIO, TextIOBase, BytesIO, buffered files, IOBase) on import. Imported
# last so that, whichever of the two modules is imported first, both end up complete.
from . import _payload_io  # noqa: E402, F401
