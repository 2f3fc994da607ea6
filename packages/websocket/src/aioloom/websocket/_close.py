"""The payload of Close frames (RFC 6455 §5.5.1, §7.4): status code validation, parsing and
building.
"""

from __future__ import annotations

from struct import Struct
from typing import Final

from ._models import WebSocketError, WSCloseCode

__all__ = (
    "MAX_REASON_SIZE",
    "NO_STATUS_CODE",
    "build_close_payload",
    "is_valid_close_code",
    "parse_close_payload",
)

_CLOSE_CODE: Final = Struct("!H")

# RFC 6455 §7.4.1: 1005 means "no status code was present"; it is never sent.
NO_STATUS_CODE: Final[int] = 1005

# RFC 6455 §7.4.1 and §7.4.2: codes defined for use on the wire, plus the IANA registrations
# that aiohttp accepts (1012 service restart, 1013 try again later, 1014 bad gateway).
# 1004 is reserved, and 1005, 1006 and 1015 MUST NOT be set in a Close frame.
_DEFINED_CODES: Final[frozenset[int]] = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})

# RFC 6455 §5.5: a control frame's payload is at most 125 bytes, so the reason that follows
# the two-byte code is at most 123 bytes.
MAX_REASON_SIZE: Final[int] = 123


def is_valid_close_code(code: int) -> bool:
    """Tell whether ``code`` may appear in a Close frame.

    Valid: 1000-1003, 1007-1014 and the registered or private ranges 3000-4999
    (RFC 6455 §7.4.2). Everything else, 1004/1005/1006/1015 included, is invalid.

    Args:
        code: the status code.

    Returns:
        Whether it is valid on the wire.
    """
    return code in _DEFINED_CODES or 3000 <= code <= 4999


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """Parse the payload of a received Close frame.

    Args:
        payload: the (unmasked) payload.

    Returns:
        ``(code, reason)``; ``(0, "")`` for an empty payload, as aiohttp reports it (RFC 6455
        §7.1.5 calls that case 1005).

    Raises:
        WebSocketError: a one-byte payload or an invalid code (1002, PROTOCOL_ERROR); a reason
            that is not UTF-8 (1007, INVALID_TEXT).
    """
    size = len(payload)
    if not size:
        return 0, ""
    if size == 1:
        # RFC 6455 §5.5.1: a body, if present, starts with a two-byte code.
        raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Invalid close frame: 1-byte payload")
    (code,) = _CLOSE_CODE.unpack_from(payload)
    if not is_valid_close_code(code):
        raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Invalid close code: {code}")
    try:
        # RFC 6455 §5.5.1: the reason is UTF-8 text.
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 close reason") from None
    return code, reason


def build_close_payload(code: int, message: bytes | str = b"") -> bytes:
    """Build the payload of a Close frame to send.

    Args:
        code: the status code; it must be valid on the wire (:func:`is_valid_close_code`).
        message: the reason, UTF-8 text given as ``str`` or already encoded.

    Returns:
        The two-byte code followed by the reason.

    Raises:
        ValueError: the code is invalid, the reason longer than 123 bytes or not UTF-8.
    """
    if not is_valid_close_code(code):
        raise ValueError(f"Invalid close code: {code}")
    if isinstance(message, str):
        reason = message.encode("utf-8")
    else:
        reason = bytes(message)
        try:
            reason.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("a close reason must be UTF-8 text") from None
    if len(reason) > MAX_REASON_SIZE:
        raise ValueError(f"a close reason is at most {MAX_REASON_SIZE} bytes, got {len(reason)}")
    return _CLOSE_CODE.pack(code) + reason
