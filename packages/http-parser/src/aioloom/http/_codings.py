"""Content codings (RFC 9110 §8.4.1): bounded incremental decoders and streaming encoders.

This module owns every content coding aioloom speaks: ``gzip``/``x-gzip`` and ``deflate``
through the zlib backend (the standard library's :mod:`zlib` unless
:func:`~aioloom.http.set_zlib_backend` chose another; each coder takes the backend current when
it is created, see :mod:`aioloom.http._zlib_backend`), ``br`` when the ``brotli`` package (1.2 or
newer, ``pip install aioloom-http[speedups]``) imports, and ``zstd`` when the standard
library has :mod:`compression.zstd` (Python 3.14+) or its backport ``backports.zstd`` is
installed. Nothing here is required: a missing library only removes its coding from
:data:`SUPPORTED_ENCODINGS` and :func:`accept_encoding`.

It is sans-I/O: bytes in, bytes out, no event loop.

Bounded decoding and back-pressure
----------------------------------
A few hundred compressed bytes can expand to gigabytes (a "zip bomb"), so
:meth:`Decompressor.decompress` never returns more than ``max_output`` bytes per call.
Input it could not process yet stays inside the decoder, and the caller *pulls* the rest
with ``decompress(b"")`` while :attr:`Decompressor.needs_input` is false. A body stream
applies back-pressure simply by not pulling while its reader is behind::

    dec = Decompressor("gzip", max_size=client_max_size)
    async for chunk in raw_body:              # compressed bytes from the wire
        out = dec.decompress(chunk)
        while True:
            if out:
                await deliver(out)            # waits while the consumer is behind
            if dec.needs_input:
                break
            out = dec.decompress(b"")         # pull the next bounded piece
    tail = dec.flush()                        # end of body: raises if truncated

The optional total bound ``max_size`` raises :class:`DecompressSizeError` as soon as the
decoded size would pass it; the decoder never asks its library for more than
``max_size + 1`` bytes in all, so memory stays within the bound plus one call's output.

Errors: an unknown or unavailable coding, a corrupt stream and a truncated stream raise
:class:`ContentEncodingError` (status 400) whose message names the coding.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, Final, Protocol, TypedDict, cast

from ._exceptions import ContentEncodingError, DecompressSizeError
from ._zlib_backend import ZLibBackend, ZLibCompressObj, ZLibDecompressObj, get_zlib_backend

__all__ = (
    "SUPPORTED_ENCODINGS",
    "Compressor",
    "Decompressor",
    "accept_encoding",
)

Buffer = bytes | bytearray | memoryview

_SPEEDUPS_HINT: Final = "pip install aioloom-http[speedups]"
_ZSTD_HINT: Final = "Python 3.14+ or pip install backports.zstd"

# Default bound of one decompress() call: big enough to keep per-call overhead low, small
# enough that one call cannot pin much memory.
DEFAULT_MAX_OUTPUT: Final = 2**20

# RFC 9659 §3: a zstd content coding uses a window of at most 8 MB (window_log 23);
# decoders may refuse larger windows, which also bounds the decoder's own memory.
_ZSTD_WINDOW_LOG_MAX: Final = 23
# Levels 20+ use windows larger than 8 MB, which RFC 9659 §3 forbids on the wire.
_ZSTD_MAX_LEVEL: Final = 19
# Brotli's own default (11) is far too slow for on-the-fly HTTP compression.
_BROTLI_DEFAULT_QUALITY: Final = 4

_GZIP_MAGIC: Final = b"\x1f\x8b"  # RFC 1952 §2.3.1 ID1 ID2
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"  # RFC 8878 §3.1.1 Magic_Number (little-endian)


# -- optional libraries -----------------------------------------------------------------


class _BrotliDecoderObj(Protocol):
    def process(self, data: Buffer, output_buffer_limit: int = ...) -> bytes: ...
    def is_finished(self) -> bool: ...
    def can_accept_more_data(self) -> bool: ...


class _BrotliEncoderObj(Protocol):
    def process(self, data: Buffer) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _BrotliModule(Protocol):
    error: type[Exception]

    def Decompressor(self) -> _BrotliDecoderObj: ...
    def Compressor(self, *, quality: int = ...) -> _BrotliEncoderObj: ...


class _ZstdDecoderObj(Protocol):
    eof: bool
    needs_input: bool
    unused_data: bytes

    def decompress(self, data: Buffer, max_length: int = ...) -> bytes: ...


class _ZstdEncoderObj(Protocol):
    FLUSH_BLOCK: int
    FLUSH_FRAME: int

    def compress(self, data: Buffer) -> bytes: ...
    def flush(self, mode: int = ...) -> bytes: ...


class _ZstdModule(Protocol):
    ZstdError: type[Exception]
    DecompressionParameter: Any

    def ZstdDecompressor(self, *, options: dict[Any, int] | None = ...) -> _ZstdDecoderObj: ...
    def ZstdCompressor(self, level: int | None = ...) -> _ZstdEncoderObj: ...


def _import_optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _load_brotli() -> _BrotliModule | None:
    module = _import_optional("brotli")
    if module is None:
        return None
    return cast("_BrotliModule", module)


def _load_zstd() -> _ZstdModule | None:
    names = ("compression.zstd",) if sys.version_info >= (3, 14) else ()
    for name in (*names, "backports.zstd"):
        module = _import_optional(name)
        if module is not None:
            return cast("_ZstdModule", module)
    return None


_brotli: Final = _load_brotli()
_zstd: Final = _load_zstd()
# Decoding br needs brotli >= 1.2: older releases cannot bound the output of one call.
_BROTLI_DECODES: Final = _brotli is not None and hasattr(
    _brotli.Decompressor(), "can_accept_more_data"
)


def _normalize(encoding: str) -> str:
    # RFC 9110 §8.4.1: content-coding names are case-insensitive; §8.4.1.3: x-gzip == gzip.
    name = encoding.strip().lower()
    return "gzip" if name == "x-gzip" else name


def _decode_error(encoding: str, reason: str) -> ContentEncodingError:
    return ContentEncodingError(f"Can not decode content-encoding: {encoding}: {reason}")


# -- decoders ---------------------------------------------------------------------------


class _Decoder(Protocol):
    """One coding's decoder: ``step`` returns at most ``limit`` bytes and whether more is due."""

    eof: bool

    def step(self, data: Buffer, limit: int) -> tuple[bytes, bool]: ...


def _member_starts(buf: bytes, magic: Callable[[bytes], bool], size: int) -> bool | None:
    """After the end of a member: does ``buf`` start another one? ``None``: too short to say."""
    if len(buf) < size:
        return None
    return magic(buf[:size])


def _is_zstd_frame(head: bytes) -> bool:
    # RFC 8878 §3.1.1 frame magic, or §3.1.2 skippable frame magic 0x184D2A5?.
    return head == _ZSTD_MAGIC or (head[1:] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50)


def _deflate_wbits(head: bytes, max_wbits: int) -> int:
    """Pick zlib-wrapped or raw deflate from the first two bytes, as browsers do.

    RFC 9110 §8.4.1.2 says "deflate" is the zlib format (RFC 1950), but some servers send
    raw deflate (RFC 1951). A zlib header has CM=8, CINFO<=7 and (CMF*256+FLG) % 31 == 0
    (RFC 1950 §2.2).
    """
    cmf, flg = head[0], head[1]
    if cmf & 0x0F == 8 and cmf >> 4 <= 7 and ((cmf << 8) | flg) % 31 == 0:
        return max_wbits
    return -max_wbits


class _ZlibDecoder:
    """gzip (RFC 1952, members in sequence) and deflate (zlib-wrapped or raw) via zlib."""

    def __init__(self, encoding: str) -> None:
        self._zlib = get_zlib_backend()  # this stream keeps the backend it started with
        self._encoding = encoding
        self._gzip = encoding == "gzip"
        self._obj: ZLibDecompressObj | None = self._new_gzip() if self._gzip else None
        self._tail = b""  # input not consumed yet
        self._ignore = False  # trailing bytes after the stream that start no member
        self.eof = False

    def step(self, data: Buffer, limit: int) -> tuple[bytes, bool]:
        if self._ignore:
            return b"", False
        buf = self._tail + data if self._tail else bytes(data)
        if self.eof and self._gzip:
            return self._next_member(buf, limit)
        if self.eof:  # trailing bytes after a deflate stream are ignored
            self._tail, self._ignore = b"", True
            return b"", False
        if self._obj is None:
            if len(buf) < 2 and (not buf or buf[0] & 0x0F == 8):
                self._tail = buf  # not enough to tell zlib from raw deflate yet
                return b"", False
            max_wbits = self._zlib.MAX_WBITS
            wbits = _deflate_wbits(buf, max_wbits) if len(buf) > 1 else -max_wbits
            self._obj = self._zlib.decompressobj(wbits)
        return self._inflate(self._obj, buf, limit)

    def _new_gzip(self) -> ZLibDecompressObj:
        # RFC 1952 wrapper: zlib's wbits 16 + window bits selects the gzip header and trailer.
        return self._zlib.decompressobj(16 + self._zlib.MAX_WBITS)

    def _inflate(self, obj: ZLibDecompressObj, buf: bytes, limit: int) -> tuple[bytes, bool]:
        try:
            out = obj.decompress(buf, limit)
        except self._zlib.error as exc:
            raise _decode_error(self._encoding, f"corrupt stream ({exc})") from exc
        if obj.eof:
            self.eof = True
            self._tail = obj.unused_data
            return out, bool(self._tail)
        self._tail = obj.unconsumed_tail
        return out, bool(self._tail) or len(out) >= limit

    def _next_member(self, buf: bytes, limit: int) -> tuple[bytes, bool]:
        # RFC 1952 §2.2: a gzip file is a series of members; bytes that start no member
        # (padding some servers add) are ignored, as zlib-based clients do.
        starts = _member_starts(buf, _GZIP_MAGIC.__eq__, len(_GZIP_MAGIC))
        if starts is None:
            self._tail = buf
            return b"", False
        if not starts:
            self._tail, self._ignore = b"", True
            return b"", False
        self._obj = obj = self._new_gzip()
        self.eof = False
        return self._inflate(obj, buf, limit)


class _BrotliDecoder:
    """br (RFC 7932) via the brotli package's bounded ``process`` (brotli >= 1.2)."""

    def __init__(self, module: _BrotliModule) -> None:
        self._module = module
        self._obj = module.Decompressor()
        self._in = b""  # input brotli cannot take yet
        self._held = b""  # output beyond the caller's limit (brotli overshoots it)
        self.eof = False

    def step(self, data: Buffer, limit: int) -> tuple[bytes, bool]:
        if data and not self.eof:
            self._in = self._in + data if self._in else bytes(data)
        if self._held:
            out, self._held = self._held[:limit], self._held[limit:]
            return out, True
        obj = self._obj
        feed, self._in = (self._in, b"") if obj.can_accept_more_data() else (b"", self._in)
        try:
            out = obj.process(feed, output_buffer_limit=limit)
        except self._module.error as exc:
            raise _decode_error("br", f"corrupt stream ({exc})") from exc
        if len(out) > limit:
            out, self._held = out[:limit], out[limit:]
        self.eof = obj.is_finished()
        if self.eof:
            self._in = b""  # trailing bytes after the stream are ignored
        more = bool(self._held or self._in) or (
            not self.eof and (len(out) >= limit or not obj.can_accept_more_data())
        )
        return out, more


class _ZstdDecoder:
    """zstd (RFC 8878, frames in sequence) via compression.zstd or backports.zstd."""

    def __init__(self, module: _ZstdModule) -> None:
        self._module = module
        self._obj = self._new()
        self._tail = b""  # bytes after a finished frame
        self._ignore = False
        self.eof = False

    def _new(self) -> _ZstdDecoderObj:
        window = self._module.DecompressionParameter.window_log_max
        return self._module.ZstdDecompressor(options={window: _ZSTD_WINDOW_LOG_MAX})

    def step(self, data: Buffer, limit: int) -> tuple[bytes, bool]:
        if self._ignore:
            return b"", False
        if self.eof:
            buf = self._tail + data
            # RFC 8878 §3.1: frames may follow each other; other trailing bytes are ignored.
            starts = _member_starts(buf, _is_zstd_frame, len(_ZSTD_MAGIC))
            if starts is None:
                self._tail = buf
                return b"", False
            self._tail = b""
            if not starts:
                self._ignore = True
                return b"", False
            self._obj, self.eof, data = self._new(), False, buf
        obj = self._obj
        try:
            out = obj.decompress(data, limit)
        except self._module.ZstdError as exc:
            raise _decode_error("zstd", f"corrupt stream ({exc})") from exc
        if obj.eof:
            self.eof = True
            self._tail = obj.unused_data
            return out, bool(self._tail)
        return out, not obj.needs_input


def _make_decoder(encoding: str) -> _Decoder:
    if encoding in ("gzip", "deflate"):
        return _ZlibDecoder(encoding)
    if encoding == "br":
        if _brotli is None or not _BROTLI_DECODES:
            raise _decode_error("br", f"brotli >= 1.2 is not installed ({_SPEEDUPS_HINT})")
        return _BrotliDecoder(_brotli)
    if encoding == "zstd":
        if _zstd is None:
            raise _decode_error("zstd", f"no zstd support ({_ZSTD_HINT})")
        return _ZstdDecoder(_zstd)
    raise _decode_error(encoding, "unknown content coding")


class Decompressor:
    """Incremental, bounded decoder of one content-coded body.

    Args:
        encoding: the Content-Encoding value: ``gzip``, ``x-gzip``, ``deflate`` (zlib-wrapped
            or raw, detected from the first bytes), ``br`` or ``zstd``; case-insensitive.
        max_output: the most bytes one :meth:`decompress` call returns (at least 1).
        max_size: the most bytes the whole body may decode to, or None for no bound.

    Raises:
        ContentEncodingError: the coding is unknown or its library is not installed.
        ValueError: ``max_output`` < 1 or ``max_size`` < 0.
    """

    __slots__ = (
        "_decoder",
        "_done",
        "_more",
        "_received",
        "_total",
        "encoding",
        "max_output",
        "max_size",
    )

    def __init__(
        self,
        encoding: str,
        *,
        max_output: int = DEFAULT_MAX_OUTPUT,
        max_size: int | None = None,
    ) -> None:
        if max_output < 1:
            raise ValueError(f"max_output must be at least 1, got {max_output}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0 or None, got {max_size}")
        self.encoding = _normalize(encoding)
        self.max_output = max_output
        self.max_size = max_size
        self._decoder = _make_decoder(self.encoding)
        self._total = 0
        self._more = False
        self._received = False
        self._done = False

    @property
    def needs_input(self) -> bool:
        """True when all input was decoded; False: call ``decompress(b"")`` for more output."""
        return not self._more

    @property
    def eof(self) -> bool:
        """True once the end of the coded stream was decoded."""
        return self._decoder.eof

    @property
    def total_out(self) -> int:
        """Decoded bytes returned so far."""
        return self._total

    def decompress(self, data: Buffer) -> bytes:
        """Feed compressed bytes and return at most ``max_output`` decoded bytes.

        Input that could not be decoded within the bound is kept; while :attr:`needs_input`
        is False, call ``decompress(b"")`` to pull the rest before feeding more.

        Raises:
            ContentEncodingError: the stream is corrupt.
            DecompressSizeError: the body decodes to more than ``max_size`` bytes.
            RuntimeError: called after :meth:`flush`.
        """
        if self._done:
            raise RuntimeError("Decompressor.decompress() called after flush() or a size error")
        if data:
            self._received = True
        elif not self._more:
            return b""
        return self._step(data)

    def _step(self, data: Buffer) -> bytes:
        limit = self.max_output
        if self.max_size is not None:
            # Never ask for more than one byte past the bound: a bomb allocates no more.
            limit = max(1, min(limit, self.max_size - self._total + 1))
        out, self._more = self._decoder.step(data, limit)
        self._total += len(out)
        if self.max_size is not None and self._total > self.max_size:
            self._more = False
            self._done = True
            raise DecompressSizeError(
                f"Decompressed {self.encoding} data exceeds the limit of "
                f"{self.max_size} bytes (max_size)"
            )
        return out

    def flush(self) -> bytes:
        """End of body: return the output still due and check that the stream is complete.

        To keep every piece within ``max_output``, drain with ``decompress(b"")`` until
        :attr:`needs_input` first; otherwise flush returns the remaining output at once
        (still within ``max_size``). A body of zero bytes is a valid empty body.

        Raises:
            ContentEncodingError: the stream is truncated or corrupt.
            DecompressSizeError: the body decodes to more than ``max_size`` bytes.
        """
        if self._done:
            return b""
        parts: list[bytes] = []
        while self._more:
            out = self._step(b"")
            if not out and self._more:
                break  # a decoder that neither progresses nor finishes: truncated
            parts.append(out)
        self._done = True
        if self._received and not self._decoder.eof:
            raise _decode_error(self.encoding, "the stream is truncated")
        return b"".join(parts)


# -- encoders ---------------------------------------------------------------------------


def _check_level(encoding: str, level: int, low: int, high: int) -> None:
    if not low <= level <= high:
        raise ValueError(f"{encoding} compression level must be in {low}..{high}, got {level}")


class _CompressOptions(TypedDict, total=False):
    # Left out: the backend's own default (Z_DEFAULT_COMPRESSION, Z_DEFAULT_STRATEGY).
    wbits: int
    level: int
    strategy: int


def _new_compressobj(
    backend: ZLibBackend, encoding: str, options: _CompressOptions
) -> ZLibCompressObj:
    """``backend.compressobj(**options)``; a setting the backend refuses is a ValueError.

    A replacement backend may accept fewer levels than zlib (ISA-L has 0..3), and says so
    with its own ``error``.
    """
    try:
        return backend.compressobj(**options)
    except backend.error as exc:
        raise ValueError(f"Can not encode content-encoding: {encoding}: {exc}") from exc


class Compressor:
    """Streaming encoder of one body.

    Args:
        encoding: ``gzip``/``x-gzip``, ``deflate`` (zlib-wrapped, RFC 9110 §8.4.1.2), ``br``
            (brotli installed) or ``zstd`` (compression.zstd or backports.zstd).
        level: the compression level (zlib -1..9, br quality 0..11, zstd up to 19);
            None picks the library default (br: quality 4, suited to on-the-fly use).
        strategy: a zlib strategy (``zlib.Z_FILTERED`` ...) for gzip and deflate; other
            codings have none and ignore it.

    gzip and deflate use the zlib backend current at construction
    (:func:`~aioloom.http.set_zlib_backend`).

    Raises:
        ValueError: the coding is unknown or not available here, or the level is out of range.
    """

    __slots__ = ("_compress", "_finish", "_finished", "_sync_flush", "encoding")

    def __init__(
        self, encoding: str, *, level: int | None = None, strategy: int | None = None
    ) -> None:
        self.encoding = _normalize(encoding)
        self._finished = False
        if self.encoding in ("gzip", "deflate"):
            self._init_zlib(level, strategy)
        elif self.encoding == "br":
            self._init_brotli(level)
        elif self.encoding == "zstd":
            self._init_zstd(level)
        else:
            raise ValueError(f"Can not encode content-encoding: {encoding}: unknown coding")

    def _init_zlib(self, level: int | None, strategy: int | None) -> None:
        backend = get_zlib_backend()
        # RFC 1952 (gzip) wrapper: wbits 16 + window bits; RFC 1950 (zlib) wrapper: window bits.
        wbits = backend.MAX_WBITS + (16 if self.encoding == "gzip" else 0)
        options: _CompressOptions = {"wbits": wbits}
        if level is not None:
            _check_level(self.encoding, level, -1, 9)  # the zlib API's range
            options["level"] = level
        if strategy is not None:
            options["strategy"] = strategy
        obj = _new_compressobj(backend, self.encoding, options)
        sync_mode = backend.Z_SYNC_FLUSH
        self._compress: Callable[[Buffer], bytes] = obj.compress
        self._finish: Callable[[], bytes] = obj.flush
        self._sync_flush: Callable[[], bytes] = lambda: obj.flush(sync_mode)

    def _init_brotli(self, level: int | None) -> None:
        if _brotli is None:
            raise ValueError(f"Can not encode content-encoding: br: {_SPEEDUPS_HINT}")
        level = _BROTLI_DEFAULT_QUALITY if level is None else level
        _check_level("br", level, 0, 11)
        obj = _brotli.Compressor(quality=level)
        self._compress, self._finish, self._sync_flush = obj.process, obj.finish, obj.flush

    def _init_zstd(self, level: int | None) -> None:
        if _zstd is None:
            raise ValueError(f"Can not encode content-encoding: zstd: {_ZSTD_HINT}")
        if level is not None:
            _check_level("zstd", level, -(2**17), _ZSTD_MAX_LEVEL)
        obj = _zstd.ZstdCompressor(level)
        self._compress = obj.compress
        self._finish = lambda: obj.flush(obj.FLUSH_FRAME)
        self._sync_flush = lambda: obj.flush(obj.FLUSH_BLOCK)

    def compress(self, data: Buffer) -> bytes:
        """Compress ``data``; the result may be empty while the encoder buffers input.

        Raises:
            RuntimeError: called after ``flush()`` finished the stream.
        """
        if self._finished:
            raise RuntimeError("Compressor.compress() called after flush()")
        return self._compress(data)

    def flush(self, *, final: bool = True) -> bytes:
        """Return the buffered output.

        Args:
            final: True ends the stream (no more ``compress`` calls); False emits everything
                so far at a byte boundary and keeps the stream open (for streamed responses).
        """
        if self._finished:
            return b""
        if not final:
            return self._sync_flush()
        self._finished = True
        return self._finish()


# -- what this interpreter speaks -------------------------------------------------------


def _supported() -> frozenset[str]:
    names = {"gzip", "x-gzip", "deflate"}
    if _BROTLI_DECODES:
        names.add("br")
    if _zstd is not None:
        names.add("zstd")
    return frozenset(names)


SUPPORTED_ENCODINGS: Final[frozenset[str]] = _supported()
"""The content codings :class:`Decompressor` can decode in this interpreter."""

_ACCEPT_ENCODING: Final = ", ".join(
    name for name in ("gzip", "deflate", "br", "zstd") if name in SUPPORTED_ENCODINGS
)


def accept_encoding() -> str:
    """Return the Accept-Encoding value a client advertises (RFC 9110 §12.5.3).

    Only codings this interpreter can decode are listed, e.g. ``"gzip, deflate"``,
    ``"gzip, deflate, br"`` or ``"gzip, deflate, br, zstd"``.
    """
    return _ACCEPT_ENCODING
