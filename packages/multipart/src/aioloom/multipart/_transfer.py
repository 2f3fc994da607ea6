"""Part codings: Content-Transfer-Encoding (RFC 2045 §6) and a part's Content-Encoding.

Sans-I/O and incremental in both directions, so a part of any size streams through in
bounded memory:

* :class:`PartDecoder` undoes the transfer encoding (``base64``, ``quoted-printable``;
  ``7bit``, ``8bit`` and ``binary`` are identities) and then the content coding (``gzip``,
  ``deflate``, ``identity``) through :class:`aioloom.http._codings.Decompressor`, which bounds
  both each output piece and the whole decoded size (a "zip bomb" fails early).
* :class:`PartEncoder` does the reverse for :class:`MultipartWriter`: it compresses (raw
  deflate for ``deflate``, as aiohttp's reader expects, or gzip) and then applies the
  transfer encoding, with base64 and quoted-printable lines of at most 76 characters joined
  by CRLF (RFC 2045 §6.7 rule 5, §6.8).

The coding names are the ones aiohttp's multipart module accepts; anything else raises
:class:`UnknownPartEncoding`.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterator
from typing import Final, Protocol

from aioloom.http._codings import Decompressor

from ._exceptions import PartDecodeError, UnknownPartEncoding

__all__ = (
    "CONTENT_ENCODINGS",
    "TRANSFER_ENCODINGS",
    "PartDecoder",
    "PartEncoder",
    "normalize_content_encoding",
    "normalize_transfer_encoding",
)

# RFC 2045 §6.1: mechanism names are case-insensitive. 7bit/8bit/binary mean "no encoding".
TRANSFER_ENCODINGS: Final = frozenset({"base64", "quoted-printable", "binary", "8bit", "7bit"})
# The content codings aiohttp allows inside a part.
CONTENT_ENCODINGS: Final = frozenset({"gzip", "deflate", "identity"})

_IDENTITY_TRANSFER: Final = frozenset({"binary", "8bit", "7bit"})
_BASE64_IGNORED: Final = b" \t\r\n"  # RFC 2045 §6.8: line breaks (and padding) are ignored
# One piece of decompressed output: small enough to keep a few in memory, big enough that
# the per-call overhead does not matter.
_DECODE_PIECE: Final = 2**16
# RFC 2045 §6.8: 76 characters a line, so 57 input bytes a line.
_B64_LINE_INPUT: Final = 57
# A quoted-printable line without a line break is cut (soft line break) past this size.
_QP_PENDING_MAX: Final = 4096


def normalize_transfer_encoding(value: str | None) -> str | None:
    """Return the canonical Content-Transfer-Encoding, None for none or an identity.

    Raises:
        UnknownPartEncoding: the mechanism is not one of :data:`TRANSFER_ENCODINGS`.
    """
    if value is None:
        return None
    name = value.strip().lower()
    if name not in TRANSFER_ENCODINGS:
        raise UnknownPartEncoding(f"unknown content transfer encoding: {value}")
    return None if name in _IDENTITY_TRANSFER else name


def normalize_content_encoding(value: str | None) -> str | None:
    """Return the canonical part Content-Encoding, None for none or ``identity``.

    Raises:
        UnknownPartEncoding: the coding is not one of :data:`CONTENT_ENCODINGS`.
    """
    if value is None:
        return None
    name = value.strip().lower()
    if name not in CONTENT_ENCODINGS:
        raise UnknownPartEncoding(f"unknown content encoding: {value}")
    return None if name == "identity" else name


# -- transfer decoding -----------------------------------------------------------------


class _Transfer(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _IdentityTransfer:
    def feed(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Base64Decoder:
    """base64 (RFC 2045 §6.8), fed in pieces of any size; whitespace is ignored."""

    def __init__(self) -> None:
        self._rest = b""  # fewer than 4 significant characters

    def feed(self, data: bytes) -> bytes:
        data = data.translate(None, _BASE64_IGNORED)
        if self._rest:
            data = self._rest + data
        cut = len(data) - len(data) % 4
        self._rest = data[cut:]
        return self._decode(data[:cut])

    def flush(self) -> bytes:
        rest, self._rest = self._rest, b""
        if rest:
            raise PartDecodeError(f"Truncated base64 data: {rest!r} is not a full group")
        return b""

    @staticmethod
    def _decode(data: bytes) -> bytes:
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise PartDecodeError(f"Invalid base64 data in a part: {exc}") from exc


class _QuotedPrintableDecoder:
    """quoted-printable (RFC 2045 §6.7), fed in pieces of any size."""

    def __init__(self) -> None:
        self._rest = b""  # a trailing "=" or "=X" that the next piece completes

    def feed(self, data: bytes) -> bytes:
        if self._rest:
            data = self._rest + data
        # Never cut inside an "=XX" escape or an "=" CRLF soft line break.
        cut = len(data)
        equals = data.find(b"=", max(0, cut - 2))
        if equals >= 0:
            cut = equals
        self._rest = data[cut:]
        return binascii.a2b_qp(data[:cut])

    def flush(self) -> bytes:
        rest, self._rest = self._rest, b""
        return binascii.a2b_qp(rest)


def _transfer_decoder(name: str | None) -> _Transfer:
    if name == "base64":
        return _Base64Decoder()
    if name == "quoted-printable":
        return _QuotedPrintableDecoder()
    return _IdentityTransfer()


class PartDecoder:
    """Decode one part's content, piece by piece.

    Args:
        transfer_encoding: the Content-Transfer-Encoding header value, or None.
        content_encoding: the Content-Encoding header value, or None.
        max_size: the most bytes the content may decompress to (None: no bound).

    Raises:
        UnknownPartEncoding: either coding is unknown.
    """

    __slots__ = ("_decompressor", "_transfer")

    def __init__(
        self,
        transfer_encoding: str | None,
        content_encoding: str | None,
        *,
        max_size: int | None = None,
    ) -> None:
        self._transfer = _transfer_decoder(normalize_transfer_encoding(transfer_encoding))
        coding = normalize_content_encoding(content_encoding)
        self._decompressor = (
            None
            if coding is None
            else Decompressor(coding, max_output=_DECODE_PIECE, max_size=max_size)
        )

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decode the next raw piece; yields decoded pieces (none may be empty).

        Raises:
            PartDecodeError: the transfer encoding is corrupt.
            ContentEncodingError: the compressed data is corrupt.
            DecompressSizeError: the content decompresses to more than ``max_size``.
        """
        return self._decompress(self._transfer.feed(data))

    def flush(self) -> Iterator[bytes]:
        """End of the part: yield what is still due and check the data was complete.

        Raises:
            PartDecodeError: the transfer-encoded data is truncated.
            ContentEncodingError: the compressed stream is truncated.
        """
        yield from self._decompress(self._transfer.flush())
        if self._decompressor is not None:
            tail = self._decompressor.flush()
            if tail:
                yield tail

    def _decompress(self, data: bytes) -> Iterator[bytes]:
        decompressor = self._decompressor
        if decompressor is None:
            if data:
                yield data
            return
        out = decompressor.decompress(data)
        while True:
            if out:
                yield out
            if decompressor.needs_input:
                return
            out = decompressor.decompress(b"")


# -- encoding (for the writer) ---------------------------------------------------------


class _Base64Encoder:
    """base64 in lines of 76 characters joined by CRLF (RFC 2045 §6.8)."""

    def __init__(self) -> None:
        self._rest = b""  # fewer than 57 bytes: not a full line yet
        self._started = False

    def feed(self, data: bytes) -> bytes:
        if self._rest:
            data = self._rest + data
        cut = len(data) - len(data) % _B64_LINE_INPUT
        self._rest = data[cut:]
        return self._lines(data[:cut])

    def flush(self) -> bytes:
        rest, self._rest = self._rest, b""
        return self._lines(rest)

    def _lines(self, data: bytes) -> bytes:
        if not data:
            return b""
        # encodebytes ends every 76-character line with LF; the alphabet has no LF.
        lines = base64.encodebytes(data)[:-1].replace(b"\n", b"\r\n")
        if self._started:
            return b"\r\n" + lines
        self._started = True
        return lines


class _QuotedPrintableEncoder:
    """quoted-printable with CRLF hard line breaks and soft breaks at 76 characters."""

    def __init__(self) -> None:
        self._pending = b""  # the current line, not yet ended by CRLF

    def feed(self, data: bytes) -> bytes:
        data = self._pending + data if self._pending else data
        last = data.rfind(b"\r\n")
        out: list[bytes] = []
        if last >= 0:
            out.append(self._complete_lines(data[:last]) + b"\r\n")
            data = data[last + 2 :]
        if len(data) > _QP_PENDING_MAX:
            # A very long line: emit all but the last byte (it may be a CR or trailing
            # whitespace) and continue on a new line after a soft break.
            out.append(self._encode_line(data[:-1]) + b"=\r\n")
            data = data[-1:]
        self._pending = data
        return b"".join(out)

    def flush(self) -> bytes:
        pending, self._pending = self._pending, b""
        return self._encode_line(pending) if pending else b""

    def _complete_lines(self, data: bytes) -> bytes:
        return b"\r\n".join(self._encode_line(line) for line in data.split(b"\r\n"))

    @staticmethod
    def _encode_line(line: bytes) -> bytes:
        # Without CRLF in the input, b2a_qp writes its soft line breaks as "=" LF; a bare
        # CR or LF in the line is escaped (istext=False), so LF only occurs in those.
        return binascii.b2a_qp(line, istext=False).replace(b"=\n", b"=\r\n")


def _transfer_encoder(name: str | None) -> _Transfer:
    if name == "base64":
        return _Base64Encoder()
    if name == "quoted-printable":
        return _QuotedPrintableEncoder()
    return _IdentityTransfer()


class PartEncoder:
    """Encode one part's content, piece by piece: compress, then transfer-encode.

    Args:
        transfer_encoding: the Content-Transfer-Encoding to apply, or None.
        content_encoding: ``gzip``, ``deflate`` (raw deflate, as aiohttp writes and reads
            it), ``identity`` or None.

    Raises:
        UnknownPartEncoding: either coding is unknown.
    """

    __slots__ = ("_compressor", "_transfer")

    def __init__(self, transfer_encoding: str | None, content_encoding: str | None) -> None:
        self._transfer = _transfer_encoder(normalize_transfer_encoding(transfer_encoding))
        coding = normalize_content_encoding(content_encoding)
        self._compressor: zlib._Compress | None = None
        if coding is not None:
            wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else -zlib.MAX_WBITS
            self._compressor = zlib.compressobj(wbits=wbits)

    def feed(self, data: bytes) -> bytes:
        """Encode the next piece; the result may be empty while the encoders buffer."""
        if self._compressor is not None:
            data = self._compressor.compress(data)
        return self._transfer.feed(data) if data else b""

    def flush(self) -> bytes:
        """End of the part: return the rest of the encoded content."""
        out = b""
        if self._compressor is not None:
            out = self._transfer.feed(self._compressor.flush())
        return out + self._transfer.flush()
