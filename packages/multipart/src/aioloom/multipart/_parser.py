"""The sans-I/O multipart scanner: bytes in, part events out (RFC 2046 §5.1.1, RFC 7578).

:class:`MultipartScanner` is a push parser. ``feed(data)`` returns the events the new bytes
complete, ``feed_eof()`` checks that the body was complete::

    scanner = MultipartScanner(b"boundary")
    for event in scanner.feed(chunk):   # PartStart, PartData..., PartEnd, ..., Done
        ...
    scanner.feed_eof()                  # raises IncompleteMultipartError if truncated

The grammar it follows (RFC 2046 §5.1.1)::

    multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF
                      body-part *encapsulation close-delimiter transport-padding
                      [CRLF epilogue]
    encapsulation  := delimiter transport-padding CRLF body-part
    delimiter      := CRLF dash-boundary          dash-boundary := "--" boundary
    close-delimiter := delimiter "--"

Leniency, as aiohttp's reader: a preamble is skipped (a line that merely starts with the
dash-boundary followed by other text is preamble too); the epilogue and the final CRLF may be
missing (``Done`` is emitted as soon as ``--boundary--`` is seen, and what follows is
ignored); bare LF is accepted as the end of the delimiter line and of part header lines (RFC
9112 §2.2 allows recipients that); part headers may be folded (RFC 5322 §2.2.3, MIME part
headers follow RFC 5322, and the standard library's email generator folds long ones). The
CRLF that precedes a delimiter inside part data must be a real CRLF. A ``Content-Length``
part header plays no role in framing: the delimiters alone end a part (RFC 2046 §5.1.1;
RFC 7578 §4.8 forbids the header in form-data anyway).

Nothing is buffered without bound: part data is emitted as soon as it cannot be the start
of a delimiter (at most ``len(boundary) + 3`` bytes are held back); the preamble is
discarded as it is scanned and is limited to ``max_preamble`` bytes; a part header field is
limited to ``max_field_size`` bytes and a part to ``max_headers`` fields. Malformed input
raises a :class:`MultipartError` subclass (status 400); the scanner is then unusable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy

from aioloom.http._limits import DEFAULT_MAX_FIELD_SIZE, DEFAULT_MAX_HEADERS

from ._exceptions import (
    BoundaryError,
    IncompleteMultipartError,
    MultipartError,
    MultipartFramingError,
    PartHeaderError,
    PartHeadersTooLarge,
)

__all__ = (
    "DEFAULT_MAX_FIELD_SIZE",
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_PREAMBLE",
    "MAX_BOUNDARY_LENGTH",
    "Done",
    "Event",
    "MultipartScanner",
    "PartData",
    "PartEnd",
    "PartStart",
    "check_boundary",
)

# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace, so 1 to 70 characters.
MAX_BOUNDARY_LENGTH: Final = 70
# The part header limits are the HTTP parser's (aiohttp 3.14 applies its max_field_size and
# max_headers to part headers too): 8190 bytes a field, as a Content-Disposition with a
# long file name is a header line like any other; 128 fields, where a form-data part
# carries two or three and a MIME part rarely ten. Together they cap a header block at
# about 1 MiB.
# Browsers and HTTP clients send no preamble and mail agents a line or two ("This is a
# multi-part message in MIME format."). The bound stops a body that never carries the
# boundary from being scanned (and its bytes counted as preamble) for ever.
DEFAULT_MAX_PREAMBLE: Final = 64 * 1024

# The reader is lenient about the boundary's characters (printable ASCII, not ending in a
# space); MultipartWriter holds its own boundaries to the strict RFC 2046 bchars.
_READ_BOUNDARY_RE: Final = re.compile(r"[\x20-\x7e]{0,69}[\x21-\x7e]")
# RFC 9110 §5.1: field-name = token (whitespace before the colon is invalid, RFC 9112 §5.1).
_FIELD_NAME_RE: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field values carry no CTL other than HTAB (so no CR, LF or NUL).
_BAD_VALUE_RE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# After a dash-boundary: transport-padding (RFC 2046 §5.1.1 LWSP) then the line end.
_PADDING_EOL_RE: Final = re.compile(rb"[ \t]*(\r?\n)?")
_CR: Final = 0x0D
_DASH: Final = 0x2D
_WSP: Final = (0x20, 0x09)


@dataclass(frozen=True, slots=True)
class PartStart:
    """A part begins: its header block has been read.

    Attributes:
        headers: the part's header fields (names case-insensitive, values decoded as UTF-8
            with ``surrogateescape``, folded lines joined).
        raw_headers: the same fields as ``(name, value)`` byte pairs, in order.
    """

    headers: CIMultiDictProxy[str]
    raw_headers: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class PartData:
    """A piece of the current part's content (never empty)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    """The current part's content is complete (its closing delimiter was seen)."""


@dataclass(frozen=True, slots=True)
class Done:
    """The close delimiter was seen; whatever follows is the ignored epilogue."""


Event: TypeAlias = PartStart | PartData | PartEnd | Done
"""One scanner event."""

_PART_END: Final = PartEnd()
_DONE: Final = Done()

# Scanner states.
_PREAMBLE: Final = 0  # before the opening delimiter
_DELIMITER: Final = 1  # after a dash-boundary: "--", or padding and the line end
_HEADERS: Final = 2  # inside a part's header block
_BODY: Final = 3  # inside a part's content
_EPILOGUE: Final = 4  # after the close delimiter
_FAILED: Final = 5  # a MultipartError was raised


def check_boundary(boundary: str | bytes) -> bytes:
    """Validate a ``boundary`` parameter for reading and return it as bytes.

    Args:
        boundary: the parameter value, without the leading ``--``.

    Returns:
        The boundary as ASCII bytes.

    Raises:
        BoundaryError: it is empty, longer than 70 characters (RFC 2046 §5.1.1), not
            printable ASCII, or ends with a space.
    """
    text = boundary.decode("latin-1") if isinstance(boundary, bytes) else boundary
    if len(text) > MAX_BOUNDARY_LENGTH:
        raise BoundaryError(
            f"boundary {text!r} is too long ({len(text)} characters, "
            f"{MAX_BOUNDARY_LENGTH} max, RFC 2046 §5.1.1)"
        )
    if _READ_BOUNDARY_RE.fullmatch(text) is None:
        raise BoundaryError(
            f"invalid boundary {text!r}: 1 to {MAX_BOUNDARY_LENGTH} printable ASCII "
            "characters, not ending in a space, expected"
        )
    return text.encode("ascii")


def _partial_suffix(buf: bytes, start: int, token: bytes) -> int:
    """Length of the longest suffix of ``buf[start:]`` that is a proper prefix of ``token``.

    ``token`` starts with a byte that occurs once in it (CR or LF), so only those
    positions are tried; ``start`` is at most ``len(token) - 1`` bytes from the end.
    """
    first = token[:1]
    size = len(buf)
    i = buf.find(first, start)
    while i >= 0:
        if token.startswith(buf[i:]):
            return size - i
        i = buf.find(first, i + 1)
    return 0


class MultipartScanner:
    """Incremental multipart body scanner (sans-I/O).

    Args:
        boundary: the ``boundary`` parameter of the Content-Type, without ``--``.
        max_field_size: the most bytes one part header field may take (folded lines
            count together).
        max_headers: the most header fields one part may have.
        max_preamble: the most bytes skipped before the opening delimiter.
        in_part: start inside the content of a part whose headers were read already
            (how aiohttp's ``BodyPartReader`` sees its stream); the scanner then ends the
            part at the next delimiter.

    Raises:
        BoundaryError: the boundary is invalid (see :func:`check_boundary`).
        ValueError: a limit is not positive.
    """

    __slots__ = (
        "_body_start",
        "_dash",
        "_delim",
        "_error",
        "_field_size",
        "_fields",
        "_line_start",
        "_max_field_size",
        "_max_headers",
        "_max_preamble",
        "_nl_dash",
        "_opening",
        "_pending",
        "_preamble",
        "_state",
        "boundary",
    )

    def __init__(
        self,
        boundary: str | bytes,
        *,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_preamble: int = DEFAULT_MAX_PREAMBLE,
        in_part: bool = False,
    ) -> None:
        for name, value in (
            ("max_field_size", max_field_size),
            ("max_headers", max_headers),
            ("max_preamble", max_preamble),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.boundary = check_boundary(boundary)
        self._dash = b"--" + self.boundary
        self._nl_dash = b"\n" + self._dash
        self._delim = b"\r\n" + self._dash  # RFC 2046 §5.1.1: delimiter := CRLF dash-boundary
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_preamble = max_preamble
        # Unconsumed input: an incomplete header line or delimiter line, or the few bytes
        # that may start a delimiter, so never more than about max_field_size bytes.
        self._pending = b""
        self._state = _BODY if in_part else _PREAMBLE
        self._error: MultipartError | None = None
        self._line_start = True  # the next preamble byte begins a line
        self._preamble = 0  # preamble bytes skipped so far
        self._opening = not in_part  # the delimiter being checked is the opening one
        self._body_start = in_part  # no content byte of the current part seen yet
        self._fields: list[bytes] = []  # the current header block's fields, unfolded
        self._field_size = 0  # bytes in the last field so far

    @property
    def done(self) -> bool:
        """True once the close delimiter was seen."""
        return self._state == _EPILOGUE

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Scan more body bytes.

        Args:
            data: the next bytes of the body (any size, possibly empty).

        Returns:
            The events these bytes complete, in order (possibly none).

        Raises:
            MultipartError: the body is malformed (the subclass says how). When ``data``
                completed some events before the fault, they are returned first and the
                error is raised by the next call to :meth:`feed` or :meth:`feed_eof`.
                The scanner is unusable afterwards.
        """
        if self._state >= _EPILOGUE:
            return self._after_end()
        if isinstance(data, bytes):
            buf = self._pending + data if self._pending else data
        else:
            buf = self._pending + bytes(data)
        events: list[Event] = []
        try:
            pos = self._run(buf, events)
        except MultipartError as exc:
            self._fail(exc)
            if events:
                return events
            raise
        self._pending = buf[pos:] if pos < len(buf) else b""
        return events

    def feed_eof(self) -> list[Event]:
        """Signal the end of the body.

        Returns:
            An empty list (every event was emitted by :meth:`feed`).

        Raises:
            MultipartFramingError: the opening delimiter never came.
            IncompleteMultipartError: the body ended before the close delimiter.
            MultipartError: an error found by the last :meth:`feed` call.
        """
        if self._state >= _EPILOGUE:
            return self._after_end()
        if self._state == _PREAMBLE or (self._state == _DELIMITER and self._opening):
            error: MultipartError = MultipartFramingError(
                f"Could not find starting boundary {self._dash!r} (the body has no parts)"
            )
        else:
            where = {_DELIMITER: "a delimiter line", _HEADERS: "a part's headers"}.get(
                self._state, "a part's content"
            )
            error = IncompleteMultipartError(
                f"The multipart body ended inside {where}, before the close delimiter "
                f"{self._dash + b'--'!r}"
            )
        self._fail(error)
        raise error

    def _fail(self, error: MultipartError) -> None:
        self._state = _FAILED
        self._error = error
        self._pending = b""

    def _after_end(self) -> list[Event]:
        if self._error is not None:
            raise self._error
        return []  # RFC 2046 §5.1.1: the epilogue is to be ignored

    def _run(self, buf: bytes, events: list[Event]) -> int:
        """Advance through ``buf`` while the state changes; return the bytes consumed."""
        pos = 0
        while True:
            state = self._state
            if state == _BODY:
                pos = self._scan_body(buf, pos, events)
            elif state == _HEADERS:
                pos = self._scan_headers(buf, pos, events)
            elif state == _DELIMITER:
                pos = self._scan_delimiter(buf, pos, events)
            elif state == _PREAMBLE:
                pos = self._scan_preamble(buf, pos)
            else:  # _EPILOGUE: ignore the rest
                return len(buf)
            if self._state == state:
                return pos

    # -- preamble ------------------------------------------------------------------------

    def _skip_preamble(self, count: int) -> None:
        self._preamble += count
        if self._preamble > self._max_preamble:
            raise MultipartFramingError(
                f"Could not find starting boundary {self._dash!r} within the first "
                f"{self._max_preamble} bytes (max_preamble)"
            )

    def _scan_preamble(self, buf: bytes, pos: int) -> int:
        dash = self._dash
        if self._line_start:
            if len(buf) - pos < len(dash) and dash.startswith(buf[pos:]):
                return pos  # too short to tell yet
            self._line_start = False
            if buf.startswith(dash, pos):
                self._opening = True
                self._state = _DELIMITER
                return pos + len(dash)
        found = buf.find(self._nl_dash, pos)
        if found >= 0:
            self._skip_preamble(found + 1 - pos)
            self._opening = True
            self._state = _DELIMITER
            return found + len(self._nl_dash)
        # Skip all but a possible start of "\n--boundary" at the end.
        tail = len(self._nl_dash) - 1
        cut = len(buf) - _partial_suffix(buf, max(pos, len(buf) - tail), self._nl_dash)
        self._skip_preamble(cut - pos)
        return cut

    # -- delimiter line ------------------------------------------------------------------

    def _scan_delimiter(self, buf: bytes, pos: int, events: list[Event]) -> int:
        size = len(buf)
        if pos >= size:
            return pos
        if buf[pos] == _DASH:
            if pos + 1 >= size:
                return pos  # "-": maybe the start of "--"
            if buf[pos + 1] == _DASH:
                # close-delimiter: the rest is transport-padding and the epilogue.
                events.append(_DONE)
                self._state = _EPILOGUE
                return size
        match = _PADDING_EOL_RE.match(buf, pos)
        assert match is not None  # the pattern matches the empty string
        end = match.end()
        if match.group(1):
            self._start_headers()
            return end
        if end == size or (end == size - 1 and buf[end] == _CR):
            if end - pos > self._max_field_size:
                raise MultipartFramingError(
                    f"Transport padding after {self._dash!r} is longer than "
                    f"{self._max_field_size} bytes"
                )
            return pos  # padding so far: wait for the line end
        return self._bad_delimiter(buf, pos)

    def _bad_delimiter(self, buf: bytes, pos: int) -> int:
        if self._opening:
            # Only a line that is exactly the dash-boundary opens the body, as aiohttp
            # reads it; "--boundaryX" in the preamble is more preamble.
            self._skip_preamble(len(self._dash) + 1)
            self._state = _PREAMBLE
            return pos
        got = bytes(buf[pos : pos + 20])
        raise MultipartFramingError(
            f"Invalid boundary line: {self._dash!r} must be followed by '--' or a line "
            f"end, got {got!r}"
        )

    # -- part headers --------------------------------------------------------------------

    def _start_headers(self) -> None:
        self._state = _HEADERS
        self._fields = []
        self._field_size = 0

    def _scan_headers(self, buf: bytes, pos: int, events: list[Event]) -> int:
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                if len(buf) - pos > self._max_field_size:
                    raise PartHeadersTooLarge(
                        f"A part header line is longer than {self._max_field_size} bytes "
                        "(max_field_size)",
                        self._max_field_size,
                    )
                return pos  # the line is incomplete
            end = nl - 1 if nl > pos and buf[nl - 1] == _CR else nl
            line = buf[pos:end]
            pos = nl + 1
            if not line:  # the empty line ends the block (RFC 5322 §2.1, RFC 2046 §5.1.1)
                events.append(self._part_start())
                self._state = _BODY
                self._body_start = True
                return pos
            self._add_line(line)

    def _add_line(self, line: bytes) -> None:
        if line[0] in _WSP:
            # obs-fold (RFC 5322 §2.2.3): unfolding removes the line break before WSP.
            if not self._fields:
                raise PartHeaderError(
                    f"The part header block starts with a folded line {line[:100]!r}"
                )
            self._field_size += len(line)
            self._check_field_size()
            self._fields[-1] += line
            return
        if len(self._fields) >= self._max_headers:
            raise PartHeadersTooLarge(
                f"A part has more than {self._max_headers} header fields (max_headers)",
                self._max_headers,
            )
        self._field_size = len(line)
        self._check_field_size()
        self._fields.append(line)

    def _check_field_size(self) -> None:
        if self._field_size > self._max_field_size:
            raise PartHeadersTooLarge(
                f"A part header field is longer than {self._max_field_size} bytes (max_field_size)",
                self._max_field_size,
            )

    def _part_start(self) -> PartStart:
        raw: list[tuple[bytes, bytes]] = []
        for field in self._fields:
            name, colon, value = field.partition(b":")
            if not colon:
                raise PartHeaderError(f"Invalid part header line {field[:100]!r}: no colon")
            if _FIELD_NAME_RE.fullmatch(name) is None:
                raise PartHeaderError(f"Invalid part header name {name[:100]!r}")
            value = value.strip(b" \t")
            if _BAD_VALUE_RE.search(value) is not None:
                raise PartHeaderError(f"Invalid character in part header {name!r}: {value[:100]!r}")
            raw.append((name, value))
        self._fields = []
        headers: CIMultiDict[str] = CIMultiDict(
            (name.decode("ascii"), value.decode("utf-8", "surrogateescape")) for name, value in raw
        )
        return PartStart(CIMultiDictProxy(headers), tuple(raw))

    # -- part content --------------------------------------------------------------------

    def _scan_body(self, buf: bytes, pos: int, events: list[Event]) -> int:
        if self._body_start:
            # The CRLF that ended the header block may be the delimiter's own CRLF: a
            # part with no content is followed directly by the dash-boundary.
            dash = self._dash
            if len(buf) - pos < len(dash) and dash.startswith(buf[pos:]):
                return pos  # too short to tell yet
            self._body_start = False
            if buf.startswith(dash, pos):
                return self._end_part(pos + len(dash), events)
        delim = self._delim
        found = buf.find(delim, pos)
        if found >= 0:
            if found > pos:
                events.append(PartData(buf[pos:found]))
            return self._end_part(found + len(delim), events)
        # Emit everything that cannot be the start of a delimiter.
        size = len(buf)
        cut = size - _partial_suffix(buf, max(pos, size - len(delim) + 1), delim)
        if cut > pos:
            events.append(PartData(buf[pos:cut]))
        return cut

    def _end_part(self, pos: int, events: list[Event]) -> int:
        events.append(_PART_END)
        self._opening = False
        self._state = _DELIMITER
        return pos
