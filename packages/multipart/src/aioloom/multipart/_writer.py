"""The multipart writer: aiohttp 3.14's ``MultipartWriter`` and ``BodyPartReaderPayload``.

A :class:`MultipartWriter` is a :class:`~aioloom.http.aio._payload.Payload` made of other
payloads, so it nests and is sent like any body::

    with MultipartWriter("mixed") as mpwriter:
        mpwriter.append("hello")                       # text/plain part
        mpwriter.append_json({"a": 1})                 # application/json part
        mpwriter.append(open("big.bin", "rb"))         # streamed 256 KiB at a time
    await session.post(url, data=mpwriter)

The body follows RFC 2046 §5.1.1: each part is ``--boundary CRLF``, its header block, a
blank line, its content and CRLF; the body ends with ``--boundary-- CRLF``. Parts stream
chunk by chunk (files are never read whole). When every part has a known size and no
coding, :attr:`MultipartWriter.size` is exact, so the client can send Content-Length.

Outside ``form-data``, a part's ``Content-Encoding`` (gzip, deflate, identity) and
``Content-Transfer-Encoding`` (base64, quoted-printable; 7bit/8bit/binary write the data as
it is) headers make the writer encode the content on the fly (deflate is raw deflate, as
aiohttp writes and reads it). In ``form-data`` (RFC 7578 §4.8) a part may carry only
Content-Type, Content-Disposition (with a ``name``) and, deprecated but allowed,
Content-Transfer-Encoding.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, TypeAlias
from urllib.parse import urlencode

from multidict import CIMultiDict

from aioloom.http import hdrs
from aioloom.http._content_disposition import parse_content_disposition
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._payload import (
    JsonPayload,
    LookupError,
    Order,
    Payload,
    StringPayload,
    get_payload,
    payload_type,
)
from aioloom.multipart._parser import MAX_BOUNDARY_LENGTH
from aioloom.multipart._transfer import (
    CONTENT_ENCODINGS,
    TRANSFER_ENCODINGS,
    PartEncoder,
    normalize_content_encoding,
    normalize_transfer_encoding,
)
from aioloom.multipart.aio._reader import BodyPartReader

__all__ = ("BodyPartReaderPayload", "MultipartWriter")

_log = logging.getLogger("aioloom.multipart")

# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace
#   bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" /
#                    ":" / "=" / "?";   bchars := bcharsnospace / " "
_BCHARS_NOSPACE: Final = r"0-9A-Za-z'()+_,\-./:=?"
_BOUNDARY_RE: Final = re.compile(f"[{_BCHARS_NOSPACE} ]{{0,69}}[{_BCHARS_NOSPACE}]")
# RFC 9110 §5.6.2 token: a boundary made of these needs no quotes in Content-Type.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: no CTL but HTAB in a field value; CR or LF would end the line early and
# smuggle in another field. The reader refuses the same characters.
_UNSAFE_VALUE_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The headers RFC 7578 §4.8 rules out in a form-data part.
_FORM_DATA_FORBIDDEN: Final = (hdrs.CONTENT_ENCODING, hdrs.CONTENT_LENGTH)

_Part: TypeAlias = "tuple[Payload, str | None, str | None]"


def _check_boundary(boundary: str) -> bytes:
    if not _BOUNDARY_RE.fullmatch(boundary):
        raise ValueError(
            f"Invalid boundary {boundary!r}: RFC 2046 §5.1.1 allows 1 to "
            f"{MAX_BOUNDARY_LENGTH} characters among letters, digits, space and "
            "'()+_,-./:=?, not ending with a space"
        )
    return boundary.encode("ascii")


def _part_head(payload: Payload) -> bytes:
    """Serialize a part's header block, blank line included.

    Raises:
        ValueError: a header name is not a token or a value holds a control character.
    """
    lines: list[str] = []
    for name, value in payload.headers.items():
        if _TOKEN_RE.fullmatch(name) is None:
            raise ValueError(f"Invalid part header name {name!r}")
        if _UNSAFE_VALUE_RE.search(value) is not None:
            raise ValueError(
                f"CR, LF or another control character in part header {name}: {value!r}"
            )
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


def _check_form_data_part(payload: Payload) -> None:
    # RFC 7578 §4.2: a Content-Disposition of type form-data with a "name" parameter.
    disptype, params = parse_content_disposition(payload.headers.get(hdrs.CONTENT_DISPOSITION))
    if disptype != "form-data" or not ({"name", "name*"} & params.keys()):
        raise ValueError(
            "A multipart/form-data part needs 'Content-Disposition: form-data; name=...' "
            f"(RFC 7578 §4.2), got {payload.headers.get(hdrs.CONTENT_DISPOSITION)!r}"
        )


class _EncodingWriter(AbstractStreamWriter):
    """Passes a part's content through its :class:`PartEncoder` to the real writer."""

    def __init__(self, writer: AbstractStreamWriter, encoder: PartEncoder) -> None:
        self._writer = writer
        self._encoder = encoder
        self.length = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        data = self._encoder.feed(bytes(chunk))
        self.output_size += len(data)
        if data:
            await self._writer.write(data)

    async def write_eof(self, chunk: bytes = b"") -> None:
        if chunk:
            await self.write(chunk)
        data = self._encoder.flush()
        self.output_size += len(data)
        if data:
            await self._writer.write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise RuntimeError("a multipart part is compressed by its Content-Encoding header")

    def enable_chunking(self) -> None:
        raise RuntimeError("a multipart part cannot use chunked transfer coding")

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        raise RuntimeError("a multipart part has no message head")


class MultipartWriter(Payload):
    """A ``multipart/*`` body made of payloads (aiohttp's ``MultipartWriter``).

    Args:
        subtype: the media subtype: ``mixed``, ``form-data``, ``related``...
        boundary: the boundary; a random 32-character hex string by default.

    Raises:
        ValueError: the subtype is not a token, or the boundary breaks RFC 2046 §5.1.1
            (1 to 70 characters from its ``bchars`` set, not ending with a space).
    """

    _value: None

    def __init__(self, subtype: str = "mixed", boundary: str | None = None) -> None:
        if _TOKEN_RE.fullmatch(subtype) is None:
            raise ValueError(f"Invalid multipart subtype {subtype!r}")
        boundary = uuid.uuid4().hex if boundary is None else boundary
        self._boundary = _check_boundary(boundary)
        super().__init__(None, content_type=f"multipart/{subtype}; boundary={self._boundary_value}")
        self._parts: list[_Part] = []
        self._is_form_data = subtype == "form-data"

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        return None

    def __iter__(self) -> Iterator[_Part]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    @property
    def _boundary_value(self) -> str:
        """The boundary as a Content-Type parameter value, quoted when not a token."""
        value = self._boundary.decode("ascii")
        return value if _TOKEN_RE.fullmatch(value) else f'"{value}"'

    @property
    def boundary(self) -> str:
        """The boundary string."""
        return self._boundary.decode("ascii")

    @property
    def consumed(self) -> bool:
        """True when the body cannot be written again (a part was consumed, or closed)."""
        return self._consumed or any(part.consumed for part, _, _ in self._parts)

    @property
    def autoclose(self) -> bool:
        """True when no part holds a resource that :meth:`close` must release."""
        return all(part.autoclose for part, _, _ in self._parts)

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add a part made from ``obj`` (see :func:`get_payload`) with extra headers.

        Returns:
            The part's payload.

        Raises:
            TypeError: no payload class handles the type of ``obj``.
        """
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        try:
            payload = get_payload(obj, headers=headers or None)
        except LookupError:
            raise TypeError(f"Cannot create payload from {obj!r}") from None
        return self.append_payload(payload)

    def append_payload(self, payload: Payload) -> Payload:
        """Add ``payload`` as the next part.

        Returns:
            The payload.

        Raises:
            RuntimeError: its Content-Encoding or Content-Transfer-Encoding is unknown.
            ValueError: a form-data part carries Content-Encoding or Content-Length (RFC
                7578 §4.8), or a header would inject CR/LF.
        """
        headers = payload.headers
        content_encoding: str | None = None
        if self._is_form_data:
            for name in _FORM_DATA_FORBIDDEN:
                if name in headers:
                    raise ValueError(
                        f"A form-data part must not have a {name} header (RFC 7578 §4.8)"
                    )
            if hdrs.CONTENT_DISPOSITION not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        else:
            content_encoding = _content_encoding(headers.get(hdrs.CONTENT_ENCODING))
        transfer_encoding = _transfer_encoding(headers.get(hdrs.CONTENT_TRANSFER_ENCODING))
        if not self._is_form_data and not (content_encoding or transfer_encoding):
            size = payload.size
            if size is not None:
                headers[hdrs.CONTENT_LENGTH] = str(size)
        _part_head(payload)  # reject header injection now rather than while sending
        self._parts.append((payload, content_encoding, transfer_encoding))
        return payload

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add a part holding ``obj`` serialized as JSON."""
        return self.append_payload(JsonPayload(obj, headers=headers or None))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Payload:
        """Add an ``application/x-www-form-urlencoded`` part made of ``obj``'s pairs.

        Raises:
            TypeError: ``obj`` is neither a mapping nor a sequence of pairs.
        """
        if isinstance(obj, Mapping):
            pairs: Sequence[tuple[str, str]] = list(obj.items())
        elif isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)):
            pairs = obj
        else:
            raise TypeError(f"append_form needs a mapping or a sequence of pairs, not {obj!r}")
        return self.append_payload(
            StringPayload(
                urlencode(pairs, doseq=True),
                headers=headers or None,
                content_type="application/x-www-form-urlencoded",
            )
        )

    @property
    def size(self) -> int | None:
        """The exact body size, or None when a part's size is unknown or it is encoded."""
        delimiter = len(self._boundary) + 4  # "--" boundary CRLF, or CRLF after the content
        total = 0
        for part, content_encoding, transfer_encoding in self._parts:
            part_size = part.size
            if content_encoding or transfer_encoding or part_size is None:
                return None
            total += delimiter + len(_part_head(part)) + part_size + 2
        return total + delimiter + 2  # "--" boundary "--" CRLF

    def _open(self, part: Payload) -> bytes:
        if self._is_form_data:
            _check_form_data_part(part)
        return b"--" + self._boundary + b"\r\n" + _part_head(part)

    def _close_delimiter(self) -> bytes:
        return b"--" + self._boundary + b"--\r\n"

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Return the whole body as text.

        This reads file parts synchronously: do not call it on the event loop; use
        ``(await writer.as_bytes()).decode()`` there.
        """
        pieces: list[bytes] = []
        for part, content_encoding, transfer_encoding in self._parts:
            pieces.append(self._open(part))
            data = part.decode(encoding, errors).encode(encoding, errors)
            pieces.append(_encode(data, content_encoding, transfer_encoding) + b"\r\n")
        pieces.append(self._close_delimiter())
        return b"".join(pieces).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Return the whole body as bytes (parts are read through their ``as_bytes``)."""
        pieces: list[bytes] = []
        for part, content_encoding, transfer_encoding in self._parts:
            pieces.append(self._open(part))
            data = await part.as_bytes(encoding, errors)
            pieces.append(_encode(data, content_encoding, transfer_encoding) + b"\r\n")
        pieces.append(self._close_delimiter())
        return b"".join(pieces)

    async def write(self, writer: AbstractStreamWriter, close_boundary: bool = True) -> None:
        """Write the body, part by part and chunk by chunk.

        Args:
            writer: where to write.
            close_boundary: end with the close delimiter (False leaves the body open, for
                a caller that appends more parts itself).

        Raises:
            ValueError: a form-data part lost its ``name`` or a header would inject CR/LF.
        """
        after_content = b""
        for part, content_encoding, transfer_encoding in self._parts:
            await writer.write(after_content + self._open(part))
            if content_encoding or transfer_encoding:
                encoding_writer = _EncodingWriter(
                    writer, PartEncoder(transfer_encoding, content_encoding)
                )
                await part.write(encoding_writer)
                await encoding_writer.write_eof()
            else:
                await part.write(writer)
            after_content = b"\r\n"
        tail = after_content + (self._close_delimiter() if close_boundary else b"")
        if tail:
            await writer.write(tail)

    async def close(self) -> None:
        """Close every part that holds a resource; never waits for slow work."""
        if self._consumed:
            return
        self._consumed = True
        for index, (part, _, _) in enumerate(self._parts):
            if part.autoclose or part.consumed:
                continue
            try:
                await part.close()
            except Exception:
                _log.exception("Failed to close multipart part %d", index)


def _content_encoding(value: str | None) -> str | None:
    if value is not None and value.strip().lower() not in CONTENT_ENCODINGS:
        raise RuntimeError(f"unknown content encoding: {value}")
    return normalize_content_encoding(value)


def _transfer_encoding(value: str | None) -> str | None:
    if value is not None and value.strip().lower() not in TRANSFER_ENCODINGS:
        raise RuntimeError(f"unknown content transfer encoding: {value}")
    return normalize_transfer_encoding(value)


def _encode(data: bytes, content_encoding: str | None, transfer_encoding: str | None) -> bytes:
    if not (content_encoding or transfer_encoding):
        return data
    encoder = PartEncoder(transfer_encoding, content_encoding)
    return encoder.feed(data) + encoder.flush()


@payload_type(BodyPartReader, order=Order.try_first)
class BodyPartReaderPayload(Payload):
    """A part being received, forwarded as a body (e.g. to another server); written once.

    The part's ``name`` and ``filename`` are kept in an ``attachment`` Content-Disposition;
    the content is written decoded (transfer and content codings undone), as aiohttp does.
    """

    _value: BodyPartReader

    def __init__(self, value: BodyPartReader, *args: Any, **kwargs: Any) -> None:
        super().__init__(value, *args, **kwargs)
        params: dict[str, str] = {}
        if value.name is not None:
            params["name"] = value.name
        if value.filename is not None:
            params["filename"] = value.filename
        if params:
            self.set_content_disposition("attachment", True, **params)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Not available: a part being received can only be streamed."""
        raise TypeError("Unable to decode.")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Not available: a part being received is streamed by :meth:`write` only."""
        raise TypeError("Unable to read body part as bytes. Use write() to consume.")

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Stream the rest of the part, decoded, to ``writer``."""
        self._consumed = True
        async for piece in self._value._decoded():
            await writer.write(piece)
