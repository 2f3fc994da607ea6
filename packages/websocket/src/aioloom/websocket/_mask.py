"""Payload masking (RFC 6455 §5.3): XOR of the payload with a repeated 4-byte key.

The pure-Python implementation works on the whole buffer at once through Python's
arbitrary-precision integers (three linear passes in C, no per-byte loop). An optional compiled
accelerator, ``aioloom.websocket._mask_c`` exposing the same ``websocket_mask`` function, is
used when it is importable and ``AIOLOOM_NO_EXTENSIONS`` is not set; it must pass the same
tests byte for byte.
"""

from __future__ import annotations

import importlib
import os
from typing import Protocol

__all__ = ("MaskFunction", "websocket_mask", "websocket_mask_python")

_ACCELERATOR = "aioloom.websocket._mask_c"


class MaskFunction(Protocol):
    """The seam an accelerator fills: ``(mask, data) -> masked data``."""

    def __call__(self, mask: bytes, data: bytes | bytearray | memoryview, /) -> bytes: ...


def websocket_mask_python(mask: bytes, data: bytes | bytearray | memoryview, /) -> bytes:
    """Mask or unmask ``data`` with the 4-byte ``mask`` (the operation is its own inverse).

    Args:
        mask: the masking key from the frame header (RFC 6455 §5.3).
        data: the payload.

    Returns:
        A new ``bytes`` object holding ``data[i] ^ mask[i % 4]``.

    Raises:
        ValueError: ``mask`` is not 4 bytes long.
    """
    if len(mask) != 4:
        raise ValueError(f"a WebSocket masking key is 4 bytes, got {len(mask)}")
    size = len(data)
    if not size:
        return b""
    # RFC 6455 §5.3: octet i of the payload is XORed with octet i MOD 4 of the key. Little-endian
    # integers keep the repeated key aligned with the payload from its first byte.
    key = (mask * ((size + 3) >> 2))[:size]
    value = int.from_bytes(data, "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(size, "little")


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
