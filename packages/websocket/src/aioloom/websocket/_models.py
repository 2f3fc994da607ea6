"""The WebSocket vocabulary shared by the codec and its users: message types, close codes,
messages and errors, with aiohttp 3.14's names and values.

Error hierarchy::

    Exception
     ├── WebSocketError(code, message)     a protocol violation; ``code`` is the close code to send
     └── aioloom.http.HttpProcessingError
          └── WSHandshakeError             a refused opening handshake; ``code`` is the status
    TypeError
     └── WSMessageTypeError                a message of another type than the one asked for
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Final, NamedTuple

from multidict import CIMultiDict

from aioloom.http._exceptions import HttpProcessingError

__all__ = (
    "DEFAULT_MAX_MSG_SIZE",
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "WSCloseCode",
    "WSHandshakeError",
    "WSMessage",
    "WSMessageTypeError",
    "WSMsgType",
    "WebSocketError",
)

# RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing.
WS_KEY: Final[bytes] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# aiohttp's default for ``max_msg_size``: 4 MiB bounds the memory one message may take;
# 0 disables the bound.
DEFAULT_MAX_MSG_SIZE: Final[int] = 4 * 1024 * 1024


class WSCloseCode(IntEnum):
    """Close status codes (RFC 6455 §7.4.1 and the IANA registry), as aiohttp names them."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMsgType(IntEnum):
    """Message types: the RFC 6455 §5.2 opcodes plus aiohttp's connection-state markers."""

    # RFC 6455 §5.2 opcodes.
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8

    # aiohttp's own types: they never appear on the wire.
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # Lower-case aliases kept by aiohttp 3.x.
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSMessage(NamedTuple):
    """One received message, as aiohttp hands it out.

    ``data`` depends on ``type``: ``str`` for TEXT (``bytes`` when text decoding is off),
    ``bytes`` for BINARY, PING and PONG, the close code (``int``) for CLOSE, the exception for
    ERROR and ``None`` for CLOSING and CLOSED. ``extra`` is the close reason for CLOSE, ``""``
    for other received frames and ``None`` for the state markers.
    """

    type: WSMsgType
    data: Any  # a union over ``type``, typed as aiohttp types it
    extra: str | None

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Parse ``data`` as JSON.

        Args:
            loads: the JSON decoder to use.

        Returns:
            The decoded value.
        """
        return loads(self.data)


WS_CLOSED_MESSAGE: Final[WSMessage] = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE: Final[WSMessage] = WSMessage(WSMsgType.CLOSING, None, None)


class WebSocketError(Exception):
    """A WebSocket protocol violation.

    Attributes:
        code: the close code (:class:`WSCloseCode`) to send when failing the connection.
    """

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        message: str = self.args[1]
        return message


class WSHandshakeError(HttpProcessingError):
    """The opening handshake (RFC 6455 §4) was refused.

    On the server side ``code`` is the HTTP status to answer with and ``headers`` the header
    fields that answer must carry (``Sec-WebSocket-Version`` with 426, ``Allow`` with 405). On
    the client side nothing is answered and ``code`` is 0.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int = 400,
        headers: CIMultiDict[str] | None = None,
    ) -> None:
        super().__init__(code=code, message=message, headers=headers)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,), {"code": self.code, "headers": self.headers})


class WSMessageTypeError(TypeError):
    """A received message has another type than the one the caller asked for."""
