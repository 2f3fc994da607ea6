"""The server end of a WebSocket: :class:`WebSocketResponse` (aiohttp 3.14's API).

A handler accepts the upgrade with ``await ws.prepare(request)``: the opening handshake
(RFC 6455 §4.2) is checked by ``aioloom.websocket.server_handshake``, the ``101`` head goes
out at once, and the connection is handed to an ``aioloom.websocket.aio``
:class:`WebSocketConnection` through the server protocol's upgrade seam
(``RequestHandler.set_parser``: every byte after the request head goes to it). The response
object is a thin wrapper: messages, the closing handshake, autoping/autoclose, heartbeat and
timeouts live in that shared connection object, which the client uses too.

The codec is an optional extra: this module imports nothing from ``aioloom.websocket`` until
a response is prepared (or checked with :meth:`WebSocketResponse.can_prepare`); without it
those calls raise an :class:`ImportError` naming ``pip install "aioloom-web[websocket]"``.
``WSMsgType``, ``WSCloseCode`` and ``WSMessage`` are available from this module lazily
(PEP 562 ``__getattr__``).

A refused handshake raises an HTTP error the server answers with: 400 (malformed upgrade),
405 with ``Allow: GET`` (another method), 426 with ``Sec-WebSocket-Version: 13`` (another
protocol version, RFC 6455 §4.4).

Graceful shutdown: every prepared response is tracked until it finishes, and
:func:`shutdown_websockets` closes those of the given connections with 1001 (GOING_AWAY,
RFC 6455 §7.4.1). The runner calls it with ``server.connections`` after
``server.pre_shutdown()``; an application may call it from ``on_shutdown`` too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from aioloom.http import hdrs
from aioloom.http.aio._abc import AbstractStreamWriter

from ._exceptions import (
    HTTPBadRequest,
    HTTPException,
    HTTPMethodNotAllowed,
    HTTPUpgradeRequired,
)
from ._stream_response import StreamResponse

if TYPE_CHECKING:
    # Types only; each ``X as X`` types a name that __getattr__ serves at run time.
    from aioloom.websocket import ServerHandshake, WSHandshakeError
    from aioloom.websocket import WSCloseCode as WSCloseCode
    from aioloom.websocket import WSMessage as WSMessage
    from aioloom.websocket import WSMsgType as WSMsgType
    from aioloom.websocket.aio import WebSocketConnection

    from ._request import BaseRequest

__all__ = ("WebSocketReady", "WebSocketResponse", "shutdown_websockets")

ws_logger: Final = logging.getLogger("aioloom.web.websocket")

EXTRA_HINT: Final = (
    'WebSocketResponse needs aioloom.websocket: pip install "aioloom-web[websocket]"'
)
# Names of aioloom.websocket served by this module on first use (see __getattr__).
_CODEC_NAMES: Final = frozenset({"WSCloseCode", "WSMessage", "WSMsgType"})

# RFC 6455 §5.2 opcodes, spelled out so that importing this module needs no codec.
_OP_TEXT: Final = 0x1
_OP_BINARY: Final = 0x2
# WSMsgType.CLOSE, CLOSING, CLOSED: the messages that end ``async for msg in ws``.
_END_TYPES: Final = frozenset({0x8, 0x100, 0x101})
_GOING_AWAY: Final = 1001  # WSCloseCode.GOING_AWAY

JSONEncoder = Callable[[Any], str]
JSONDecoder = Callable[[str], Any]

# The prepared responses still running, for shutdown_websockets(); weak, so a response
# dropped without finishing never stays alive because of it.
_open_websockets: weakref.WeakSet[WebSocketResponse] = weakref.WeakSet()


def __getattr__(name: str) -> Any:
    """Serve ``WSMsgType``, ``WSCloseCode`` and ``WSMessage`` from the codec, lazily."""
    if name in _CODEC_NAMES:
        try:
            import aioloom.websocket as websocket
        except ImportError as exc:
            raise ImportError(EXTRA_HINT) from exc
        return getattr(websocket, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class WebSocketReady:
    """What :meth:`WebSocketResponse.can_prepare` found.

    Attributes:
        ok: whether the request is a valid WebSocket upgrade.
        protocol: the subprotocol that would be chosen, or None.
    """

    ok: bool
    protocol: str | None

    def __bool__(self) -> bool:
        return self.ok


def _refusal(exc: WSHandshakeError, method: str) -> HTTPException:
    """The HTTP answer to a refused opening handshake (RFC 6455 §4.2.2, §4.4)."""
    text = str(exc)
    if exc.code == 405:
        return HTTPMethodNotAllowed(method, ["GET"], text=text)
    if exc.code == 426:
        return HTTPUpgradeRequired(text=text, headers=exc.headers)
    return HTTPBadRequest(text=text, headers=exc.headers)


async def _not_prepared() -> WSMessage:
    raise RuntimeError("Call .prepare() first")


class WebSocketResponse(StreamResponse):
    """A WebSocket connection on the server (aiohttp's ``web.WebSocketResponse``).

    Args:
        timeout: seconds :meth:`close` waits for the client's Close frame.
        receive_timeout: default timeout of :meth:`receive` (None: none).
        autoclose: answer the client's Close frame inside :meth:`receive`.
        autoping: answer pings (and swallow pongs) instead of delivering them.
        heartbeat: ping after this many seconds without input; drop the connection (1006)
            when nothing comes back within half of it.
        protocols: the subprotocols this endpoint speaks, in no particular order (the
            client's order of preference decides).
        compress: accept permessage-deflate when the client offers it (RFC 7692).
        max_msg_size: the largest message accepted (0: no bound); larger ones fail the
            connection with 1009.
        writer_limit: bytes written between two checks of the transport's buffer.
        decode_text: deliver TEXT messages as ``str`` (else as UTF-8 ``bytes``).
    """

    _length_check = False

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        protocols: Iterable[str] = (),
        compress: bool = True,
        max_msg_size: int = 4 * 1024 * 1024,
        writer_limit: int = 2**16,
        decode_text: bool = True,
    ) -> None:
        super().__init__(status=101)
        self._timeout = timeout
        self._receive_timeout = receive_timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._protocols = tuple(protocols)
        self._compress: bool | int = compress
        self._max_msg_size = max_msg_size
        self._writer_limit = writer_limit
        self._decode_text = decode_text
        self._conn: WebSocketConnection | None = None
        self._ws_protocol: str | None = None
        self._transport: asyncio.Transport | None = None
        self._handler: object = None  # the server protocol (connection) it runs on

    # -- the opening handshake ----------------------------------------------------------------

    def _handshake(self, request: BaseRequest) -> ServerHandshake:
        try:
            from aioloom.websocket import WSHandshakeError, server_handshake
        except ImportError as exc:
            raise ImportError(EXTRA_HINT) from exc
        try:
            handshake = server_handshake(
                request.method,
                request.version,
                request.headers,
                protocols=self._protocols,
                compress=bool(self._compress),
            )
        except WSHandshakeError as exc:
            raise _refusal(exc, request.method) from None
        offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL)
        if handshake.protocol is None and offered is not None:
            ws_logger.warning(
                "Client protocols %r don't overlap server-known ones %r",
                [name.strip() for name in offered.split(",")],
                self._protocols,
            )
        return handshake

    def can_prepare(self, request: BaseRequest) -> WebSocketReady:
        """Tell whether ``request`` is a WebSocket upgrade this response would accept.

        Raises:
            RuntimeError: the response was prepared already.
            ImportError: the ``websocket`` extra is not installed.
        """
        if self._conn is not None:
            raise RuntimeError("Already started")
        try:
            handshake = self._handshake(request)
        except HTTPException:
            return WebSocketReady(False, None)
        return WebSocketReady(True, handshake.protocol)

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        """Accept the upgrade: send ``101 Switching Protocols`` and take the connection.

        Returns:
            The response's writer (the connection is a WebSocket from now on).

        Raises:
            HTTPBadRequest, HTTPMethodNotAllowed, HTTPUpgradeRequired: the request is not
                an acceptable upgrade (see the module docstring).
            ImportError: the ``websocket`` extra is not installed.
        """
        if self._payload_writer is not None or self._eof_sent:
            return await super().prepare(request)
        handshake = self._handshake(request)
        from aioloom.websocket import Role
        from aioloom.websocket.aio import WebSocketConnection

        self.set_status(101)
        self.headers.update(handshake.headers)
        self.force_close()
        writer = await super().prepare(request)
        assert writer is not None  # a fresh response always gets one
        writer.send_headers()  # the head goes out now; frames follow on their own
        protocol = request.protocol
        self._transport = request.transport
        self._handler = protocol
        self._ws_protocol = handshake.protocol
        deflate = handshake.deflate
        self._compress = 0 if deflate is None else deflate.server_max_window_bits
        conn = self._conn = WebSocketConnection(
            Role.SERVER,
            protocol,
            loop=asyncio.get_running_loop(),
            close_transport=self._close_transport,
            max_msg_size=self._max_msg_size,
            compress=deflate,
            decode_text=self._decode_text,
            close_timeout=self._timeout,
            receive_timeout=self._receive_timeout,
            autoclose=self._autoclose,
            autoping=self._autoping,
            heartbeat=self._heartbeat,
            writer_limit=self._writer_limit,
        )
        protocol.set_parser(conn)
        protocol.keep_alive(False)  # the HTTP exchange ends with this connection
        _open_websockets.add(self)
        await writer.drain()
        return writer

    def _close_transport(self) -> None:
        transport = self._transport
        if transport is not None:
            transport.close()

    def _connection(self) -> WebSocketConnection:
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        return conn

    # -- state ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` started or the connection was dropped."""
        conn = self._conn
        return conn is not None and conn.closed

    @property
    def close_code(self) -> int | None:
        """The close code: the client's, the one sent on a protocol error, or 1006."""
        conn = self._conn
        return None if conn is None else conn.close_code

    @property
    def ws_protocol(self) -> str | None:
        """The subprotocol chosen in the handshake, or None."""
        return self._ws_protocol

    @property
    def compress(self) -> bool | int:
        """Before :meth:`prepare`, the ``compress`` argument; after, the server's
        permessage-deflate window bits (0 when not negotiated)."""
        return self._compress

    def exception(self) -> BaseException | None:
        """What broke the connection (protocol violation, timeout, write error), if any."""
        conn = self._conn
        return None if conn is None else conn.exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Read ``name`` from the transport's extra info (``default`` before prepare)."""
        transport = self._transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    # -- sending --------------------------------------------------------------------------------

    async def ping(self, message: bytes = b"") -> None:
        """Send a Ping frame."""
        await self._connection().ping(message)

    async def pong(self, message: bytes = b"") -> None:
        """Send an unsolicited Pong frame."""
        await self._connection().pong(message)

    async def send_frame(
        self, message: bytes | bytearray | memoryview, opcode: int, compress: int | None = None
    ) -> None:
        """Send one message of type ``opcode`` (TEXT, BINARY, PING or PONG)."""
        conn = self._connection()
        if conn.send(message, opcode, compress):
            await conn.drain()

    async def send_str(self, data: str, compress: int | None = None) -> None:
        """Send a TEXT message.

        Raises:
            RuntimeError: not prepared.
            TypeError: ``data`` is not a ``str``.
            ConnectionResetError: the connection is closing or closed.
        """
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        if conn.send(data.encode("utf-8"), _OP_TEXT, compress):
            await conn.drain()

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        """Send a BINARY message; raises as :meth:`send_str` (TypeError: not bytes-like)."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        if conn.send(data, _OP_BINARY, compress):
            await conn.drain()

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: JSONEncoder = json.dumps
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Not for WebSockets.

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError("Cannot call .write() for websocket")

    # -- receiving ------------------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> Coroutine[Any, Any, WSMessage]:
        """Return the next message (see ``WebSocketConnection.receive``); await it.

        A plain method returning the connection's ``receive()`` coroutine, awaited exactly
        as aiohttp's ``async def receive``: one coroutine per message instead of two.

        Raises:
            RuntimeError: not prepared; a concurrent ``receive()``; or ``receive()`` kept
                being called on a closed connection (each when awaited, as in aiohttp).
            asyncio.TimeoutError: nothing arrived within the timeout.
        """
        conn = self._conn
        if conn is None:
            return _not_prepared()
        return conn.receive(timeout)

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """Receive a TEXT message's data (``WSMessageTypeError`` for another type)."""
        return await self._connection().receive_str(timeout=timeout)

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """Receive a BINARY message's data (``WSMessageTypeError`` for another type)."""
        return await self._connection().receive_bytes(timeout=timeout)

    async def receive_json(
        self, *, loads: JSONDecoder = json.loads, timeout: float | None = None
    ) -> Any:
        """Receive a TEXT message and decode it with ``loads``."""
        return await self._connection().receive_json(loads=loads, timeout=timeout)

    def __aiter__(self) -> WebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        message = await self.receive()
        if message.type in _END_TYPES:
            raise StopAsyncIteration
        return message

    # -- closing ----------------------------------------------------------------------------------

    async def close(
        self, *, code: int = 1000, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Run the closing handshake and close the connection.

        Returns:
            True when this call closed it, False when it was closed already.

        Raises:
            RuntimeError: not prepared.
            ValueError: the code may not be sent, or the reason is too long.
        """
        closed = await self._connection().close(code=code, message=message, drain=drain)
        if closed:
            _open_websockets.discard(self)
        return closed

    async def write_eof(self, data: bytes | bytearray | memoryview = b"") -> None:
        """Close the WebSocket (called by the server when the handler returns).

        A close in progress in another task is waited for; otherwise the closing handshake
        runs now with 1000.

        Raises:
            RuntimeError: the response was never prepared.
        """
        if self._eof_sent:
            return
        conn = self._conn
        if self._payload_writer is None or conn is None:
            raise RuntimeError("Response has not been started")
        await conn.close()
        self._eof_sent = True
        _open_websockets.discard(self)


async def shutdown_websockets(
    connections: Iterable[object],
    *,
    code: int = _GOING_AWAY,
    message: bytes | str = b"Server shutdown",
) -> None:
    """Close the open WebSockets served on ``connections`` (graceful shutdown).

    Each runs its closing handshake with ``code`` (1001, GOING_AWAY: RFC 6455 §7.4.1); a
    handler waiting in ``receive()`` gets CLOSING and its ``async for`` ends. They close
    concurrently, each within its response's ``timeout``.

    Args:
        connections: the server's protocols, e.g. ``server.connections``.
        code: the close code sent.
        message: the close reason sent.
    """
    wanted = set(connections)
    sockets = [ws for ws in list(_open_websockets) if ws._handler in wanted and not ws.closed]
    if sockets:
        await asyncio.gather(*(ws.close(code=code, message=message) for ws in sockets))
