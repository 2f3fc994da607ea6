"""Payload masking (RFC 6455 §5.3): XOR of the payload with a repeated 4-byte key.

The pure-Python implementation works on the whole buffer at once through Python's
arbitrary-precision integers (three linear passes in C, no per-byte loop). The compiled
accelerator, ``aioloom.websocket._mask_c`` (``_mask_c.c``, built into wheels and editable
installs by ``packages/websocket/hatch_build.py`` when a C compiler is available), exposes the
same ``websocket_mask`` function, 8 bytes at a time; it is used when it is importable and
``AIOLOOM_NO_EXTENSIONS`` is not set, and passes the same tests byte for byte.
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Protocol

__all__ = ("MaskFunction", "websocket_mask", "websocket_mask_python")

_ACCELERATOR = "aioloom.websocket._mask_c"


class MaskFunction(Protocol):
    """The seam an accelerator fills: ``(mask, data) -> masked data``."""

    def __call__(
        self, mask: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview, /
    ) -> bytes: ...


def websocket_mask_python(
    mask: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview, /
) -> bytes:
    """Mask or unmask ``data`` with the 4-byte ``mask`` (the operation is its own inverse).

    Args:
        mask: the masking key from the frame header (RFC 6455 §5.3), a bytes-like object.
        data: the payload, a bytes-like object (any buffer: lengths are counted in bytes,
            and a non-contiguous view is read in C order, as ``bytes(data)`` reads it).

    Returns:
        A new ``bytes`` object holding ``data[i] ^ mask[i % 4]``.

    Raises:
        ValueError: ``mask`` is not 4 bytes long.
        TypeError: ``mask`` or ``data`` is not a bytes-like object.
    """
    if type(mask) is not bytes:
        mask = memoryview(mask).tobytes()  # TypeError for anything but a buffer
    if len(mask) != 4:
        raise ValueError(f"a WebSocket masking key is 4 bytes, got {len(mask)}")
    if type(data) is bytes:
        size = len(data)
    else:
        data = memoryview(data)  # TypeError for anything but a buffer
        size = data.nbytes  # len() of a view counts items, which may be wider than bytes
    if not size:
        return b""
    # RFC 6455 §5.3: octet i of the payload is XORed with octet i MOD 4 of the key. Little-endian
    # integers keep the repeated key aligned with the payload from its first byte.
    if size < _REPEAT_BY_PRODUCT:
        key = int.from_bytes((mask * ((size + 3) >> 2))[:size], "little")
        return (int.from_bytes(data, "little") ^ key).to_bytes(size, "little")
    # Large payloads: the repeated key is the 32-bit key times 1 + 2**32 + 2**64 + ..., one
    # linear multiplication by a cached constant instead of building and converting a
    # payload-sized key; the few bytes past ``size`` are cut off the result.
    words = (size + 3) >> 2
    key = int.from_bytes(mask, "little") * _repunit(words)
    return (int.from_bytes(data, "little") ^ key).to_bytes(words << 2, "little")[:size]


# From this payload size on, the repeated key is built by a multiplication (measured: about
# 8% faster per mask at 64 KiB, slower below about 1 KiB).
_REPEAT_BY_PRODUCT = 1024


@functools.lru_cache(maxsize=16)
def _repunit(words: int) -> int:
    """The integer with a 1 in the lowest bit of each of ``words`` 32-bit words."""
    return ((1 << (words << 5)) - 1) // 0xFFFFFFFF


def _load_accelerator() -> MaskFunction | None:
    if os.environ.get("AIOLOOM_NO_EXTENSIONS"):
        return None
    try:
        module = importlib.import_module(_ACCELERATOR)
    except ImportError:
        return None
    accelerated: MaskFunction = module.websocket_mask
    return accelerated


websocket_mask: MaskFunction = _load_accelerator() or websocket_mask_python
