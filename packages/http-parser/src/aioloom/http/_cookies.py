"""Cookie grammar shared by client and server (no jar): RFC 6265 and RFC 6265bis.

* :func:`parse_cookie_header` reads a ``Cookie`` request header as browsers write it,
  tolerating what real clients send (RFC 6265 §4.2; like aiohttp 3.12+'s parser, one bad
  pair never hides the pairs after it).
* :func:`parse_set_cookie` / :func:`parse_set_cookie_headers` follow the user-agent
  algorithm of RFC 6265 §5.2 and return :class:`http.cookies.Morsel` objects.
* :func:`format_set_cookie` writes a ``Set-Cookie`` value from a Morsel, in the same form
  as :meth:`Morsel.OutputString` (attributes sorted by name), adds ``Partitioned`` on every
  Python version, and refuses values that would inject attributes or header lines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from http.cookies import Morsel, SimpleCookie
from typing import Any

from ._dates import format_http_date

__all__ = (
    "format_set_cookie",
    "parse_cookie_date",
    "parse_cookie_header",
    "parse_set_cookie",
    "parse_set_cookie_headers",
)

_WSP = " \t"
# Cookie names as real servers send them (aiohttp's tolerant set, fixes aiohttp#2683):
# printable ASCII except whitespace, DQUOTE, ",", ";", "\" and "=".
_COOKIE_NAME_RE = re.compile(r"[!#$%&'()*+\-./0-9:<>?@A-Z\[\]^_`a-z{|}~]+")
# What may never appear in a written value or attribute: control characters end the
# header line or are invalid in it (RFC 9110 §5.5), ";" starts a new attribute (RFC 6265
# §4.1.1).
_UNSAFE_VALUE_RE = re.compile(r"[\x00-\x1f\x7f;]")
_MAX_AGE_RE = re.compile(r"-?[0-9]+", re.ASCII)
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
# http.cookies writes non-token octets as \ooo inside quotes; read them back the same way.
_QUOTED_CHAR_RE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)
# Attribute order and spelling of Morsel.OutputString (which sorts by key).
_ATTRIBUTE_NAMES = {
    "comment": "Comment",
    "domain": "Domain",
    "expires": "expires",
    "httponly": "HttpOnly",
    "max-age": "Max-Age",
    "partitioned": "Partitioned",
    "path": "Path",
    "samesite": "SameSite",
    "secure": "Secure",
    "version": "Version",
}
_FLAGS = frozenset(("httponly", "partitioned", "secure"))
_SIMPLE_COOKIE: SimpleCookie = SimpleCookie()

# RFC 6265 §5.1.1: delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E; a date is
# read from the runs of non-delimiters.
_DATE_TOKEN_RE = re.compile(r"[^\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9].*)?", re.DOTALL)
_DAY_RE = re.compile(r"([0-9]{1,2})(?:[^0-9].*)?", re.DOTALL)
_YEAR_RE = re.compile(r"([0-9]{2,4})(?:[^0-9].*)?", re.DOTALL)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def _unquote_cookie_value(value: str) -> str:
    # A DQUOTE-wrapped value (RFC 6265 §4.1.1) loses its quotes; escapes written by
    # http.cookies (\" and \ooo) are resolved so values round-trip with SimpleCookie.
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    return _QUOTED_CHAR_RE.sub(_unescape_match, inner)


def _unescape_match(match: re.Match[str]) -> str:
    octal = match.group(1)
    return chr(int(octal, 8)) if octal is not None else match.group(2)


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header into ``{name: value}``.

    Pairs are split on ``;`` (RFC 6265 §4.2.1: ``cookie-string = cookie-pair *( ";" SP
    cookie-pair )``), names and values are trimmed, a DQUOTE-wrapped value is unquoted.
    A piece without ``=`` or with an unusable name is skipped and parsing goes on.
    Attribute-like names (``path``, ``secure``...) are ordinary cookies here
    (RFC 6265 §5.4). When a name repeats, the first pair wins: user agents send the
    cookie with the longest path first (RFC 6265 §5.4 step 2).

    Args:
        header: the field value, e.g. ``'sid=abc; theme="dark"'``.

    Returns:
        The cookies in header order.
    """
    cookies: dict[str, str] = {}
    if not header:
        return cookies
    for pair in header.split(";"):
        name, eq, value = pair.partition("=")
        if not eq:
            continue
        name = name.strip(_WSP)
        if name in cookies or _COOKIE_NAME_RE.fullmatch(name) is None:
            continue
        cookies[name] = _unquote_cookie_value(value.strip(_WSP))
    return cookies


def parse_cookie_date(value: str) -> datetime | None:
    """Parse a cookie date with the lenient algorithm of RFC 6265 §5.1.1.

    Args:
        value: an ``Expires`` attribute value, in any of the forms servers use.

    Returns:
        An aware UTC datetime, or ``None`` when no valid date can be found.
    """
    found: dict[str, int] = {}
    clock: tuple[int, int, int] | None = None
    for token in _DATE_TOKEN_RE.findall(value):
        if clock is None and (match := _TIME_RE.fullmatch(token)) is not None:
            clock = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif "day" not in found and (match := _DAY_RE.fullmatch(token)) is not None:
            found["day"] = int(match.group(1))
        elif "month" not in found and token[:3].lower() in _MONTHS:
            found["month"] = _MONTHS[token[:3].lower()]
        elif "year" not in found and (match := _YEAR_RE.fullmatch(token)) is not None:
            found["year"] = int(match.group(1))
    if clock is None or len(found) != 3:
        return None
    year = found["year"]
    # RFC 6265 §5.1.1 steps 3-4: two-digit years.
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = clock
    # RFC 6265 §5.1.1 step 5: out-of-range parts make the date invalid.
    if year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        return datetime(
            year, found["month"], found["day"], hour, minute, second, tzinfo=timezone.utc
        )
    except ValueError:  # day 0, or past the end of the month
        return None


def _new_morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    # __setstate__ skips Morsel.set's key check (http.cookies refuses names such as "a[]"
    # that servers do send); the name was checked against _COOKIE_NAME_RE already.
    morsel.__setstate__(  # type: ignore[attr-defined]
        {"key": name, "value": value, "coded_value": coded_value}
    )
    return morsel


def _apply_attribute(morsel: Morsel[str], name: str, value: str) -> None:
    # RFC 6265 §5.2.1-5.2.6 and RFC 6265bis §5.6.7 (SameSite); the last occurrence of an
    # attribute wins (RFC 6265 §5.3 step 3 ff.), unknown attributes are ignored.
    if name == "expires":
        if parse_cookie_date(value) is not None:
            morsel["expires"] = value
    elif name == "max-age":
        if _MAX_AGE_RE.fullmatch(value) is not None:
            morsel["max-age"] = value
    elif name == "domain":
        if value:
            morsel["domain"] = value.removeprefix(".").lower()
    elif name == "path":
        if value.startswith("/"):
            morsel["path"] = value
    elif name in _FLAGS:
        # dict.__setitem__: Morsel only learned "partitioned" in Python 3.14.
        dict.__setitem__(morsel, name, True)
    elif name == "samesite":
        canonical = _SAMESITE.get(value.lower())
        if canonical is not None:
            morsel["samesite"] = canonical
    elif name in ("comment", "version"):
        morsel[name] = value


def parse_set_cookie(header: str) -> Morsel[str] | None:
    """Parse one ``Set-Cookie`` value with the algorithm of RFC 6265 §5.2.

    ``value`` is the cookie value without surrounding DQUOTEs; ``coded_value`` keeps it
    exactly as received, so that it is sent back unchanged. ``Expires`` (kept as sent),
    ``Max-Age``, ``Domain`` (lower-cased, leading dot removed), ``Path``, ``Secure``,
    ``HttpOnly``, ``SameSite`` and ``Partitioned`` are recognised; invalid attribute
    values are ignored as RFC 6265 §5.2 requires (an invalid ``Path`` is left unset so that
    a jar applies the default-path).

    Args:
        header: the field value of one ``Set-Cookie`` line.

    Returns:
        The cookie, or ``None`` when the value must be ignored (no ``=`` in the
        name-value-pair, or an empty or unusable name).
    """
    pair, _, attributes = header.partition(";")
    name, eq, raw_value = pair.partition("=")
    name = name.strip(_WSP)
    if not eq or _COOKIE_NAME_RE.fullmatch(name) is None:
        return None
    raw_value = raw_value.strip(_WSP)
    morsel = _new_morsel(name, _unquote_cookie_value(raw_value), raw_value)
    if attributes:
        for attribute in attributes.split(";"):
            attr_name, _, attr_value = attribute.partition("=")
            _apply_attribute(morsel, attr_name.strip(_WSP).lower(), attr_value.strip(_WSP))
    return morsel


def parse_set_cookie_headers(headers: Iterable[str]) -> list[tuple[str, Morsel[str]]]:
    """Parse several ``Set-Cookie`` values (one per field line, RFC 6265 §3).

    Args:
        headers: the field values, e.g. ``response.headers.getall("Set-Cookie", ())``.

    Returns:
        ``(name, morsel)`` for each usable value, in order; unusable ones are skipped.
    """
    cookies = []
    for header in headers:
        morsel = parse_set_cookie(header)
        if morsel is not None:
            cookies.append((morsel.key, morsel))
    return cookies


def _check(what: str, value: str) -> str:
    if _UNSAFE_VALUE_RE.search(value) is not None:
        raise ValueError(f"cookie {what} {value!r} contains a control character or ';'")
    return value


def _format_attribute(key: str, value: Any) -> str | None:
    label = _ATTRIBUTE_NAMES[key]
    if key in _FLAGS:
        return label if value else None
    if key == "expires" and isinstance(value, (int, datetime)):
        # Morsel semantics: an int is a number of seconds from now.
        when = value if isinstance(value, datetime) else time.time() + value
        return f"{label}={format_http_date(when)}"
    if key == "max-age":
        text = str(value)
        if isinstance(value, bool) or _MAX_AGE_RE.fullmatch(text) is None:
            raise ValueError(f"cookie Max-Age {value!r} is not an integer")
        return f"{label}={text}"
    if key == "comment" and isinstance(value, str):
        return f"{label}={_check('comment', _SIMPLE_COOKIE.value_encode(value)[1])}"
    if key == "samesite" and str(value).lower() not in _SAMESITE:
        raise ValueError(f"cookie SameSite {value!r} is not Strict, Lax or None")
    return f"{label}={_check(key, str(value))}"


def format_set_cookie(morsel: Morsel[str]) -> str:
    """Write a ``Set-Cookie`` field value from a Morsel (RFC 6265 §4.1, RFC 6265bis).

    The output matches :meth:`http.cookies.Morsel.OutputString` (the pair, then the
    attributes sorted by name), with ``Partitioned`` written on Python versions whose
    Morsel does not know it yet.

    Args:
        morsel: the cookie; its ``coded_value`` is written as the value.

    Returns:
        e.g. ``'sid=abc; HttpOnly; Path=/; SameSite=Lax; Secure'``.

    Raises:
        ValueError: the name is not a cookie name, or the coded value or an attribute holds
            CR, LF, NUL, another control character or ``;`` (attribute or header
            injection); ``Max-Age`` is not an integer or ``SameSite`` is not
            ``Strict``/``Lax``/``None``.
    """
    name = morsel.key
    if not name or _COOKIE_NAME_RE.fullmatch(name) is None:
        raise ValueError(f"invalid cookie name {name!r}")
    parts = [f"{name}={_check('value', morsel.coded_value)}"]
    for key, value in sorted(morsel.items()):
        if value == "" or value is None or key not in _ATTRIBUTE_NAMES:
            continue
        part = _format_attribute(key, value)
        if part is not None:
            parts.append(part)
    return "; ".join(parts)
