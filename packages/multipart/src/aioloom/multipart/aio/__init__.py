"""aioloom.multipart.aio: the asyncio side of aioloom.multipart.

The streaming readers, :class:`MultipartReader` and :class:`BodyPartReader`, read a body
stream through the sans-I/O scanner of :mod:`aioloom.multipart._parser`.
"""

from __future__ import annotations

from ._reader import (
    DEFAULT_MAX_DECOMPRESS_SIZE,
    BodyPartReader,
    MultipartReader,
    MultipartResponseWrapper,
)

__all__ = (
    "DEFAULT_MAX_DECOMPRESS_SIZE",
    "BodyPartReader",
    "MultipartReader",
    "MultipartResponseWrapper",
)
