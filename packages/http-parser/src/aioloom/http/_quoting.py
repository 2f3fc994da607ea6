"""Tokens, quoted-strings and comma/semicolon lists: the RFC 9110 §5.6 building blocks.

Every header helper of :mod:`aioloom.http` (media types, Content-Disposition, entity tags,
cookies) builds on the few functions here, so each grammar rule is written once, as a
compiled regular expression that works on the whole value at a time.
"""

from __future__ import annotations

import re

__all__ = (
    "TCHARS",
    "TOKEN_RE",
    "is_token",
    "quote_string",
    "split_list",
    "split_params",
    "unquote_string",
    "unquote_string_lenient",
)

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA;  token = 1*tchar
# TCHARS is the body of a regex character class, for the other modules' patterns.
TCHARS = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
TOKEN_RE = re.compile(f"[{TCHARS}]+")

# RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text, and a
# quoted-pair may escape HTAB / SP / VCHAR / obs-text. So everything but the CTLs (other
# than HTAB) and DEL can appear inside a quoted-string, escaped or not.
_NOT_QUOTABLE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MUST_ESCAPE_RE = re.compile(r'(["\\])')

# A whole quoted-string, strictly: DQUOTE *( qdtext / quoted-pair ) DQUOTE.
_QUOTED_STRING_RE = re.compile(
    r'"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\U0010ffff]|\\[\t \x21-\x7e\x80-\U0010ffff])*)"'
)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)

# One element of a list: runs of ordinary characters and quoted-strings (an unterminated
# quoted-string runs to the end). The separator inside a quoted-string does not split.
_LIST_ITEM_RE = {
    sep: re.compile(f'(?:[^{sep}"]+|"(?:[^"\\\\]|\\\\.)*"?)+', re.DOTALL) for sep in ",;"
}
_OWS = " \t"


def is_token(value: str) -> bool:
    """Tell whether ``value`` is an RFC 9110 §5.6.2 token (non-empty, tchar only).

    Args:
        value: the text to check.

    Returns:
        True for a token such as ``gzip`` or ``form-data``.
    """
    return TOKEN_RE.fullmatch(value) is not None


def quote_string(value: str) -> str:
    """Return ``value`` as an RFC 9110 §5.6.4 quoted-string.

    Only ``"`` and ``\\`` are escaped (the minimum a recipient needs).

    Args:
        value: the text to quote; characters at or above U+0080 pass through as obs-text.

    Returns:
        The value wrapped in double quotes.

    Raises:
        ValueError: ``value`` holds a control character (CR, LF, NUL, ...) that no
            quoted-string can carry.
    """
    if _NOT_QUOTABLE_RE.search(value) is not None:
        raise ValueError(f"control character in quoted-string content {value!r}")
    return '"' + _MUST_ESCAPE_RE.sub(r"\\\1", value) + '"'


def unquote_string(value: str) -> str:
    """Decode a complete RFC 9110 §5.6.4 quoted-string, strictly.

    Args:
        value: the quoted-string, including its surrounding double quotes.

    Returns:
        The content with quoted-pairs resolved.

    Raises:
        ValueError: ``value`` is not exactly one well-formed quoted-string.
    """
    match = _QUOTED_STRING_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"malformed quoted-string {value!r}")
    content = match.group(1)
    if "\\" not in content:
        return content
    return _QUOTED_PAIR_RE.sub(r"\1", content)


def unquote_string_lenient(value: str) -> str:
    """Decode a quoted-string the way browsers do: missing closing quote tolerated.

    Text that does not start with ``"`` is returned unchanged.

    Args:
        value: a parameter value, quoted or not.

    Returns:
        The content with quoted-pairs resolved.
    """
    if not value.startswith('"'):
        return value
    content = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
    if "\\" not in content:
        return content
    return _QUOTED_PAIR_RE.sub(r"\1", content)


def _split(value: str, sep: str) -> list[str]:
    items = []
    for match in _LIST_ITEM_RE[sep].finditer(value):
        item = match.group().strip(_OWS)
        if item:
            items.append(item)
    return items


def split_list(value: str) -> list[str]:
    """Split an RFC 9110 §5.6.1 comma-separated list, respecting quoted-strings.

    Empty elements are dropped and optional whitespace around elements is removed
    (RFC 9110 §5.6.1.2: a recipient must accept and ignore empty list elements).

    Args:
        value: a field value such as ``'a, "b,c" , ,d'``.

    Returns:
        The elements, quoted-strings left quoted: ``['a', '"b,c"', 'd']``.
    """
    if '"' not in value:
        return [item for item in (part.strip(_OWS) for part in value.split(",")) if item]
    return _split(value, ",")


def split_params(value: str) -> list[str]:
    """Split a value on ``;`` the same way: the parameter lists of RFC 9110 §5.6.6.

    Args:
        value: a value such as ``'text/plain; charset="a;b"'``.

    Returns:
        The non-empty pieces, stripped of optional whitespace.
    """
    if '"' not in value:
        return [item for item in (part.strip(_OWS) for part in value.split(";")) if item]
    return _split(value, ";")
