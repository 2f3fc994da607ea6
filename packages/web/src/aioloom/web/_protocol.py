"""The server's connection protocol: :class:`RequestHandler` (aiohttp's name).

One instance per TCP connection. It is a driver: the sans-I/O
:class:`~aioloom.http._parser.HttpRequestParser` turns bytes into request heads, body
chunks and end-of-message events; the handler turns those into requests, runs the
application's handler and writes the responses.

Requests are answered strictly in order. Each request runs in its own task (so context
variables set by one handler never leak into the next), and only one runs at a time per
connection; a request that arrives while another is served waits in a queue. When
``max_pipelined_requests`` (32, aiohttp's bound) wait, the transport stops reading until
the queue drains to half (RFC 9112 §9.3.2 pipelining, with bounded memory). The task is
created, not started eagerly: under concurrent load the event loop then runs all parsing,
then all handlers, in batches, which measured faster than eager tasks on 3.12/3.13.
Request bodies are streams fed as bytes arrive; a content-coded body is
decoded on the fly (see :mod:`._request_body`), and ``Expect: 100-continue`` is answered
when the handler first waits for body bytes (``expect_handler``).

Timers (all ``loop.call_at``, re-armed lazily instead of once per request):

* ``keepalive_timeout`` (75 s): an idle keep-alive connection is closed.
* ``request_head_timeout`` (60 s): a request head must arrive in full within this time of
  its first byte (or of the connection's start): a client dripping a head byte by byte
  ("slow loris") is answered 408 and disconnected.
* ``lingering_time`` (10 s): after the handler, an unread request body is read and
  dropped for at most this long (and at most 1 MiB) so that the next request on the
  connection is found; otherwise the connection closes. When the server closes with
  input still unread (an error answer, an unread body) it half-closes first and drops
  input for this long, so that the client reads the answer instead of a reset.

A client that half-closes (EOF) still gets the answers to the requests it sent, unless the
server has ``handler_cancellation`` on and a handler is running: then, as in aiohttp, the
connection closes and the handler is cancelled.

Bad input: a request the parser rejects is answered with the error's status (400, 413,
431...) and ``Connection: close``, and logged once on ``aioloom.web.server``. A failing
handler gives a 500 page (with the traceback only when ``debug`` or the loop's debug mode
is on). Status lines say ``HTTP/1.1`` (``HTTP/1.0`` to 1.0 clients), never another version.

Upgrades (the seam the WebSocket integration uses): when the parser reports an upgrade
(``Upgrade: websocket`` with ``Connection: upgrade``, or CONNECT), the request goes to the
handler as usual. A handler that accepts it calls :meth:`RequestHandler.set_parser` with
an object that has ``feed_data(data) -> (eof: bool, tail: bytes)`` and ``feed_eof()``;
every byte after the request head (the parser's tail, then all later input) goes to it.
When the handler returns, the connection is closed, upgraded or not (the HTTP parser
cannot resume after an upgrade).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import sys
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from aioloom.http import hdrs
from aioloom.http._exceptions import BadHttpMethod, HttpProcessingError
from aioloom.http._messages import RawRequestMessage
from aioloom.http._parser import EndOfMessage, HttpRequestParser
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import EMPTY_PAYLOAD, StreamReader
from aioloom.http.aio._writer import StreamWriter

from ._deadline import Deadline
from ._errors import ERROR_MESSAGE, ErrInfo, error_response
from ._exceptions import HTTPException, HTTPInternalServerError
from ._log import AccessLogger, access_logger, server_logger
from ._request import BaseRequest, default_expect_handler
from ._request_body import (
    BodyReceiver,
    ExpectContinueReader,
    PayloadAccessError,
    RequestPayloadError,
)
from ._response import Response, StreamResponse

if TYPE_CHECKING:
    from ._server import Server

__all__ = ("PayloadAccessError", "RequestHandler", "RequestPayloadError")

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_REQUEST_TIMEOUT: Final = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)
# At most this much of an unread request body is read and dropped after the handler to
# keep the connection usable; a larger rest is cheaper to drop with the connection.
_MAX_DRAIN: Final = 2**20
_PAYLOAD_ACCESS_ERROR: Final = PayloadAccessError()


def _copy_answer(exc: HTTPException) -> Response:
    """A fresh response like ``exc``, for an exception instance raised again."""
    return Response(status=exc.status, reason=exc.reason, text=exc.text, headers=exc.headers)


def _awaits_continue(payload: ExpectContinueReader) -> bool:
    """True when the client waits for ``100 Continue`` that never went out."""
    return not payload.continue_sent and payload.total_bytes == 0 and not payload.is_eof()


class AccessLoggerLike(Protocol):
    """What the protocol needs from an access logger (``aiohttp.abc.AbstractAccessLogger``)."""

    @property
    def enabled(self) -> bool: ...

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None: ...


AccessLoggerClass = Callable[[logging.Logger, str], AccessLoggerLike]
RequestFactory = Callable[
    [RawRequestMessage, StreamReader, "RequestHandler", AbstractStreamWriter, "asyncio.Task[None]"],
    BaseRequest,
]
ExpectHandler = Callable[[BaseRequest], Awaitable[Any]]


class UpgradedParser(Protocol):
    """What :meth:`RequestHandler.set_parser` accepts (e.g. a WebSocket frame reader)."""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> Any: ...


_Message = tuple[RawRequestMessage | ErrInfo, StreamReader]


class RequestHandler(BaseProtocol):
    """The HTTP/1.1 server protocol of one connection.

    Args:
        manager: the :class:`~aioloom.web.Server` that made it.
        loop: the event loop.
        keepalive_timeout: seconds an idle keep-alive connection stays open.
        tcp_keepalive: enable TCP keep-alive probes on the socket.
        logger: the logger for errors (``aioloom.web.server``).
        access_log_class: the access logger class (default
            :class:`~aioloom.web.AccessLogger`), called as ``cls(access_log,
            access_log_format)``; None: no access log.
        access_log: the logger access records go to; None: no access log.
        access_log_format: the access log format.
        debug: show tracebacks on 500 pages (also on when the loop is in debug mode).
        max_line_size: the longest request line (parser limit).
        max_headers: the most header fields (parser limit).
        max_field_size: the longest header field (parser limit).
        lingering_time: seconds spent reading and dropping unread input (see module doc).
        read_bufsize: the buffer limit of each request body stream (256 KiB, aiohttp's
            default: one large socket read fills it without pausing the transport).
        auto_decompress: undo the request body's Content-Encoding.
        timeout_ceil_threshold: accepted for aiohttp compatibility (no effect).
        request_head_timeout: seconds a request head may take to arrive.
        max_pipelined_requests: requests that may wait behind the one being served
            before the connection stops reading.
        expect_handler: answers ``Expect`` when the handler first reads the body
            (default: :func:`~aioloom.web._request.default_expect_handler`).
    """

    def __init__(
        self,
        manager: Server,
        *,
        loop: asyncio.AbstractEventLoop,
        keepalive_timeout: float = 75.0,
        tcp_keepalive: bool = True,
        logger: logging.Logger = server_logger,
        access_log_class: AccessLoggerClass | None = AccessLogger,
        access_log: logging.Logger | None = access_logger,
        access_log_format: str = AccessLogger.LOG_FORMAT,
        debug: bool = False,
        max_line_size: int = 8190,
        max_headers: int = 128,
        max_field_size: int = 8190,
        lingering_time: float = 10.0,
        read_bufsize: int = 2**18,
        auto_decompress: bool = True,
        timeout_ceil_threshold: float = 5,
        request_head_timeout: float = 60.0,
        max_pipelined_requests: int = 32,
        expect_handler: ExpectHandler = default_expect_handler,
    ) -> None:
        super().__init__(loop)
        if max_pipelined_requests < 1:
            raise ValueError("max_pipelined_requests must be at least 1")
        self._manager: Server | None = manager
        self._request_handler = manager.request_handler
        self._request_factory: RequestFactory = manager.request_factory
        self.max_line_size = max_line_size
        self.max_headers = max_headers
        self.max_field_size = max_field_size
        self._parser = HttpRequestParser(
            max_line_size=max_line_size, max_field_size=max_field_size, max_headers=max_headers
        )
        self._keepalive_timeout = keepalive_timeout
        self._tcp_keepalive = tcp_keepalive
        self._lingering_time = float(lingering_time)
        self._read_bufsize = read_bufsize
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._head_timeout = request_head_timeout
        self._max_pipelined = max_pipelined_requests
        self._expect_handler = expect_handler
        self.logger = logger
        self.debug = debug
        self.access_log = access_log
        self.access_logger: AccessLoggerLike | None = None
        if access_log is not None and access_log_class is not None:
            self.access_logger = access_log_class(access_log, access_log_format)
        self._logging_enabled = self.access_logger is not None and self.access_logger.enabled

        self.peername: Any = None
        self.ssl_context: Any = None
        self._messages: collections.deque[_Message] = collections.deque()
        self._receiver = BodyReceiver(
            self, read_bufsize, loop, auto_decompress=auto_decompress
        )  # the request body being received
        self._task: asyncio.Task[None] | None = None
        self._current_request: BaseRequest | None = None
        self._request_count = 0
        self._keepalive = False
        self._close = False  # no more requests: close once the queue is answered
        self._force_close = False
        self._discarding = False  # input is dropped (after a parse error / lingering close)
        self._eof = False
        self._upgraded = False
        self._upgrade_parser: UpgradedParser | None = None
        self._data_received_cb: Callable[[], None] | None = None
        self._message_tail = b""
        self._keepalive_timer = Deadline(loop, self._on_keepalive_timeout)
        self._head_timer = Deadline(loop, self._on_head_timeout)
        self._head_started = False
        self._linger_handle: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        state = "connected" if self.transport is not None else "disconnected"
        return f"<{self.__class__.__name__} {state}>"

    @property
    def keepalive_timeout(self) -> float:
        """Seconds an idle keep-alive connection stays open."""
        return self._keepalive_timeout

    @property
    def sockname(self) -> Any:
        """The local address of the connection, if known."""
        transport = self.transport
        return None if transport is None else transport.get_extra_info("sockname")

    @property
    def request_head_timeout(self) -> float:
        """Seconds a request head may take to arrive."""
        return self._head_timeout

    # -- connection lifecycle -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start serving: remember the peer, register with the server, arm the head timer."""
        super().connection_made(transport)
        self.peername = transport.get_extra_info("peername")
        self.ssl_context = transport.get_extra_info("sslcontext")
        if self._tcp_keepalive:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                except OSError:
                    pass
        assert self._manager is not None and self.transport is not None
        self._manager.connection_made(self, self.transport)
        self._arm_head_timer(started=False)

    def connection_lost(self, exc: BaseException | None) -> None:
        """Stop everything: fail body reads, cancel timers (and the handler, if asked)."""
        manager = self._manager
        if manager is None:
            return
        manager.connection_lost(self, exc)
        self._manager = None
        self._force_close = True
        super().connection_lost(exc)
        self._cancel_timers()
        error = exc if exc is not None else ConnectionResetError("Connection lost")
        if self._current_request is not None:
            self._current_request._cancel(error)
        self._receiver.fail(error)
        while self._messages:
            _, payload = self._messages.popleft()
            payload.set_exception(error)
        if manager.handler_cancellation and self._task is not None:
            self._task.cancel()
        if self._upgrade_parser is not None:
            self._upgrade_parser.feed_eof()
            self._upgrade_parser = None

    def eof_received(self) -> bool:
        """The client half-closed: finish the queued requests, then close.

        With the server's ``handler_cancellation`` on, EOF while a handler runs means the
        client is gone (aiohttp's semantics): the connection closes and the handler is
        cancelled. Off (the default), the handler finishes and its answer is sent.
        """
        self._eof = True
        if self._discarding:
            return False
        if self._upgraded:
            if self._upgrade_parser is not None:
                self._upgrade_parser.feed_eof()
            return False
        try:
            self._parser.feed_eof()
        except HttpProcessingError as exc:
            self._receiver.fail(RequestPayloadError(f"Incomplete request body: {exc.message}"))
        if self._task is None and not self._messages:
            return False  # idle: the transport closes itself
        manager = self._manager
        if manager is not None and manager.handler_cancellation and self._task is not None:
            # aiohttp's semantics: with handler_cancellation the peer's EOF means the client
            # is gone; closing makes connection_lost() cancel the running handler.
            return False
        self._close = True
        return True  # keep the write side open for the pending answers

    def _cancel_timers(self) -> None:
        self._keepalive_timer.cancel()
        self._head_timer.cancel()
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None

    # -- input ----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        """Parse input and queue the requests it completes."""
        if self._discarding or self._force_close:
            return
        if self._upgraded:
            parser = self._upgrade_parser
            if parser is not None and self._data_received_cb is None:
                # the WebSocket hot path: straight to the connection, one call per read
                if parser.feed_data(data)[0]:
                    self.close()
            else:
                self._feed_upgraded(data)
            return
        try:
            events, upgraded, tail = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            self._on_parse_error(exc)
            return
        if events:
            if self._dispatch(events):
                self._head_timer.clear()
        elif self._receiver.stream is None:
            self._arm_head_timer(started=True)  # all of it went into a partial head
        if upgraded:
            self._upgraded = True
            self._message_tail = tail
        if self._messages:
            if self._task is None:
                self._start_next()
            if len(self._messages) >= self._max_pipelined:
                self.pause_reading()

    def _dispatch(self, events: list[Any]) -> bool:
        """Route parser events: heads become queued requests, chunks go to bodies."""
        messages = self._messages
        count = len(events)
        if count == 2:  # the common case: one request without a body
            head = events[0]
            if type(head) is RawRequestMessage and not head.chunked:
                if type(events[1]) is EndOfMessage:
                    self._request_count += 1
                    messages.append((head, EMPTY_PAYLOAD))
                    return True
        elif count == 3:  # the next common case: a request whose body came with its head
            head = events[0]
            body = events[1]
            if type(head) is RawRequestMessage and type(body) is bytes:
                if type(events[2]) is EndOfMessage:
                    self._request_count += 1
                    receiver = self._receiver
                    messages.append((head, receiver.start(head)))
                    receiver.feed(body)
                    receiver.end()
                    return True
        receiver = self._receiver
        got_head = False
        index = 0
        while index < count:
            event = events[index]
            index += 1
            if type(event) is bytes:
                receiver.feed(event)
            elif isinstance(event, EndOfMessage):
                receiver.end()
            else:
                got_head = True
                self._request_count += 1
                if not event.chunked and index < count and isinstance(events[index], EndOfMessage):
                    index += 1  # no body: the shared empty stream
                    messages.append((event, EMPTY_PAYLOAD))
                else:
                    messages.append((event, receiver.start(event)))
        return got_head

    def _on_parse_error(self, exc: HttpProcessingError) -> None:
        """Answer a malformed request in order (or fail the body being received)."""
        self._discarding = True
        self._close = True
        self._head_timer.clear()
        if self._receiver.stream is not None:
            # The error is in a body: its handler is told through its read call.
            error = RequestPayloadError(f"Bad request body: {exc.message}")
            error.__cause__ = exc
            self._receiver.fail(error)
        else:
            status = exc.code if 400 <= exc.code < 600 else 400
            self._messages.append((ErrInfo(status, exc, exc.message), EMPTY_PAYLOAD))
        if self._task is None:
            if self._messages:
                self._start_next()
            else:
                self._close_lingering()

    def _feed_upgraded(self, data: bytes) -> None:
        parser = self._upgrade_parser
        if parser is None:
            self._message_tail += data
            if len(self._message_tail) > self._read_bufsize:
                self.pause_reading()  # nobody took the connection yet
            return
        if self._data_received_cb is not None:
            self._data_received_cb()
        eof, _ = parser.feed_data(data)
        if eof:
            self.close()

    def set_parser(
        self, parser: UpgradedParser, data_received_cb: Callable[[], None] | None = None
    ) -> None:
        """Take over the connection after an upgrade: all further input goes to ``parser``.

        Args:
            parser: receives the bytes after the upgraded request's head, then all input.
            data_received_cb: called before each piece of input is fed (heartbeats).

        Raises:
            RuntimeError: a parser was already set.
        """
        if self._upgrade_parser is not None:
            raise RuntimeError("The connection already has an upgraded parser")
        self._upgraded = True
        self._upgrade_parser = parser
        self._data_received_cb = data_received_cb
        tail, self._message_tail = self._message_tail, b""
        if tail:
            eof, _ = parser.feed_data(tail)
            if eof:
                self.close()
        self.resume_reading()

    # -- flow control -----------------------------------------------------------------------

    def resume_reading(self) -> None:
        """Resume reading, unless the queue of waiting requests is full."""
        if len(self._messages) >= self._max_pipelined:
            return
        super().resume_reading()

    # -- timers -----------------------------------------------------------------------------

    def _arm_head_timer(self, *, started: bool) -> None:
        self._head_started = started or (self._head_started and self._head_timer.when is not None)
        if self._head_timer.when is None:
            self._head_timer.set_in(self._head_timeout)

    def _on_head_timeout(self) -> None:
        if self.transport is None:
            return
        if self._task is not None or self._messages:
            self._close = True  # answer what is queued, then stop
            return
        self.log_debug("Request head not received in %s s: closing", self._head_timeout)
        if self._head_started:
            self.transport.write(_REQUEST_TIMEOUT)  # RFC 9110 §15.5.9
        self._close_lingering()

    def _on_keepalive_timeout(self) -> None:
        if self.transport is None or self._task is not None or self._messages:
            return  # busy: the timer is armed again when the connection turns idle
        if self._head_timer.when is not None:
            return  # a head is arriving: its own deadline applies
        self.log_debug("Keep-alive timeout: closing idle connection")
        self.force_close()

    # -- closing ----------------------------------------------------------------------------

    def keep_alive(self, val: bool) -> None:
        """Set whether the connection stays open after the current response."""
        self._keepalive = val
        self._keepalive_timer.cancel()

    def close(self) -> None:
        """Stop accepting requests; close once the queued ones are answered."""
        self._close = True
        if self._task is None and not self._messages and self.transport is not None:
            self.transport.close()

    def force_close(self) -> None:
        """Close the connection now."""
        self._force_close = True
        self._cancel_timers()
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _close_lingering(self) -> None:
        """Half-close, drop input for ``lingering_time``, then close (RFC 9112 §9.6)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._discarding = True
        if self._eof or not self._lingering_time or not transport.can_write_eof():
            transport.close()
            return
        self.resume_reading()  # read (and drop) whatever the client still sends
        transport.write_eof()
        if self._linger_handle is None:
            self._linger_handle = self._loop.call_later(self._lingering_time, self.force_close)

    # -- 100-continue -----------------------------------------------------------------------

    def send_continue(self, request: BaseRequest) -> None:
        """Send ``100 Continue`` for ``request`` once, before its final head goes out."""
        payload = request.content
        if not isinstance(payload, ExpectContinueReader) or payload.continue_sent:
            return
        payload.expect_request = None
        payload.continue_sent = True
        transport = self.transport
        if request.writer.output_size or transport is None or transport.is_closing():
            return
        transport.write(_CONTINUE)

    # -- serving requests -------------------------------------------------------------------

    def _start_next(self) -> None:
        if self._task is not None or self._force_close or not self._messages:
            return
        # Not an eager task (3.12+): measured ~15% slower under concurrent load, as the
        # loop then no longer runs all parsing, then all handlers, in batches.
        self._task = self._loop.create_task(self._serve_one())

    async def _serve_one(self) -> None:
        """Answer the next queued request, then hand over to the next one."""
        loop = self._loop
        task = self._task  # set by _start_next before this first runs
        assert task is not None
        message, payload = self._messages.popleft()
        if self._reading_paused and len(self._messages) <= self._max_pipelined // 2:
            self.resume_reading()  # resume at half the limit: refill in batches
        writer = StreamWriter(self, loop)
        if isinstance(message, ErrInfo):
            handler = self._make_error_handler(message)
            head = ERROR_MESSAGE
        else:
            handler = self._request_handler
            head = message
        try:
            request = self._request_factory(head, payload, self, writer, task)
        except Exception as exc:
            self.log_exception("Cannot make the request object", exc_info=exc)
            self._task = None
            self.force_close()
            return
        if self._manager is not None:
            self._manager.requests_count += 1
        if payload is not EMPTY_PAYLOAD and isinstance(payload, ExpectContinueReader):
            payload.expect_request = request
            payload.expect_handler = self._expect_handler
        self._current_request = request
        start = loop.time() if self._logging_enabled else None
        keep_alive = False
        try:
            try:
                resp = await handler(request)
            except HTTPException as exc:
                resp = exc if not exc.prepared else _copy_answer(exc)
            except (asyncio.CancelledError, ConnectionError) as exc:
                if isinstance(exc, asyncio.CancelledError) or self.transport is None:
                    raise  # cancelled, or the client is gone: nothing to answer
                resp = self._error_response(request, 500, exc)
            except Exception as exc:
                resp = self._response_for(request, exc)
            else:
                if type(resp) is not Response and getattr(resp, "__http_exception__", False):
                    warnings.warn(
                        "returning HTTPException object is deprecated (#2415) and will be "
                        "removed, please raise the exception instead",
                        DeprecationWarning,
                        stacklevel=1,
                    )
            self._current_request = None
            if type(payload) is ExpectContinueReader and _awaits_continue(payload):
                if isinstance(resp, StreamResponse) and not resp.prepared:
                    resp.force_close()  # the body never comes: say so in the answer
            reset = await self.finish_response(request, resp, start)
            if not reset and self.transport is not None:
                keep_alive = bool(resp.keep_alive)
                if keep_alive and not payload.is_eof():
                    keep_alive = await self._settle_body(payload)
        except asyncio.CancelledError:
            self.log_debug("Ignored premature client disconnection")
            self.force_close()
            raise
        except ConnectionError:
            self.log_debug("Ignored premature client disconnection")
        except Exception as exc:
            self.log_exception("Unhandled exception", exc_info=exc)
            self.force_close()
        finally:
            self._current_request = None
            request._task = None  # type: ignore[assignment]  # break the reference cycle
            if payload is not EMPTY_PAYLOAD:
                if isinstance(payload, ExpectContinueReader):
                    payload.expect_request = None  # it refers back to the request
                payload.set_exception(_PAYLOAD_ACCESS_ERROR)
            self._task = None
        self._after_response(keep_alive)

    def _response_for(self, request: BaseRequest, exc: Exception) -> StreamResponse:
        """The answer for a handler that raised ``exc`` (not an HTTPException)."""
        if isinstance(exc, asyncio.TimeoutError):
            self.log_debug("Request handler timed out.", exc_info=exc)
            return self._error_response(request, 504)
        if isinstance(exc, RequestPayloadError):
            return self._error_response(request, 400, exc, str(exc))
        return self._error_response(request, 500, exc)

    async def _settle_body(self, payload: StreamReader) -> bool:
        """Make sure the next request can be parsed: drain the unread body or give up.

        Returns:
            True when the connection can be kept open.
        """
        if isinstance(payload, ExpectContinueReader) and _awaits_continue(payload):
            return False  # the client still waits for 100 Continue: close instead
        if self._close or self._upgraded or not self._lingering_time:
            return False
        deadline = self._loop.time() + self._lingering_time
        drained = 0
        try:
            while not payload.is_eof() and drained <= _MAX_DRAIN:
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    return False
                drained += len(await asyncio.wait_for(payload.readany(), remaining))
        except (asyncio.TimeoutError, ConnectionError, RequestPayloadError):
            return False
        return payload.is_eof()

    def _after_response(self, keep_alive: bool) -> None:
        if self._force_close or self.transport is None:
            return
        if self._upgraded:
            self.force_close()  # the HTTP parser cannot resume after an upgrade
            return
        if keep_alive:
            if self._messages:
                # Requests already received are answered even when no more are accepted
                # (a half-closed client, a queued error answer, a server shutting down).
                self._start_next()
                return
            if not self._close:
                self._keepalive_timer.set_in(self._keepalive_timeout)
                return
        if (
            self._discarding
            or self._messages
            or (self._receiver.stream is not None and not self._eof)
        ):
            self._close_lingering()  # input is left unread: do not reset the answer
        else:
            self.transport.close()

    def _error_response(
        self,
        request: BaseRequest,
        status: int,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        """The error answer after a failed handler, on a fresh writer.

        Raises:
            ConnectionError: part of another answer is on the wire already.
        """
        if request.writer.output_size > 0:
            raise ConnectionError(
                "Response is sent already, cannot send another response with the error message"
            )
        # A head the failed handler prepared but never flushed is dropped with its writer.
        request._payload_writer = StreamWriter(self, self._loop)
        return self.handle_error(request, status, exc, message)

    async def finish_response(
        self, request: BaseRequest, resp: StreamResponse, start_time: float | None
    ) -> bool:
        """Prepare and finish ``resp``, then log access.

        Returns:
            True when the client disconnected before the response was sent.
        """
        if request._disconnection_waiters or request._post is not None:
            request._finish()
        if type(resp) is not Response and not isinstance(resp, StreamResponse):
            if resp is None:
                self.log_exception("Missing return statement on request handler")
            else:
                self.log_exception(f"Web-handler should return a response instance, got {resp!r}")
            exc = HTTPInternalServerError()
            resp = Response(status=exc.status, reason=exc.reason, text=exc.text)
        try:
            await resp.prepare(request)
            await resp.write_eof()
        except ConnectionError:
            self.log_access(request, resp, start_time)
            return True
        if start_time is not None:
            self.log_access(request, resp, start_time)
        return False

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        """Build the error answer for ``status`` and log the error once.

        The answer closes the connection. A 500 page shows the traceback only in debug
        mode; it is HTML when the client accepts ``text/html``.
        """
        self._log_error(request, status, exc)
        return error_response(
            status,
            exc,
            message,
            debug=self.debug or self._loop.get_debug(),
            accept=request.headers.get(hdrs.ACCEPT, ""),
        )

    def _log_error(self, request: BaseRequest, status: int, exc: BaseException | None) -> None:
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        elif isinstance(exc, BadHttpMethod) and self._request_count <= 1:
            # Usually TLS or another protocol sent to an HTTP port: not worth a warning.
            self.logger.debug("Bad HTTP method from %s: %s", request.remote, exc)
        elif exc is not None:
            self.logger.warning("Bad request from %s: %r", request.remote, exc)

    def _make_error_handler(
        self, err_info: ErrInfo
    ) -> Callable[[BaseRequest], Awaitable[StreamResponse]]:
        async def handler(request: BaseRequest) -> StreamResponse:
            return self.handle_error(request, err_info.status, err_info.exc, err_info.message)

        return handler

    # -- logging -----------------------------------------------------------------------------

    def log_access(
        self, request: BaseRequest, response: StreamResponse, start_time: float | None
    ) -> None:
        """Write the access record, when an access logger is enabled."""
        access_logger = self.access_logger
        if access_logger is not None and start_time is not None:
            access_logger.log(request, response, self._loop.time() - start_time)

    def log_debug(self, *args: Any, **kw: Any) -> None:
        """Log at DEBUG level, only in debug mode."""
        if self.debug or self._loop.get_debug():
            self.logger.debug(*args, **kw)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """Log an error with its traceback."""
        self.logger.exception(*args, **kw)

    # -- shutdown ----------------------------------------------------------------------------

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        """Finish the request in progress (within ``timeout``), then close the connection."""
        self._close = True
        self._force_close = True  # no further requests are started
        self._keepalive_timer.cancel()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except (asyncio.CancelledError, asyncio.TimeoutError):
                current = asyncio.current_task()
                if sys.version_info >= (3, 11) and current is not None and current.cancelling():
                    raise
            if not task.done():
                task.cancel()
        if self.transport is not None:
            self.transport.close()
            self.transport = None
