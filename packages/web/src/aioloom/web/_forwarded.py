"""The ``Forwarded`` request header (RFC 7239), parsed the way aiohttp does.

:func:`parse_forwarded` returns one read-only mapping per forwarded-element (per proxy),
in the order the proxies added them. It checks the general syntax of every pair (RFC 7239
§4: ``token "=" ( token / quoted-string )``), removes the quoting of quoted-strings, and
lower-cases parameter names. It does not validate the contents of ``for``/``by`` (§6),
``host`` or ``proto``. Leniencies, as in aiohttp: whitespace is allowed around separators,
an unquoted value may carry a ``:port`` suffix, and an element with a syntax error keeps
the pairs read before the error (parsing goes on at the next comma).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

__all__ = ("parse_forwarded",)

# RFC 9110 §5.6.2 token; RFC 9110 §5.6.4 quoted-string without obs-text (RFC 7239 §4
# leaves its encoding unspecified).
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED: Final = r'"(?:\\[\t !-~]|[\t !#-\[\]-~])*"'
_PAIR_RE: Final = re.compile(rf"({_TOKEN})=({_TOKEN}(?::\d{{1,4}})?|{_QUOTED})")
_UNESCAPE_RE: Final = re.compile(r"\\([\t !-~])")
_SKIP: Final = " \t"


def _parse_field(field_value: str, out: list[Mapping[str, str]]) -> None:
    elem: dict[str, str] = {}
    out.append(MappingProxyType(elem))
    pos, end = 0, len(field_value)
    need_separator = False
    while pos < end:
        char = field_value[pos]
        if char in _SKIP:
            pos += 1
        elif char == ",":  # the next forwarded-element (the next proxy)
            elem = {}
            out.append(MappingProxyType(elem))
            need_separator = False
            pos += 1
        elif char == ";":  # the next forwarded-pair of this element
            need_separator = False
            pos += 1
        else:
            match = None if need_separator else _PAIR_RE.match(field_value, pos)
            if match is None:  # a syntax error: go on with the next element
                pos = field_value.find(",", pos)
                if pos < 0:
                    return
                continue
            name, value = match.group(1, 2)
            if value[0] == '"':
                value = _UNESCAPE_RE.sub(r"\1", value[1:-1])
            elem[name.lower()] = value
            need_separator = True
            pos = match.end()


def parse_forwarded(field_values: Iterable[str]) -> tuple[Mapping[str, str], ...]:
    """Parse every ``Forwarded`` field line.

    Args:
        field_values: the values of the Forwarded header lines, in order.

    Returns:
        One mapping per forwarded-element, e.g.
        ``({"for": "192.0.2.60", "proto": "http"},)``.
    """
    out: list[Mapping[str, str]] = []
    for field_value in field_values:
        _parse_field(field_value, out)
    return tuple(out)
