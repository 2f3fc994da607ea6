"""Conditional and range request headers: RFC 9110 §13 preconditions and §14.2 Range.

The request exposes them as aiohttp does: dates as aware datetimes (None when absent or
not an HTTP-date, so that an invalid precondition is ignored, RFC 9110 §13.1.3), entity-tag
lists as tuples of :class:`~aioloom.http.ETag` (``*`` is ``(ETag("*"),)``), and the
``Range`` header as a :class:`slice` of the representation.
"""

from __future__ import annotations

import re
from typing import Final

from aioloom.http._etag import ETAG_ANY, ETag, parse_etags

__all__ = ("parse_etag_list", "parse_range")

# aiohttp reads one byte range: "bytes=first-last", "bytes=first-" or "bytes=-suffix".
_RANGE_RE: Final = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.ASCII)


def parse_etag_list(value: str | None) -> tuple[ETag, ...] | None:
    """Parse an If-Match / If-None-Match value (RFC 9110 §13.1.1-2).

    Returns:
        None when the header is absent or empty, ``(ETag("*"),)`` for the wildcard, the
        tags otherwise; a value that breaks the grammar gives ``()`` (no tag can match).
    """
    if not value:
        return None
    try:
        tags = parse_etags(value)
    except ValueError:
        return ()
    if tags == ETAG_ANY:
        return (ETag(ETAG_ANY),)
    return tags


def parse_range(value: str | None) -> slice:
    """Turn a ``Range`` value into a slice (RFC 9110 §14.1.2 byte ranges).

    ``bytes=0-499`` is ``slice(0, 500, 1)`` (the last-pos is inclusive), ``bytes=500-`` is
    ``slice(500, None, 1)`` and ``bytes=-500`` (the last 500 bytes) is
    ``slice(-500, None, 1)``. No header gives ``slice(None, None, 1)``.

    Raises:
        ValueError: the value is not one byte range, or first-pos is after last-pos.
    """
    if value is None:
        return slice(None, None, 1)
    match = _RANGE_RE.fullmatch(value)
    if match is None:
        raise ValueError("range not in acceptable format")
    first, last = match.group(1, 2)
    start = int(first) if first else None
    stop = int(last) if last else None
    if start is None:
        if stop is None:
            raise ValueError("No start or end of range specified")
        return slice(-stop, None, 1)  # a suffix range: the last `stop` bytes
    if stop is not None:
        stop += 1  # inclusive in the header, exclusive in a slice
        if start >= stop:
            raise ValueError("start cannot be after end")
    return slice(start, stop, 1)
