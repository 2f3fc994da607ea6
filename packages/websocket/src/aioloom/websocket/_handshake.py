"""The opening handshake (RFC 6455 §4): keys, validation of the upgrade request and response,
subprotocol selection, and the header fields of both sides.

The functions take what the HTTP parser of :mod:`aioloom.http` produces (method, version and a
case-insensitive multi-mapping of header fields) and return header fields to send, so the
asyncio glue of the server and of the client stays free of protocol rules.

Server side, a refused request raises :class:`WSHandshakeError` whose ``code`` is the status to
answer and whose ``headers`` go into that answer:

* 405 with ``Allow: GET`` for another method (as aiohttp answers);
* 426 with ``Sec-WebSocket-Version: 13`` for a missing or other version (RFC 6455 §4.2.2, §4.4);
* 400 for anything else (RFC 6455 §4.2.1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from typing import NamedTuple

from multidict import CIMultiDict, MultiMapping

from ._deflate import DeflateOffer, DeflateParams, accept_deflate_response, negotiate_deflate
from ._models import WS_KEY, WSHandshakeError

__all__ = (
    "ClientHandshake",
    "ServerHandshake",
    "client_handshake_headers",
    "select_protocol",
    "server_handshake",
    "validate_upgrade_request",
    "validate_upgrade_response",
    "ws_accept",
    "ws_key",
)

_UPGRADE = "Upgrade"
_CONNECTION = "Connection"
_SEC_KEY = "Sec-WebSocket-Key"
_SEC_VERSION = "Sec-WebSocket-Version"
_SEC_ACCEPT = "Sec-WebSocket-Accept"
_SEC_PROTOCOL = "Sec-WebSocket-Protocol"
_SEC_EXTENSIONS = "Sec-WebSocket-Extensions"

# RFC 6455 §4.1: the only version this implementation speaks.
_VERSION = "13"


def ws_key() -> str:
    """Return a fresh ``Sec-WebSocket-Key``: 16 random bytes, base64-encoded (RFC 6455 §4.1)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def ws_accept(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value answering ``key`` (RFC 6455 §4.2.2).

    Args:
        key: the client's ``Sec-WebSocket-Key`` value.

    Returns:
        base64(SHA-1(key + GUID)).
    """
    digest = hashlib.sha1(key.encode("utf-8") + WS_KEY).digest()
    return base64.b64encode(digest).decode("ascii")


def _tokens(headers: MultiMapping[str], name: str) -> list[str]:
    """The comma-separated tokens of every ``name`` field line, lower-cased (RFC 9110 §5.6.1)."""
    return [
        token.strip(" \t").lower()
        for value in headers.getall(name, [])
        for token in value.split(",")
    ]


def _joined(headers: MultiMapping[str], name: str) -> str | None:
    values = headers.getall(name, [])
    return ",".join(values) if values else None


def validate_upgrade_request(
    method: str, version: tuple[int, int], headers: MultiMapping[str]
) -> str:
    """Check that a request opens a WebSocket connection (RFC 6455 §4.2.1).

    Args:
        method: the request method.
        version: the HTTP version, e.g. ``HttpVersion11``.
        headers: the request's header fields (case-insensitive).

    Returns:
        The validated ``Sec-WebSocket-Key``.

    Raises:
        WSHandshakeError: the request is not a valid WebSocket upgrade; ``code`` and
            ``headers`` make the answer (see the module docstring).
    """
    if method != "GET":
        raise WSHandshakeError(
            f"WebSocket upgrade needs GET, got {method!r}",
            code=405,
            headers=CIMultiDict({"Allow": "GET"}),
        )
    if tuple(version) != (1, 1):
        raise WSHandshakeError(f"WebSocket upgrade needs HTTP/1.1, got {version!r}")
    if "websocket" not in _tokens(headers, _UPGRADE):
        raise WSHandshakeError(
            f"No WebSocket UPGRADE hdr: {headers.get(_UPGRADE)}\n"
            ' Can "Upgrade" only to "WebSocket".'
        )
    if "upgrade" not in _tokens(headers, _CONNECTION):
        raise WSHandshakeError(f"No CONNECTION upgrade hdr: {headers.get(_CONNECTION)}")
    versions = [value.strip(" \t") for value in headers.getall(_SEC_VERSION, [])]
    if versions != [_VERSION]:
        raise WSHandshakeError(
            f"Unsupported version: {', '.join(versions)}",
            code=426,
            headers=CIMultiDict({_SEC_VERSION: _VERSION}),
        )
    return _check_key(headers.getall(_SEC_KEY, []))


def _check_key(keys: list[str]) -> str:
    # RFC 6455 §4.2.1 item 5 and §11.3.1: one key, base64 of 16 bytes.
    if len(keys) != 1:
        raise WSHandshakeError(f"Handshake error: {len(keys)} Sec-WebSocket-Key fields")
    key = keys[0].strip(" \t")
    try:
        decoded = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise WSHandshakeError(f"Handshake error: {key!r}") from None
    if len(decoded) != 16:
        raise WSHandshakeError(f"Handshake error: {key!r}")
    return key


def select_protocol(offered: str | Iterable[str] | None, supported: Iterable[str]) -> str | None:
    """Choose a subprotocol (RFC 6455 §4.2.2 item 5.4), as aiohttp does.

    Args:
        offered: the client's ``Sec-WebSocket-Protocol`` value, or its protocols as a list.
        supported: the protocols this server speaks.

    Returns:
        The first protocol of the client's list that the server supports, or None.
    """
    if offered is None:
        return None
    names = offered.split(",") if isinstance(offered, str) else offered
    known = set(supported)
    for name in names:
        name = name.strip(" \t")
        if name in known:
            return name
    return None


class ServerHandshake(NamedTuple):
    """An accepted upgrade request.

    Attributes:
        headers: the header fields of the 101 response.
        protocol: the chosen subprotocol, or None.
        deflate: the agreed permessage-deflate parameters, or None.
    """

    headers: CIMultiDict[str]
    protocol: str | None
    deflate: DeflateParams | None


def server_handshake(
    method: str,
    version: tuple[int, int],
    headers: MultiMapping[str],
    *,
    protocols: Iterable[str] = (),
    compress: bool = True,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: int = 15,
) -> ServerHandshake:
    """Validate an upgrade request and build the 101 response's header fields.

    Args:
        method: the request method.
        version: the HTTP version.
        headers: the request's header fields.
        protocols: the subprotocols this server speaks.
        compress: accept a permessage-deflate offer (aiohttp's ``compress``).
        server_no_context_takeover: see :func:`negotiate_deflate`.
        client_no_context_takeover: see :func:`negotiate_deflate`.
        server_max_window_bits: see :func:`negotiate_deflate`.

    Returns:
        The response header fields, the chosen subprotocol and the compression parameters.

    Raises:
        WSHandshakeError: as :func:`validate_upgrade_request`.
    """
    key = validate_upgrade_request(method, version, headers)
    response = CIMultiDict(
        {_UPGRADE: "websocket", _CONNECTION: "upgrade", _SEC_ACCEPT: ws_accept(key)}
    )
    protocol = select_protocol(_joined(headers, _SEC_PROTOCOL), protocols)
    if protocol is not None:
        response[_SEC_PROTOCOL] = protocol
    deflate: DeflateParams | None = None
    if compress:
        agreed = negotiate_deflate(
            _joined(headers, _SEC_EXTENSIONS),
            server_no_context_takeover=server_no_context_takeover,
            client_no_context_takeover=client_no_context_takeover,
            server_max_window_bits=server_max_window_bits,
        )
        if agreed is not None:
            deflate, response[_SEC_EXTENSIONS] = agreed
    return ServerHandshake(response, protocol, deflate)


def client_handshake_headers(
    key: str, *, protocols: Iterable[str] = (), deflate: DeflateOffer | None = None
) -> CIMultiDict[str]:
    """Build the WebSocket header fields of a client's upgrade request (RFC 6455 §4.1).

    Args:
        key: the request's key, from :func:`ws_key`; keep it to check the response.
        protocols: the subprotocols to offer, in order of preference.
        deflate: the permessage-deflate offer, or None for no compression.

    Returns:
        ``Upgrade``, ``Connection``, ``Sec-WebSocket-Key``, ``Sec-WebSocket-Version`` and,
        when given, ``Sec-WebSocket-Protocol`` and ``Sec-WebSocket-Extensions``.
    """
    headers = CIMultiDict(
        {_UPGRADE: "websocket", _CONNECTION: "Upgrade", _SEC_KEY: key, _SEC_VERSION: _VERSION}
    )
    names = list(protocols)
    if names:
        headers[_SEC_PROTOCOL] = ",".join(names)
    if deflate is not None:
        headers[_SEC_EXTENSIONS] = deflate.header_value()
    return headers


class ClientHandshake(NamedTuple):
    """An accepted upgrade response.

    Attributes:
        protocol: the subprotocol the server chose among the offered ones, or None.
        deflate: the agreed permessage-deflate parameters, or None.
    """

    protocol: str | None
    deflate: DeflateParams | None


def validate_upgrade_response(
    status: int,
    headers: MultiMapping[str],
    *,
    key: str,
    protocols: Iterable[str] = (),
    deflate: DeflateOffer | None = None,
) -> ClientHandshake:
    """Check the server's answer to an upgrade request (RFC 6455 §4.1, client side).

    Args:
        status: the response status.
        headers: the response's header fields.
        key: the ``Sec-WebSocket-Key`` that was sent.
        protocols: the subprotocols that were offered.
        deflate: the permessage-deflate offer that was sent, or None.

    Returns:
        The chosen subprotocol (None when the server chose none, or one that was not
        offered, as aiohttp does) and the compression parameters.

    Raises:
        WSHandshakeError: the response does not complete the handshake (``code`` is 0; the
            message is aiohttp's).
    """
    if status != 101:
        raise WSHandshakeError("Invalid response status", code=0)
    if "websocket" not in _tokens(headers, _UPGRADE):
        raise WSHandshakeError("Invalid upgrade header", code=0)
    if "upgrade" not in _tokens(headers, _CONNECTION):
        raise WSHandshakeError("Invalid connection header", code=0)
    if headers.getall(_SEC_ACCEPT, []) != [ws_accept(key)]:
        raise WSHandshakeError("Invalid challenge response", code=0)
    protocol = select_protocol(_joined(headers, _SEC_PROTOCOL), protocols)
    agreed = accept_deflate_response(_joined(headers, _SEC_EXTENSIONS), deflate)
    return ClientHandshake(protocol, agreed)
