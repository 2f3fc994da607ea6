"""Sans-I/O serialisation of HTTP/1.1 message heads and chunked framing (RFC 9112).

This module owns the bytes that go on the wire around a body: the start line and header
section (:func:`serialize_head`), and the chunked transfer coding's framing
(:func:`encode_chunk`, :func:`chunk_prefix`, :func:`last_chunk` with trailer fields).

Every string is checked before it is sent: a CR, LF or NUL anywhere in the start line, a
field name or a field value raises :class:`ValueError`, so that no caller can split a
response or smuggle a request (RFC 9110 §5.5, RFC 9112 §2.2), and every field name must
be a token (RFC 9110 §5.1). The checks run over the whole serialised text with C-speed
string methods, and field names are checked against a bounded set of names already proven
to be tokens (one C-level subset test per head), not per character in Python.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from operator import itemgetter
from typing import Final, NoReturn

from multidict import CIMultiDict

__all__ = (
    "LAST_CHUNK",
    "chunk_prefix",
    "encode_chunk",
    "last_chunk",
    "serialize_head",
)

Buffer = bytes | bytearray | memoryview
Fields = Mapping[str, str] | CIMultiDict[str]

CRLF: Final = b"\r\n"
LAST_CHUNK: Final = b"0\r\n\r\n"
"""The last chunk of a chunked body without trailer fields (RFC 9112 §7.1)."""

# RFC 9110 §5.6.2: token = 1*tchar. The names are joined with a space (not a tchar) so one
# fullmatch checks them all; the separator count proves no name contained a space.
_TCHARS: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_NAMES_RE: Final = re.compile(rf"{_TCHARS}(?: {_TCHARS})*")
_TOKEN_RE: Final = re.compile(_TCHARS)

# RFC 9110 §6.5.1: fields that must not be sent in a trailer section because a recipient
# needs them before the content (framing, routing, authentication, controls, content format).
_FORBIDDEN_TRAILERS: Final = frozenset(
    {
        "authorization",
        "cache-control",
        "connection",
        "content-encoding",
        "content-length",
        "content-range",
        "content-type",
        "expect",
        "host",
        "keep-alive",
        "max-forwards",
        "pragma",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "range",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "www-authenticate",
    }
)


_first: Final = itemgetter(0)

# Field names proven to be tokens.  A server sends the same few names in every response,
# so the usual check is one subset test; an unknown name is checked with _NAMES_RE and
# remembered.  Bounded: at most _NAME_CACHE_SIZE names of at most _NAME_CACHEABLE
# characters (a full set is emptied: distinct names cost one clear() per that many).
_NAME_CACHE_SIZE: Final = 512
_NAME_CACHEABLE: Final = 64
_token_names: set[str] = set()


def _names_are_tokens(fields: Fields) -> bool:
    """Tell whether every field name is a token (RFC 9110 §5.1), remembering valid ones."""
    names: Collection[str] = fields.keys()
    if len(names) != len(fields):
        # A multidict's keys() lists a name once per case-insensitive group, hiding the
        # other spellings (even non-ASCII ones: "\u212a".lower() == "k"): check them all.
        names = list(map(_first, fields.items()))
    if _token_names.issuperset(names):
        return True
    joined = " ".join(names)
    # The separator count proves that no name contained a space.
    if joined.count(" ") != len(names) - 1 or _NAMES_RE.fullmatch(joined) is None:
        return False
    if len(_token_names) + len(names) > _NAME_CACHE_SIZE:
        _token_names.clear()
    _token_names.update(name for name in names if len(name) <= _NAME_CACHEABLE)
    return True


def _describe_bad_text(text: str) -> str | None:
    """Name the forbidden character in ``text``, or None when it has none."""
    if "\r" in text or "\n" in text:
        return "Newline or carriage return character"
    if "\x00" in text:
        return "NUL character"
    return None


def _field_error(fields: Fields, where: str) -> ValueError:
    """Build the error for the first bad field (the slow path, run only on failure)."""
    for name, value in fields.items():
        if not _TOKEN_RE.fullmatch(name):
            # RFC 9110 §5.1: field-name = token.
            return ValueError(f"Invalid HTTP {where} field name {name!r}: not a token")
        bad = _describe_bad_text(value)
        if bad is not None:
            # RFC 9110 §5.5: CR, LF and NUL are never valid in a field value.
            return ValueError(
                f"{bad} detected in HTTP {where} field {name!r}: potential header injection"
            )
    return ValueError(f"Invalid HTTP {where} section")


def _serialize_fields(fields: Fields, where: str) -> str:
    """Return ``name: value\\r\\n`` for each field, validated; empty for no fields."""
    count = len(fields)
    if not count:
        return ""
    text = "\r\n".join(map(": ".join, fields.items())) + "\r\n"
    # Each field adds exactly one CR and one LF; any more came from a name or value.
    if (
        text.count("\r") != count
        or text.count("\n") != count
        or "\x00" in text
        or not _names_are_tokens(fields)
    ):
        raise _field_error(fields, where)
    return text


def serialize_head(start_line: str, headers: Fields) -> bytes:
    """Serialise a request or status line and its header section (RFC 9112 §2.1).

    Args:
        start_line: e.g. ``"GET / HTTP/1.1"`` or ``"HTTP/1.1 200 OK"``, without CRLF.
        headers: the header fields in sending order; a multidict may repeat names.

    Returns:
        ``start_line CRLF *(name ": " value CRLF) CRLF`` encoded as UTF-8 (surrogate
        escapes become the bytes they stand for).

    Raises:
        ValueError: a CR, LF or NUL in the start line, a name or a value, or a field name
            that is not a token.
    """
    # The start line and every field joined in one pass, checked in one pass: each line
    # adds exactly one CR and one LF (RFC 9112 §2.1), any more came from the text.
    count = len(headers) + 2
    text = "\r\n".join([start_line, *map(": ".join, headers.items()), "", ""])
    if (
        text.count("\r") != count
        or text.count("\n") != count
        or "\x00" in text
        or not _names_are_tokens(headers)
    ):
        _raise_head_error(start_line, headers)
    return text.encode("utf-8", "surrogateescape")


def _raise_head_error(start_line: str, headers: Fields) -> NoReturn:
    """Raise the error for the first bad part of a head (run only on failure)."""
    bad = _describe_bad_text(start_line)
    if bad is not None:
        # RFC 9112 §3 / §4: the start line ends at the first CRLF; a CR or LF inside it
        # would start a second message.
        raise ValueError(f"{bad} detected in HTTP start line {start_line!r}")
    raise _field_error(headers, "header")


def chunk_prefix(size: int) -> bytes:
    """Return the chunk-size line ``HEX CRLF`` that precedes ``size`` bytes (RFC 9112 §7.1).

    Raises:
        ValueError: ``size`` is not positive (a zero size is the last chunk).
    """
    if size <= 0:
        raise ValueError(f"a data chunk has a positive size, got {size}")
    return b"%x\r\n" % size


def encode_chunk(data: Buffer) -> bytes:
    """Frame ``data`` as one chunk: ``HEX CRLF data CRLF`` (RFC 9112 §7.1).

    Empty data gives ``b""``: a zero-size chunk would end the body.
    """
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if not size:
        return b""
    return b"".join((b"%x\r\n" % size, data, CRLF))


def last_chunk(trailers: Fields | None = None) -> bytes:
    """Return the last chunk and the trailer section: ``0 CRLF *(field CRLF) CRLF``.

    Args:
        trailers: trailer fields (RFC 9112 §7.1.2), validated like header fields; fields
            that a recipient needs before the content (RFC 9110 §6.5.1: framing, routing,
            authentication, Content-Type ...) are refused.

    Raises:
        ValueError: a bad or forbidden trailer field.
    """
    if not trailers:
        return LAST_CHUNK
    _check_trailer_names(map(_first, trailers.items()))
    text = "0\r\n" + _serialize_fields(trailers, "trailer") + "\r\n"
    return text.encode("utf-8", "surrogateescape")


def _check_trailer_names(names: Iterable[str]) -> None:
    for name in names:
        if name.lower() in _FORBIDDEN_TRAILERS:
            raise ValueError(
                f"HTTP field {name!r} is not allowed in a trailer section (RFC 9110 §6.5.1)"
            )
