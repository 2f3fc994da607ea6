"""Media types: aiohttp's ``MimeType`` / ``parse_mimetype`` and the Content-Type parser.

``parse_mimetype`` keeps aiohttp's forgiving behaviour (anything parses; the result may be
empty), which the multipart code relies on to find ``boundary``. ``parse_content_type`` is
the strict reading of RFC 9110 §8.3.1 that request and response objects use for their
``content_type`` and ``charset`` properties.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType

import attrs
from multidict import MultiDict, MultiDictProxy

from ._quoting import TCHARS, split_params, unquote_string, unquote_string_lenient

__all__ = ("DEFAULT_CONTENT_TYPE", "MimeType", "parse_content_type", "parse_mimetype")

# RFC 9110 §8.3: a recipient may assume application/octet-stream when the type is absent
# or invalid (aiohttp and the email package do the same).
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# RFC 9110 §8.3.1: media-type = type "/" subtype parameters
_MEDIA_TYPE_RE = re.compile(f"[ \\t]*([{TCHARS}]+/[{TCHARS}]+)[ \\t]*")
# RFC 9110 §5.6.6: parameter = parameter-name "=" parameter-value (token / quoted-string),
# with no whitespace around "=".
_PARAMETER_RE = re.compile(f'([{TCHARS}]+)=([{TCHARS}]+|".*")', re.DOTALL)

_EMPTY_PARAMS: MultiDictProxy[str] = MultiDictProxy(MultiDict())
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


@attrs.frozen(slots=True)
class MimeType:
    """A parsed MIME type, as :func:`parse_mimetype` returns it.

    Attributes:
        type: the top-level type, lower-cased (``"text"``).
        subtype: the subtype without structured-syntax suffix (``"html"``).
        suffix: the suffix after ``+`` (``"json"`` for ``application/ld+json``), or ``""``.
        parameters: the parameters, names lower-cased, values unquoted.
    """

    type: str
    subtype: str
    suffix: str
    parameters: MultiDictProxy[str]


@functools.lru_cache(maxsize=56)
def parse_mimetype(mimetype: str) -> MimeType:
    """Parse a MIME type into its components, forgivingly (aiohttp's ``parse_mimetype``).

    Never raises: an empty or odd value gives empty components. ``*`` means ``*/*``.
    Unlike a naive split, a ``;`` inside a quoted parameter value does not cut the value.

    Args:
        mimetype: a Content-Type style value such as ``'text/html; charset=utf-8'``.

    Returns:
        The parsed :class:`MimeType`. Results are cached, so they are immutable.

    Example:
        >>> parse_mimetype("application/rdf+xml; charset=utf-8").suffix
        'xml'
    """
    if not mimetype:
        return MimeType(type="", subtype="", suffix="", parameters=_EMPTY_PARAMS)
    head, _, rest = mimetype.partition(";")
    params: MultiDict[str] = MultiDict()
    if rest:
        for item in split_params(rest):
            key, _, value = item.partition("=")
            key = key.strip().lower()
            if key:
                params.add(key, _lenient_value(value))
    fulltype = head.strip().lower()
    if fulltype == "*":
        fulltype = "*/*"
    mtype, _, stype = fulltype.partition("/")
    stype, _, suffix = stype.partition("+")
    return MimeType(type=mtype, subtype=stype, suffix=suffix, parameters=MultiDictProxy(params))


def _lenient_value(value: str) -> str:
    value = value.strip(" \t")
    if value.startswith('"'):
        return unquote_string_lenient(value)
    return value.strip('"')


@functools.lru_cache(maxsize=128)
def parse_content_type(value: str) -> tuple[str, Mapping[str, str]]:
    """Parse a Content-Type field value by RFC 9110 §8.3.1.

    The media type is lower-cased (type and subtype are case-insensitive). Parameter names
    are lower-cased, values are kept as sent after removing the quoting of a quoted-string.
    Malformed parameters are skipped, not fatal; a repeated parameter keeps its first
    value (WHATWG MIME Sniffing §4.4 does the same). A missing or malformed media type
    gives ``application/octet-stream`` with no parameters (RFC 9110 §8.3).

    Args:
        value: the field value, e.g. ``'text/html; charset="utf-8"'``.

    Returns:
        ``(media_type, parameters)``; ``parameters`` is a read-only mapping because results
        are cached.
    """
    head, sep, rest = value.partition(";")
    match = _MEDIA_TYPE_RE.fullmatch(head)
    if match is None:
        return DEFAULT_CONTENT_TYPE, _NO_PARAMS
    media_type = match.group(1).lower()
    if not sep:
        return media_type, _NO_PARAMS
    params: dict[str, str] = {}
    for item in split_params(rest):
        param = _PARAMETER_RE.fullmatch(item)
        if param is None:
            continue
        name, raw = param.group(1).lower(), param.group(2)
        if raw.startswith('"'):
            try:
                raw = unquote_string(raw)
            except ValueError:
                continue
        params.setdefault(name, raw)
    return media_type, MappingProxyType(params)
