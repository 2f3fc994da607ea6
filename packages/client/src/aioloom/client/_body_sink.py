"""Delivery of one response body into its stream, decoding its Content-Encoding on the way.

A body without content coding goes straight into the :class:`StreamReader`, whose flow
control pauses the socket above its high-water mark.

A coded body goes through a bounded :class:`~aioloom.http._codings.Decompressor`: each
call yields at most ``max_output`` decoded bytes, and the sink stops pulling as soon as
the stream is above its high-water mark (the protocol is paused then). The compressed
bytes not decoded yet wait here, and the socket stays paused until the consumer has
drained the stream and :meth:`BodySink.pump` has emptied the backlog. So a "zip bomb"
costs memory bounded by the stream's limits plus one decoder step, whatever it expands to,
and the consumer decides how much of it to read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from aioloom.http._codings import Decompressor
from aioloom.http._exceptions import HttpProcessingError
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import StreamReader

from ._exceptions import ClientPayloadError

__all__ = ("BodySink", "payload_error")


def payload_error(exc: HttpProcessingError) -> ClientPayloadError:
    """The client error for a malformed body, naming what was wrong."""
    return ClientPayloadError(f"{type(exc).__name__}: {exc.message}")


class BodySink:
    """Feeds one response body into ``stream``, decoding it when ``decompressor`` is set.

    Args:
        stream: the response's ``content``.
        protocol: the connection's protocol (its ``reading_paused`` is the back-pressure).
        decompressor: the Content-Encoding decoder, or None for an identity body.
        on_error: called once when the body turns out to be undecodable.
    """

    __slots__ = (
        "_decompressor",
        "_eof",
        "_on_error",
        "_pending",
        "_protocol",
        "_stream",
        "done",
    )

    def __init__(
        self,
        stream: StreamReader,
        protocol: BaseProtocol,
        decompressor: Decompressor | None,
        on_error: Callable[[], None],
    ) -> None:
        self._stream = stream
        self._protocol = protocol
        self._decompressor = decompressor
        self._on_error = on_error
        self._pending: deque[bytes] = deque()
        self._eof = False
        self.done = False  # True once the whole body reached the stream (or failed)
        if decompressor is not None:
            stream.total_compressed_bytes = 0

    @property
    def backlogged(self) -> bool:
        """True while decoded output is still owed to the stream."""
        if self.done:
            return False
        dec = self._decompressor
        return bool(self._pending) or (dec is not None and not dec.needs_input) or self._eof

    def feed(self, data: bytes) -> None:
        """Take body bytes as they came off the wire."""
        if self.done:
            return
        dec = self._decompressor
        if dec is None:
            self._stream.feed_data(data)
            return
        compressed = self._stream.total_compressed_bytes or 0
        self._stream.total_compressed_bytes = compressed + len(data)
        self._pending.append(data)
        self.pump()

    def finish(self) -> None:
        """The body ended on the wire; the stream ends once everything is decoded."""
        if self.done:
            return
        self._eof = True
        if self._decompressor is None:
            # Nothing owed: what pump() and _end() do for an identity body, minus the calls.
            self.done = True
            self._stream.feed_eof()
            return
        self.pump()

    def pump(self) -> None:
        """Move decoded data into the stream until it is full or the backlog is empty."""
        if self.done:
            return
        dec = self._decompressor
        if dec is None:
            if self._eof:
                self._end()
            return
        try:
            while not self._protocol.reading_paused:
                if not dec.needs_input:
                    out = dec.decompress(b"")
                elif self._pending:
                    out = dec.decompress(self._pending.popleft())
                elif self._eof:
                    out = dec.flush()
                    if out:
                        self._stream.feed_data(out)
                    self._end()
                    return
                else:
                    return
                if out:
                    self._stream.feed_data(out)
        except HttpProcessingError as exc:  # ContentEncodingError, DecompressSizeError
            self._fail(exc)

    def abort(self) -> None:
        """Drop the backlog (the response was released or the connection failed)."""
        self._pending.clear()
        self.done = True

    def _end(self) -> None:
        self.done = True
        self._stream.feed_eof()

    def _fail(self, exc: HttpProcessingError) -> None:
        self.done = True
        self._pending.clear()
        self._stream.set_exception(payload_error(exc), exc)
        self._on_error()
