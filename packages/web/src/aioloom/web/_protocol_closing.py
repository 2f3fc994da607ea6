"""How a server connection ends: idle and head deadlines, body draining, lingering close.

The cold half of :class:`~aioloom.web.RequestHandler`'s connection management, as
functions of the handler (its request path calls them only when a connection is about to
close or a request leaves input unread). Timers (all ``loop.call_at``, re-armed lazily
through :class:`~aioloom.web._deadline.Deadline` instead of once per request):

* ``keepalive_timeout`` (75 s): an idle keep-alive connection is closed.
* ``request_head_timeout`` (60 s): a request head must arrive in full within this time of
  its first byte (or of the connection's start): a client dripping a head byte by byte
  ("slow loris") is answered 408 and disconnected (RFC 9110 §15.5.9).
* ``lingering_time`` (10 s): after the handler, an unread request body is read and
  dropped for at most this long (and at most 1 MiB) so that the next request on the
  connection is found; otherwise the connection closes. When the server closes with
  input still unread (an error answer, an unread body) it half-closes first and drops
  input for this long, so that the client reads the answer instead of a reset
  (RFC 9112 §9.6).
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Final

from aioloom.http._exceptions import HttpProcessingError
from aioloom.http.aio._streams import StreamReader

from ._request_body import ExpectContinueReader, RequestPayloadError

if TYPE_CHECKING:
    from ._protocol import RequestHandler

__all__ = (
    "arm_head_timer",
    "awaits_continue",
    "close_lingering",
    "fail_pending",
    "finish_connection",
    "half_closed",
    "on_head_timeout",
    "on_keepalive_timeout",
    "settle_body",
)

_REQUEST_TIMEOUT: Final = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)
# At most this much of an unread request body is read and dropped after the handler to
# keep the connection usable; a larger rest is cheaper to drop with the connection.
_MAX_DRAIN: Final = 2**20


def awaits_continue(payload: ExpectContinueReader) -> bool:
    """True when the client waits for ``100 Continue`` that never went out."""
    return not payload.continue_sent and payload.total_bytes == 0 and not payload.is_eof()


def arm_head_timer(handler: RequestHandler, *, started: bool) -> None:
    """Start the request head deadline, unless one runs; ``started``: a head byte came."""
    timer = handler._head_timer
    handler._head_started = started or (handler._head_started and timer.when is not None)
    if timer.when is None:
        timer.set_in(handler._head_timeout)


def on_head_timeout(handler: RequestHandler) -> None:
    """The head deadline passed: answer 408 (if a head was started) and close."""
    transport = handler.transport
    if transport is None:
        return
    if handler._task is not None or handler._messages:
        handler._close = True  # answer what is queued, then stop
        return
    handler.log_debug("Request head not received in %s s: closing", handler._head_timeout)
    if handler._head_started:
        transport.write(_REQUEST_TIMEOUT)  # RFC 9110 §15.5.9
    close_lingering(handler)


def on_keepalive_timeout(handler: RequestHandler) -> None:
    """The idle deadline passed: close the connection unless it turned busy."""
    if handler.transport is None or handler._task is not None or handler._messages:
        return  # busy: the timer is armed again when the connection turns idle
    if handler._head_timer.when is not None:
        return  # a head is arriving: its own deadline applies
    handler.log_debug("Keep-alive timeout: closing idle connection")
    handler.force_close()


def close_lingering(handler: RequestHandler) -> None:
    """Half-close, drop input for ``lingering_time``, then close (RFC 9112 §9.6)."""
    transport = handler.transport
    if transport is None or transport.is_closing():
        return
    handler._discarding = True
    if handler._eof or not handler._lingering_time or not transport.can_write_eof():
        transport.close()
        return
    handler.resume_reading()  # read (and drop) whatever the client still sends
    transport.write_eof()
    if handler._linger_handle is None:
        handler._linger_handle = handler._loop.call_later(
            handler._lingering_time, handler.force_close
        )


async def settle_body(handler: RequestHandler, payload: StreamReader) -> bool:
    """Make sure the next request can be parsed: drain the unread body or give up.

    Returns:
        True when the connection can be kept open.
    """
    if isinstance(payload, ExpectContinueReader) and awaits_continue(payload):
        return False  # the client still waits for 100 Continue: close instead
    if handler._close or handler._upgraded or not handler._lingering_time:
        return False
    loop = handler._loop
    deadline = loop.time() + handler._lingering_time
    drained = 0
    try:
        while not payload.is_eof() and drained <= _MAX_DRAIN:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            drained += len(await asyncio.wait_for(payload.readany(), remaining))
    except (asyncio.TimeoutError, ConnectionError, RequestPayloadError):
        return False
    return payload.is_eof()


def half_closed(handler: RequestHandler) -> bool:
    """The client sent EOF: what ``eof_received`` answers (True keeps the write side open).

    Queued requests are still answered, unless the server's ``handler_cancellation`` is
    on and a handler runs: then the connection closes and the handler is cancelled.
    """
    handler._eof = True
    if handler._discarding:
        return False
    if handler._upgraded:
        if handler._upgrade_parser is not None:
            handler._upgrade_parser.feed_eof()
        return False
    try:
        handler._parser.feed_eof()
    except HttpProcessingError as exc:
        handler._receiver.fail(RequestPayloadError(f"Incomplete request body: {exc.message}"))
    if handler._task is None and not handler._messages:
        return False  # idle: the transport closes itself
    manager = handler._manager
    if manager is not None and manager.handler_cancellation and handler._task is not None:
        # aiohttp's semantics: with handler_cancellation the peer's EOF means the client
        # is gone; closing makes connection_lost() cancel the running handler.
        return False
    handler._close = True
    return True


def fail_pending(
    handler: RequestHandler, exc: BaseException | None, *, cancel_handler: bool
) -> None:
    """The connection is lost: fail body reads and queued requests, end an upgrade.

    Args:
        handler: the connection's protocol.
        exc: the transport's error (None: a clean close, reported as a reset).
        cancel_handler: also cancel the running handler's task.
    """
    error = exc if exc is not None else ConnectionResetError("Connection lost")
    request = handler._current_request
    if request is not None:
        request._cancel(error)
    handler._receiver.fail(error)
    messages = handler._messages
    while messages:
        _, payload = messages.popleft()
        payload.set_exception(error)
    if cancel_handler and handler._task is not None:
        handler._task.cancel()
    parser = handler._upgrade_parser
    if parser is not None:
        parser.feed_eof()
        handler._upgrade_parser = None


async def finish_connection(handler: RequestHandler, timeout: float | None) -> None:
    """Graceful shutdown: let the running handler finish within ``timeout``, then close."""
    handler._close = True
    handler._force_close = True  # no further requests are started
    handler._keepalive_timer.cancel()
    task = handler._task
    if task is not None and not task.done():
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except (asyncio.CancelledError, asyncio.TimeoutError):
            current = asyncio.current_task()
            if sys.version_info >= (3, 11) and current is not None and current.cancelling():
                raise
        if not task.done():
            task.cancel()
    transport = handler.transport
    if transport is not None:
        transport.close()
        handler.transport = None
