"""The zlib implementation behind the gzip and deflate codings: aiohttp's ``set_zlib_backend``.

aiohttp 3.12+ lets a program swap the standard library's :mod:`zlib` for a faster module with
the same API, such as ``isal.isal_zlib`` (Intel ISA-L) or ``zlib_ng.zlib_ng``::

    import zlib_ng.zlib_ng
    aiohttp.set_zlib_backend(zlib_ng.zlib_ng)

This module owns that choice. :func:`set_zlib_backend` replaces it for the whole process;
every consumer (``aioloom.http``'s ``Compressor`` and ``Decompressor``, the websocket
permessage-deflate extension) calls :func:`get_zlib_backend` when it creates a compression
or decompression object, never at import. A swap therefore affects the objects created after
it; a stream already being coded keeps the implementation it started with, so its output
stays one consistent DEFLATE stream.

Only what aioloom calls is required of a backend (:class:`ZLibBackend`): ``compressobj`` and
``decompressobj`` with zlib's keyword names, the ``error`` exception, ``MAX_WBITS`` and the
flush and level constants. Sans-I/O: no event loop here.
"""

from __future__ import annotations

import zlib
from typing import Final, Protocol

__all__ = (
    "ZLibBackend",
    "ZLibCompressObj",
    "ZLibDecompressObj",
    "get_zlib_backend",
    "set_zlib_backend",
)

Buffer = bytes | bytearray | memoryview


class ZLibCompressObj(Protocol):
    """A streaming compressor, as ``zlib.compressobj()`` returns."""

    def compress(self, data: Buffer, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class ZLibDecompressObj(Protocol):
    """A streaming decompressor, as ``zlib.decompressobj()`` returns."""

    @property
    def eof(self) -> bool: ...
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: Buffer, /, max_length: int = ...) -> bytes: ...
    def flush(self, length: int = ..., /) -> bytes: ...


class ZLibBackend(Protocol):
    """The part of the :mod:`zlib` API a backend module must provide."""

    @property
    def error(self) -> type[Exception]: ...
    @property
    def MAX_WBITS(self) -> int: ...
    @property
    def Z_BEST_SPEED(self) -> int: ...
    @property
    def Z_SYNC_FLUSH(self) -> int: ...
    @property
    def Z_FULL_FLUSH(self) -> int: ...
    @property
    def Z_FINISH(self) -> int: ...

    def compressobj(
        self,
        level: int = ...,
        method: int = ...,
        wbits: int = ...,
        memLevel: int = ...,
        strategy: int = ...,
        zdict: Buffer | None = ...,
    ) -> ZLibCompressObj: ...

    def decompressobj(self, wbits: int = ..., zdict: Buffer = ...) -> ZLibDecompressObj: ...


# Checked at set_zlib_backend() time, so a wrong object fails there and not in the middle of
# a response.
_REQUIRED: Final = (
    "compressobj",
    "decompressobj",
    "error",
    "MAX_WBITS",
    "Z_BEST_SPEED",
    "Z_SYNC_FLUSH",
    "Z_FULL_FLUSH",
    "Z_FINISH",
)


class _Current:
    """The process-wide choice (a holder, so no ``global`` statement is needed)."""

    backend: ZLibBackend = zlib


def get_zlib_backend() -> ZLibBackend:
    """Return the zlib-compatible module in use: :mod:`zlib` unless it was replaced."""
    return _Current.backend


def set_zlib_backend(new_zlib_backend: ZLibBackend) -> None:
    """Use ``new_zlib_backend`` instead of :mod:`zlib` for gzip and deflate from now on.

    The compressors and decompressors created afterwards use it; those that exist keep the
    implementation they were created with.

    Args:
        new_zlib_backend: a module with zlib's API, e.g. ``isal.isal_zlib``,
            ``zlib_ng.zlib_ng`` or :mod:`zlib` itself (to go back to the default).

    Raises:
        TypeError: the object lacks part of the zlib API aioloom uses (nothing is changed).
    """
    missing = [name for name in _REQUIRED if not hasattr(new_zlib_backend, name)]
    if missing:
        name = getattr(new_zlib_backend, "__name__", repr(new_zlib_backend))
        raise TypeError(f"{name} is not a zlib-compatible backend: it has no {', '.join(missing)}")
    _Current.backend = new_zlib_backend
