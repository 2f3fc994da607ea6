"""The chunked transfer coding (RFC 9112 §7.1): chunk framing and the trailer section.

This module owns :class:`ChunkedDecoder`, a push decoder that turns chunked framing into
body chunks (slices of the caller's buffer, no re-slicing of the rest) and a trailer
section.  It keeps only what a chunk-size line, a chunk's CRLF or an unfinished trailer
section left over between reads, all bounded by the parser limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from multidict import CIMultiDictProxy

from ._abnf import CHUNK_EXTS_RE, CHUNK_LINE_LAX_RE, CHUNK_SIZE_RE
from ._exceptions import LineTooLong, TransferEncodingError
from ._headparse import EMPTY_HEADERS, find_section_end, parse_fields
from ._limits import PartialSectionGuard
from ._messages import RawHeaders

__all__ = ("ChunkedDecoder",)

_SIZE: Final = 0  # expecting a chunk-size line
_DATA: Final = 1  # inside chunk-data
_DATA_END: Final = 2  # expecting the CRLF after chunk-data
_TRAILERS: Final = 3  # expecting the trailer section (or the final CRLF)

_CR: Final = 13


class ChunkedDecoder:
    """Decode one chunked body (RFC 9112 §7.1), fed in pieces.

    Strict mode follows the RFC: CRLF line endings, ``1*HEXDIG`` sizes (at most 16 digits,
    which caps a size below 2**64), well-formed chunk extensions (tolerated and ignored,
    RFC 9112 §7.1.1), CRLF after each chunk's data, trailer fields as strict as header
    fields.  Lax mode (responses to aiohttp's client) adds llhttp's leniencies: LF without
    CR, blanks around the chunk size, an optional CR after chunk data.

    After :meth:`feed` returns a position, ``trailers`` and ``raw_trailers`` hold the
    trailer section (empty when there was none).
    """

    __slots__ = (
        "_guard",
        "_lax",
        "_max_field_size",
        "_max_headers",
        "_max_line_size",
        "_pending",
        "_remaining",
        "_state",
        "raw_trailers",
        "trailers",
    )

    def __init__(
        self, *, lax: bool, max_line_size: int, max_field_size: int, max_headers: int
    ) -> None:
        self._lax = lax
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._state = _SIZE
        self._remaining = 0
        self._pending = bytearray()
        self._guard: PartialSectionGuard | None = None
        self.trailers: CIMultiDictProxy[str] = EMPTY_HEADERS
        self.raw_trailers: RawHeaders = ()

    def feed(self, data: bytes, pos: int, emit: Callable[[bytes], None]) -> int:
        """Decode ``data[pos:]``, passing each non-empty body chunk to ``emit``.

        Args:
            data: the receive buffer.
            pos: where the chunked body (or its continuation) starts in ``data``.
            emit: called with each body chunk, in order (e.g. ``events.append``).

        Returns:
            The index just after the body's final CRLF when the body ended in ``data``,
            or -1 when all of ``data`` was consumed and more is needed.

        Raises:
            TransferEncodingError: malformed chunk framing (400).
            LineTooLong: an over-long chunk-size line (400) or trailer line (431).
            HttpProcessingError: a malformed trailer section (see ``_headparse``).
        """
        if self._guard is not None:  # a trailer section was pending: the body ends there
            return self._resume_trailers(data, pos)
        if self._pending:
            pos = self._resume(data, pos)
            if pos < 0:
                return -1
        size = len(data)
        state = self._state
        while True:
            if state == _SIZE:
                # The usual line, "HEX CRLF" without extensions, inline; all else (and
                # every error) goes through _size_line.
                lf = data.find(b"\n", pos, pos + 18)
                if (
                    lf > pos + 1
                    and data[lf - 1] == _CR
                    and CHUNK_SIZE_RE.fullmatch(data, pos, lf - 1)
                ):
                    chunk_size = int(data[pos : lf - 1], 16)
                    if chunk_size:
                        self._remaining = chunk_size
                        state = self._state = _DATA
                        pos = lf + 1
                        continue
                pos = self._size_line(data, pos)
                if pos < 0:
                    return -1
                state = self._state
            elif state == _DATA:
                remaining = self._remaining
                if size - pos < remaining:
                    if pos < size:
                        emit(data[pos:] if pos else data)
                        self._remaining = remaining - (size - pos)
                    return -1
                emit(data[pos : pos + remaining])
                pos += remaining
                self._remaining = 0
                state = self._state = _DATA_END
            elif state == _DATA_END:
                # RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                if data.startswith(b"\r\n", pos):
                    pos += 2
                elif self._lax and data.startswith(b"\n", pos):
                    pos += 1
                elif pos == size:
                    return -1
                elif pos + 1 == size and data[pos] == _CR:
                    self._pending += b"\r"
                    return -1
                else:
                    raise TransferEncodingError(
                        "Chunk size mismatch: expected CRLF after chunk data"
                    )
                state = self._state = _SIZE
            else:
                return self._trailers(data, pos)

    def _resume(self, data: bytes, pos: int) -> int:
        """Complete what the previous feed left pending; -1 while still incomplete."""
        pending = self._pending
        if self._state == _DATA_END:  # a CR is pending
            if pos == len(data):
                return -1
            if data[pos] != 10:
                raise TransferEncodingError("Chunk size mismatch: expected CRLF after chunk data")
            pending.clear()
            self._state = _SIZE
            return pos + 1
        # _SIZE: the start of a chunk-size line is pending.
        lf = data.find(b"\n", pos, pos + self._max_line_size + 2)
        if lf < 0:
            pending += data[pos:]
            self._check_open_size_line(pending, 0, len(pending))
            return -1
        line = bytes(pending) + data[pos : lf + 1]
        pending.clear()
        self._size_line(line, 0)  # complete, so it cannot return -1
        return lf + 1

    def _resume_trailers(self, data: bytes, pos: int) -> int:
        """Add ``data[pos:]`` to a pending trailer section; its end in ``data``, or -1."""
        guard = self._guard
        assert guard is not None
        end = guard.feed(data, pos)
        if end < 0:
            return -1
        self._guard = None
        self._trailers(b"\n" + memoryview(guard.buf)[:end], 1)  # complete: cannot return -1
        return len(data) - (len(guard.buf) - end)

    def _check_open_size_line(self, buf: bytes | bytearray, start: int, stop: int) -> None:
        length = stop - start
        if length and buf[stop - 1] == _CR:
            length -= 1
        if length > self._max_line_size:
            raise LineTooLong("a chunk-size line", self._max_line_size, length)

    def _size_line(self, data: bytes, pos: int) -> int:
        """Parse the chunk-size line at ``pos``; its end, or -1 (bytes kept) if incomplete."""
        lf = data.find(b"\n", pos, pos + self._max_line_size + 2)
        if lf < 0:
            self._check_open_size_line(data, pos, len(data))
            self._pending += data[pos:]
            return -1
        end = lf - 1 if lf > pos and data[lf - 1] == _CR else lf
        if end - pos > self._max_line_size:
            raise LineTooLong("a chunk-size line", self._max_line_size, end - pos)
        if end == lf and not self._lax:
            raise TransferEncodingError("Bad chunk-size line ending, expected CRLF")
        chunk_size = self._chunk_size(data, pos, end)
        if chunk_size:
            self._remaining = chunk_size
            self._state = _DATA
        else:
            self._state = _TRAILERS  # RFC 9112 §7.1: last-chunk, then trailer-section CRLF
        return lf + 1

    def _chunk_size(self, data: bytes, pos: int, end: int) -> int:
        """RFC 9112 §7.1: chunk-size [ chunk-ext ], extensions validated then ignored."""
        match = (CHUNK_LINE_LAX_RE if self._lax else CHUNK_SIZE_RE).match(data, pos, end)
        if match is not None:
            ext = match.end()
            if ext == end or CHUNK_EXTS_RE.fullmatch(data, ext, end):
                return int(match.group(1) if self._lax else match.group(), 16)
            if self._lax:
                exts = CHUNK_EXTS_RE.match(data, ext, end)
                if exts is not None and not data[exts.end() : end].strip(b" \t"):
                    return int(match.group(1), 16)
        raise TransferEncodingError(
            "Invalid chunk-size line: " + data[pos:end].decode("latin-1")[:100]
        )

    def _trailers(self, data: bytes, pos: int) -> int:
        """Parse the trailer section at ``pos`` (RFC 9112 §7.1.2); its end, or -1."""
        if data.startswith(b"\r\n", pos):
            return pos + 2
        if self._lax and data.startswith(b"\n", pos):
            return pos + 1
        after, end = find_section_end(data, pos, lax=self._lax)
        if end < 0:
            self._guard = PartialSectionGuard(
                max_line_size=self._max_line_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                lax=self._lax,
                has_start_line=False,
            )
            return self._resume_trailers(data, pos)
        self.trailers, self.raw_trailers = parse_fields(
            data,
            pos,
            after,
            lax=self._lax,
            max_field_size=self._max_field_size,
            max_headers=self._max_headers,
        )
        return end
