"""The asyncio side of the scanner: events pulled from a byte stream, one part at a time.

:class:`EventFeed` reads a body stream (any object with aiohttp's ``async read(n)``, such as
:class:`aioloom.http.aio.StreamReader`) in bounded pieces, pushes them through a
:class:`~aioloom.multipart._parser.MultipartScanner` and hands the events out one by one.
:class:`PartStream` is the raw content of the current part as a byte stream: a
:class:`~aioloom.multipart.aio.BodyPartReader` reads it, and so does a nested
:class:`~aioloom.multipart.aio.MultipartReader` (whose own scanner then parses the inner
body). Memory stays bounded by one read of the underlying stream plus the scanner's
held-back bytes, whatever the size of a part.
"""

from __future__ import annotations

import collections
import re
from typing import Final, Protocol

from aioloom.http import LineTooLong
from aioloom.multipart._exceptions import MultipartError
from aioloom.multipart._parser import Done, Event, MultipartScanner, PartData, PartEnd

__all__ = ("FEED_READ_SIZE", "READ_SIZE", "ByteSource", "EventFeed", "PartStream")

# Bytes asked of the underlying stream at a time: one socket read's worth (asyncio receives
# up to 256 KiB at a time, and aiohttp 3.14's body streams buffer that much), so a read
# takes a whole received chunk without slicing it, and the scanner and the stream run
# once per 256 KiB instead of once per 64 KiB (16% less CPU on this read path).
FEED_READ_SIZE: Final = 2**18
# The pieces BodyPartReader reads a part in for read() and iter_decoded().
READ_SIZE: Final = 2**16
# The longest line BodyPartReader.readline() returns: the high-water mark of a default
# StreamReader, which is where aiohttp's own readline stops with LineTooLong.
MAX_LINE_SIZE: Final = 2**17
_DONE: Final = Done()
# RFC 2045 §6.8: base64 decoders ignore line breaks and white space. _BASE64_TAIL[n] matches
# through the n-th significant character.
_BASE64_IGNORED: Final = b" \t\r\n"
_BASE64_TAIL: Final = {n: re.compile(rb"(?:[ \t\r\n]*[^ \t\r\n]){%d}" % n) for n in (1, 2, 3)}


class ByteSource(Protocol):
    """What the readers read a body from: ``read(n)`` returns up to *n* bytes, b"" at EOF."""

    async def read(self, n: int = -1) -> bytes: ...


class EventFeed:
    """Scanner events of one multipart body, read on demand from ``content``.

    Args:
        content: the body stream.
        scanner: the scanner for the body's boundary.
        read_size: the most bytes read from ``content`` at a time (memory stays bounded
            by about this much plus the scanner's held-back bytes).
    """

    __slots__ = ("_content", "_events", "_read_size", "_scanner")

    def __init__(
        self, content: ByteSource, scanner: MultipartScanner, read_size: int = FEED_READ_SIZE
    ) -> None:
        self._content = content
        self._scanner = scanner
        self._read_size = read_size
        self._events: collections.deque[Event] = collections.deque()

    async def next(self) -> Event:
        """Return the next event, reading the stream as needed.

        After :class:`Done` it keeps returning :class:`Done` without reading further (the
        epilogue is left unread).

        Raises:
            MultipartError: the body is malformed or truncated.
        """
        events = self._events
        while not events:
            if self._scanner.done:
                return _DONE
            data = await self._content.read(self._read_size)
            if data:
                events.extend(self._scanner.feed(data))
            else:
                events.extend(self._scanner.feed_eof())
        return events.popleft()

    def peek(self) -> Event | None:
        """The next event if it is already scanned, without reading."""
        return self._events[0] if self._events else None

    def pop(self) -> Event:
        """Remove and return the event :meth:`peek` returned."""
        return self._events.popleft()


class PartStream:
    """The raw content of the current part, read as a byte stream from an :class:`EventFeed`.

    ``read(n)`` returns up to *n* bytes of content and ``b""`` once the part's closing
    delimiter has been seen; the end-of-part event is consumed here, so the owner of the
    feed finds the next part's start (or the end) as the next event.
    """

    __slots__ = ("_buf", "_ended", "_feed", "_offset")

    def __init__(self, feed: EventFeed) -> None:
        self._feed = feed
        self._buf = b""  # the data event being read
        self._offset = 0  # bytes of _buf already returned
        self._ended = False

    def at_eof(self) -> bool:
        """True when every byte of the part has been returned (checked without waiting)."""
        if self._offset < len(self._buf):
            return False
        if not self._ended and isinstance(self._feed.peek(), PartEnd):
            self._feed.pop()
            self._ended = True
        return self._ended

    async def _fill(self) -> bool:
        """Make unread data available; False at the end of the part."""
        while self._offset >= len(self._buf):
            if self._ended:
                return False
            event = await self._feed.next()
            if isinstance(event, PartData):
                self._buf, self._offset = event.data, 0
            elif isinstance(event, PartEnd):
                self._ended = True
                self._buf, self._offset = b"", 0
            else:  # PartStart or Done cannot come before the PartEnd of this part
                raise MultipartError(f"Unexpected {type(event).__name__} inside a part")
        return True

    def _take(self, n: int) -> bytes:
        buf, start = self._buf, self._offset
        end = len(buf) if n < 0 else min(len(buf), start + n)
        self._offset = end
        return buf if start == 0 and end == len(buf) else buf[start:end]

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (``-1``: up to the end of the part); b"" at the end."""
        if n == 0:
            return b""
        if n > 0:
            return self._take(n) if await self._fill() else b""
        pieces: list[bytes] = []
        while await self._fill():
            pieces.append(self._take(-1))
        return b"".join(pieces)

    async def read_base64_tail(self, missing: int, limit: int) -> bytes:
        """Read through the next ``missing`` (1 to 3) significant base64 characters.

        White space is skipped over at C speed, and at most ``limit`` bytes are read, so a
        part padded with endless white space cannot hold a chunk open.

        Returns:
            The bytes read; fewer significant characters at the end of the part or limit.
        """
        pieces: list[bytes] = []
        taken = 0
        while missing and taken < limit and await self._fill():
            buf, start = self._buf, self._offset
            end = min(len(buf), start + limit - taken)
            match = _BASE64_TAIL[missing].match(buf, start, end)
            if match is not None:
                end, missing = match.end(), 0
            piece = self._take(end - start)
            if missing:  # no match: fewer than `missing` significant characters here
                missing -= len(piece.translate(None, _BASE64_IGNORED))
            pieces.append(piece)
            taken += len(piece)
        return b"".join(pieces)

    async def readline(self, limit: int = MAX_LINE_SIZE) -> bytes:
        """Read one line, its LF included (the last line of the part has none).

        Raises:
            LineTooLong: the line is longer than ``limit`` bytes.
        """
        pieces: list[bytes] = []
        size = 0
        while await self._fill():
            newline = self._buf.find(b"\n", self._offset)
            count = -1 if newline < 0 else newline + 1 - self._offset
            piece = self._take(count)
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                raise LineTooLong("a multipart part line", limit, size)
            if newline >= 0:
                break
        return b"".join(pieces)

    async def skip(self) -> None:
        """Discard the rest of the part."""
        self._buf, self._offset = b"", 0
        while not self._ended:
            event = await self._feed.next()
            if isinstance(event, PartEnd):
                self._ended = True
            elif not isinstance(event, PartData):
                raise MultipartError(f"Unexpected {type(event).__name__} inside a part")
