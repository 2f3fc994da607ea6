"""Request body streams the server protocol feeds: 100-continue and content decoding.

:class:`BodyReceiver` is the protocol's side: it makes the stream of each request body
the parser announces and routes the body chunks to it. Two additions to
:class:`~aioloom.http.aio.StreamReader` are used only when a request needs them (a plain
body is a plain ``StreamReader``):

* :class:`ExpectContinueReader` is the body of a request with ``Expect`` (RFC 9110
  §10.1.1). The first time the handler waits for body bytes it runs a hook (the server's
  ``expect_handler``), which sends ``100 Continue`` or fails the read with 413/417.
* :class:`DecodingBody` undoes a ``Content-Encoding`` (gzip, deflate, br, zstd) with a
  bounded :class:`~aioloom.http._codings.Decompressor`. It stands between the connection
  and the body stream as the stream's flow-control partner: it decodes only while the
  stream is below its high-water mark, keeps the compressed bytes that arrive meanwhile,
  and pauses the connection; when the handler has read enough, the stream asks it to
  resume and it decodes on. A small "zip bomb" therefore never expands beyond the stream's
  buffer limit at a time.

Errors in a body (a corrupt coding, a truncated chunked body) reach the handler as
:class:`RequestPayloadError` from its read call; the server answers 400.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from aioloom.http import hdrs
from aioloom.http._codings import Decompressor
from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._messages import HttpVersion11, RawRequestMessage
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import StreamReader

if TYPE_CHECKING:
    from ._protocol import RequestHandler
    from ._request import BaseRequest

__all__ = (
    "BodyReceiver",
    "DecodingBody",
    "ExpectContinueReader",
    "PayloadAccessError",
    "RequestPayloadError",
)


class RequestPayloadError(Exception):
    """The request body could not be read: bad framing or content coding (answered 400)."""


class PayloadAccessError(Exception):
    """The request body was read after the response was sent."""


ExpectHandler = Callable[["BaseRequest"], Awaitable[object]]


class ExpectContinueReader(StreamReader):
    """A body stream that answers ``Expect`` the first time a reader waits for data.

    Attributes:
        expect_request: the request whose ``Expect`` is still unanswered (None once
            answered); ``BaseRequest.clone`` moves it to the clone, whose
            ``client_max_size`` then applies.
        expect_handler: the coroutine function run with it (the server's
            ``expect_handler``).
        continue_sent: True once ``100 Continue`` went out for this body.
    """

    __slots__ = ("continue_sent", "expect_handler", "expect_request")

    def __init__(
        self, protocol: BaseProtocol, limit: int, *, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(protocol, limit, loop=loop)
        self.expect_request: BaseRequest | None = None
        self.expect_handler: ExpectHandler | None = None
        self.continue_sent = False

    async def _wait(self, func_name: str) -> None:
        request = self.expect_request
        if request is not None and self.expect_handler is not None:
            self.expect_request = None
            # May raise 413/417: the read fails and the client never sends the body.
            await self.expect_handler(request)
        await super()._wait(func_name)


class DecodingBody:
    """Feeds a content-coded request body through a bounded decoder into :attr:`stream`.

    It implements the part of :class:`~aioloom.http.aio.BaseProtocol` a stream uses
    (``pause_reading``, ``resume_reading``, ``reading_paused``, ``connected``) and relays
    pauses to the connection.

    Args:
        handler: the connection's protocol.
        encoding: the Content-Encoding value.
        limit: the stream's buffer limit (also the most one decode step produces).
        loop: the event loop.
        expect: build an :class:`ExpectContinueReader` (the request has ``Expect``).

    Raises:
        aioloom.http.ContentEncodingError: the coding is unknown or not installed.
    """

    __slots__ = ("_decoder", "_ended", "_full", "_handler", "_pending", "done", "stream")

    def __init__(
        self,
        handler: RequestHandler,
        encoding: str,
        limit: int,
        loop: asyncio.AbstractEventLoop,
        *,
        expect: bool = False,
    ) -> None:
        self._handler = handler
        self._decoder = Decompressor(encoding, max_output=limit)
        self._pending: collections.deque[bytes] = collections.deque()
        self._ended = False
        self._full = False
        self.done = False
        stream_class = ExpectContinueReader if expect else StreamReader
        self.stream = stream_class(cast(BaseProtocol, self), limit, loop=loop)

    # -- the flow-control interface the stream calls --------------------------------------

    @property
    def connected(self) -> bool:
        return self._handler.connected

    @property
    def reading_paused(self) -> bool:
        return self._full

    def pause_reading(self) -> None:
        self._full = True
        self._handler.pause_reading()

    def resume_reading(self) -> None:
        self._full = False
        self.pump()
        if not self._full:
            self._handler.resume_reading()

    # -- fed by the protocol ----------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Queue compressed bytes and decode as far as the stream allows."""
        self._pending.append(data)
        self.pump()

    def end(self) -> None:
        """The compressed body is complete: decode the rest and end the stream."""
        self._ended = True
        self.pump()

    def fail(self, exc: BaseException) -> None:
        """Fail the stream (the connection was lost or the body was malformed)."""
        if not self.done:
            self.done = True
            self._pending.clear()
            self.stream.set_exception(exc)

    def pump(self) -> None:
        """Decode while the stream is below its high-water mark."""
        decoder = self._decoder
        stream = self.stream
        try:
            while not self.done and not self._full:
                if not decoder.needs_input:
                    out = decoder.decompress(b"")
                elif self._pending:
                    out = decoder.decompress(self._pending.popleft())
                elif self._ended:
                    out = decoder.flush()
                    if out:
                        stream.feed_data(out)
                    self.done = True
                    stream.feed_eof()
                    return
                else:
                    return
                if out:
                    stream.feed_data(out)
        except HttpProcessingError as exc:
            error = RequestPayloadError(f"Cannot decode the request body: {exc.message}")
            error.__cause__ = exc
            self.fail(error)


class BodyReceiver:
    """The request body a connection is receiving: makes its stream, routes its chunks.

    Args:
        handler: the connection's protocol (the streams' flow-control partner).
        limit: the buffer limit of each body stream (``read_bufsize``).
        loop: the event loop.
        auto_decompress: undo the body's Content-Encoding.

    Attributes:
        stream: the body being received, or None between bodies.
    """

    __slots__ = ("_auto_decompress", "_decoder", "_handler", "_limit", "_loop", "stream")

    def __init__(
        self,
        handler: RequestHandler,
        limit: int,
        loop: asyncio.AbstractEventLoop,
        *,
        auto_decompress: bool = True,
    ) -> None:
        self._handler = handler
        self._limit = limit
        self._loop = loop
        self._auto_decompress = auto_decompress
        self._decoder: DecodingBody | None = None
        self.stream: StreamReader | None = None

    def start(self, message: RawRequestMessage) -> StreamReader:
        """Make the stream for the body of ``message`` (which declared one)."""
        # RFC 9110 §10.1.1: only an HTTP/1.1 server may be asked to expect.
        expect = message.version == HttpVersion11 and hdrs.EXPECT in message.headers
        if message.compression and self._auto_decompress:
            try:
                decoder = DecodingBody(
                    self._handler, message.compression, self._limit, self._loop, expect=expect
                )
            except HttpProcessingError:
                pass  # a coding this interpreter cannot undo: hand over the coded bytes
            else:
                self._decoder = decoder
                self.stream = decoder.stream
                return decoder.stream
        stream_class = ExpectContinueReader if expect else StreamReader
        stream = stream_class(cast(BaseProtocol, self._handler), self._limit, loop=self._loop)
        self.stream = stream
        return stream

    def feed(self, data: bytes) -> None:
        """A chunk of the body arrived."""
        decoder = self._decoder
        if decoder is not None:
            decoder.feed(data)
        elif self.stream is not None:
            self.stream.feed_data(data)

    def end(self) -> None:
        """The body is complete."""
        decoder = self._decoder
        if decoder is not None:
            decoder.end()
        elif self.stream is not None:
            self.stream.feed_eof()
        self.stream = None
        self._decoder = None

    def fail(self, exc: BaseException) -> None:
        """The body cannot complete: its reader gets ``exc``."""
        if self._decoder is not None:
            self._decoder.fail(exc)
        elif self.stream is not None:
            self.stream.set_exception(exc)
        self.stream = None
        self._decoder = None
