"""Putting a :class:`ClientRequest` on a :class:`Connection`.

:func:`send_request` serialises the head (which refuses CR, LF or NUL anywhere in it before
a byte is written), then writes the body. A small in-memory body is written at once,
together with the head in one transport write; anything else (streams, files, large
bodies, ``Expect: 100-continue``) is written by a task, so that the response can be read
while the body is still going out (a server may answer early, RFC 9112 §9.5) and the
writer never deadlocks against a server that stopped reading.

A body that could not be written completely leaves the connection unusable: the protocol
is marked to close, and a write error reaches the response as :class:`ClientOSError` or
:class:`ClientConnectionError`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from aioloom.http import hdrs
from aioloom.http._messages import HttpVersion10, HttpVersion11
from aioloom.http.aio._payload import BytesPayload, Payload
from aioloom.http.aio._writer import StreamWriter

from ._exceptions import ClientConnectionError, ClientOSError
from ._response import ClientResponse
from ._tracer import NO_TRACER, _Tracer

if TYPE_CHECKING:
    from ._connection import Connection, ResponseHandler
    from ._request import ClientRequest
    from ._timeouts import TimerContext
    from ._upload import UploadTracker

__all__ = ("send_request",)

# A bytes body up to this size is written inline with the head: it fits below the
# transport's high-water mark (64 KiB), so the write can never wait for the peer.
_INLINE_BODY_MAX: Final = 2**16


def _connection_header(req: ClientRequest, force_close: bool) -> None:
    """Ask for the persistence the connector wants (RFC 9112 §9.3)."""
    if hdrs.CONNECTION in req.headers:
        return
    if force_close:
        if req.version == HttpVersion11:
            req.headers[hdrs.CONNECTION] = "close"
    elif req.version == HttpVersion10:
        req.headers[hdrs.CONNECTION] = "keep-alive"


def _make_writer(
    req: ClientRequest, protocol: ResponseHandler, loop: asyncio.AbstractEventLoop, tracer: _Tracer
) -> StreamWriter:
    on_chunk = on_headers = None
    if tracer.enabled:
        method, url = req.method, req.url

        async def on_chunk(chunk: bytes | bytearray | memoryview) -> None:
            await tracer.send_request_chunk_sent(method, url, bytes(chunk))

        async def on_headers(headers: CIMultiDict[str]) -> None:
            await tracer.send_request_headers(method, url, headers)

    if on_chunk is None:
        writer = StreamWriter(protocol, loop)
    else:
        writer = StreamWriter(protocol, loop, on_chunk_sent=on_chunk, on_headers_sent=on_headers)
    if req.compress:
        writer.enable_compression(req.compress)
    if req.chunked:
        writer.enable_chunking()
    else:
        length = req.headers.get(hdrs.CONTENT_LENGTH)
        if length is not None and length.isdigit():
            writer.length = int(length)  # never more than declared (RFC 9112 §6.2)
    return writer


def _inline_payload(payload: Payload) -> bool:
    """True for a body small enough to go out with the head (see ``_INLINE_BODY_MAX``)."""
    return isinstance(payload, BytesPayload) and (payload.size or 0) <= _INLINE_BODY_MAX


async def send_request(
    req: ClientRequest,
    conn: Connection,
    *,
    loop: asyncio.AbstractEventLoop,
    force_close: bool = False,
    timer: TimerContext | None = None,
    tracer: _Tracer = NO_TRACER,
    session: Any = None,
) -> ClientResponse:
    """Write ``req`` on ``conn`` and return its (not yet started) response.

    Raises:
        ValueError: CR, LF or NUL in the request line or a header field (nothing sent).
        ClientOSError: the connection failed while writing an inline body.
    """
    protocol = conn._protocol
    assert protocol is not None
    if force_close or req.version is not HttpVersion11:
        _connection_header(req, force_close)
    writer = _make_writer(req, protocol, loop, tracer)
    await writer.write_headers(req.status_line(), req.headers)
    upload = req.upload_tracker
    if upload is not None:
        writer.send_headers()  # the head alone, so the tracker counts body bytes only
        upload._attempt_started(writer)
    continue100: asyncio.Future[bool] | None = None
    task: asyncio.Task[None] | None = None
    payload = req._body
    if not req.expect100 and not req.compress and (payload is None or _inline_payload(payload)):
        # Written here, not in a helper coroutine: this is every small request's path.
        try:
            if payload is not None:
                await payload.write_with_length(writer, writer.length)
            await writer.write_eof()
        except OSError as exc:
            protocol.force_close()
            error = _write_error(req, exc)
            if upload is not None:
                upload._attempt_finished(writer, error)
            raise error from exc
        except BaseException:
            if upload is not None:
                upload._attempt_cut(writer)
            raise
        if upload is not None:
            upload._attempt_finished(writer, None)
    else:
        if req.expect100:
            continue100 = loop.create_future()
            writer.send_headers()  # the head goes out alone; the body waits for 100
        task = loop.create_task(_write_body(req, writer, protocol, continue100, upload))
        if upload is not None:
            # A task cancelled before its first step never runs its finally: the attempt
            # still ends (a late event of a finished attempt is ignored by the tracker).
            task.add_done_callback(lambda _: upload._attempt_cut(writer))
    response_class = req.response_class or ClientResponse
    response = response_class(
        req.method,
        req.original_url,
        writer=task,
        continue100=continue100,
        timer=timer,
        request_info=req.request_info,
        traces=tracer,
        loop=loop,
        session=session,
    )
    req.response = response
    return response


def _write_error(req: ClientRequest, exc: OSError) -> BaseException:
    if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
        return exc
    return ClientOSError(exc.errno, f"Can not write request body for {req.url!s}")


async def _write_body(
    req: ClientRequest,
    writer: StreamWriter,
    protocol: ResponseHandler,
    continue100: asyncio.Future[bool] | None,
    upload: UploadTracker | None = None,
) -> None:
    complete = False
    error: BaseException | None = None
    try:
        if continue100 is not None:
            await writer.drain()
            await continue100
        # sock_read measures the server's silence, not the time our own upload takes.
        protocol.body_sending()
        body = req.body
        if isinstance(body, Payload):
            await body.write_with_length(writer, writer.length)
        await writer.write_eof()
        complete = True
    except OSError as exc:
        error = _write_error(req, exc)
        protocol.set_exception(error, exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = ClientConnectionError(
            f"Failed to send bytes into the underlying connection: {exc!r}"
        )
        protocol.set_exception(error, exc)
    finally:
        protocol.body_sent()
        if not complete:
            # The server was promised a body it did not fully get: framing is lost.
            protocol.force_close()
        if upload is not None:
            if complete or error is not None:
                upload._attempt_finished(writer, error)
            else:
                upload._attempt_cut(writer)
