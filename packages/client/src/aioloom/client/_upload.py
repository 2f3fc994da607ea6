"""Upload progress of one request: :class:`UploadTracker` (aiohttp 3.14's).

A tracker is handed to one request (``session.post(url, data=..., upload_tracker=t)``).
While the request runs, ``bytes_written`` counts the body bytes put on the connection by the
current attempt, and ``upload_complete`` is a future that settles once the request is over
and its last attempt stopped writing:

- ``None`` when the whole body was written;
- the write error (:class:`ClientOSError`, :class:`ClientConnectionError`) when writing it
  failed;
- :class:`UploadAbortedError` when the body was never sent or its writing was cut short
  (the request was cancelled, the response released before the body went out, ...).

An *attempt* is one sending of the request on a connection: the first, the resend on a
fresh connection when a pooled one turned out dead, and each 307/308 redirect, which sends
the body again. ``attempts`` counts them and every attempt starts ``bytes_written`` at 0.

The client drives the tracker through private calls: ``_bind`` when the session takes the
request (a tracker observes one request), ``_attempt_started``, ``_attempt_finished`` and
``_attempt_cut`` from :mod:`._sender` around each body write, and ``_request_finished``
once the request returned its response or raised.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ._exceptions import UploadAbortedError

if TYPE_CHECKING:
    from aioloom.http.aio._writer import StreamWriter

__all__ = ("UploadTracker",)

_NOT_SENT = "The request body was not fully sent"


class UploadTracker:
    """Observes the upload of one request's body.

    Create it inside a running event loop and pass it as ``upload_tracker=`` to one
    request. ``await tracker.upload_complete`` (or poll ``upload_complete.done()``) to learn
    when the body is out; sample ``bytes_written`` for progress.

    Raises:
        RuntimeError: created outside a running event loop.
    """

    __slots__ = (
        "_base",
        "_bound",
        "_count",
        "_error",
        "_final",
        "_finished",
        "_future",
        "_writer",
        "attempts",
    )

    def __init__(self) -> None:
        self._future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.attempts = 0
        self._writer: StreamWriter | None = None
        self._base = 0  # the writer's output_size once the head was out
        self._count = 0  # bytes_written of a finished attempt
        self._finished = False
        self._error: BaseException | None = None
        self._final = False
        self._bound = False

    def __repr__(self) -> str:
        state = "done" if self._future.done() else "pending"
        return (
            f"<UploadTracker {state} attempts={self.attempts} bytes_written={self.bytes_written}>"
        )

    @property
    def bytes_written(self) -> int:
        """Body bytes of the current (or last) attempt that left for the kernel.

        As aiohttp, bytes still queued in the transport's write buffer do not count yet, so
        the figure follows what the socket really took. Bytes are counted as they go on the
        wire: a compressed or chunked body counts its coded size (aiohttp counts payload
        bytes before coding); for a plain body, the common case of a file upload with a
        Content-Length, the two are the same. Once the attempt is over, everything it wrote
        counts.
        """
        writer = self._writer
        if writer is None:
            return self._count
        written = writer.output_size
        transport = writer.transport
        if transport is not None and not transport.is_closing():
            written -= transport.get_write_buffer_size()
        # The head may itself still be queued: that is no body byte sent.
        return max(0, written - self._base)

    @property
    def upload_complete(self) -> asyncio.Future[None]:
        """Settles when the request is over and its body fully sent (or not; see above)."""
        return self._future

    # -- driven by the client ---------------------------------------------------------------

    def _bind(self) -> None:
        """Claim the tracker for a request.

        Raises:
            RuntimeError: the tracker already observes (or observed) another request.
        """
        if self._bound:
            raise RuntimeError("An UploadTracker observes exactly one request")
        self._bound = True

    def _attempt_started(self, writer: StreamWriter) -> None:
        """A new attempt: ``writer`` has sent the head and is about to write the body."""
        self.attempts += 1
        self._writer = writer
        self._base = writer.output_size
        self._count = 0
        self._finished = False
        self._error = None

    def _attempt_finished(self, writer: StreamWriter, error: BaseException | None) -> None:
        """The attempt on ``writer`` stopped writing: complete when ``error`` is None.

        A late event of an earlier attempt (its writer is no longer the current one) is
        ignored, so it can neither change the counters nor settle the future.
        """
        if writer is not self._writer:
            return
        self._count = writer.output_size - self._base
        self._writer = None
        self._finished = error is None
        self._error = error
        if self._final:
            self._settle()

    def _attempt_cut(self, writer: StreamWriter) -> None:
        """The attempt on ``writer`` was cancelled before its body was out."""
        self._attempt_finished(writer, UploadAbortedError(_NOT_SENT))

    def _request_finished(self) -> None:
        """The request returned its response or raised: no further attempt will start."""
        self._final = True
        if self._writer is None:
            self._settle()

    def _settle(self) -> None:
        future = self._future
        if future.done():
            return
        if self._finished:
            future.set_result(None)
            return
        error = self._error
        future.set_exception(error if error is not None else UploadAbortedError(_NOT_SENT))
        future.exception()  # retrieved: polling done() must not log "never retrieved"
