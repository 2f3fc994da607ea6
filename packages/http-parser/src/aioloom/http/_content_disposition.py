"""Content-Disposition: build the header (RFC 6266, RFC 7578 §4.2) and read it back.

The writer, :func:`content_disposition_header`, produces exactly what aiohttp 3.14 produces
for the same arguments (multipart peers compare the bytes). The readers follow aiohttp's
``parse_content_disposition`` and ``content_disposition_filename``: a malformed header gives
``(None, {})`` with a :class:`BadContentDispositionHeader` warning, a malformed parameter is
skipped with a :class:`BadContentDispositionParam` warning. Unlike aiohttp, a ``;`` inside a
quoted value never splits it, and RFC 2231 continuations are put together in numeric order
and decoded byte-wise.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from urllib.parse import quote, unquote, unquote_to_bytes

from ._quoting import TCHARS, is_token, split_params

__all__ = (
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "content_disposition_filename",
    "content_disposition_header",
    "parse_content_disposition",
)


class BadContentDispositionHeader(RuntimeWarning):
    """The whole Content-Disposition header was unusable and has been ignored."""


class BadContentDispositionParam(RuntimeWarning):
    """One Content-Disposition parameter was malformed and has been skipped."""


# aiohttp's 7-bit quoted-string for MIME parameters: printable ASCII plus HTAB may be sent,
# and every character other than qtext (%x21 / %x23-5B / %x5D-7E), space and tab
# included, goes out as a quoted-pair (RFC 5322 §3.2.4).
_QCONTENT_RE = re.compile(r"[\t\x20-\x7e]*")
_NOT_QTEXT_RE = re.compile(r"([^\x21\x23-\x5b\x5d-\x7e])")
_UNSAFE_HEADER_RE = re.compile(r"[\r\n\x00]")

# RFC 8187 §3.2.1 ext-value = charset "'" [ language ] "'" value-chars (a token with
# exactly two single quotes is what aiohttp accepts).
_EXT_CHARS = TCHARS.replace("'", "")
_EXT_VALUE_RE = re.compile(f"([{_EXT_CHARS}]*)'([{_EXT_CHARS}]*)'([{_EXT_CHARS}]*)")
# RFC 2231 §3: parameter continuations name*0, name*1, ... (a trailing "*" marks an
# extended, percent-encoded segment).
_CONTINUATION_RE = re.compile(r"([^*]+)\*(0|[1-9][0-9]{0,3})(\*?)")
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)


def _quoted_mime_string(value: str) -> str | None:
    if _QCONTENT_RE.fullmatch(value) is None:
        return None
    return _NOT_QTEXT_RE.sub(r"\\\1", value)


def _format_param(key: str, value: str, quote_fields: bool, charset: str) -> str:
    if not quote_fields:
        # 8-bit recipients: only the two characters that would end the string are escaped.
        return '{}="{}"'.format(key, value.replace("\\", "\\\\").replace('"', '\\"'))
    if key.lower() == "filename":
        # RFC 7578 §4.2 forbids filename* in form-data; aiohttp percent-encodes instead.
        return f'{key}="{quote(value, "", encoding=charset)}"'
    quoted = _quoted_mime_string(value)
    if quoted is not None:
        return f'{key}="{quoted}"'
    # RFC 8187 §3.2: charset "'" language "'" percent-encoded octets.
    return f"{key}*={charset}''{quote(value, '', encoding=charset)}"


def content_disposition_header(
    disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
) -> str:
    """Build a Content-Disposition value (RFC 6266 §4.1, RFC 2183, RFC 7578 §4.2).

    With ``quote_fields`` (the default) the result is 7-bit: ``filename`` is
    percent-encoded inside quotes, other parameters become quoted-strings, or
    ``name*=utf-8''...`` (RFC 8187) when they are not printable ASCII.

    Args:
        disptype: the disposition type token: ``inline``, ``attachment``, ``form-data``...
        quote_fields: encode values for 7-bit recipients; ``False`` sends them as 8-bit
            quoted-strings escaping only ``\\`` and ``"``.
        _charset: the charset used for percent-encoding when ``quote_fields`` is true.
        **params: the disposition parameters, in order.

    Returns:
        The header value, e.g. ``'form-data; name="field"; filename="a.txt"'``.

    Raises:
        ValueError: ``disptype``, a parameter name or ``_charset`` is not a token, or the
            value would carry CR, LF or NUL (header injection).
    """
    if not is_token(disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    if not params:
        return disptype
    if not is_token(_charset):
        raise ValueError(f"bad charset {_charset!r}")
    parts = [disptype]
    for key, value in params.items():
        if not is_token(key):
            raise ValueError(f"bad content disposition parameter {key!r}={value!r}")
        parts.append(_format_param(key, value, quote_fields, _charset))
    header = "; ".join(parts)
    if _UNSAFE_HEADER_RE.search(header) is not None:
        raise ValueError(f"CR, LF or NUL in content disposition {header!r}")
    return header


def _parse_extended(item: str, value: str) -> str | None:
    # RFC 8187 §3.2.1: charset'language'pct-encoded, the value unquoted.
    match = _EXT_VALUE_RE.fullmatch(value)
    if match is None:
        warnings.warn(BadContentDispositionParam(item), stacklevel=3)
        return None
    charset = match.group(1) or "utf-8"
    try:
        return unquote(match.group(3), charset, "strict")
    except (UnicodeDecodeError, LookupError):
        warnings.warn(BadContentDispositionParam(item), stacklevel=3)
        return None


def _unescape(content: str) -> str:
    return _QUOTED_PAIR_RE.sub(r"\1", content) if "\\" in content else content


def _parse_plain(key: str, value: str) -> str | None:
    # RFC 6266 §4.1: value = token | quoted-string
    quoted = _QUOTED_RE.fullmatch(value)
    if quoted is not None:
        content = quoted.group(1)
        if key == "filename":
            # aiohttp drops leading path separators from a plain filename.
            content = content.lstrip("\\/")
        return _unescape(content)
    if is_token(value):
        return value
    return None


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """Parse a Content-Disposition value (RFC 6266 §4.1) as aiohttp does.

    Parameter names are lower-cased. ``name*`` values (RFC 8187) are decoded; RFC 2231
    continuations (``filename*0``...) are kept by their own names for
    :func:`content_disposition_filename` to join.

    Args:
        header: the field value, or ``None`` when the header is absent.

    Returns:
        ``(disposition type lower-cased, parameters)``, or ``(None, {})`` when the header is
        absent or malformed (a :class:`BadContentDispositionHeader` warning is issued for
        the latter).
    """
    if not header:
        return None, {}
    disptype, _, rest = header.partition(";")
    disptype = disptype.strip(" \t")
    if not is_token(disptype):
        warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
        return None, {}
    params: dict[str, str] = {}
    # Empty parameters ("a;", "a; ;b=c") are skipped silently, as in RFC 9110 §5.6.1.2 lists.
    for item in split_params(rest):
        key, eq, value = item.partition("=")
        key = key.strip(" \t").lower()
        value = value.strip(" \t")
        if not eq or key in params:
            # A parameter without value or a repeated one (RFC 6266 §4.1) voids the header.
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        try:
            parsed = _parse_item(item, key, value)
        except _VoidHeader:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        if parsed is not None:
            params[key] = parsed
    return disptype.lower(), params


class _VoidHeader(Exception):
    """A plain parameter value is neither token nor quoted-string: drop the header."""


def _parse_item(item: str, key: str, value: str) -> str | None:
    if not is_token(key):
        warnings.warn(BadContentDispositionParam(item), stacklevel=3)
        return None
    if _CONTINUATION_RE.fullmatch(key) is not None:
        # RFC 2231 §3: the segment is kept raw; joining and decoding happen later.
        parsed = _parse_plain("", value)
        if parsed is None:
            warnings.warn(BadContentDispositionParam(item), stacklevel=3)
        return parsed
    if key.endswith("*"):
        return _parse_extended(item, value)
    parsed = _parse_plain(key, value)
    if parsed is None:
        raise _VoidHeader(item)
    return parsed


def _join_continuations(params: Mapping[str, str], name: str) -> str | None:
    # RFC 2231 §3-4: segments name*0, name*1, ... in numeric order, no gap; "*" segments
    # are percent-encoded octets in the charset named by the first segment.
    segments: dict[int, tuple[bool, str]] = {}
    for key, value in params.items():
        match = _CONTINUATION_RE.fullmatch(key)
        if match is not None and match.group(1) == name:
            segments[int(match.group(2))] = (match.group(3) == "*", value)
    if 0 not in segments:
        return None
    charset = "utf-8"
    chunks: list[bytes] = []
    for index in range(len(segments)):
        if index not in segments:
            break
        extended, value = segments[index]
        if index == 0 and extended:
            match = _EXT_VALUE_RE.fullmatch(value)
            if match is not None:
                charset = match.group(1) or charset
                value = match.group(3)
        chunks.append(unquote_to_bytes(value) if extended else value.encode(charset))
    return b"".join(chunks).decode(charset)


def content_disposition_filename(params: Mapping[str, str], name: str = "filename") -> str | None:
    """Return the value of parameter ``name`` from parsed Content-Disposition parameters.

    ``name*`` (RFC 8187) wins over ``name`` (RFC 6266 §4.3); without either, RFC 2231
    continuations ``name*0``, ``name*1``... are joined.

    Args:
        params: the parameters returned by :func:`parse_content_disposition`.
        name: the parameter to look up (``"filename"``, or ``"name"`` for form fields).

    Returns:
        The value, or ``None`` when it is absent or its continuations cannot be decoded.
    """
    if not params:
        return None
    value = params.get(f"{name}*")
    if value is not None:
        return value
    value = params.get(name)
    if value is not None:
        return value
    try:
        return _join_continuations(params, name)
    except (UnicodeError, LookupError):
        return None
