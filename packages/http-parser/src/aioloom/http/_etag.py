"""Entity tags (RFC 9110 §8.8.3): aiohttp's ``ETag``, parsing, formatting, comparison.

Used by the ``ETag`` response header and by the ``If-Match`` / ``If-None-Match`` request
headers (RFC 9110 §13.1.1-2), whose value is either ``*`` or a list of entity tags.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import attrs

__all__ = (
    "ETAG_ANY",
    "ETag",
    "format_etag",
    "parse_etag",
    "parse_etags",
    "strong_match",
    "validate_etag_value",
    "weak_match",
)

ETAG_ANY: Final = "*"

# RFC 9110 §8.8.3: entity-tag = [ weak ] opaque-tag;  weak = %s"W/"
#                  opaque-tag = DQUOTE *etagc DQUOTE;  etagc = %x21 / %x23-7E / obs-text
_ETAGC = r"[\x21\x23-\x7e\x80-\xff]*"
_ETAGC_RE = re.compile(_ETAGC)
_ENTITY_TAG_RE = re.compile(f'(W/)?"({_ETAGC})"')
# One list element at a time (RFC 9110 §5.6.1): an entity-tag or an empty element,
# followed by OWS and a comma, or the end.  The OWS after the tag sits inside the optional
# group: two OWS runs around an empty element made a failing match quadratic in its blanks.
_LIST_ELEMENT_RE = re.compile(f'[ \\t]*(?:(W/)?"({_ETAGC})"[ \\t]*)?(?:,|\\Z)')


@attrs.frozen(slots=True)
class ETag:
    """An entity tag: its opaque value (without quotes) and whether it is weak.

    Attributes:
        value: the characters between the double quotes, or ``"*"`` for the wildcard.
        is_weak: True for a weak validator (``W/"..."``).
    """

    value: str
    is_weak: bool = False


def validate_etag_value(value: str) -> None:
    """Check that ``value`` can go between the quotes of an entity tag.

    Args:
        value: the opaque value, or ``"*"``.

    Raises:
        ValueError: ``value`` holds a ``"``, a space, a control character or a character
            above U+00FF (RFC 9110 §8.8.3 etagc).
    """
    if value != ETAG_ANY and _ETAGC_RE.fullmatch(value) is None:
        raise ValueError(f"Value {value!r} is not a valid etag. Maybe it contains '\"'?")


def format_etag(etag: ETag | str) -> str:
    """Return the field value for an ``ETag`` header.

    Args:
        etag: an :class:`ETag`, or a string taken as a strong tag's value. ``"*"`` (or an
            ETag whose value is ``"*"``) is written bare.

    Returns:
        ``'"value"'``, ``'W/"value"'`` or ``'*'``.

    Raises:
        ValueError: the value is not valid inside an entity tag.
    """
    value, weak = (etag, False) if isinstance(etag, str) else (etag.value, etag.is_weak)
    if value == ETAG_ANY:
        return ETAG_ANY
    validate_etag_value(value)
    return f'W/"{value}"' if weak else f'"{value}"'


def parse_etag(value: str) -> ETag | None:
    """Parse one entity tag, the value of an ``ETag`` header.

    Args:
        value: the field value, e.g. ``'W/"xyzzy"'``.

    Returns:
        The :class:`ETag` (``ETag("*")`` for a bare ``*``), or ``None`` when the value is
        not an entity tag.
    """
    value = value.strip(" \t")
    if value == ETAG_ANY:
        return ETag(ETAG_ANY)
    match = _ENTITY_TAG_RE.fullmatch(value)
    if match is None:
        return None
    return ETag(value=match.group(2), is_weak=match.group(1) is not None)


def parse_etags(header: str) -> tuple[ETag, ...] | Literal["*"]:
    """Parse an ``If-Match`` / ``If-None-Match`` value (RFC 9110 §13.1.1-2).

    Field value grammar: ``"*" / #entity-tag``. Empty list elements are ignored
    (RFC 9110 §5.6.1.2); anything else that is not an entity tag makes the whole value
    invalid, as the field is then unusable for a precondition.

    Args:
        header: the field value (several field lines already joined with ``", "``).

    Returns:
        ``"*"`` (:data:`ETAG_ANY`) for the wildcard, else the entity tags in order.

    Raises:
        ValueError: the value does not follow the grammar.
    """
    stripped = header.strip(" \t")
    if stripped == ETAG_ANY:
        return ETAG_ANY
    tags: list[ETag] = []
    pos, end = 0, len(header)
    while pos < end:
        match = _LIST_ELEMENT_RE.match(header, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"invalid entity-tag list {header!r}")
        value = match.group(2)
        if value is not None:
            tags.append(ETag(value=value, is_weak=match.group(1) is not None))
        pos = match.end()
    return tuple(tags)


def strong_match(a: ETag, b: ETag) -> bool:
    """Strong comparison (RFC 9110 §8.8.3.2): both strong and identical values.

    Used by ``If-Match`` and ``If-Range``.
    """
    return not a.is_weak and not b.is_weak and a.value == b.value


def weak_match(a: ETag, b: ETag) -> bool:
    """Weak comparison (RFC 9110 §8.8.3.2): identical values, weakness ignored.

    Used by ``If-None-Match``.
    """
    return a.value == b.value
