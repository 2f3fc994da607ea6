"""Size limits of the HTTP/1.1 parsers, and the guard that holds them on incomplete input.

This module owns the default limits (aiohttp's names and values, each with its rationale)
and :class:`PartialSectionGuard`, which checks a message head or a trailer section while
its end has not arrived yet.  Together with the checks on complete sections in
``_headparse.py`` it makes the limits hold however the input is split across reads: the
parser never buffers more than one over-long line before it raises.
"""

from __future__ import annotations

from typing import Final

from ._exceptions import BadHttpMessage, LineTooLong, TooManyHeaders

__all__ = (
    "DEFAULT_MAX_FIELD_SIZE",
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_LINE_SIZE",
    "PartialSectionGuard",
    "check_limit",
)

# The request line or status line.  8190 is aiohttp's (and Apache's LimitRequestLine 8190)
# default; RFC 9112 §3 recommends supporting request lines of at least 8000 octets.  A longer
# request line answers 400 (aiohttp uses 400, not 414; see LineTooLong).  The same bound
# applies to a chunk-size line with its extensions (RFC 9112 §7.1.1 leaves them unbounded).
DEFAULT_MAX_LINE_SIZE: Final = 8190
# One header or trailer field line (name, colon, value; obs-fold continuation lines count
# towards the field they continue).  aiohttp and Apache (LimitRequestFieldSize) use 8190;
# exceeding it answers 431 (RFC 6585 §5).
DEFAULT_MAX_FIELD_SIZE: Final = 8190
# Field lines in one field section (the header section; a trailer section is bounded
# separately by the same number).  aiohttp 3.14's default is 128, which together with the
# field size bounds a head to about 1 MiB; exceeding it answers 431 (RFC 6585 §5).
DEFAULT_MAX_HEADERS: Final = 128

_CR: Final = 13


def check_limit(name: str, value: int) -> int:
    """Validate one limit argument of a parser constructor.

    Args:
        name: the keyword the value was given as (used in the error).
        value: the limit.

    Returns:
        The value, when it is a positive ``int``.

    Raises:
        ValueError: the value is not a positive integer.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class PartialSectionGuard:
    """Hold a head or trailer section whose end has not arrived, enforcing the limits.

    The parser passes each read to :meth:`feed`.  The guard keeps the bytes (``buf``),
    walks only the lines completed since the previous call (so a section fed one byte at a
    time costs O(n) in total), checks each one in order, and reports when the empty line
    that ends the section has arrived.  Checks, in order per line: the length limit (the
    first line of a head against ``max_line_size``, field lines against
    ``max_field_size``), in strict mode that its LF is preceded by CR (RFC 9112 §2.2), and
    the field count (``max_headers``).  The still-open last line is held to its length
    limit too, so no more than one over-long line is ever buffered.  Content (tokens, CTLs,
    obs-fold...) is validated once the section is complete, with the same line order, so a
    message split anywhere fails with the same error as the same message fed whole.
    """

    __slots__ = (
        "_field_lines",
        "_first_line",
        "_lax",
        "_max_field_size",
        "_max_headers",
        "_max_line_size",
        "_pos",
        "buf",
    )

    def __init__(
        self,
        *,
        max_line_size: int,
        max_field_size: int,
        max_headers: int,
        lax: bool,
        has_start_line: bool,
    ) -> None:
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._lax = lax
        self._first_line = has_start_line
        self._field_lines = 0
        self._pos = 0
        self.buf = bytearray()

    def feed(self, data: bytes, pos: int) -> int:
        """Append ``data[pos:]`` and check the lines it completes.

        Leading empty lines before a start line are dropped (RFC 9112 §2.2: a recipient
        ignores empty lines received before the request-line / status-line).

        Args:
            data: the bytes just received.
            pos: where the section's bytes start in ``data``.

        Returns:
            The index in ``buf`` just after the empty line that ends the section, once it
            has arrived; -1 before.

        Raises:
            LineTooLong: a line exceeds its limit (400 for a start line, 431 for a field).
            TooManyHeaders: more than ``max_headers`` field lines (431).
            BadHttpMessage: a bare LF in strict mode.
        """
        buf = self.buf
        buf += memoryview(data)[pos:]
        pos = self._pos
        while True:
            lf = buf.find(b"\n", pos)
            if lf < 0:
                break
            end = lf - 1 if lf > pos and buf[lf - 1] == _CR else lf
            if end == pos and (end < lf or self._lax):  # an empty line
                if self._first_line:
                    del buf[: lf + 1]
                    pos = 0
                    continue
                return lf + 1
            self._check_line(end - pos, bare_lf=end == lf)
            pos = lf + 1
        self._pos = pos
        open_len = len(buf) - pos
        if open_len and buf[-1] == _CR:
            open_len -= 1
        if open_len:
            self._check_length(open_len)
        return -1

    def holds_data(self) -> bool:
        """Tell whether anything but line breaks is pending."""
        return bool(self.buf.strip(b"\r\n"))

    def _check_line(self, length: int, *, bare_lf: bool) -> None:
        self._check_length(length)
        if bare_lf and not self._lax:
            raise BadHttpMessage("Bad line ending, expected CRLF")
        if self._first_line:
            self._first_line = False
        else:
            self._field_lines += 1
            if self._field_lines > self._max_headers:
                raise TooManyHeaders(self._max_headers)

    def _check_length(self, length: int) -> None:
        if self._first_line:
            if length > self._max_line_size:
                raise LineTooLong("the start line", self._max_line_size, length)
        elif length > self._max_field_size:
            raise LineTooLong("a header field", self._max_field_size, length, code=431)
