"""The asyncio StreamWriter: one HTTP/1.1 message's head and body onto a transport.

This module owns :class:`StreamWriter`, aiohttp's ``http_writer.StreamWriter`` for aioloom:
the client writes requests and the server writes responses through it. It composes the
sans-I/O pieces (:func:`~aioloom.http._serialize.serialize_head`, chunked framing,
:class:`~aioloom.http._codings.Compressor`) and adds what needs the event loop: the
transport, flow control and compression of large chunks off the loop.

Performance: :meth:`StreamWriter.write_headers` only *buffers* the serialised head; the
first body write (or :meth:`~StreamWriter.write_eof`) sends head and body in one
``transport.write`` (or one ``writelines`` for large bodies), so a small message leaves
in one segment. :meth:`~StreamWriter.send_headers` flushes a buffered head on its own
(before ``sendfile``, or a long-poll that must show its head early).

Errors: writing once the transport is gone or closing raises :class:`ConnectionResetError`.
aiohttp raises ``ClientConnectionResetError``, a subclass of it defined by its client; the
sans-I/O core cannot depend on the client package, so aioloom.client translates at its
boundary and ``except ConnectionResetError`` catches both.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final, Protocol

from multidict import CIMultiDict

from aioloom.http._codings import Compressor
from aioloom.http._serialize import CRLF, chunk_prefix, last_chunk, serialize_head

from ._abc import AbstractStreamWriter

__all__ = ("StreamWriter",)

Buffer = bytes | bytearray | memoryview
OnChunkSent = Callable[[Buffer], Awaitable[None]]
OnHeadersSent = Callable[[CIMultiDict[str]], Awaitable[None]]

# Below this many bytes one joined write() beats scatter/gather writelines().
_MIN_PAYLOAD_FOR_WRITELINES: Final = 2048
# writelines() copies everything on Python 3.11 and older anyway, and on 3.12.0-3.12.8
# and 3.13.0-3.13.1 it can send data out of order (CVE-2024-12254).
_PY: Final = sys.version_info[:3]
_WRITELINES_SAFE: Final = (3, 12, 9) <= _PY < (3, 13) or _PY >= (3, 13, 2)
# Chunks larger than this are compressed in the default executor: compressing 64 KiB takes
# about a millisecond, ten times the cost of the thread hop, so smaller ones stay inline.
_MAX_SYNC_COMPRESS_SIZE: Final = 2**16


def _byte_view(data: Buffer) -> Buffer:
    """A memoryview of wider items becomes one of bytes, so len() and slices count bytes."""
    if isinstance(data, memoryview) and data.nbytes != len(data):
        return data.cast("B")
    return data


class _FlowControl(Protocol):
    """What the writer needs from ``aioloom.http.aio._protocol.BaseProtocol``."""

    @property
    def transport(self) -> asyncio.Transport | None: ...

    @property
    def writing_paused(self) -> bool: ...

    async def _drain_helper(self) -> None: ...


class StreamWriter(AbstractStreamWriter):
    """Writes one HTTP message through a protocol's transport, as aiohttp's StreamWriter.

    Args:
        protocol: the connection's protocol: its ``transport``, ``writing_paused`` flag and
            ``_drain_helper()`` coroutine are used.
        loop: the event loop (for compressing large chunks in its default executor).
        on_chunk_sent: awaited with every body chunk before it is written (tracing).
        on_headers_sent: awaited with the headers when the head is written (tracing).

    Attributes:
        length: bytes the body may still have (Content-Length); writes are cut to it.
            None means no limit (chunked or until close).
        chunked: frame the body with chunked transfer coding (see :meth:`enable_chunking`).
        buffer_size: bytes handed to the transport since the last automatic drain.
        output_size: bytes handed to the transport in all, head and framing included.
    """

    length: int | None = None
    chunked: bool = False
    _eof: bool = False
    _compress: Compressor | None = None
    _compress_lock: asyncio.Lock | None = None
    _headers_buf: bytes | None = None

    def __init__(
        self,
        protocol: _FlowControl,
        loop: asyncio.AbstractEventLoop,
        on_chunk_sent: OnChunkSent | None = None,
        on_headers_sent: OnHeadersSent | None = None,
    ) -> None:
        self._protocol = protocol
        self.loop = loop
        self._on_chunk_sent = on_chunk_sent
        self._on_headers_sent = on_headers_sent

    @property
    def transport(self) -> asyncio.Transport | None:
        """The protocol's transport, None once the connection is lost."""
        return self._protocol.transport

    @property
    def protocol(self) -> _FlowControl:
        """The protocol this writer writes through."""
        return self._protocol

    def enable_chunking(self) -> None:
        """Frame the body with chunked transfer coding (RFC 9112 §7.1)."""
        self.chunked = True

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        """Compress the body with ``encoding`` (deflate, gzip, br, zstd where available).

        Raises:
            ValueError: the coding is unknown or not available in this interpreter.
        """
        self._compress = Compressor(encoding, strategy=strategy)
        self._compress_lock = asyncio.Lock()

    # -- transport access ---------------------------------------------------------------

    def _open_transport(self) -> asyncio.Transport:
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        return transport

    def _write(self, data: Buffer) -> None:
        transport = self._open_transport()
        size = len(data)
        self.buffer_size += size
        self.output_size += size
        transport.write(data)

    def _writelines(self, parts: Sequence[Buffer]) -> None:
        transport = self._open_transport()
        size = sum(map(len, parts))
        self.buffer_size += size
        self.output_size += size
        if _WRITELINES_SAFE and size >= _MIN_PAYLOAD_FOR_WRITELINES:
            transport.writelines(parts)
        else:
            transport.write(b"".join(parts))

    def _frame(self, data: Buffer) -> tuple[Buffer, ...]:
        if self.chunked:
            return (chunk_prefix(len(data)), data, CRLF)
        return (data,)

    # -- body ---------------------------------------------------------------------------

    async def _compress_chunk(self, compressor: Compressor, data: Buffer) -> bytes:
        lock = self._compress_lock
        assert lock is not None  # set together with the compressor
        # The lock keeps the stream in order if two tasks write while one is in the executor.
        async with lock:
            if len(data) > _MAX_SYNC_COMPRESS_SIZE:
                return await self.loop.run_in_executor(None, compressor.compress, data)
            return compressor.compress(data)

    def _cut_to_length(self, data: Buffer) -> Buffer:
        length = self.length
        if length is None:
            return data
        size = len(data)
        if size <= length:
            self.length = length - size
            return data
        # Never send more than the declared Content-Length (RFC 9112 §6.2).
        self.length = 0
        return data[:length]

    async def write(
        self,
        chunk: Buffer,
        *,
        drain: bool = True,
        LIMIT: int = 0x10000,  # aiohttp's keyword
    ) -> None:
        """Write a body chunk: compress, cut to ``length``, frame, send.

        A head buffered by :meth:`write_headers` goes out in the same transport write.
        An empty chunk sends a buffered head by itself.

        Args:
            chunk: body bytes.
            drain: wait for the transport when more than ``LIMIT`` bytes were written since
                the last wait.
            LIMIT: the byte count that triggers that wait.

        Raises:
            ConnectionResetError: the transport is closed or closing.
            RuntimeError: the message was already finished with :meth:`write_eof`.
        """
        if self._eof:
            raise RuntimeError("Cannot write() after write_eof()")
        if self._on_chunk_sent is not None:
            await self._on_chunk_sent(chunk)
        chunk = _byte_view(chunk)
        if self._compress is not None:
            chunk = await self._compress_chunk(self._compress, chunk)
            if not chunk:
                return  # the compressor buffers; keep the head buffered too
        if self.length is not None:
            chunk = self._cut_to_length(chunk)
            if not chunk:
                return
        head = self._headers_buf
        if head is not None:
            self._headers_buf = None
            self._writelines((head, *self._frame(chunk)) if chunk else (head,))
        elif not chunk:
            return
        elif self.chunked:
            self._writelines(self._frame(chunk))
        else:
            self._write(chunk)
        if drain and self.buffer_size > LIMIT:
            self.buffer_size = 0
            await self.drain()

    async def write_eof(
        self, chunk: Buffer = b"", *, trailers: Mapping[str, str] | None = None
    ) -> None:
        """Finish the message: last data, compressor flush, last chunk and trailers.

        A head still buffered goes out in the same transport write. A second call does
        nothing.

        Args:
            chunk: the last body bytes.
            trailers: trailer fields (RFC 9112 §7.1.2); only possible when chunked.

        Raises:
            ValueError: trailers on a body that is not chunked, or a bad trailer field.
            ConnectionResetError: the transport is closed or closing.
        """
        if self._eof:
            return
        if (
            not self.chunked
            and not trailers
            and self._compress is None
            and self._on_chunk_sent is None
        ):
            self._write_last_plain(chunk)
            if self._protocol.writing_paused:
                await self.drain()
            self._eof = True
            return
        if trailers and not self.chunked:
            raise ValueError("trailer fields need chunked transfer coding (RFC 9112 §7.1.2)")
        end = last_chunk(trailers) if self.chunked else b""  # validates before any write
        if chunk and self._on_chunk_sent is not None:
            await self._on_chunk_sent(chunk)
        body = await self._last_body(chunk)
        parts: list[Buffer] = []
        if self._headers_buf is not None:
            parts.append(self._headers_buf)
            self._headers_buf = None
        size = sum(map(len, body))
        if size and self.chunked:
            parts += (chunk_prefix(size), *body, CRLF)
        else:
            parts += body
        if end:
            parts.append(end)
        if parts:
            self._writelines(parts)
        await self.drain()
        self._eof = True

    def _write_last_plain(self, chunk: Buffer) -> None:
        """The common end of a message: no framing, no coding; head and body in one write.

        Raises:
            ConnectionResetError: the transport is closed or closing.
        """
        if chunk:
            chunk = _byte_view(chunk)
            if self.length is not None:
                chunk = self._cut_to_length(chunk)
        head = self._headers_buf
        if head is not None:
            self._headers_buf = None
            if not chunk:
                self._write(head)
            elif _WRITELINES_SAFE and len(chunk) >= _MIN_PAYLOAD_FOR_WRITELINES:
                self._writelines((head, chunk))
            else:
                self._write(head + chunk)  # one small copy beats a join
        elif chunk:
            self._write(chunk)

    async def _last_body(self, chunk: Buffer) -> list[Buffer]:
        """The final body pieces: the compressed chunk and the compressor's flush."""
        pieces: list[Buffer] = []
        if self._compress is not None:
            if chunk:
                pieces.append(await self._compress_chunk(self._compress, chunk))
            assert self._compress_lock is not None  # set together with the compressor
            async with self._compress_lock:  # not while a write compresses in the executor
                pieces.append(self._compress.flush())
        elif chunk:
            pieces.append(_byte_view(chunk))
        if self.length is not None:
            pieces = [self._cut_to_length(piece) for piece in pieces]
        return [piece for piece in pieces if piece]

    def set_eof(self) -> None:
        """Mark the message complete without a body write (after ``sendfile``, HEAD ...).

        A buffered head is sent, followed by the last chunk when chunked.
        """
        if self._eof:
            return
        head = self._headers_buf
        if head is not None:
            self._headers_buf = None
            self._writelines((head, last_chunk()) if self.chunked else (head,))
        elif self.chunked:
            self._write(last_chunk())
        self._eof = True

    # -- head ---------------------------------------------------------------------------

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        """Serialise the start line and headers and buffer them until the first body write.

        Raises:
            ValueError: CR, LF or NUL in the start line or a field, or a bad field name.
        """
        head = serialize_head(status_line, headers)
        if self._headers_buf is not None:
            self.send_headers()  # an earlier head (e.g. an interim response) goes first
        if self._on_headers_sent is not None:
            await self._on_headers_sent(headers)
        self._headers_buf = head

    def buffer_headers(self, status_line: str, headers: CIMultiDict[str]) -> bool:
        """:meth:`write_headers` without a coroutine, when no ``on_headers_sent`` is set.

        The server's hot path: one coroutine less per response.

        Returns:
            True when the head was buffered; False when an ``on_headers_sent`` callback
            must be awaited (call :meth:`write_headers` instead).

        Raises:
            ValueError: CR, LF or NUL in the start line or a field, or a bad field name.
        """
        if self._on_headers_sent is not None:
            return False
        head = serialize_head(status_line, headers)
        if self._headers_buf is not None:
            self.send_headers()  # an earlier head (e.g. an interim response) goes first
        self._headers_buf = head
        return True

    def send_headers(self) -> None:
        """Send a buffered head now, by itself; nothing happens when none is buffered."""
        head = self._headers_buf
        if head is not None:
            self._headers_buf = None
            self._write(head)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark.

        Raises:
            ConnectionResetError: the connection was lost while waiting.
        """
        protocol = self._protocol
        if protocol.transport is not None and protocol.writing_paused:
            await protocol._drain_helper()
