"""Start lines: the request line (RFC 9112 §3) and the status line (RFC 9112 §4).

This module owns turning one start line into its parts: method, request-target, version
and the ``yarl.URL`` aiohttp builds for each request-target form; or version, status code
and reason phrase.  Both are pure functions of the line's bytes, so a small bounded cache
keyed by the line makes the (very repetitive) start lines of real traffic cost one dict
lookup.
"""

from __future__ import annotations

from typing import Final, NoReturn, Protocol

from yarl import URL

from ._abnf import (
    AUTHORITY_FORM_RE,
    REASON_FORBIDDEN_LAX_RE,
    REASON_FORBIDDEN_RE,
    STATUS_LINE_LAX_RE,
    STATUS_LINE_RE,
    TARGET_FORBIDDEN_RE,
    TOKEN_RE,
)
from ._exceptions import BadHttpMethod, BadStatusLine, InvalidURLError
from ._messages import HttpVersion, HttpVersion10, HttpVersion11

__all__ = (
    "RequestLine",
    "RequestLineParser",
    "StatusLine",
    "StatusLineParser",
    "parse_request_line",
    "parse_status_line",
    "request_url",
)

RequestLine = tuple[str, str, HttpVersion, URL]
StatusLine = tuple[HttpVersion, int, str]


class RequestLineParser(Protocol):
    """The contract of :func:`parse_request_line` (a compiled-accelerator seam)."""

    def __call__(self, line: bytes) -> RequestLine:
        """Parse a request line or raise the HttpProcessingError naming its fault."""


class StatusLineParser(Protocol):
    """The contract of :func:`parse_status_line` (a compiled-accelerator seam)."""

    def __call__(self, line: bytes, *, lax: bool) -> StatusLine:
        """Parse a status line or raise BadStatusLine."""


# RFC 9112 §2.3: only HTTP/1.0 and HTTP/1.1 are spoken here (HTTP/0.9, 2.0... are refused).
_VERSIONS: Final = {b"HTTP/1.1": HttpVersion11, b"HTTP/1.0": HttpVersion10}
_MINOR_VERSIONS: Final = {b"1": HttpVersion11, b"0": HttpVersion10}
_KNOWN_METHODS: Final = {
    m.encode(): m
    for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
}
# Bytes a request-target may hold, for ``translate(None, ...)``: VCHAR and obs-text
# (aiohttp accepts non-ASCII octets; RFC 9112 §3.2 excludes whitespace and CTLs).
_TARGET_BYTES: Final = bytes([*range(0x21, 0x7F), *range(0x80, 0x100)])
_TLS_HANDSHAKE: Final = b"\x16\x03"

# Start lines repeat a lot (the same few paths and statuses); parsing is a pure function of
# the line, so parsed results are cached.  Bounded: at most _CACHE_SIZE lines of at most
# _CACHEABLE bytes each (~128 KiB); a full cache is simply emptied, which keeps an attacker
# sending distinct lines to one clear() per _CACHE_SIZE requests.
_CACHE_SIZE: Final = 512
_CACHEABLE: Final = 256
_request_lines: dict[bytes, RequestLine] = {}
_status_lines: tuple[dict[bytes, StatusLine], dict[bytes, StatusLine]] = ({}, {})


def parse_request_line(line: bytes) -> RequestLine:
    """Parse ``method SP request-target SP HTTP-version`` (RFC 9112 §3).

    The method must be a token (RFC 9110 §9.1) and is upper-cased as aiohttp does; the
    version must be exactly ``HTTP/1.0`` or ``HTTP/1.1``.

    Args:
        line: the request line without its CRLF.

    Returns:
        ``(method, target, version, url)``; ``target`` is the raw request-target decoded
        UTF-8 with ``surrogateescape``, ``url`` is built as :func:`request_url` describes.

    Raises:
        BadHttpMethod: the method is not a token (or the line is TLS: HTTPS on HTTP port).
        BadStatusLine: the line does not have three parts, or a bad version.
        InvalidURLError: the request-target has CTLs or does not fit its form.
    """
    cached = _request_lines.get(line)
    if cached is not None:
        return cached
    parts = line.split(b" ")
    if len(parts) != 3:
        _diagnose_request_line(line, parts)
    method_b, target_b, version_b = parts
    method = _KNOWN_METHODS.get(method_b)
    if method is None:
        if not TOKEN_RE.fullmatch(method_b):
            _diagnose_request_line(line, parts)
        method = method_b.decode("ascii").upper()
    version = _VERSIONS.get(version_b)
    if not target_b or target_b.translate(None, _TARGET_BYTES) or version is None:
        _diagnose_request_line(line, parts)
    target = target_b.decode("utf-8", "surrogateescape")
    result = (method, target, version, request_url(method, target))
    if len(line) <= _CACHEABLE:
        if len(_request_lines) >= _CACHE_SIZE:
            _request_lines.clear()
        _request_lines[line] = result
    return result


def _diagnose_request_line(line: bytes, parts: list[bytes]) -> NoReturn:
    """Raise the error for an invalid request line, in aiohttp's order of checks."""
    text = line.decode("utf-8", "surrogateescape")
    if not TOKEN_RE.fullmatch(parts[0]):
        if line.startswith(_TLS_HANDSHAKE):
            raise BadHttpMethod(text, "Received HTTPS traffic on an HTTP port")
        raise BadHttpMethod(text)
    if len(parts) != 3:
        raise BadStatusLine(text)
    if not parts[1] or TARGET_FORBIDDEN_RE.search(parts[1]):
        raise InvalidURLError(_url_error(parts[1].decode("utf-8", "surrogateescape")))
    raise BadStatusLine(text)


def _url_error(target: str) -> str:
    return target.encode("utf-8", "surrogateescape").decode("latin-1")


def request_url(method: str, target: str) -> URL:
    """Build the ``URL`` of a request-target the way aiohttp does, per form (RFC 9112 §3.2).

    - authority-form (CONNECT only): ``URL.build(authority=target, encoded=True)``;
    - origin-form (``/path?query#fragment``): ``URL.build(path=..., query_string=...,
      fragment=..., encoded=True)`` (no re-quoting);
    - asterisk-form (``*``, OPTIONS only): ``URL("*", encoded=True)``;
    - absolute-form (``scheme://authority/...``): ``URL(target, encoded=True)``, which must
      have a host (RFC 9110 §4.2.1).

    Args:
        method: the request method.
        target: the raw request-target.

    Returns:
        The URL.

    Raises:
        InvalidURLError: the target does not fit the form its method and shape call for.
    """
    try:
        if method == "CONNECT":
            # RFC 9112 §3.2.3: authority-form = uri-host ":" port.
            if AUTHORITY_FORM_RE.fullmatch(target.encode("utf-8", "surrogateescape")):
                url = URL.build(authority=target, encoded=True)
                if url.raw_host:
                    return url
        elif target[0] == "/":
            # RFC 9112 §3.2.1: origin-form.
            path, _, fragment = target.partition("#")
            path, _, query = path.partition("?")
            return URL.build(path=path, query_string=query, fragment=fragment, encoded=True)
        elif target == "*":
            # RFC 9112 §3.2.4: asterisk-form, for a server-wide OPTIONS only.
            if method == "OPTIONS":
                return URL(target, encoded=True)
        elif _has_authority(target):
            # RFC 9112 §3.2.2: absolute-form; RFC 9110 §4.2.1: http(s) URIs need a host.
            url = URL(target, encoded=True)
            if url.raw_host:
                return url
    except (ValueError, TypeError):
        pass
    raise InvalidURLError(_url_error(target))


def _has_authority(target: str) -> bool:
    """Tell whether ``scheme:`` is followed by ``//`` and a non-empty authority."""
    scheme, colon, rest = target.partition(":")
    return bool(scheme and colon) and rest[:2] == "//" and rest[2:3] not in ("", "/", "?", "#")


def parse_status_line(line: bytes, *, lax: bool) -> StatusLine:
    """Parse ``HTTP-version SP status-code SP [ reason-phrase ]`` (RFC 9112 §4).

    Strict: single SPs, a reason of HTAB / SP / VCHAR / obs-text.  Lax (aiohttp's client):
    runs of SP/HTAB between the parts and a reason with anything but CR, LF and NUL.  In
    both, the SP and reason after the code may be missing, the code is 100-599 and the
    reason is stripped and decoded UTF-8 with ``surrogateescape`` as aiohttp does.

    Args:
        line: the status line without its line ending.
        lax: enable the leniencies above.

    Returns:
        ``(version, code, reason)``.

    Raises:
        BadStatusLine: anything else.
    """
    cache = _status_lines[lax]
    cached = cache.get(line)
    if cached is not None:
        return cached
    match = (STATUS_LINE_LAX_RE if lax else STATUS_LINE_RE).fullmatch(line)
    text = line.decode("utf-8", "surrogateescape")
    if match is None:
        raise BadStatusLine(text)
    minor, code_b, reason_b = match.groups()
    code = int(code_b)
    # RFC 9110 §15: status codes are 100-599.
    if not 100 <= code <= 599:
        raise BadStatusLine(text)
    if reason_b is None:
        reason_b = b""
    elif (REASON_FORBIDDEN_LAX_RE if lax else REASON_FORBIDDEN_RE).search(reason_b):
        raise BadStatusLine(text)
    result = (_MINOR_VERSIONS[minor], code, reason_b.decode("utf-8", "surrogateescape").strip())
    if len(line) <= _CACHEABLE:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[line] = result
    return result
