"""One pooled HTTP/1.1 client connection: the asyncio protocol and the ``Connection`` handle.

:class:`ResponseHandler` is the connection's :class:`asyncio.Protocol`. It drives the
sans-I/O :class:`~aioloom.http._parser.HttpResponseParser`: heads are queued for
:meth:`ResponseHandler.read_head` (interim 1xx heads too), body bytes go through a
:class:`~._body_sink.BodySink` into the response's :class:`StreamReader`. It decides
whether the connection can serve another request (:attr:`ResponseHandler.should_close`:
only after a complete response that allows persistence, RFC 9112 §9.3) and turns every
failure into the client's typed errors:

* a malformed head: the parser's :class:`HttpProcessingError` (``ClientResponse.start``
  turns it into :class:`ClientResponseError` with the parser's status and message);
* a malformed or truncated body: :class:`ClientPayloadError` on the body stream;
* the server closing first: :class:`ServerDisconnectedError` (:class:`ClientOSError`
  when the socket failed);
* silence longer than ``sock_read``: :class:`SocketTimeoutError`.

After any of them the transport is closed: a connection whose framing is in doubt is never
reused.

:class:`Connection` (in :mod:`._lease`, re-exported here) is what the connector hands
out: it returns the protocol to the pool or closes it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Final

from aioloom.http._codings import SUPPORTED_ENCODINGS, Decompressor
from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._limits import (
    DEFAULT_MAX_FIELD_SIZE,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_LINE_SIZE,
)
from aioloom.http._messages import RawResponseMessage
from aioloom.http._parser import EndOfMessage, HttpResponseParser
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import EMPTY_PAYLOAD, StreamReader

from ._body_sink import BodySink, payload_error
from ._exceptions import (
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from ._lease import Connection  # re-exported: the handle has a module of its own
from ._timeouts import IdleTimer, TimerContext

if TYPE_CHECKING:
    pass

__all__ = ("Connection", "ResponseHandler")

_HEAD: Final = "HEAD"


def _body_until_close(message: RawResponseMessage, method: str) -> bool:
    """True when the body is delimited by the end of the connection (RFC 9112 §6.3 step 8)."""
    if method == _HEAD or message.code in (204, 304) or message.code < 200:
        return False
    return not message.chunked and "Content-Length" not in message.headers


class ResponseHandler(BaseProtocol):
    """The protocol of one client connection (see the module docstring).

    Args:
        loop: the event loop.

    Attributes:
        closed: a future that completes when the connection is lost.
    """

    __slots__ = (
        "_decode",
        "_discard_body",
        "_exception",
        "_head_waiter",
        "_head_chunks",
        "_heads",
        "_idle",
        "_idle_parser",
        "_in_response",
        "_interim",
        "_limits",
        "_method",
        "_parser",
        "_payload",
        "_read_bufsize",
        "_read_until_eof",
        "_sending",
        "_should_close",
        "_sink",
        "_tail",
        "_timer",
        "_upgraded",
        "closed",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.closed: asyncio.Future[None] = loop.create_future()
        self._parser: HttpResponseParser | None = None
        self._idle_parser: HttpResponseParser | None = None
        self._method = ""
        self._should_close = False
        self._upgraded = False
        self._tail = b""
        self._heads: deque[tuple[RawResponseMessage, StreamReader]] = deque()
        self._head_waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._payload: StreamReader | None = None
        self._sink: BodySink | None = None
        self._in_response = False
        self._interim = False
        self._discard_body = False
        self._sending = False
        self._idle: IdleTimer | None = None
        self._timer: TimerContext | None = None
        self._read_until_eof = True
        self._decode = True
        self._read_bufsize = 2**16
        self._limits = (DEFAULT_MAX_LINE_SIZE, DEFAULT_MAX_FIELD_SIZE, DEFAULT_MAX_HEADERS)
        self._head_chunks: list[bytes] = []

    def __repr__(self) -> str:
        state = "closed" if self.transport is None else "open"
        return f"<ResponseHandler {state} should_close={self.should_close}>"

    # -- state ----------------------------------------------------------------------------

    @property
    def should_close(self) -> bool:
        """True when the connection cannot serve another request."""
        payload = self._payload
        return (
            self._should_close
            or self._upgraded
            or self._in_response
            or self._exception is not None
            or (payload is not None and not payload.is_eof())
            or (self._sink is not None and not self._sink.done)
            or bool(self._tail)
        )

    @property
    def upgraded(self) -> bool:
        """True once the connection switched protocols (101, or a CONNECT tunnel)."""
        return self._upgraded

    @property
    def tail(self) -> bytes:
        """Bytes received after the message that switched protocols."""
        return self._tail

    @property
    def exception(self) -> BaseException | None:
        """The error that made the connection unusable, if any."""
        return self._exception

    def is_connected(self) -> bool:
        """True while the transport is open."""
        transport = self.transport
        return transport is not None and not transport.is_closing()

    def force_close(self) -> None:
        """Mark the connection as not reusable."""
        self._should_close = True

    def close(self) -> None:
        """Close the transport (the connection is lost afterwards)."""
        self._should_close = True
        transport = self.transport
        if transport is not None:
            transport.close()

    def abort(self) -> None:
        """Abort the transport without flushing its buffer."""
        self._should_close = True
        transport = self.transport
        if transport is not None:
            transport.abort()

    # -- one response ---------------------------------------------------------------------

    def set_response_params(
        self,
        *,
        method: str,
        timer: TimerContext | None = None,
        read_until_eof: bool = True,
        auto_decompress: bool = True,
        read_timeout: float | None = None,
        read_bufsize: int = 2**16,
        timeout_ceil_threshold: float = 5,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        """Prepare for the response to a request being sent now.

        Raises:
            ValueError: a limit is not a positive int.
        """
        self.expect_response(
            method,
            timer,
            read_timeout,
            timeout_ceil_threshold,
            read_until_eof,
            auto_decompress,
            read_bufsize,
            (max_line_size, max_field_size, max_headers),
        )

    def expect_response(
        self,
        method: str,
        timer: TimerContext | None,
        read_timeout: float | None,
        timeout_ceil_threshold: float,
        read_until_eof: bool,
        auto_decompress: bool,
        read_bufsize: int,
        limits: tuple[int, int, int],
    ) -> None:
        """:meth:`set_response_params` with positional arguments (the session's hot path).

        ``limits`` is ``(max_line_size, max_field_size, max_headers)``.

        Raises:
            ValueError: a limit is not a positive int.
        """
        parser = self._idle_parser
        if parser is not None and limits == self._limits:
            # The connection's parser, back at a message boundary after a response that
            # kept the connection open: the next response continues its byte stream.
            self._idle_parser = None
            if method != self._method:
                parser.method = method
        else:
            parser = HttpResponseParser(
                max_line_size=limits[0], max_field_size=limits[1], max_headers=limits[2]
            )
            parser.method = method
            self._limits = limits
        self._parser = parser
        self._head_chunks = []
        self._method = method
        self._timer = timer
        self._read_until_eof = read_until_eof
        self._decode = auto_decompress
        self._read_bufsize = read_bufsize
        self._heads.clear()
        self._payload = None
        self._sink = None
        self._interim = False
        self._discard_body = False
        self._sending = False
        self._in_response = True
        if self._idle is not None:
            self._idle.stop()
        # No sock_read (the default): no timer at all, so every check of it is one test.
        self._idle = (
            IdleTimer(self._loop, read_timeout, timeout_ceil_threshold, self._read_timeout)
            if read_timeout is not None and read_timeout > 0
            else None
        )

    async def read_head(self) -> tuple[RawResponseMessage, StreamReader]:
        """Wait for the next response head (interim 1xx heads included) and its body.

        Raises:
            HttpProcessingError: the head is malformed.
            ServerDisconnectedError, ClientOSError: the connection ended first.
            SocketTimeoutError: nothing arrived within ``sock_read``.
        """
        if self._idle is not None and self._in_response and not self._sending:
            self._idle.start()
        while not self._heads:
            if self._exception is not None:
                raise self._exception
            if self.transport is None:
                raise ServerDisconnectedError()
            waiter = self._head_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._head_waiter = None
        return self._heads.popleft()

    def body_sending(self) -> None:
        """The request body is being written: ``sock_read`` waits until it is sent."""
        self._sending = True
        if self._idle is not None:
            self._idle.stop()

    def body_sent(self) -> None:
        """The request body is written (or abandoned): the server's silence counts now."""
        self._sending = False
        if self._idle is not None and self._in_response and not self._reading_paused:
            self._idle.start()

    def set_exception(self, exc: BaseException, cause: BaseException | None = None) -> None:
        """Fail the response in progress (its head waiter and its body) with ``exc``."""
        self._should_close = True
        if cause is not None and exc.__cause__ is None:
            exc.__cause__ = cause
        if self._exception is None:
            self._exception = exc
        self._stop_idle()
        payload = self._payload
        if payload is not None and not payload.is_eof() and payload.exception() is None:
            payload.set_exception(exc)
        if self._sink is not None:
            self._sink.abort()
        self._wake()

    def _wake(self) -> None:
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _stop_idle(self) -> None:
        if self._idle is not None:
            self._idle.stop()

    def _read_timeout(self) -> None:
        self.set_exception(SocketTimeoutError("Timeout on reading data from socket"))
        transport = self.transport
        if transport is not None:
            transport.close()

    # -- flow control -----------------------------------------------------------------------

    def pause_reading(self) -> None:
        """The body stream is full: stop the socket (and the read timeout with it)."""
        super().pause_reading()
        self._stop_idle()

    def resume_reading(self) -> None:
        """The body stream has room: refill it from the decoder first, then the socket."""
        if not self._reading_paused:
            return
        sink = self._sink
        if sink is not None and sink.backlogged:
            self._reading_paused = False
            sink.pump()
            if self._reading_paused:
                return  # the backlog filled the stream again; the socket stays paused
            self._reading_paused = True  # the socket itself is still paused: resume it
        super().resume_reading()
        if self._idle is not None and self._in_response and not self._sending:
            self._idle.start()

    # -- asyncio callbacks ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._upgraded:
            # The new protocol (WebSocket, tunnel) takes these over with the tail.
            self._tail += data
            return
        parser = self._parser
        if not self._in_response or parser is None:
            # A server may not answer a request that was not sent (RFC 9112 §9.3); a
            # connection with unsolicited bytes on it is unusable.
            self.close()
            return
        if self._idle is not None:
            self._idle.touch()
        if self._payload is None:
            self._head_chunks.append(data)  # kept until the head is out (see _salvage_head)
        try:
            events, upgraded, tail = parser.feed_data(data)
        except HttpProcessingError as exc:
            self._parse_error(exc)
            return
        for event in events:
            if not self._in_response:
                # The response is complete; whatever follows was never asked for.
                self._should_close = True
                break
            # _dispatch, inlined: this loop runs for every event of every response.
            if type(event) is bytes:
                if self._sink is not None and not self._discard_body:
                    self._sink.feed(event)
            elif isinstance(event, EndOfMessage):
                self._end_of_message()
            else:
                assert isinstance(event, RawResponseMessage)
                self._head(event)
        if upgraded:
            self._upgraded = True
            self._tail = tail
            self._in_response = False
            self._stop_idle()
        elif not self._in_response:
            self._parser = None
            try:
                parser.feed_eof()  # raises when bytes of a further "message" are pending
            except HttpProcessingError:
                self._should_close = True
            else:
                if not self._should_close:
                    self._idle_parser = parser  # at a message boundary: the next one reuses it

    def _dispatch(self, event: RawResponseMessage | bytes | EndOfMessage) -> None:
        if type(event) is bytes:
            if self._sink is not None and not self._discard_body:
                self._sink.feed(event)
        elif isinstance(event, EndOfMessage):
            self._end_of_message()
        else:
            assert isinstance(event, RawResponseMessage)
            self._head(event)

    def _head(self, message: RawResponseMessage) -> None:
        if 100 <= message.code < 200 and message.code != 101:
            self._interim = True  # RFC 9110 §15.2: the final response follows
            self._heads.append((message, EMPTY_PAYLOAD))
            self._wake()
            return
        payload = StreamReader(self, self._read_bufsize, timer=self._timer, loop=self._loop)
        decompressor = None
        if self._decode:
            coding = message.compression
            if coding is None and message.headers.get("Content-Encoding", "").lower() == "x-gzip":
                coding = "x-gzip"  # RFC 9110 §8.4.1.3: equivalent to gzip
            if coding in SUPPORTED_ENCODINGS:
                assert coding is not None
                decompressor = Decompressor(coding)
        self._payload = payload
        self._head_chunks = []
        self._sink = BodySink(payload, self, decompressor, self.close)
        if message.should_close:
            self._should_close = True
        if not self._read_until_eof and _body_until_close(message, self._method):
            # aiohttp's read_until_eof=False: such a body is taken as empty.
            self._discard_body = True
            self._should_close = True
            self._sink.finish()
        self._heads.append((message, payload))
        self._wake()

    def _end_of_message(self) -> None:
        if self._interim:
            self._interim = False
            return
        self._in_response = False
        if self._idle is not None:
            self._idle.stop()
        if self._sink is not None:
            self._sink.finish()

    def _parse_error(self, exc: HttpProcessingError) -> None:
        self.close()
        if self._payload is None:
            # The head and a malformed body may arrive in one read: the parser then raises
            # before handing out the head. Recover the head, so the error is reported as
            # the body's (ClientPayloadError) rather than the head's.
            for event in self._salvage_head():
                self._dispatch(event)
        payload = self._payload
        if payload is not None and not payload.is_eof():
            self.set_exception(payload_error(exc), exc)
        else:
            self.set_exception(exc)

    def _salvage_head(self) -> list[RawResponseMessage | bytes | EndOfMessage]:
        """Re-parse the buffered bytes head by head; the events up to the final head."""
        data = b"".join(self._head_chunks)
        self._head_chunks = []
        parser = HttpResponseParser(
            max_line_size=self._limits[0],
            max_field_size=self._limits[1],
            max_headers=self._limits[2],
        )
        parser.method = self._method
        found: list[RawResponseMessage | bytes | EndOfMessage] = []
        pos = 0
        while (end := data.find(b"\r\n\r\n", pos)) >= 0:
            try:
                events, _, _ = parser.feed_data(data[pos : end + 4])
            except HttpProcessingError:
                return []  # the error is in a head after all
            found += events
            if any(type(e) is RawResponseMessage and not 100 <= e.code < 200 for e in events):
                return found
            pos = end + 4
        return []

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self._should_close = True
        self._stop_idle()
        if not self.closed.done():
            self.closed.set_result(None)
        parser = self._parser
        if not self._in_response or parser is None or self._exception is not None:
            self._wake()
            return
        payload = self._payload
        if exc is not None and payload is not None and not payload.is_eof():
            # The connection failed inside the body: even a body delimited by the close
            # (RFC 9112 §6.3 step 8) is incomplete when the close is not a clean one.
            error = ClientPayloadError(f"Response payload is not completed: {exc!r}")
            self.set_exception(error, exc)
            return
        try:
            events = parser.feed_eof()
        except HttpProcessingError as eof_error:
            self._eof_error(eof_error, exc)
            return
        for event in events:
            self._dispatch(event)
        if self._in_response:  # no head yet
            self.set_exception(self._disconnect_error(exc))

    def _eof_error(self, error: HttpProcessingError, exc: BaseException | None) -> None:
        payload = self._payload
        if payload is not None and not payload.is_eof():
            text = f"Response payload is not completed: {error!r}"
            if exc is not None:
                text = f"{text}. {exc!r}"
            self.set_exception(ClientPayloadError(text), error)
        else:
            self.set_exception(self._disconnect_error(exc), error)

    @staticmethod
    def _disconnect_error(exc: BaseException | None) -> BaseException:
        if isinstance(exc, OSError):
            error = ClientOSError(*exc.args)
            error.__cause__ = exc
            return error
        return ServerDisconnectedError()
