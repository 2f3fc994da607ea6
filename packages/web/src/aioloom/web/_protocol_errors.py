"""Failed requests on a server connection: what is answered and what is logged.

Functions of :class:`~aioloom.web.RequestHandler` for the cold paths of its request loop:

* a request the parser rejects is queued as an :class:`~aioloom.web._errors.ErrInfo`
  and answered in order with the error's status (400, 413, 431...) and
  ``Connection: close``; an error inside a body fails that body's reads instead;
* a handler that raises gets 504 (a timeout), 400 (a broken request body) or 500, on a
  fresh writer (a head it prepared but never flushed is dropped);
* each failure is logged once on the protocol's logger: 5xx with the traceback, bad
  requests as warnings, and a bad method on a connection's first request (usually TLS
  or another protocol sent to an HTTP port) only at debug level.

The pages themselves are built by :mod:`._errors`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aioloom.http._exceptions import BadHttpMethod, HttpProcessingError
from aioloom.http.aio._streams import EMPTY_PAYLOAD
from aioloom.http.aio._writer import StreamWriter

from ._errors import ErrInfo
from ._exceptions import HTTPException
from ._protocol_closing import close_lingering
from ._request_body import RequestPayloadError
from ._response import Response

if TYPE_CHECKING:
    from ._protocol import RequestHandler
    from ._request import BaseRequest
    from ._stream_response import StreamResponse

__all__ = (
    "answer_error",
    "copy_answer",
    "log_request_error",
    "make_error_handler",
    "on_parse_error",
    "response_for",
)


def copy_answer(exc: HTTPException) -> Response:
    """A fresh response like ``exc``, for an exception instance raised again."""
    return Response(status=exc.status, reason=exc.reason, text=exc.text, headers=exc.headers)


def on_parse_error(handler: RequestHandler, exc: HttpProcessingError) -> None:
    """Answer a malformed request in order (or fail the body being received)."""
    handler._discarding = True
    handler._close = True
    handler._head_timer.clear()
    receiver = handler._receiver
    if receiver.stream is not None:
        # The error is in a body: its handler is told through its read call.
        error = RequestPayloadError(f"Bad request body: {exc.message}")
        error.__cause__ = exc
        receiver.fail(error)
    else:
        status = exc.code if 400 <= exc.code < 600 else 400
        handler._messages.append((ErrInfo(status, exc, exc.message), EMPTY_PAYLOAD))
    if handler._task is None:
        if handler._messages:
            handler._start_next()
        else:
            close_lingering(handler)


def make_error_handler(
    handler: RequestHandler, err_info: ErrInfo
) -> Callable[[BaseRequest], Awaitable[StreamResponse]]:
    """The request handler that answers a request the parser rejected."""

    async def answer(request: BaseRequest) -> StreamResponse:
        return handler.handle_error(request, err_info.status, err_info.exc, err_info.message)

    return answer


def response_for(handler: RequestHandler, request: BaseRequest, exc: Exception) -> StreamResponse:
    """The answer for a handler that raised ``exc`` (not an HTTPException)."""
    if isinstance(exc, asyncio.TimeoutError):
        handler.log_debug("Request handler timed out.", exc_info=exc)
        return answer_error(handler, request, 504)
    if isinstance(exc, RequestPayloadError):
        return answer_error(handler, request, 400, exc, str(exc))
    return answer_error(handler, request, 500, exc)


def answer_error(
    handler: RequestHandler,
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
    request._payload_writer = StreamWriter(handler, handler._loop)
    return handler.handle_error(request, status, exc, message)


def log_request_error(
    handler: RequestHandler, request: BaseRequest, status: int, exc: BaseException | None
) -> None:
    """Log a failed request once: 5xx as errors, bad requests as warnings."""
    if status >= 500:
        handler.log_exception("Error handling request from %s", request.remote, exc_info=exc)
    elif isinstance(exc, BadHttpMethod) and handler._request_count <= 1:
        # Usually TLS or another protocol sent to an HTTP port: not worth a warning.
        handler.logger.debug("Bad HTTP method from %s: %s", request.remote, exc)
    elif exc is not None:
        handler.logger.warning("Bad request from %s: %r", request.remote, exc)
