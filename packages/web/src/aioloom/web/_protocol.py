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

Timers (keep-alive, request head deadline, lingering close) and how a connection ends
are in :mod:`._protocol_closing`; the answers and logs of failed requests in
:mod:`._protocol_errors`; the types of the protocol's seams in :mod:`._protocol_types`.

A client that half-closes (EOF) still gets the answers to the requests it sent, unless the
server has ``handler_cancellation`` on and a handler is running: then, as in aiohttp, the
connection closes and the handler is cancelled.

Bad input (a request the parser rejects) is answered with the error's status and
``Connection: close``, a failing handler with a 500 page (see :mod:`._protocol_errors`).
Status lines say ``HTTP/1.1`` (``HTTP/1.0`` to 1.0 clients), never another version.

Upgrades (the seam the WebSocket integration uses: :meth:`RequestHandler.set_parser`) are
described in :mod:`._protocol_upgrade`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import warnings
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from aioloom.http import hdrs
from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._messages import RawRequestMessage
from aioloom.http._parser import EndOfMessage, HttpRequestParser
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import EMPTY_PAYLOAD, StreamReader
from aioloom.http.aio._writer import StreamWriter

from ._deadline import Deadline
from ._errors import ERROR_MESSAGE, ErrInfo, error_response
from ._exceptions import HTTPException, HTTPInternalServerError
from ._expect import default_expect_handler
from ._log import AccessLogger, access_logger, server_logger
from ._protocol_closing import (
    arm_head_timer,
    awaits_continue,
    close_lingering,
    fail_pending,
    finish_connection,
    half_closed,
    on_head_timeout,
    on_keepalive_timeout,
    settle_body,
)
from ._protocol_errors import (
    answer_error,
    copy_answer,
    log_request_error,
    make_error_handler,
    on_parse_error,
    response_for,
)
from ._protocol_types import (
    AccessLoggerClass,
    AccessLoggerLike,
    ExpectHandler,
    RequestFactory,
    UpgradedParser,
)
from ._protocol_upgrade import attach_parser, feed_upgraded
from ._request import BaseRequest
from ._request_body import (
    BodyReceiver,
    ExpectContinueReader,
    PayloadAccessError,
    RequestPayloadError,
)
from ._response import Response, StreamResponse

if TYPE_CHECKING:
    from ._server import Server

# The seam types stay importable from here (the server imports RequestFactory).
__all__ = (
    "AccessLoggerClass",
    "AccessLoggerLike",
    "ExpectHandler",
    "PayloadAccessError",
    "RequestFactory",
    "RequestHandler",
    "RequestPayloadError",
    "UpgradedParser",
)

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_PAYLOAD_ACCESS_ERROR: Final = PayloadAccessError()

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
            (default: :func:`~aioloom.web._expect.default_expect_handler`).
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
        self._keepalive_timer = Deadline(loop, partial(on_keepalive_timeout, self))
        self._head_timer = Deadline(loop, partial(on_head_timeout, self))
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
        arm_head_timer(self, started=False)

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
        fail_pending(self, exc, cancel_handler=manager.handler_cancellation)

    def eof_received(self) -> bool:
        """The client half-closed: finish the queued requests, then close.

        With the server's ``handler_cancellation`` on, EOF while a handler runs means the
        client is gone (aiohttp's semantics): the connection closes and the handler is
        cancelled. Off (the default), the handler finishes and its answer is sent.
        """
        return half_closed(self)

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
                feed_upgraded(self, data)
            return
        try:
            events, upgraded, tail = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            on_parse_error(self, exc)
            return
        if events:
            if self._dispatch(events):
                self._head_timer.clear()
        elif self._receiver.stream is None:
            arm_head_timer(self, started=True)  # all of it went into a partial head
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
        attach_parser(self, parser, data_received_cb)

    # -- flow control -----------------------------------------------------------------------

    def resume_reading(self) -> None:
        """Resume reading, unless the queue of waiting requests is full."""
        if len(self._messages) >= self._max_pipelined:
            return
        super().resume_reading()

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
            handler = make_error_handler(self, message)
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
                resp = exc if not exc.prepared else copy_answer(exc)
            except (asyncio.CancelledError, ConnectionError) as exc:
                if isinstance(exc, asyncio.CancelledError) or self.transport is None:
                    raise  # cancelled, or the client is gone: nothing to answer
                resp = answer_error(self, request, 500, exc)
            except Exception as exc:
                resp = response_for(self, request, exc)
            else:
                if type(resp) is not Response and getattr(resp, "__http_exception__", False):
                    warnings.warn(
                        "returning HTTPException object is deprecated (#2415) and will be "
                        "removed, please raise the exception instead",
                        DeprecationWarning,
                        stacklevel=1,
                    )
            self._current_request = None
            if type(payload) is ExpectContinueReader and awaits_continue(payload):
                if isinstance(resp, StreamResponse) and not resp.prepared:
                    resp.force_close()  # the body never comes: say so in the answer
            reset = await self.finish_response(request, resp, start)
            if not reset and self.transport is not None:
                keep_alive = bool(resp.keep_alive)
                if keep_alive and not payload.is_eof():
                    keep_alive = await settle_body(self, payload)
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
            close_lingering(self)  # input is left unread: do not reset the answer
        else:
            self.transport.close()

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
        log_request_error(self, request, status, exc)
        return error_response(
            status,
            exc,
            message,
            debug=self.debug or self._loop.get_debug(),
            accept=request.headers.get(hdrs.ACCEPT, ""),
        )

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
        await finish_connection(self, timeout)
