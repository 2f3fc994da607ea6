"""Large parts stream through in bounded memory, with the StreamReader's flow control."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
import zlib
from typing import Any

from aioloom.http.aio._streams import StreamReader
from aioloom.multipart.aio import BodyPartReader, MultipartReader

PART_SIZE = 50 * 2**20
WIRE_CHUNK = 2**16
READ_CHUNK = 8192


async def feed(stream: StreamReader, protocol: Any, block: bytes) -> None:
    stream.feed_data(b'--b\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n')
    for _ in range(PART_SIZE // len(block)):
        await protocol.resumed.wait()  # a paused transport delivers nothing
        stream.feed_data(block)
    stream.feed_data(b"\r\n--b--\r\n")
    stream.feed_eof()


async def test_50_mb_part_read_with_read_chunk(
    loop: asyncio.AbstractEventLoop, protocol: Any
) -> None:
    block = os.urandom(WIRE_CHUNK).replace(b"\r", b"\n")  # no delimiter can appear
    expected_crc = 0
    for _ in range(PART_SIZE // len(block)):
        expected_crc = zlib.crc32(block, expected_crc)

    stream = StreamReader(protocol, WIRE_CHUNK, loop=loop)
    reader = MultipartReader({"Content-Type": "multipart/form-data; boundary=b"}, stream)
    tracemalloc.start()
    try:
        feeder = loop.create_task(feed(stream, protocol, block))
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        total, crc = 0, 0
        while chunk := await part.read_chunk(READ_CHUNK):
            assert len(chunk) <= READ_CHUNK
            total += len(chunk)
            crc = zlib.crc32(chunk, crc)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    await feeder
    assert total == PART_SIZE
    assert crc == expected_crc
    assert await reader.next() is None
    # The stream buffer (high-water mark 2 x 64 KiB), one 64 KiB scanner piece and a
    # read chunk: a few chunks, never the part.
    assert peak < 6 * WIRE_CHUNK, peak
    assert protocol.pauses > 0  # the reader applied back-pressure through the stream
