"""Message framing and connection semantics decided by the header section.

This module owns what a parsed head means for the bytes that follow it: the body length
(RFC 9112 §6.3: Content-Length, chunked, or read until close), persistence (RFC 9112 §9.3,
``should_close``), protocol switching (RFC 9110 §7.8 Upgrade, §9.3.6 CONNECT), the content
coding to undo, and the header-level checks aiohttp applies (singleton fields, Host,
Content-Length syntax, Transfer-Encoding shapes that enable request smuggling).
"""

from __future__ import annotations

import re
from typing import Final

from multidict import CIMultiDictProxy, istr

from ._abnf import TOKEN_RE
from ._exceptions import BadHttpMessage, InvalidHeader
from ._messages import HttpVersion, HttpVersion10, HttpVersion11

__all__ = (
    "CHUNKED",
    "SWITCHABLE_UPGRADES",
    "UNTIL_CLOSE",
    "Framing",
    "request_framing",
    "response_framing",
)

_CONTENT_LENGTH: Final = istr("Content-Length")
_TRANSFER_ENCODING: Final = istr("Transfer-Encoding")
_CONNECTION: Final = istr("Connection")
_CONTENT_ENCODING: Final = istr("Content-Encoding")
_UPGRADE: Final = istr("Upgrade")
_HOST: Final = istr("Host")
_SEC_WEBSOCKET_KEY1: Final = istr("Sec-WebSocket-Key1")

# RFC 9110 §5.3 / collected ABNF: fields that may appear only once.  Strict mode rejects a
# repeat (as aiohttp does), which closes the door on CL.CL and TE.TE smuggling; lax mode
# (responses) skips the check, since real servers repeat Content-Type or Server.
_SINGLETONS: Final = tuple(
    istr(name)
    for name in (
        "Content-Length",
        "Content-Location",
        "Content-Range",
        "Content-Type",
        "ETag",
        "Host",
        "Max-Forwards",
        "Server",
        "Transfer-Encoding",
        "User-Agent",
    )
)

# RFC 9110 §7.2: Host = uri-host [ ":" port ]; RFC 3986 §3.2.2-3: uri-host = IP-literal /
# IPv4address / reg-name (unreserved / pct-encoded / sub-delims, possibly empty), port =
# *DIGIT.  ASCII only: a str pattern's [0-9] and [A-Za-z] match no other digits or letters.
_HOST_RE: Final = re.compile(
    r"(?:\[[0-9A-Za-z\-._~!$&'()*+,;=:%]+\]|[0-9A-Za-z\-._~!$&'()*+,;=%]*)(?::[0-9]*)?"
)
# The few Host values a server sees repeat on every request: the valid ones are remembered,
# so the usual check is one set lookup.  Bounded like the start-line caches: emptied when
# full, at most _HOST_CACHE_SIZE values of at most _HOST_CACHEABLE characters (a DNS name,
# RFC 1035 §2.3.4: 255 octets, plus a port).
_HOST_CACHE_SIZE: Final = 256
_HOST_CACHEABLE: Final = 262
_valid_hosts: set[str] = set()

# Upgrade protocols a request may switch to in the parser (aiohttp's pure-Python parser:
# "websocket" and "tcp").  For any other protocol the server cannot agree to switch, so
# the connection stays HTTP/1.1 and the parser carries on (RFC 9110 §7.8).
SWITCHABLE_UPGRADES: Final = frozenset({"websocket", "tcp"})
_COMPRESSIONS: Final = frozenset({"gzip", "deflate", "br", "zstd"})

# Body kinds besides a Content-Length >= 0 (0 means "no body").
CHUNKED: Final = -1
UNTIL_CLOSE: Final = -2
# RFC 9110 §8.6 puts no bound on Content-Length; 18 digits (< 10**18 bytes) is beyond any
# real body and keeps int() away from Python's digit limit.
_MAX_LENGTH_DIGITS: Final = 18

# (should_close, compression, upgrade, chunked, body, switch_protocols)
Framing = tuple[bool, str | None, bool, bool, int, bool]

# The usual Connection values, mapped to (close, keep_alive, upgrade).
_CONNECTION_FAST: Final = {
    "keep-alive": (False, True, False),
    "Keep-Alive": (False, True, False),
    "close": (True, False, False),
    "Close": (True, False, False),
    "Upgrade": (False, False, True),
    "upgrade": (False, False, True),
}


def request_framing(headers: CIMultiDictProxy[str], version: HttpVersion, method: str) -> Framing:
    """Decide the framing of a request (always strict).

    Args:
        headers: the request's header section.
        version: HttpVersion10 or HttpVersion11 (the parser's constants).
        method: the upper-cased method.

    Returns:
        The :data:`Framing` tuple.

    Raises:
        BadHttpMessage: a repeated singleton field, a missing Host in HTTP/1.1 (RFC 9112
            §3.2), Content-Length with Transfer-Encoding (RFC 9112 §6.3 step 3), or a
            Transfer-Encoding whose final coding is not ``chunked`` (RFC 9112 §6.3 step 4).
        InvalidHeader: a malformed Host (RFC 9112 §3.2) or Content-Length, or
            ``Sec-WebSocket-Key1``.
    """
    _check_singletons(headers)
    host = headers.get(_HOST)
    if host is None:
        if version is HttpVersion11:
            raise BadHttpMessage("Missing 'Host' header in request.")
    elif host not in _valid_hosts:
        _check_host(host)
    close, keep_alive, upgrade, compression = _common(headers)
    te = headers.get(_TRANSFER_ENCODING)
    cl = headers.get(_CONTENT_LENGTH)
    chunked = False
    if te is not None:
        if cl is not None:
            raise BadHttpMessage("Transfer-Encoding can't be present with Content-Length")
        if _final_coding(te, strict=True) != "chunked":
            raise BadHttpMessage("Request has invalid `Transfer-Encoding`")
        chunked = True
        body = CHUNKED
        # RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing: close after.
        close = close or version is HttpVersion10
    elif cl is not None:
        body = _content_length(cl)
    else:
        body = 0  # RFC 9112 §6.3 step 7: a request without either has no body
    should_close = close or (version is HttpVersion10 and not keep_alive)
    if version is HttpVersion10:
        upgrade = False  # RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request
    switch = method == "CONNECT" or (upgrade and _switchable(headers))
    return should_close, compression, upgrade, chunked, body, switch


def response_framing(
    headers: CIMultiDictProxy[str],
    version: HttpVersion,
    code: int,
    method: str | None,
    *,
    lax: bool,
) -> Framing:
    """Decide the framing of a response to a request with ``method`` (RFC 9112 §6.3).

    Args:
        headers: the response's header section.
        version: HttpVersion10 or HttpVersion11.
        code: the status code.
        method: the request method this response answers (None: unknown, as GET).
        lax: skip the singleton check, accept Content-Length lists of one repeated value.

    Returns:
        The :data:`Framing` tuple.  ``upgrade`` is set only on a 101 with
        ``Connection: upgrade`` and ``Upgrade`` (as llhttp: a 200 merely advertising
        ``Upgrade: h2`` is not an upgrade).

    Raises:
        BadHttpMessage: Content-Length with Transfer-Encoding (never accepted), conflicting
            Content-Length values, a malformed Transfer-Encoding list in strict mode, or a
            repeated singleton field in strict mode.
        InvalidHeader: a malformed Content-Length, or ``Sec-WebSocket-Key1``.
    """
    if not lax:
        _check_singletons(headers)
    close, keep_alive, upgrade, compression = _common(headers)
    upgrade = upgrade and code == 101
    te = headers.get(_TRANSFER_ENCODING)
    length = None
    if _CONTENT_LENGTH in headers:
        if te is not None:
            raise BadHttpMessage("Transfer-Encoding can't be present with Content-Length")
        length = _lax_content_length(headers) if lax else _content_length(headers[_CONTENT_LENGTH])
    chunked = False
    if te is not None:
        if lax:
            te = ",".join(headers.getall(_TRANSFER_ENCODING))
        chunked = _final_coding(te, strict=not lax) == "chunked"
    switch = False
    # RFC 9112 §6.3 steps 1-2: no body after HEAD, 1xx, 204, 304 or a 2xx to CONNECT.
    if code < 200 or code == 204 or code == 304 or method == "HEAD":
        body = 0
        switch = code == 101
    elif method == "CONNECT" and code < 300:
        body = 0
        switch = True  # RFC 9110 §9.3.6: the connection becomes a tunnel
    elif te is not None:
        body = CHUNKED if chunked else UNTIL_CLOSE  # RFC 9112 §6.3 step 4
        close = close or version is HttpVersion10  # RFC 9112 §6.1
    elif length is not None:
        body = length
    else:
        body = UNTIL_CLOSE  # RFC 9112 §6.3 step 8
    should_close = close or (version is HttpVersion10 and not keep_alive) or body == UNTIL_CLOSE
    return should_close, compression, upgrade, chunked, body, switch


def _common(headers: CIMultiDictProxy[str]) -> tuple[bool, bool, bool, str | None]:
    """Connection options (RFC 9110 §7.6.1), Upgrade presence and the content coding."""
    if _SEC_WEBSOCKET_KEY1 in headers:  # the pre-RFC 6455 handshake; aiohttp refuses it
        raise InvalidHeader(_SEC_WEBSOCKET_KEY1)
    values = headers.getall(_CONNECTION, ())
    if not values:
        close = keep_alive = upgrade = False
    elif len(values) == 1 and values[0] in _CONNECTION_FAST:
        close, keep_alive, upgrade = _CONNECTION_FAST[values[0]]
    else:
        options = {
            option.lower()
            for value in values
            for option in (part.strip(" \t") for part in value.split(","))
            if option.isascii()
        }
        close = "close" in options
        keep_alive = "keep-alive" in options
        upgrade = "upgrade" in options
    # RFC 9110 §7.8: "Connection: upgrade" means nothing without an Upgrade field.
    upgrade = upgrade and bool(headers.get(_UPGRADE))
    compression = None
    coding = headers.get(_CONTENT_ENCODING)
    if coding is not None and coding.isascii():  # str.lower() maps some non-ASCII to ASCII
        coding = coding.lower()
        if coding in _COMPRESSIONS:
            compression = coding
    return close, keep_alive, upgrade, compression


def _check_host(host: str) -> None:
    """RFC 9112 §3.2: a server MUST answer 400 to a Host field with an invalid value."""
    if _HOST_RE.fullmatch(host) is None:
        raise InvalidHeader(_HOST)
    if len(host) <= _HOST_CACHEABLE:
        if len(_valid_hosts) >= _HOST_CACHE_SIZE:
            _valid_hosts.clear()
        _valid_hosts.add(host)


def _switchable(headers: CIMultiDictProxy[str]) -> bool:
    protocol = headers.get(_UPGRADE, "")
    return protocol.isascii() and protocol.lower() in SWITCHABLE_UPGRADES


def _check_singletons(headers: CIMultiDictProxy[str]) -> None:
    # keys() lists each case-insensitive name once: as many as the fields means no name is
    # repeated (the usual section), so no singleton can be.
    if len(headers.keys()) == len(headers):
        return
    for name in _SINGLETONS:
        if name in headers and len(headers.getall(name)) > 1:
            raise BadHttpMessage(f"Duplicate '{name}' header found.")


def _content_length(value: str) -> int:
    """RFC 9110 §8.6: Content-Length = 1*DIGIT (no sign, no list, ASCII digits only)."""
    if value.isascii() and value.isdigit() and len(value.lstrip("0")) <= _MAX_LENGTH_DIGITS:
        return int(value)
    raise InvalidHeader(_CONTENT_LENGTH)


def _lax_content_length(headers: CIMultiDictProxy[str]) -> int:
    """RFC 9110 §8.6: a list of one repeated valid value may be taken as that value."""
    lengths = {
        _content_length(part.strip(" \t"))
        for value in headers.getall(_CONTENT_LENGTH)
        for part in value.split(",")
    }
    if len(lengths) != 1:
        raise BadHttpMessage("Conflicting 'Content-Length' values found.")
    return lengths.pop()


def _final_coding(value: str, *, strict: bool) -> str:
    """The final transfer coding of a Transfer-Encoding list, lower-cased (RFC 9112 §6.1).

    Returns "" for a non-ASCII final member.  Strict mode refuses an ill-formed list
    (empty or non-token members) and ``chunked`` applied more than once (RFC 9112 §7:
    a sender MUST NOT apply chunked more than once).

    Raises:
        BadHttpMessage: in strict mode, for the lists above.
    """
    codings = [coding.strip(" \t") for coding in value.split(",")]
    if strict:
        chunked = 0
        for coding in codings:
            if not coding.isascii() or not TOKEN_RE.fullmatch(coding.encode()):
                raise BadHttpMessage("Invalid `Transfer-Encoding` value")
            chunked += coding.lower() == "chunked"
        if chunked > 1:
            raise BadHttpMessage("Invalid `Transfer-Encoding` value: chunked applied twice")
    final = codings[-1]
    # str.lower() maps some non-ASCII letters to ASCII ones (U+212A KELVIN SIGN -> "k").
    return final.lower() if final.isascii() else ""
