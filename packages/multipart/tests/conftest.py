"""Fixtures shared by the aioloom.multipart tests: streams, writers and byte sources."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator

import pytest
from multidict import CIMultiDict

from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import StreamReader


class RecordingWriter(AbstractStreamWriter):
    """An AbstractStreamWriter that keeps every chunk written."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.eof = False

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        assert not self.eof, "write after write_eof"
        self.chunks.append(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        if chunk:
            self.chunks.append(chunk)
        self.eof = True

    async def drain(self) -> None:
        return None

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise AssertionError("not used by multipart")

    def enable_chunking(self) -> None:
        raise AssertionError("not used by multipart")

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        raise AssertionError("not used by multipart")


class FakeTransport(asyncio.Transport):
    """A transport that only records whether reading is paused."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


class FlowProtocol(BaseProtocol):
    """A connected protocol that counts pauses; ``resumed`` is set while reading runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.pauses = 0
        self.connection_made(FakeTransport())

    def pause_reading(self) -> None:
        super().pause_reading()
        self.pauses += 1
        self.resumed.clear()

    def resume_reading(self) -> None:
        super().resume_reading()
        self.resumed.set()


class ChunkSource:
    """A minimal async byte source: ``read(n)`` hands out pre-cut chunks, at most n bytes."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.reads = 0
        self.bytes_read = 0

    async def read(self, n: int = -1) -> bytes:
        self.reads += 1
        if not self._pending:
            self._pending = next(self._chunks, b"")
        cut = len(self._pending) if n < 0 else n
        data, self._pending = self._pending[:cut], self._pending[cut:]
        self.bytes_read += len(data)
        await asyncio.sleep(0)
        return data


@pytest.fixture
def writer() -> RecordingWriter:
    return RecordingWriter()


@pytest.fixture
def make_stream(loop: asyncio.AbstractEventLoop) -> Callable[..., StreamReader]:
    """Build a StreamReader already fed with ``data`` (bytes or chunks), EOF included."""

    def factory(data: bytes | Iterable[bytes], *, eof: bool = True) -> StreamReader:
        stream = StreamReader(FlowProtocol(loop), 2**16, loop=loop)
        for chunk in [data] if isinstance(data, bytes) else data:
            stream.feed_data(chunk)
        if eof:
            stream.feed_eof()
        return stream

    return factory


@pytest.fixture
def protocol(loop: asyncio.AbstractEventLoop) -> FlowProtocol:
    return FlowProtocol(loop)


@pytest.fixture
def chunk_source() -> Callable[[Iterable[bytes]], ChunkSource]:
    return ChunkSource
