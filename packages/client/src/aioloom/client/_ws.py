"""The client end of a WebSocket: :func:`ws_connect` and :class:`ClientWebSocketResponse`.

``ClientSession.ws_connect(url, ...)`` calls :func:`ws_connect` (wrapped in
:class:`_WSRequestContextManager`, awaitable and ``async with``-able). The upgrade request
goes through the session's normal request machinery (base URL, default headers, cookies,
auth, proxies, TLS, redirects, middlewares, tracing), with the WebSocket header fields of
``aioloom.websocket.client_handshake_headers`` (RFC 6455 §4.1) and ``read_until_eof=False``.
The answer is checked with ``validate_upgrade_response``; a refusal raises
:class:`~aioloom.client.WSServerHandshakeError` with the response's status and headers
(aiohttp's messages: "Invalid response status", "Invalid upgrade header", ...).

After ``101`` the pooled connection is no longer HTTP: its transport is switched to an
``aioloom.websocket.aio.UpgradedProtocol`` (``transport.set_protocol``), fed first with the
bytes the HTTP parser read past the ``101`` head (``ResponseHandler.tail``). The connection
leaves the pool for good; closing the WebSocket closes it (``ClientResponse.close()``).

The codec is an optional extra, imported only inside :func:`ws_connect`; without it the
call raises an :class:`ImportError` naming ``pip install "aioloom-client[websocket]"``.
``WSMsgType``, ``WSCloseCode``, ``WSMessage``, ``WSMessageTypeError`` and ``WebSocketError``
are available from this module lazily (PEP 562 ``__getattr__``).
:class:`ClientWebSocketResponse` is a thin wrapper over the
``aioloom.websocket.aio.WebSocketConnection`` the server side uses too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import warnings
from collections.abc import Callable, Coroutine, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict
from yarl import URL

from aioloom.http import hdrs
from aioloom.http._auth import BasicAuth

from ._context import _AwaitableContext
from ._exceptions import ClientConnectionResetError, ServerTimeoutError, WSServerHandshakeError
from ._fingerprint import SSLArg
from ._request import LooseHeaders, Params
from ._response import ClientResponse
from ._timeouts import ClientWSTimeout

if TYPE_CHECKING:
    # Types only; each ``X as X`` types a name that __getattr__ serves at run time.
    from aioloom.websocket import ClientHandshake, DeflateOffer
    from aioloom.websocket import WebSocketError as WebSocketError
    from aioloom.websocket import WSCloseCode as WSCloseCode
    from aioloom.websocket import WSMessage as WSMessage
    from aioloom.websocket import WSMessageTypeError as WSMessageTypeError
    from aioloom.websocket import WSMsgType as WSMsgType
    from aioloom.websocket.aio import UpgradedProtocol, WebSocketConnection

    from ._session import ClientSession

__all__ = (
    "DEFAULT_WS_CLIENT_TIMEOUT",
    "ClientWebSocketResponse",
    "_WSRequestContextManager",
    "ws_connect",
)

EXTRA_HINT: Final = 'ws_connect needs aioloom.websocket: pip install "aioloom-client[websocket]"'

# aioloom.websocket names that aiohttp exports from its top-level package, served by this
# module on first use (see __getattr__) so that re-exporting them never imports the extra.
_CODEC_NAMES: Final = frozenset(
    {"WSCloseCode", "WSMessage", "WSMessageTypeError", "WSMsgType", "WebSocketError"}
)

# aiohttp's default: no receive timeout, ten seconds for the server's Close frame.
DEFAULT_WS_CLIENT_TIMEOUT: Final = ClientWSTimeout(ws_receive=None, ws_close=10.0)

# RFC 6455 §5.2 opcodes, spelled out so that importing this module needs no codec.
_OP_TEXT: Final = 0x1
_OP_BINARY: Final = 0x2
# WSMsgType.CLOSE, CLOSING, CLOSED: the messages that end ``async for msg in ws``.
_END_TYPES: Final = frozenset({0x8, 0x100, 0x101})

JSONEncoder = Callable[[Any], str]
JSONDecoder = Callable[[str], Any]


def __getattr__(name: str) -> Any:
    """Serve the codec's public names (``WSMsgType``, ``WSCloseCode``...) lazily."""
    if name in _CODEC_NAMES:
        try:
            import aioloom.websocket as websocket
        except ImportError as exc:
            raise ImportError(EXTRA_HINT) from exc
        return getattr(websocket, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Unset:
    """The ``timeout`` argument was not given."""


_UNSET: Final = _Unset()


class ClientWebSocketResponse:
    """A client WebSocket connection (aiohttp's ``ClientWebSocketResponse``).

    Made by :func:`ws_connect`; not meant to be built by hand.

    Args:
        response: the ``101`` response; closing it closes the connection.
        connection: the WebSocket connection driving the transport.
        protocol: the subprotocol the server chose, or None.
        timeout: the WebSocket timeouts in force.
        compress: the negotiated permessage-deflate window bits (0: not negotiated).
        client_notakeover: whether the client compresses each message on its own.
    """

    __slots__ = (
        "_client_notakeover",
        "_compress",
        "_conn",
        "_protocol",
        "_response",
        "_timeout",
    )

    def __init__(
        self,
        response: ClientResponse,
        connection: WebSocketConnection,
        protocol: str | None,
        *,
        timeout: ClientWSTimeout = DEFAULT_WS_CLIENT_TIMEOUT,
        compress: int = 0,
        client_notakeover: bool = False,
    ) -> None:
        self._response = response
        self._conn = connection
        self._protocol = protocol
        self._timeout = timeout
        self._compress = compress
        self._client_notakeover = client_notakeover

    # -- state ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` started or the connection was dropped."""
        return self._conn.closed

    @property
    def close_code(self) -> int | None:
        """The close code: the server's, the one sent on a protocol error, or 1006."""
        return self._conn.close_code

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server chose, or None."""
        return self._protocol

    @property
    def compress(self) -> int:
        """The negotiated permessage-deflate window bits; 0 when not negotiated."""
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        """True when the client compresses each message on its own (RFC 7692 §7.1.1)."""
        return self._client_notakeover

    @property
    def timeout(self) -> ClientWSTimeout:
        """The receive and close timeouts."""
        return self._timeout

    def exception(self) -> BaseException | None:
        """What broke the connection (protocol violation, timeout, write error), if any."""
        return self._conn.exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Read ``name`` from the transport's extra info (``default`` once closed)."""
        connection = self._response.connection
        transport = None if connection is None else connection.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    # -- sending --------------------------------------------------------------------------------

    async def ping(self, message: bytes = b"") -> None:
        """Send a Ping frame."""
        await self._conn.ping(message)

    async def pong(self, message: bytes = b"") -> None:
        """Send an unsolicited Pong frame."""
        await self._conn.pong(message)

    async def send_frame(
        self, message: bytes | bytearray | memoryview, opcode: int, compress: int | None = None
    ) -> None:
        """Send one message of type ``opcode`` (TEXT, BINARY, PING or PONG)."""
        conn = self._conn
        if conn.send(message, opcode, compress):
            await conn.drain()

    async def send_str(self, data: str, compress: int | None = None) -> None:
        """Send a TEXT message.

        Raises:
            TypeError: ``data`` is not a ``str``.
            ClientConnectionResetError: the connection is closing or closed.
        """
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        conn = self._conn
        if conn.send(data.encode("utf-8"), _OP_TEXT, compress):
            await conn.drain()

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        """Send a BINARY message; raises as :meth:`send_str` (TypeError: not bytes-like)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        conn = self._conn
        if conn.send(data, _OP_BINARY, compress):
            await conn.drain()

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: JSONEncoder = json.dumps
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    # -- receiving ------------------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> Coroutine[Any, Any, WSMessage]:
        """Return the next message (see ``WebSocketConnection.receive``); await it.

        A plain method returning the connection's ``receive()`` coroutine, awaited exactly
        as aiohttp's ``async def receive``: one coroutine per message instead of two.

        Raises:
            RuntimeError: another coroutine is already in ``receive()``.
            asyncio.TimeoutError: nothing arrived within the timeout (``close_code`` is then
                1006, as in aiohttp).
        """
        return self._conn.receive(timeout)

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """Receive a TEXT message's data (``WSMessageTypeError`` for another type)."""
        return await self._conn.receive_str(timeout=timeout)

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """Receive a BINARY message's data (``WSMessageTypeError`` for another type)."""
        return await self._conn.receive_bytes(timeout=timeout)

    async def receive_json(
        self, *, loads: JSONDecoder = json.loads, timeout: float | None = None
    ) -> Any:
        """Receive a TEXT message and decode it with ``loads``."""
        return await self._conn.receive_json(loads=loads, timeout=timeout)

    def __aiter__(self) -> ClientWebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        message = await self._conn.receive()
        if message.type in _END_TYPES:
            raise StopAsyncIteration
        return message

    # -- closing --------------------------------------------------------------------------------

    async def close(self, *, code: int = 1000, message: bytes | str = b"") -> bool:
        """Run the closing handshake and close the connection.

        Returns:
            True when this call closed it, False when it was closed already.

        Raises:
            ValueError: the code may not be sent, or the reason is too long.
        """
        return await self._conn.close(code=code, message=message)

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _WSRequestContextManager(_AwaitableContext[ClientWebSocketResponse]):
    """What ``ClientSession.ws_connect`` returns: awaitable, and an async context manager
    that closes the WebSocket on exit."""

    __slots__ = ()

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._resp = await self._coro
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._resp is not None
        await self._resp.close()


def _ws_timeout(
    timeout: ClientWSTimeout | float | _Unset, receive_timeout: float | None
) -> ClientWSTimeout:
    """The timeouts to use, from the current and the deprecated (float) arguments."""
    if isinstance(timeout, _Unset):
        result = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, ClientWSTimeout):
        result = timeout
    else:
        warnings.warn(
            "parameter 'timeout' of type 'float' is deprecated, please use "
            "'timeout=ClientWSTimeout(ws_close=...)'",
            DeprecationWarning,
            stacklevel=3,
        )
        result = ClientWSTimeout(ws_close=timeout)
    if receive_timeout is not None:
        warnings.warn(
            "float parameter 'receive_timeout' is deprecated, please use parameter "
            "'timeout=ClientWSTimeout(ws_receive=...)'",
            DeprecationWarning,
            stacklevel=3,
        )
        result = dataclasses.replace(result, ws_receive=receive_timeout)
    return result


def _deflate_offer(compress: int) -> DeflateOffer | None:
    """aiohttp's ``compress=N``: offer permessage-deflate, asking for an N-bit server window.

    Raises:
        ValueError: N is not between 9 and 15 (zlib cannot compress with 8 bits).
    """
    if not compress:
        return None
    if not 9 <= compress <= 15:
        raise ValueError("Compress wbits must between 9 and 15, zlib does not support wbits=8")
    from aioloom.websocket import DeflateOffer

    return DeflateOffer(server_max_window_bits=None if compress == 15 else compress)


def _request_headers(
    headers: LooseHeaders | None,
    key: str,
    protocols: tuple[str, ...],
    offer: DeflateOffer | None,
    origin: str | None,
) -> CIMultiDict[str]:
    """The upgrade request's header fields: the caller's, plus the handshake's.

    The caller may set ``Upgrade``, ``Connection`` and ``Sec-WebSocket-Version`` itself (as
    in aiohttp); the key, the subprotocols and the extension offer are always ours.
    """
    from aioloom.websocket import client_handshake_headers

    real: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
    ours = client_handshake_headers(key, protocols=protocols, deflate=offer)
    for name in (hdrs.UPGRADE, hdrs.CONNECTION, hdrs.SEC_WEBSOCKET_VERSION):
        real.setdefault(name, ours.pop(name))
    real.update(ours)
    if origin is not None:
        real[hdrs.ORIGIN] = origin
    return real


async def ws_connect(
    session: ClientSession,
    url: str | URL,
    *,
    method: str = hdrs.METH_GET,
    protocols: Iterable[str] = (),
    timeout: ClientWSTimeout | float | _Unset = _UNSET,
    receive_timeout: float | None = None,
    autoclose: bool = True,
    autoping: bool = True,
    heartbeat: float | None = None,
    auth: BasicAuth | None = None,
    origin: str | None = None,
    params: Params | None = None,
    headers: LooseHeaders | None = None,
    proxy: str | URL | None = None,
    proxy_auth: BasicAuth | None = None,
    ssl: SSLArg = True,
    server_hostname: str | None = None,
    proxy_headers: LooseHeaders | None = None,
    compress: int = 0,
    max_msg_size: int = 4 * 1024 * 1024,
    decode_text: bool = True,
) -> ClientWebSocketResponse:
    """Open a WebSocket through ``session`` (aiohttp's ``ClientSession.ws_connect``).

    Args:
        session: the session whose request machinery sends the upgrade request.
        url: the ``ws://``, ``wss://`` (or ``http(s)://``) URL.
        method: the request method (GET).
        protocols: the subprotocols to offer, by preference.
        timeout: a :class:`ClientWSTimeout` (a float, deprecated, is ``ws_close``).
        receive_timeout: deprecated: ``ClientWSTimeout(ws_receive=...)``.
        autoclose: answer the server's Close frame inside ``receive()``.
        autoping: answer pings (and swallow pongs) instead of delivering them.
        heartbeat: ping after this many seconds without input; drop the connection (1006,
            ``ServerTimeoutError``) when nothing comes back within half of it.
        auth, params, headers, proxy, proxy_auth, ssl, server_hostname, proxy_headers:
            as for ``session.request()``.
        origin: the ``Origin`` header field.
        compress: offer permessage-deflate with this server window (9-15); 0: do not.
        max_msg_size: the largest message accepted (0: no bound); larger ones fail the
            connection with 1009.
        decode_text: deliver TEXT messages as ``str`` (else as UTF-8 ``bytes``).

    Returns:
        The open WebSocket.

    Raises:
        WSServerHandshakeError: the server did not complete the handshake.
        ValueError: ``compress`` is out of range.
        ImportError: the ``websocket`` extra is not installed.
        ClientError: the request failed (as for ``session.request()``).
    """
    ws_timeout = _ws_timeout(timeout, receive_timeout)
    try:
        from aioloom.websocket import Role, ws_key
        from aioloom.websocket.aio import WebSocketConnection
    except ImportError as exc:
        raise ImportError(EXTRA_HINT) from exc
    offered = tuple(protocols)
    offer = _deflate_offer(compress)
    key = ws_key()
    real_headers = _request_headers(headers, key, offered, offer, origin)
    resp = await session.request(
        method,
        url,
        params=params,
        headers=real_headers,
        read_until_eof=False,
        auth=auth,
        proxy=proxy,
        proxy_auth=proxy_auth,
        ssl=ssl,
        server_hostname=server_hostname,
        proxy_headers=proxy_headers,
    )
    try:
        handshake = _check_handshake(resp, key, offered, offer)
        upgraded, tail = _take_over(resp)
        conn = WebSocketConnection(
            Role.CLIENT,
            upgraded,
            loop=asyncio.get_running_loop(),
            close_transport=resp.close,
            max_msg_size=max_msg_size,
            compress=handshake.deflate,
            decode_text=decode_text,
            close_timeout=ws_timeout.ws_close,
            receive_timeout=ws_timeout.ws_receive,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
            timeout_error=ServerTimeoutError,
            reset_error=ClientConnectionResetError,
        )
        upgraded.set_parser(conn, tail)
    except BaseException:
        resp.close()  # never leak the connection
        raise
    deflate = handshake.deflate
    return ClientWebSocketResponse(
        resp,
        conn,
        handshake.protocol,
        timeout=ws_timeout,
        compress=0 if deflate is None else deflate.server_max_window_bits,
        client_notakeover=deflate is not None and deflate.client_no_context_takeover,
    )


def _take_over(resp: ClientResponse) -> tuple[UpgradedProtocol, bytes]:
    """Switch the ``101`` response's transport to an ``UpgradedProtocol``.

    Returns:
        The new protocol and the bytes the HTTP protocol received past the ``101`` head
        (it keeps them in its ``tail`` until now).

    Raises:
        ClientConnectionResetError: the connection closed during the upgrade.
    """
    from aioloom.websocket.aio import UpgradedProtocol

    connection = resp.connection
    http_protocol = None if connection is None else connection.protocol
    transport = None if http_protocol is None else http_protocol.transport
    if http_protocol is None or transport is None:
        raise ClientConnectionResetError("Connection closed during the WebSocket upgrade")
    return UpgradedProtocol.take_over(transport, http_protocol), http_protocol.tail


def _check_handshake(
    resp: ClientResponse, key: str, protocols: tuple[str, ...], offer: DeflateOffer | None
) -> ClientHandshake:
    """Validate the upgrade response (RFC 6455 §4.1); translate a refusal.

    Raises:
        WSServerHandshakeError: the response does not complete the handshake.
    """
    from aioloom.websocket import WSHandshakeError, validate_upgrade_response

    try:
        return validate_upgrade_response(
            resp.status, resp.headers, key=key, protocols=protocols, deflate=offer
        )
    except WSHandshakeError as exc:
        raise WSServerHandshakeError(
            resp.request_info,
            resp.history,
            message=str(exc),
            status=resp.status,
            headers=resp.headers,
        ) from exc
