"""Field sections (RFC 9110 §5, RFC 9112 §5): header and trailer lines to a header mapping.

This module owns the parsing of one complete field section (the header lines of a head or
the trailer lines after the last chunk) into ``CIMultiDictProxy[str]`` plus the raw
``(name, value)`` byte pairs.  Two implementations agree on every input:

- :func:`split_fields_fast` handles the common well-formed CRLF section with one regex
  ``findall`` and two whole-buffer checks, and returns ``None`` on anything unusual;
- :func:`check_field_lines` and :func:`parse_field_lines` are the reference, line by line:
  they produce the precise error for malformed input and implement the lax leniencies.

:func:`parse_fields` combines them.  The fast function is the seam for a compiled
accelerator (see ``FieldSplitter``): a replacement must return the same pairs or ``None``.
"""

from __future__ import annotations

from typing import Final, Protocol

from multidict import CIMultiDict, CIMultiDictProxy

from ._abnf import (
    FIELD_LINE_RE,
    FIELD_TEXT_BYTES,
    LAX_SECTION_END_RE,
    LAX_VALUE_FORBIDDEN_RE,
    TOKEN_RE,
    VALUE_FORBIDDEN_RE,
)
from ._exceptions import BadHttpMessage, InvalidHeader, LineTooLong, TooManyHeaders
from ._messages import RawHeaders

__all__ = (
    "EMPTY_HEADERS",
    "FieldSplitter",
    "check_field_lines",
    "find_section_end",
    "parse_field_lines",
    "parse_fields",
    "split_fields_fast",
)

_CR: Final = 13
_OWS: Final = b" \t"
_FOLD_START: Final = (32, 9)  # SP, HTAB: an obs-fold continuation line (RFC 9112 §5.2)

EMPTY_HEADERS: Final[CIMultiDictProxy[str]] = CIMultiDictProxy(CIMultiDict())

FieldPairs = list[tuple[bytes, bytes]]


class FieldSplitter(Protocol):
    """The contract of the hot field splitter (the compiled-accelerator seam)."""

    def __call__(self, data: bytes, first: int, after: int) -> FieldPairs | None:
        """Split ``data[first:after]`` (CRLF field lines) or return None when unsure."""


def find_section_end(data: bytes, pos: int, *, lax: bool) -> tuple[int, int]:
    """Find the empty line that ends the section starting at ``data[pos]``.

    Strict: CRLF CRLF (RFC 9112 §2.1).  Lax: LF, then an optional CR, then LF (aiohttp's
    client and llhttp's "optional CR before LF" leniency).

    Args:
        data: the buffer.
        pos: where the section (its first non-empty line) starts.
        lax: accept bare LF line endings.

    Returns:
        ``(after, end)``: the index just after the LF of the last non-empty line, and the
        index just after the empty line; ``(-1, -1)`` when the empty line is not there yet.
    """
    if not lax:
        crlf = data.find(b"\r\n\r\n", pos)
        return (-1, -1) if crlf < 0 else (crlf + 2, crlf + 4)
    # One search that stops at the first LF LF or LF CR LF: two find() calls, one of them
    # unbounded, scanned the rest of the buffer once per message (quadratic in a read full
    # of LF-only heads).
    match = LAX_SECTION_END_RE.search(data, pos)
    return (-1, -1) if match is None else (match.start() + 1, match.end())


def split_fields_fast(data: bytes, first: int, after: int) -> FieldPairs | None:
    """Split a well-formed strict field section in a few whole-buffer passes.

    Args:
        data: the buffer; ``data[first - 1]`` is the LF that ends the previous line.
        first: index of the first field line.
        after: index just after the LF of the last field line (``first < after``).

    Returns:
        The raw ``(name, value)`` pairs with OWS stripped, or ``None`` when the section is
        not plain CRLF-terminated, token-named, CTL-free lines (the caller then runs the
        reference path, which raises the precise error or applies the lax leniencies).
    """
    if data[after - 2] != _CR:
        return None
    # One match per line: each starts at the LF before the line and ends at its CR, so
    # "as many matches as LFs" proves that the matches tile the whole section (RFC 9112 §5).
    pairs: FieldPairs = FIELD_LINE_RE.findall(data, first - 1, after - 1)
    if len(pairs) != data.count(b"\n", first - 1, after - 1):
        return None
    # RFC 9110 §5.5: no CTL other than HTAB in a field value.
    if data[first:after].translate(None, FIELD_TEXT_BYTES):
        return None
    return pairs


def check_field_lines(
    section: bytes, *, lax: bool, max_field_size: int, max_headers: int
) -> list[bytes]:
    """Split a field section into lines and check them structurally, in order.

    The checks and their order match :class:`~aioloom.http._limits.PartialSectionGuard`,
    so a section fails with the same error whether it arrived whole or in pieces: per
    line, its length, then (strict) a bare LF, then the field count.

    Args:
        section: the field lines, each with its LF (optionally CRLF) terminator.
        lax: accept LF without CR.
        max_field_size: the limit on one physical line.
        max_headers: the limit on the number of lines.

    Returns:
        The lines without their terminators.

    Raises:
        LineTooLong: a line is longer than ``max_field_size`` (431).
        BadHttpMessage: a bare LF in strict mode (RFC 9112 §2.2).
        TooManyHeaders: more than ``max_headers`` lines (431).
    """
    lines = section.split(b"\n")
    del lines[-1]  # what follows the last LF: nothing
    for index, line in enumerate(lines):
        has_cr = line[-1:] == b"\r"
        if has_cr:
            line = lines[index] = line[:-1]
        if len(line) > max_field_size:
            raise LineTooLong("a header field", max_field_size, len(line), code=431)
        if not has_cr and not lax:
            raise BadHttpMessage("Bad line ending, expected CRLF")
        if index >= max_headers:
            raise TooManyHeaders(max_headers)
    return lines


def parse_field_lines(
    lines: list[bytes], *, lax: bool, max_field_size: int
) -> tuple[CIMultiDictProxy[str], RawHeaders]:
    """Validate and decode checked field lines: the reference implementation.

    Strict mode follows RFC 9110 §5 and RFC 9112 §5 to the letter.  Lax mode adds what
    aiohttp's client accepts from real servers: obs-fold continuation lines are unfolded
    (RFC 9112 §5.2: each fold becomes one SP) and field values may hold any CTL except NUL,
    CR and LF.  Both modes reject whitespace before the colon (RFC 9112 §5.1), empty or
    non-token names, and a fold before the first field.

    Args:
        lines: field lines without terminators, as returned by :func:`check_field_lines`.
        lax: enable the leniencies above.
        max_field_size: the limit on an unfolded field.

    Returns:
        The headers (values decoded UTF-8 with ``surrogateescape``) and the raw pairs.

    Raises:
        InvalidHeader: a malformed line, name or value (400).
        LineTooLong: an unfolded field longer than ``max_field_size`` (431).
    """
    raw: FieldPairs = []
    for line in lines:
        if line and line[0] in _FOLD_START:
            # RFC 9112 §5.2: obs-fold is rejected in strict mode.
            if not lax or not raw:
                raise InvalidHeader(line)
            name, value = raw[-1]
            more = line.strip(_OWS)
            if more:
                value = value + b" " + more if value else more
            if len(name) + 1 + len(value) > max_field_size:
                raise LineTooLong("a header field", max_field_size, len(value), code=431)
            raw[-1] = (name, value)
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name:
            raise InvalidHeader(line)
        # RFC 9112 §5.1: no whitespace between the field name and the colon.
        if not TOKEN_RE.fullmatch(name):
            raise InvalidHeader(name)
        raw.append((name, value.strip(_OWS)))
    forbidden = LAX_VALUE_FORBIDDEN_RE if lax else VALUE_FORBIDDEN_RE
    for _name, value in raw:
        # RFC 9110 §5.5: field values never hold CR, LF or NUL; strict: no CTL but HTAB.
        if forbidden.search(value):
            raise InvalidHeader(value)
    return _build(raw), tuple(raw)


def _build(pairs: FieldPairs) -> CIMultiDictProxy[str]:
    if not pairs:
        return EMPTY_HEADERS
    return CIMultiDictProxy(
        CIMultiDict([(n.decode(), v.decode("utf-8", "surrogateescape")) for n, v in pairs])
    )


def parse_fields(
    data: bytes,
    first: int,
    after: int,
    *,
    lax: bool,
    max_field_size: int,
    max_headers: int,
    splitter: FieldSplitter = split_fields_fast,
) -> tuple[CIMultiDictProxy[str], RawHeaders]:
    """Parse the field section ``data[first:after]``.

    Args:
        data: the buffer; ``data[first - 1]`` is an LF.
        first: index of the first field line.
        after: index just after the LF of the last field line (``first`` when empty).
        lax: lenient mode (see :func:`parse_field_lines`).
        max_field_size: limit on one field line (431 beyond it).
        max_headers: limit on the number of field lines (431 beyond it).
        splitter: the fast splitter to try first.

    Returns:
        The headers proxy and the raw pairs, built once.

    Raises:
        HttpProcessingError: a subclass naming the fault (see the reference functions).
    """
    if first == after:
        return EMPTY_HEADERS, ()
    pairs = splitter(data, first, after)
    if (
        pairs is not None
        and len(pairs) <= max_headers
        # A section shorter than the limit cannot hold an over-long line.
        and (
            after - first <= max_field_size
            or max(map(len, data[first : after - 2].split(b"\r\n"))) <= max_field_size
        )
    ):
        return _build(pairs), tuple(pairs)
    lines = check_field_lines(
        data[first:after], lax=lax, max_field_size=max_field_size, max_headers=max_headers
    )
    return parse_field_lines(lines, lax=lax, max_field_size=max_field_size)
