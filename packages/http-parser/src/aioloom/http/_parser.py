"""Sans-I/O HTTP/1.1 request and response parsers, with aiohttp's message types.

This module owns the parsers' state machine: where a message head ends, which body reader
follows it (Content-Length, chunked, until close, none), pipelining, protocol switches
(Upgrade, CONNECT, 101), end of input, and the error state.  It does no I/O, owns no
stream, loop or timer and does not decompress: ``feed_data`` takes bytes and returns
events::

    p = HttpRequestParser()
    events, upgraded, tail = p.feed_data(data)
    # events: RawRequestMessage (a head), bytes (a body chunk), EndOfMessage, in order;
    # every message is followed by exactly one EndOfMessage.

The grammar lives in ``_abnf``, start lines in ``_startline``, field sections in
``_headparse``, framing decisions in ``_framing``, chunked bodies in ``_bodyparse`` and
the limits in ``_limits``.  A head seen before (byte for byte, under the same settings)
is not parsed again: a small bounded cache hands back the immutable message parsed the
first time (see ``_HEAD_CACHE_SIZE``).  The hot inner functions (the field splitter and
the start-line parsers) are looked up as class attributes, so a compiled accelerator can
replace them without touching this state machine; it must pass the same tests.
"""

from __future__ import annotations

import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final, Generic, NoReturn, TypeVar

from multidict import CIMultiDictProxy

from ._bodyparse import ChunkedDecoder
from ._exceptions import (
    BadHttpMessage,
    ContentLengthError,
    HttpProcessingError,
    LineTooLong,
    TransferEncodingError,
)
from ._framing import CHUNKED, UNTIL_CLOSE, request_framing, response_framing
from ._headparse import (
    EMPTY_HEADERS,
    FieldSplitter,
    check_field_lines,
    find_section_end,
    parse_fields,
    split_fields_fast,
)
from ._limits import (
    DEFAULT_MAX_FIELD_SIZE,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_LINE_SIZE,
    PartialSectionGuard,
    check_limit,
)
from ._messages import RawHeaders, RawRequestMessage, RawResponseMessage
from ._startline import (
    RequestLineParser,
    StatusLineParser,
    parse_request_line,
    parse_status_line,
)

__all__ = (
    "EndOfMessage",
    "HttpRequestParser",
    "HttpResponseParser",
    "RequestEvent",
    "ResponseEvent",
)


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The end of one message; carries the trailer section of a chunked body.

    Attributes:
        trailers: the trailer fields (RFC 9110 §6.5), empty for most messages.
        raw_trailers: the trailer fields as ``(name, value)`` bytes, OWS stripped.
    """

    trailers: CIMultiDictProxy[str] = field(default_factory=lambda: EMPTY_HEADERS, hash=False)
    raw_trailers: RawHeaders = ()


# The shared instance for the common case: a message without trailers.
_EOM: Final = EndOfMessage()

RequestEvent = RawRequestMessage | bytes | EndOfMessage
ResponseEvent = RawResponseMessage | bytes | EndOfMessage
_MsgT = TypeVar("_MsgT", RawRequestMessage, RawResponseMessage)

# Parser states.
_HEAD: Final = 0  # between messages or inside a head
_LENGTH: Final = 1  # inside a Content-Length body
_CHUNKED: Final = 2  # inside a chunked body
_UNTIL_CLOSE: Final = 3  # inside a body that ends with the connection
_SWITCHED: Final = 4  # the connection switched protocols; the parser is done
_CLOSED: Final = 5  # the last message of the connection is complete
_FAILED: Final = 6  # an error was raised; the parser is unusable

_CR: Final = 13
# RFC 9112 §2.2: empty lines before a start line are skipped, in one regex run.
_EMPTY_LINES_RE: Final = re.compile(rb"(?:\r\n)*")
_EMPTY_LINES_LAX_RE: Final = re.compile(rb"(?:\r?\n)*")


def _skip(pattern: re.Pattern[bytes], data: bytes, pos: int) -> int:
    """Return the end of what ``pattern`` (which matches the empty string) matches at pos."""
    match = pattern.match(data, pos)
    return pos if match is None else match.end()


# NamedTuple construction without the generated __new__'s Python frame (the hot path).
_new_tuple: Final = tuple.__new__

# A parsed head and what it decided: (message, body, switch, should_close).  ``body`` is a
# Content-Length, CHUNKED or UNTIL_CLOSE; 0 with neither flag means "end of message now"
# (also used for an interim 1xx response, which never closes or switches).
_Parsed = tuple[_MsgT, int, bool, bool]
# What the head cache keeps per head: the parser settings it was parsed under (limits,
# lax, and for responses the request method, which decides HEAD/CONNECT framing), then
# the parse result.
_Config = tuple[int, int, int, bool, str | None]
_CacheEntry = tuple[_Config, _MsgT, int, bool, bool]

# Heads repeat byte for byte on a keep-alive connection (the same client sends the same
# fields each time) and across connections (load balancers, health checks, API clients).
# Parsing is a pure function of the head's bytes and the settings above, and every part of
# a parsed head is immutable (str, int, tuples, a read-only CIMultiDictProxy, a yarl.URL),
# so a repeated head reuses the message parsed the first time: one dict lookup instead of
# the start line, fields and framing.  Only heads that parsed without an error are kept, so
# every check has run on those exact bytes.  Bounded: at most _HEAD_CACHE_SIZE heads of at
# most _HEAD_CACHEABLE bytes each (well under 1 MiB with what they parse to); a full cache
# is emptied, so a client sending distinct heads costs one clear() per _HEAD_CACHE_SIZE.
_HEAD_CACHE_SIZE: Final = 128
_HEAD_CACHEABLE: Final = 2048
# Heads carrying credentials or session state are never kept, so that no secret outlives
# its request in the cache and a cache hit cannot tell anyone that a given credential was
# sent recently (RFC 9110 §11.6.2 Authorization, §11.7.2 Proxy-Authorization; RFC 6265
# §5.4 Cookie, §4.1 Set-Cookie).
_CREDENTIAL_FIELDS: Final = ("Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie")


def _carries_credentials(headers: Mapping[str, str]) -> bool:
    """Whether a parsed head has a field the head cache must not keep."""
    return any(name in headers for name in _CREDENTIAL_FIELDS)


_request_heads: dict[bytes, _CacheEntry[RawRequestMessage]] = {}
_response_heads: dict[bytes, _CacheEntry[RawResponseMessage]] = {}


class _HttpParser(ABC, Generic[_MsgT]):
    """The state machine shared by the request and response parsers."""

    __slots__ = (
        "_cache",
        "_close",
        "_config",
        "_decoder",
        "_error",
        "_expected",
        "_guard",
        "_lax",
        "_max_field_size",
        "_max_headers",
        "_max_line_size",
        "_remaining",
        "_state",
        "_switch",
    )

    # The seam for a compiled accelerator: the hot inner function, looked up on the class
    # (its contract: ``_headparse.FieldSplitter``).  The start-line parsers are the other
    # seam (``_parse_request_line`` / ``_parse_status_line`` on the subclasses).
    _split_fields: ClassVar[FieldSplitter] = staticmethod(split_fields_fast)
    _start_line_name: ClassVar[str] = "the start line"

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        lax: bool = False,
        cache: dict[bytes, _CacheEntry[_MsgT]] | None = None,
    ) -> None:
        # One cheap test on the usual path (a parser may be made per message); the
        # ``type() is int`` checks refuse bools too.
        if not (
            type(max_line_size) is int
            and type(max_field_size) is int
            and type(max_headers) is int
            and max_line_size > 0
            and max_field_size > 0
            and max_headers > 0
        ):
            check_limit("max_line_size", max_line_size)
            check_limit("max_field_size", max_field_size)
            check_limit("max_headers", max_headers)
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._lax = lax
        self._state = _HEAD
        self._guard: PartialSectionGuard | None = None
        self._remaining = 0
        self._expected = 0
        self._decoder: ChunkedDecoder | None = None
        self._close = False
        self._switch = False
        self._error: HttpProcessingError | None = None
        # The head cache shared by the parsers of a kind (None: every head is parsed), and
        # the settings a cached head must have been parsed under to be reused.
        self._cache: dict[bytes, _CacheEntry[_MsgT]] | None = cache
        self._config: _Config = (max_line_size, max_field_size, max_headers, lax, None)

    def feed_data(
        self, data: bytes | bytearray | memoryview
    ) -> tuple[list[_MsgT | bytes | EndOfMessage], bool, bytes]:
        """Parse the next bytes of the connection.

        Args:
            data: the bytes received (``bytes``, ``bytearray`` or ``memoryview``).

        Returns:
            ``(events, upgraded, tail)``: the events completed by these bytes, in order
            (a head, non-empty ``bytes`` body chunks, then one :class:`EndOfMessage` per
            message); whether the connection switched protocols (Upgrade, CONNECT, 101);
            and, once it did, every byte after the switching message, untouched
            (``b""`` otherwise).

        Raises:
            HttpProcessingError: a subclass naming what is malformed; its ``code`` is the
                status to answer with.  The parser is unusable afterwards: every later
                call raises the same error again.
            RuntimeError: the connection has already switched protocols.
        """
        if self._state >= _SWITCHED:
            self._check_usable()
            return [], False, b""
        if type(data) is not bytes:
            data = bytes(data)
        events: list[_MsgT | bytes | EndOfMessage] = []
        try:
            tail = self._feed(data, events)
        except HttpProcessingError as exc:
            self._fail(exc)
        return events, self._state == _SWITCHED, tail

    def feed_eof(self) -> list[_MsgT | bytes | EndOfMessage]:
        """Tell the parser that the connection's input has ended.

        Returns:
            ``[EndOfMessage]`` when this ends a read-until-close response body; ``[]``
            between messages.

        Raises:
            ContentLengthError: the body is shorter than its Content-Length.
            TransferEncodingError: the chunked body is incomplete.
            BadHttpMessage: the input ended inside a message head.
        """
        state = self._state
        if state >= _SWITCHED:
            if state == _FAILED:
                self._check_usable()
            return []
        try:
            if state == _UNTIL_CLOSE:
                self._state = _CLOSED
                return [_EOM]
            if state == _LENGTH:
                received = self._expected - self._remaining
                raise ContentLengthError(
                    "Not enough data to satisfy content length header "
                    f"(received {received} of {self._expected} bytes)."
                )
            if state == _CHUNKED:
                raise TransferEncodingError("Not enough data to satisfy transfer length header.")
            if self._guard is not None and self._guard.holds_data():
                raise BadHttpMessage("Incomplete message: the input ended inside its head")
        except HttpProcessingError as exc:
            self._fail(exc)
        return []

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error.with_traceback(None)
        if self._state == _SWITCHED:
            raise RuntimeError(
                "the connection switched protocols; give its bytes to the new protocol"
            )

    def _fail(self, exc: HttpProcessingError) -> NoReturn:
        self._state = _FAILED
        self._error = exc
        self._guard = None
        self._decoder = None
        raise exc

    def _feed(self, data: bytes, events: list[_MsgT | bytes | EndOfMessage]) -> bytes:
        """Run the state machine over ``data``; return the tail after a protocol switch."""
        pos = 0
        if self._guard is not None:
            pos = self._resume_head(data, 0, events)
            if pos < 0:
                return b""
        size = len(data)
        while pos < size:
            state = self._state
            if state == _HEAD:
                pos = self._head(data, pos, events)
                if pos < 0:
                    break
            elif state == _LENGTH:
                remaining = self._remaining
                if size - pos < remaining:
                    events.append(data[pos:] if pos else data)
                    self._remaining = remaining - (size - pos)
                    break
                events.append(data[pos : pos + remaining] if pos or remaining < size else data)
                pos += remaining
                self._remaining = 0
                self._end_message(events, _EOM)
            elif state == _CHUNKED:
                decoder = self._decoder
                assert decoder is not None
                pos = decoder.feed(data, pos, events.append)
                if pos < 0:
                    break
                self._decoder = None
                eom = _EOM
                if decoder.raw_trailers:
                    eom = EndOfMessage(decoder.trailers, decoder.raw_trailers)
                self._end_message(events, eom)
            elif state == _UNTIL_CLOSE:
                events.append(data[pos:] if pos else data)
                break
            elif state == _SWITCHED:
                return data[pos:]
            else:  # _CLOSED: RFC 9112 §9.6, nothing after the last message is processed
                break
        return b""

    def _head(self, data: bytes, pos: int, events: list[_MsgT | bytes | EndOfMessage]) -> int:
        """Parse the head at ``pos``; its end, or -1 when it is incomplete (bytes kept)."""
        # RFC 9112 §2.2: ignore empty lines received before the start line.
        if self._lax:
            if data.startswith(b"\n", pos) or data.startswith(b"\r\n", pos):
                pos = _skip(_EMPTY_LINES_LAX_RE, data, pos)
            after, end = find_section_end(data, pos, lax=True)
        else:
            if data.startswith(b"\r\n", pos):
                pos = _skip(_EMPTY_LINES_RE, data, pos)
            # find_section_end(), inlined: this is the hot path.
            end = data.find(b"\r\n\r\n", pos)
            if end >= 0:
                after = end + 2
                end += 4
        if end < 0:
            if pos == len(data):
                return pos
            self._guard = PartialSectionGuard(
                max_line_size=self._max_line_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                lax=self._lax,
                has_start_line=True,
            )
            return self._resume_head(data, pos, events)
        self._emit_head(data, pos, after, end, events)
        return end

    def _resume_head(
        self, data: bytes, pos: int, events: list[_MsgT | bytes | EndOfMessage]
    ) -> int:
        """Add ``data[pos:]`` to a pending head; its end in ``data`` once complete, or -1."""
        guard = self._guard
        assert guard is not None
        end = guard.feed(data, pos)
        if end < 0:
            return -1
        head = bytes(memoryview(guard.buf)[:end])
        rest = len(guard.buf) - end
        self._guard = None
        after, _ = find_section_end(head, 0, lax=self._lax)
        self._emit_head(head, 0, after, end, events)
        return len(data) - rest

    def _emit_head(
        self,
        data: bytes,
        start: int,
        after: int,
        end: int,
        events: list[_MsgT | bytes | EndOfMessage],
    ) -> None:
        """Emit the head ``data[start:end]`` (parsed, or reused from the cache); set the body."""
        cache = self._cache
        if cache is not None and end - start <= _HEAD_CACHEABLE:
            key = data[start:end]
            entry = cache.get(key)
            if entry is not None and entry[0] == self._config:
                _, message, body, switch, close = entry
            else:
                message, body, switch, close = self._message(data, start, after)
                if not _carries_credentials(message.headers):
                    if len(cache) >= _HEAD_CACHE_SIZE:
                        cache.clear()
                    cache[key] = (self._config, message, body, switch, close)
        else:
            message, body, switch, close = self._message(data, start, after)
        events.append(message)
        if body or switch or close:
            self._close = close
            self._switch = switch
            self._set_body(body, events)
        else:
            events.append(_EOM)

    def _start_line(self, data: bytes, start: int, after: int) -> tuple[bytes, int]:
        """Cut the start line at ``start``; return it and the index of the first field.

        Raises:
            LineTooLong: the line exceeds ``max_line_size`` (400).
            BadHttpMessage: it ends with a bare LF in strict mode.
        """
        lf = data.find(b"\n", start, after)
        end = lf - 1 if lf > start and data[lf - 1] == _CR else lf
        if end - start > self._max_line_size:
            raise LineTooLong(self._start_line_name, self._max_line_size, end - start)
        if end == lf and not self._lax:
            raise BadHttpMessage("Bad line ending, expected CRLF")
        return data[start:end], lf + 1

    def _check_fields_structure(self, data: bytes, first: int, after: int) -> None:
        """Raise a structural error of the field lines, if any (before start-line errors)."""
        check_field_lines(
            data[first:after],
            lax=self._lax,
            max_field_size=self._max_field_size,
            max_headers=self._max_headers,
        )

    def _set_body(self, body: int, events: list[_MsgT | bytes | EndOfMessage]) -> None:
        """Enter the body reader for ``body`` (a length, CHUNKED or UNTIL_CLOSE)."""
        if body == 0:
            self._end_message(events, _EOM)
        elif body > 0:
            self._state = _LENGTH
            self._remaining = self._expected = body
        elif body == CHUNKED:
            self._state = _CHUNKED
            self._decoder = ChunkedDecoder(
                lax=self._lax,
                max_line_size=self._max_line_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
            )
        else:
            assert body == UNTIL_CLOSE
            self._state = _UNTIL_CLOSE

    def _end_message(self, events: list[_MsgT | bytes | EndOfMessage], eom: EndOfMessage) -> None:
        events.append(eom)
        if self._switch:
            self._state = _SWITCHED
        elif self._close:
            self._state = _CLOSED
        else:
            self._state = _HEAD

    @abstractmethod
    def _message(self, data: bytes, start: int, after: int) -> _Parsed[_MsgT]:
        """Parse the head ``data[start:after]`` (without its empty line) and its framing."""


class HttpRequestParser(_HttpParser[RawRequestMessage]):
    """Parse the requests of one HTTP/1.1 server connection (always strict).

    Args:
        max_line_size: limit of the request line (LineTooLong, 400).
        max_field_size: limit of one header or trailer field (LineTooLong, 431).
        max_headers: limit of the fields in a section (TooManyHeaders, 431).

    A request switches protocols (``upgraded`` is True, the rest of the input is the
    ``tail``) after a CONNECT, or an ``Upgrade: websocket`` (or ``tcp``) with
    ``Connection: upgrade`` -- once its body, if it declared one, has been read.  After a
    request that closes the connection (``should_close``), further bytes are ignored.
    """

    __slots__ = ()
    _start_line_name = "the request line"
    _parse_request_line: ClassVar[RequestLineParser] = staticmethod(parse_request_line)

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        super().__init__(
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            lax=False,
            cache=_request_heads,
        )

    def _message(self, data: bytes, start: int, after: int) -> _Parsed[RawRequestMessage]:
        line, first = self._start_line(data, start, after)
        try:
            method, path, version, url = self._parse_request_line(line)
        except HttpProcessingError:
            self._check_fields_structure(data, first, after)
            raise
        headers, raw_headers = parse_fields(
            data,
            first,
            after,
            lax=False,
            max_field_size=self._max_field_size,
            max_headers=self._max_headers,
            splitter=self._split_fields,
        )
        should_close, compression, upgrade, chunked, body, switch = request_framing(
            headers, version, method
        )
        head = (method, path, version, headers, raw_headers)
        framing = (should_close, compression, upgrade, chunked)
        message: RawRequestMessage = _new_tuple(RawRequestMessage, (*head, *framing, url))
        return message, body, switch, should_close


class HttpResponseParser(_HttpParser[RawResponseMessage]):
    """Parse the responses of one HTTP/1.1 client connection.

    Args:
        max_line_size: limit of the status line (LineTooLong, 400).
        max_field_size: limit of one header or trailer field (LineTooLong, 431).
        max_headers: limit of the fields in a section (TooManyHeaders, 431).
        lax: accept what real servers send and aiohttp's client accepts (see
            ``_headparse``, ``_startline``, ``_bodyparse``); None (the default) means lax
            unless Python runs in development mode (``-X dev``), as aiohttp does.

    Set :attr:`method` to the method of the request each response answers: HEAD responses
    have no body, a 2xx to CONNECT opens a tunnel (``upgraded``).  A 101 switches
    protocols; other 1xx responses are emitted (head and EndOfMessage) and parsing goes on
    with the final response.  A response without Content-Length or chunked framing is read
    until :meth:`feed_eof` (``should_close`` is True).

    Lax mode accepts what real servers send and aiohttp's client accepts (its pure-Python
    parser's lax mode and the llhttp lenient flags it sets: headers, optional CR before LF,
    spaces after the chunk size):

    - LF without CR ending any line of the head, the chunk framing and the trailers;
    - obs-fold continuation lines, unfolded to one SP (RFC 9112 §5.2 allows it here);
    - any CTL except NUL, CR and LF inside field values;
    - repeated singleton fields (Content-Type, Server...), and a repeated Content-Length
      whose values are all equal (RFC 9110 §8.6);
    - runs of SP/HTAB between the parts of the status line, and any byte but NUL, CR and
      LF in the reason phrase;
    - blanks around the chunk size, and after well-formed chunk extensions;
    - a Transfer-Encoding list that is not well formed (its final coding still decides).

    Never accepted, lax or not: Content-Length together with Transfer-Encoding, differing
    or malformed Content-Length values, whitespace before a field's colon, NUL/CR/LF in
    values, invalid field names, malformed chunk sizes or extensions.
    """

    __slots__ = ("_method",)
    _start_line_name = "the status line"
    _parse_status_line: ClassVar[StatusLineParser] = staticmethod(parse_status_line)

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        lax: bool | None = None,
    ) -> None:
        super().__init__(
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            lax=not sys.flags.dev_mode if lax is None else lax,
            cache=_response_heads,
        )
        self._method: str | None = None

    @property
    def method(self) -> str | None:
        """The method of the request the next response answers (None: unknown, as GET)."""
        return self._method

    @method.setter
    def method(self, value: str | None) -> None:
        self._method = value
        # The framing of a response depends on the method: part of the head cache's key.
        self._config = (*self._config[:4], value)

    def _message(self, data: bytes, start: int, after: int) -> _Parsed[RawResponseMessage]:
        line, first = self._start_line(data, start, after)
        try:
            version, code, reason = self._parse_status_line(line, lax=self._lax)
        except HttpProcessingError:
            self._check_fields_structure(data, first, after)
            raise
        headers, raw_headers = parse_fields(
            data,
            first,
            after,
            lax=self._lax,
            max_field_size=self._max_field_size,
            max_headers=self._max_headers,
            splitter=self._split_fields,
        )
        should_close, compression, upgrade, chunked, body, switch = response_framing(
            headers, version, code, self._method, lax=self._lax
        )
        head = (version, code, reason, headers, raw_headers)
        framing = (should_close, compression, upgrade, chunked)
        message: RawResponseMessage = _new_tuple(RawResponseMessage, head + framing)
        if code < 200 and not switch:
            # RFC 9110 §15.2: an interim response (no body, never closes); the final
            # response follows.
            return message, 0, False, False
        return message, body, switch, should_close
