"""The permessage-deflate extension (RFC 7692): negotiation of its parameters in the opening
handshake and per-message compression.

Negotiation follows aiohttp 3.14 where RFC 7692 leaves a choice:

* zlib cannot compress with a 256-byte window, so a window of 8 bits is never used for
  compressing: a server declines an offer that asks it for ``server_max_window_bits=8`` and
  moves on to the next offer; a client fails the handshake when the server grants it
  ``client_max_window_bits=8``; neither offers 8 itself.
* A server never fails the handshake over this extension: an offer it cannot read is declined.
* Received messages are always inflated with a 15-bit window, which reads any window size.

A received message is inflated fragment by fragment with a bound on the output, so a message
that inflates past ``max_msg_size`` fails with 1009 (MESSAGE_TOO_BIG) having produced at most
one byte more than the bound.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final, NamedTuple, TypeAlias

from aioloom.http._zlib_backend import (
    ZLibBackend,
    ZLibCompressObj,
    ZLibDecompressObj,
    get_zlib_backend,
)

from ._models import WebSocketError, WSCloseCode, WSHandshakeError

__all__ = (
    "PERMESSAGE_DEFLATE",
    "DeflateOffer",
    "DeflateParams",
    "PerMessageDeflate",
    "accept_deflate_response",
    "negotiate_deflate",
    "parse_extension_header",
)

PERMESSAGE_DEFLATE: Final = "permessage-deflate"

# RFC 7692 §7.2.1: a compressed message is a DEFLATE stream flushed with an empty stored
# block, whose last four bytes are removed by the sender and appended back by the receiver.
_TAIL: Final = b"\x00\x00\xff\xff"

_SERVER_NO_TAKEOVER: Final = "server_no_context_takeover"
_CLIENT_NO_TAKEOVER: Final = "client_no_context_takeover"
_SERVER_MAX_BITS: Final = "server_max_window_bits"
_CLIENT_MAX_BITS: Final = "client_max_window_bits"

# RFC 9110 §5.6.2 token; RFC 6455 §9.1 extension grammar.
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_NAME_RE: Final = re.compile(rf"[ \t]*({_TOKEN})[ \t]*")
_PARAM_RE: Final = re.compile(
    rf'[ \t]*({_TOKEN})[ \t]*(?:=[ \t]*(?:({_TOKEN})|"((?:[^"\\]|\\.)*)")[ \t]*)?'
)
_TOKEN_RE: Final = re.compile(_TOKEN)
_QUOTED_PAIR_RE: Final = re.compile(r"\\(.)")
# RFC 7692 §7.1.2.1: a decimal integer without leading zeroes, from 8 to 15.
_WINDOW_BITS_RE: Final = re.compile(r"[89]|1[0-5]")

ExtensionParams: TypeAlias = list[tuple[str, str | None]]


def parse_extension_header(value: str) -> list[tuple[str, ExtensionParams]]:
    """Parse a ``Sec-WebSocket-Extensions`` value (RFC 6455 §9.1).

    Args:
        value: the field value; several field lines are joined with ``,``.

    Returns:
        ``(name, [(param, value or None), ...])`` per extension, in order; names are
        lower-cased and quoted values unquoted.

    Raises:
        ValueError: the value does not follow the grammar.
    """
    extensions: list[tuple[str, ExtensionParams]] = []
    for element in value.split(","):
        if not element.strip(" \t"):
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        name, *raw_params = element.split(";")
        match = _NAME_RE.fullmatch(name)
        if match is None:
            raise ValueError(f"Invalid extension name in {element!r}")
        extensions.append((match[1].lower(), [_parse_param(param) for param in raw_params]))
    return extensions


def _parse_param(text: str) -> tuple[str, str | None]:
    match = _PARAM_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"Invalid extension parameter {text!r}")
    name, token, quoted = match.groups()
    if quoted is not None:
        # RFC 6455 §9.1: an unquoted quoted-string value must be a token.
        token = _QUOTED_PAIR_RE.sub(r"\1", quoted)
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"Invalid extension parameter value {text!r}")
    return name.lower(), token


def _window_bits(name: str, value: str | None) -> int:
    if value is None or not _WINDOW_BITS_RE.fullmatch(value):
        raise ValueError(f"Invalid {name} value: {value!r}")
    return int(value)


def _check_own_window(name: str, bits: int) -> None:
    # zlib rejects raw DEFLATE with an 8-bit window for compression.
    if not 9 <= bits <= 15:
        raise ValueError(f"{name} must be between 9 and 15, zlib does not support 8")


class _Offer(NamedTuple):
    """The parameters of one received offer; window bits are 8..15 or absent (None)."""

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int | None
    client_max_window_bits: int | None
    client_max_window_bits_given: bool


def _parse_offer(params: ExtensionParams) -> _Offer:
    """Read one offer's parameters; RFC 7692 §7: unknown or repeated ones make it invalid."""
    seen: set[str] = set()
    server_bits: int | None = None
    client_bits: int | None = None
    for name, value in params:
        if name in seen:
            raise ValueError(f"Duplicate parameter {name}")
        seen.add(name)
        if name in (_SERVER_NO_TAKEOVER, _CLIENT_NO_TAKEOVER):
            if value is not None:
                raise ValueError(f"{name} takes no value")
        elif name == _SERVER_MAX_BITS:
            server_bits = _window_bits(name, value)
        elif name == _CLIENT_MAX_BITS:
            # RFC 7692 §7.1.2.2: in an offer the value may be left out.
            client_bits = None if value is None else _window_bits(name, value)
        else:
            raise ValueError(f"Unknown parameter {name}")
    return _Offer(
        _SERVER_NO_TAKEOVER in seen,
        _CLIENT_NO_TAKEOVER in seen,
        server_bits,
        client_bits,
        _CLIENT_MAX_BITS in seen,
    )


@dataclass(frozen=True)
class DeflateOffer:
    """What a client asks for in its ``Sec-WebSocket-Extensions`` offer (RFC 7692 §7.1).

    The default is aiohttp's offer, ``permessage-deflate; client_max_window_bits``. aiohttp's
    ``compress=N`` (N < 15) is ``DeflateOffer(server_max_window_bits=N)``.

    Attributes:
        server_no_context_takeover: ask the server to compress each message on its own.
        client_no_context_takeover: announce that this client will do so.
        server_max_window_bits: ask the server for a smaller window (9..15), or None.
        client_max_window_bits: True to let the server choose this client's window, an int
            (9..15) to announce the window this client uses, False to leave the parameter
            out.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | bool = True

    def __post_init__(self) -> None:
        if self.server_max_window_bits is not None:
            _check_own_window(_SERVER_MAX_BITS, self.server_max_window_bits)
        if not isinstance(self.client_max_window_bits, bool):
            _check_own_window(_CLIENT_MAX_BITS, self.client_max_window_bits)

    def header_value(self) -> str:
        """Return the offer as a ``Sec-WebSocket-Extensions`` value."""
        parts = [PERMESSAGE_DEFLATE]
        if self.client_max_window_bits is True:
            parts.append(_CLIENT_MAX_BITS)
        elif self.client_max_window_bits is not False:
            parts.append(f"{_CLIENT_MAX_BITS}={self.client_max_window_bits}")
        if self.server_max_window_bits is not None:
            parts.append(f"{_SERVER_MAX_BITS}={self.server_max_window_bits}")
        if self.server_no_context_takeover:
            parts.append(_SERVER_NO_TAKEOVER)
        if self.client_no_context_takeover:
            parts.append(_CLIENT_NO_TAKEOVER)
        return "; ".join(parts)


@dataclass(frozen=True)
class DeflateParams:
    """The agreed permessage-deflate parameters (RFC 7692 §7.1), the same on both sides.

    Attributes:
        server_no_context_takeover: the server compresses each message on its own.
        client_no_context_takeover: the client compresses each message on its own.
        server_max_window_bits: the window the server compresses with (8..15).
        client_max_window_bits: the window the client compresses with (8..15).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15

    def __post_init__(self) -> None:
        for bits in (self.server_max_window_bits, self.client_max_window_bits):
            if not 8 <= bits <= 15:
                raise ValueError(f"window bits must be between 8 and 15, got {bits}")


def negotiate_deflate(
    header: str | None,
    *,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: int = 15,
) -> tuple[DeflateParams, str] | None:
    """Accept the first acceptable permessage-deflate offer of a client (server side).

    Args:
        header: the request's ``Sec-WebSocket-Extensions`` value, or None.
        server_no_context_takeover: compress each message on its own even if not asked.
        client_no_context_takeover: ask the client to compress each message on its own.
        server_max_window_bits: the largest window to compress with (9..15).

    Returns:
        ``(agreed parameters, Sec-WebSocket-Extensions value of the response)``, or None
        when no offer is acceptable (the connection then runs uncompressed).

    Raises:
        ValueError: ``server_max_window_bits`` is out of range.
    """
    _check_own_window(_SERVER_MAX_BITS, server_max_window_bits)
    if not header:
        return None
    try:
        extensions = parse_extension_header(header)
    except ValueError:
        return None  # aiohttp: the server never fails the handshake over compression
    for name, params in extensions:
        if name != PERMESSAGE_DEFLATE:
            continue
        try:
            offer = _parse_offer(params)
        except ValueError:
            continue  # RFC 7692 §5: decline an invalid offer, try the next one
        bits = min(offer.server_max_window_bits or 15, server_max_window_bits)
        if bits < 9:
            continue  # aiohttp: decline a window zlib cannot compress with
        agreed = DeflateParams(
            server_no_context_takeover=offer.server_no_context_takeover
            or server_no_context_takeover,
            client_no_context_takeover=offer.client_no_context_takeover
            or client_no_context_takeover,
            server_max_window_bits=bits,
            client_max_window_bits=offer.client_max_window_bits or 15,
        )
        return agreed, _response_value(agreed, bits_asked=offer.server_max_window_bits)
    return None


def _response_value(agreed: DeflateParams, *, bits_asked: int | None) -> str:
    parts = [PERMESSAGE_DEFLATE]
    if agreed.server_no_context_takeover:
        parts.append(_SERVER_NO_TAKEOVER)
    if agreed.client_no_context_takeover:
        parts.append(_CLIENT_NO_TAKEOVER)
    # RFC 7692 §7.1.2.1: answer a requested window with the one used (<= the request).
    if bits_asked is not None or agreed.server_max_window_bits < 15:
        parts.append(f"{_SERVER_MAX_BITS}={agreed.server_max_window_bits}")
    return "; ".join(parts)


def accept_deflate_response(header: str | None, offer: DeflateOffer | None) -> DeflateParams | None:
    """Check the server's answer to this client's offer (client side).

    Args:
        header: the response's ``Sec-WebSocket-Extensions`` value, or None.
        offer: what this client offered, or None when it offered nothing.

    Returns:
        The agreed parameters, or None when the server declined compression.

    Raises:
        WSHandshakeError: the server answered with an extension that was not offered, with
            invalid, repeated or unknown parameters, or with values the offer does not allow
            (RFC 6455 §4.1, RFC 7692 §7.1); ``code`` is 0.
    """
    if not header:
        return None
    try:
        extensions = parse_extension_header(header)
    except ValueError as exc:
        raise WSHandshakeError(f"Invalid Sec-WebSocket-Extensions: {exc}", code=0) from None
    if not extensions:
        return None
    if offer is None or len(extensions) != 1 or extensions[0][0] != PERMESSAGE_DEFLATE:
        names = ", ".join(name for name, _ in extensions)
        raise WSHandshakeError(f"Extension for deflate not supported: {names}", code=0)
    try:
        return _agree_with_response(_parse_offer(extensions[0][1]), offer)
    except ValueError as exc:
        raise WSHandshakeError(f"Invalid permessage-deflate response: {exc}", code=0) from None


def _agree_with_response(answer: _Offer, offer: DeflateOffer) -> DeflateParams:
    if answer.client_max_window_bits_given and answer.client_max_window_bits is None:
        raise ValueError("client_max_window_bits needs a value in a response")
    if offer.server_no_context_takeover and not answer.server_no_context_takeover:
        raise ValueError("server_no_context_takeover was asked for and not granted")
    server_bits = answer.server_max_window_bits
    if offer.server_max_window_bits is not None and (
        server_bits is None or server_bits > offer.server_max_window_bits
    ):
        raise ValueError("server_max_window_bits does not meet the offer")
    client_bits = answer.client_max_window_bits
    offered_client_bits = offer.client_max_window_bits
    if client_bits is not None:
        if offered_client_bits is False:
            raise ValueError("client_max_window_bits was not offered")
        if offered_client_bits is not True and client_bits > offered_client_bits:
            raise ValueError("client_max_window_bits exceeds the offer")
        if client_bits < 9:
            raise ValueError("Invalid window size")  # aiohttp: zlib cannot compress with 8
    elif not isinstance(offered_client_bits, bool):
        client_bits = offered_client_bits
    return DeflateParams(
        server_no_context_takeover=answer.server_no_context_takeover,
        client_no_context_takeover=answer.client_no_context_takeover
        or offer.client_no_context_takeover,
        server_max_window_bits=server_bits or 15,
        client_max_window_bits=client_bits or 15,
    )


# The only two places that create zlib objects, from the backend chosen with aioloom.http's
# set_zlib_backend() (aiohttp's): the stdlib zlib unless replaced (isal, zlib-ng).


def _new_compressor(backend: ZLibBackend, level: int, wbits: int) -> ZLibCompressObj:
    """A raw DEFLATE compressor (negative ``wbits``: no zlib header, RFC 7692 §7.2.1).

    ``memLevel`` stays zlib's default (8), as aiohttp leaves it.
    """
    return backend.compressobj(level=level, wbits=wbits)


def _new_decompressor(backend: ZLibBackend) -> ZLibDecompressObj:
    """A raw DEFLATE inflater with a 15-bit window, which reads any window size."""
    return backend.decompressobj(-backend.MAX_WBITS)


class PerMessageDeflate:
    """Compress sent messages and inflate received ones with the agreed parameters.

    The zlib implementation is the one in use when the object is created
    (``aioloom.http.set_zlib_backend``); it keeps it for its whole life, so each direction
    stays one consistent DEFLATE stream.

    Args:
        params: the agreed parameters.
        is_client: which side this endpoint is; it compresses with its own window and
            context-takeover parameters and inflates what the peer sends.
        level: the zlib compression level (aiohttp uses the fastest, 1).

    Raises:
        ValueError: this side's window is 8 bits, which zlib cannot compress with.
    """

    __slots__ = (
        "_compressor",
        "_decompressor",
        "_flush_mode",
        "_level",
        "_reset_inflater",
        "_wbits",
        "_zlib",
    )

    def __init__(
        self, params: DeflateParams, *, is_client: bool, level: int = zlib.Z_BEST_SPEED
    ) -> None:
        if is_client:
            bits, no_takeover = params.client_max_window_bits, params.client_no_context_takeover
            peer_no_takeover = params.server_no_context_takeover
        else:
            bits, no_takeover = params.server_max_window_bits, params.server_no_context_takeover
            peer_no_takeover = params.client_no_context_takeover
        _check_own_window("window bits", bits)
        self._zlib = backend = get_zlib_backend()
        self._wbits = -bits  # negative: raw DEFLATE, no zlib header (RFC 7692 §7.2.1)
        self._level = level
        # RFC 7692 §7.1.1: without context takeover each message starts from an empty
        # window; a full flush resets the compressor's history at the message boundary.
        self._flush_mode = backend.Z_FULL_FLUSH if no_takeover else backend.Z_SYNC_FLUSH
        self._reset_inflater = peer_no_takeover
        self._compressor: ZLibCompressObj | None = None
        self._decompressor: ZLibDecompressObj | None = None

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """Compress one whole message (RFC 7692 §7.2.1).

        Args:
            data: the message payload.

        Returns:
            The payload to send in frames whose first one sets RSV1.
        """
        compressor = self._compressor
        if compressor is None:
            compressor = self._compressor = _new_compressor(self._zlib, self._level, self._wbits)
        body = compressor.compress(data)
        flushed = compressor.flush(self._flush_mode)
        # The flush ends with the empty stored block 00 00 ff ff, which is left out.
        return body + flushed[:-4]

    def decompress(self, data: bytes, *, final: bool, limit: int | None) -> bytes:
        """Inflate the next fragment of a received compressed message (RFC 7692 §7.2.2).

        Args:
            data: the fragment's payload.
            final: whether it is the message's last fragment; the removed tail is then
                appended back.
            limit: how many more bytes the message may inflate to, or None for no bound.

        Returns:
            The inflated bytes of this fragment.

        Raises:
            WebSocketError: the message inflates past ``limit`` (1009, MESSAGE_TOO_BIG; at
                most ``limit + 1`` bytes are produced) or is not valid DEFLATE data (1002).
        """
        inflater = self._decompressor
        if inflater is None:
            inflater = self._decompressor = _new_decompressor(self._zlib)
        # Asking for one byte more than allowed tells "exactly at the bound" from "over it"
        # without producing the rest; 0 means no bound to zlib.
        cap = 0 if limit is None else limit + 1
        try:
            # One call per fragment: a final one is inflated with its tail appended back.
            out = inflater.decompress(data + _TAIL if final else data, cap)
        except self._zlib.error as exc:
            self._decompressor = None
            raise WebSocketError(
                WSCloseCode.PROTOCOL_ERROR, f"Invalid compressed message: {exc}"
            ) from None
        if limit is not None and len(out) > limit:
            self._decompressor = None
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, "Decompressed message exceeds size limit"
            )
        if final and (self._reset_inflater or inflater.eof):
            # The peer starts its next message from an empty window (no context takeover,
            # or it ended its DEFLATE stream with a BFINAL block).
            self._decompressor = None
        return out
