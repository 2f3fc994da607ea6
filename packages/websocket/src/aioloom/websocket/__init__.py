"""aioloom.websocket: the RFC 6455 WebSocket codec, sans-I/O, with permessage-deflate.

Frames, message assembly, the close and opening handshakes and RFC 7692 compression, as
plain classes that take bytes and return messages (and the reverse). The server
(``aioloom.web.WebSocketResponse``) and the client (``ClientSession.ws_connect``) drive it
through their ``websocket`` extras. Public names follow aiohttp 3.14 where aiohttp has them.
"""

from __future__ import annotations

from ._close import (
    build_close_payload,
    is_valid_close_code,
    parse_close_payload,
)
from ._deflate import (
    DeflateOffer,
    DeflateParams,
    PerMessageDeflate,
    accept_deflate_response,
    negotiate_deflate,
    parse_extension_header,
)
from ._frames import (
    Frame,
    FrameReader,
    serialize_frame,
)
from ._handshake import (
    ClientHandshake,
    ServerHandshake,
    client_handshake_headers,
    select_protocol,
    server_handshake,
    validate_upgrade_request,
    validate_upgrade_response,
    ws_accept,
    ws_key,
)
from ._mask import (
    websocket_mask,
)
from ._messages import (
    MessageAssembler,
)
from ._models import (
    DEFAULT_MAX_MSG_SIZE,
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WS_KEY,
    WebSocketError,
    WSCloseCode,
    WSHandshakeError,
    WSMessage,
    WSMessageTypeError,
    WSMsgType,
)
from ._protocol import (
    Role,
    WebSocketProtocol,
    WSState,
)
from ._utf8 import (
    Utf8Decoder,
)

__all__ = (
    "ClientHandshake",
    "DEFAULT_MAX_MSG_SIZE",
    "DeflateOffer",
    "DeflateParams",
    "Frame",
    "FrameReader",
    "MessageAssembler",
    "PerMessageDeflate",
    "Role",
    "ServerHandshake",
    "Utf8Decoder",
    "WSCloseCode",
    "WSHandshakeError",
    "WSMessage",
    "WSMessageTypeError",
    "WSMsgType",
    "WSState",
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "WebSocketError",
    "WebSocketProtocol",
    "accept_deflate_response",
    "build_close_payload",
    "client_handshake_headers",
    "is_valid_close_code",
    "negotiate_deflate",
    "parse_close_payload",
    "parse_extension_header",
    "select_protocol",
    "serialize_frame",
    "server_handshake",
    "validate_upgrade_request",
    "validate_upgrade_response",
    "websocket_mask",
    "ws_accept",
    "ws_key",
)
