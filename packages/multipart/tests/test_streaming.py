"""Large parts stream through in bounded memory, with the StreamReader's flow control."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
import zlib
from typing import Any

from aioloom.http.aio._streams import StreamReader
from aioloom.multipart.aio import BodyPartReader, MultipartReader
from aioloom.multipart.aio._feed import FEED_READ_SIZE

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
    # The stream buffer (high-water mark 2 x 64 KiB), one feed read (up to 256 KiB, joined
    # from the buffered chunks) and a read chunk: a few chunks, never the part.
    assert peak < 2 * FEED_READ_SIZE + 2 * WIRE_CHUNK, peak
    assert protocol.pauses > 0  # the reader applied back-pressure through the stream


async def test_one_stream_read_per_received_chunk(chunk_source: Any) -> None:
    # Issue #8: reading the body 64 KiB at a time cut each 256 KiB socket read into four
    # stream reads and four scanner passes. The feed now asks for a whole received chunk.
    received = 2**18
    block = os.urandom(received).replace(b"\r", b"\n")  # no delimiter can appear
    head = b'--b\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n'
    source = chunk_source([head, *[block] * 8, b"\r\n--b--\r\n"])
    reader = MultipartReader({"Content-Type": "multipart/form-data; boundary=b"}, source)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    total = 0
    while chunk := await part.read_chunk(2**16):
        assert len(chunk) <= 2**16
        total += len(chunk)
    assert total == 8 * received
    assert await reader.next() is None
    # The head, eight chunks, the close delimiter (and at most one read for a tail the
    # scanner held back): not 4 reads per chunk.
    assert source.reads <= 11, source.reads
