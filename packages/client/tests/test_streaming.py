"""Bodies in motion: Content-Encoding decoding (incremental and bounded), a gzip bomb,
streaming a large body with bounded memory, request compression and streamed uploads."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator

import brotli
import pytest

from aioloom.client._connection import ResponseHandler
from aioloom.client._exceptions import ClientPayloadError
from aioloom.client._session import ClientSession
from aioloom.client._timeouts import ClientTimeout

TEXT = b"The quick brown fox jumps over the lazy dog. " * 200


def coded(encoding: str, body: bytes, *, chunked: bool = False) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {encoding}\r\n".encode()
    if chunked:
        framed = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 100]), body[i : i + 100])
            for i in range(0, len(body), 100)
        )
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\n\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers do
        ("br", brotli.compress),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
async def test_content_encodings_are_decoded(
    serve, handler_for, encoding: str, compress, chunked: bool
) -> None:
    body = compress(TEXT)
    async with serve(handler_for(lambda r: coded(encoding, body, chunked=chunked))) as srv:
        async with ClientSession() as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == TEXT
                if encoding != "x-gzip":
                    assert resp.content.total_raw_bytes == len(body)
            async with session.get(srv.url()) as resp:  # the connection is reusable
                assert await resp.text() == TEXT.decode()
    assert srv.connections == 1


async def test_auto_decompress_off_keeps_the_coded_bytes(serve, handler_for) -> None:
    body = gzip.compress(TEXT)
    async with serve(handler_for(lambda r: coded("gzip", body))) as srv:
        async with ClientSession(auto_decompress=False) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == body
        async with ClientSession() as session:
            async with session.get(srv.url(), auto_decompress=False) as resp:
                assert await resp.read() == body


async def test_unknown_content_coding_passes_through(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: coded("x-custom", b"opaque"))) as srv:
        async with ClientSession() as session, session.get(srv.url()) as resp:
            assert await resp.read() == b"opaque"


async def test_gzip_bomb_is_decoded_with_bounded_memory(serve) -> None:
    size = 64 * 2**20  # 64 MiB of zeros ...
    bomb = gzip.compress(b"\0" * size, compresslevel=9)  # ... in about 64 KiB
    assert len(bomb) < 2**17

    async def handler(conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.target == "/bomb":
                conn.write(coded("gzip", bomb))
            else:
                conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await conn.writer.drain()

    async with serve(handler) as srv, ClientSession(timeout=ClientTimeout(total=30)) as session:
        async with session.get(srv.url("/bomb"), read_bufsize=2**16) as resp:
            low, high = resp.content.get_read_buffer_limits()
            seen = 0
            peak = 0
            async for chunk in resp.content.iter_chunked(2**16):
                seen += len(chunk)
                peak = max(peak, resp.content._size)
                if seen >= 8 * 2**20:
                    break  # the consumer decides how much of it to take
            # The stream never held more than its high-water mark plus one decoder step.
            assert peak <= high + 2**20
        async with session.get(srv.url("/after")) as resp:
            assert await resp.read() == b"ok"
        assert srv.connections == 2  # the bomb's connection was discarded, the pool is fine


async def test_whole_gzip_body_streamed_to_the_end(serve) -> None:
    size = 8 * 2**20
    bomb = gzip.compress(b"\1" * size)

    async def handler(conn) -> None:
        while await conn.read_request() is not None:
            conn.write(coded("gzip", bomb))
            await conn.writer.drain()

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            total = 0
            async for chunk in resp.content.iter_chunked(2**16):
                assert chunk == b"\1" * len(chunk)
                total += len(chunk)
            assert total == size
        async with session.get(srv.url()) as resp:  # a fully read coded body pools
            await resp.read()
    assert srv.connections == 1


async def test_large_body_is_flow_controlled(serve) -> None:
    size = 32 * 2**20
    block = b"y" * 2**16
    paused = []

    async def handler(conn) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size // len(block)):
            conn.write(block)
            await conn.writer.drain()

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url(), read_bufsize=2**16) as resp:
            low, high = resp.content.get_read_buffer_limits()
            protocol = resp.connection.protocol  # type: ignore[union-attr]
            assert isinstance(protocol, ResponseHandler)
            total = 0
            peak = 0
            while chunk := await resp.content.read(2**15):
                total += len(chunk)
                peak = max(peak, resp.content._size)
                paused.append(protocol.reading_paused)
                if total % (4 * 2**20) < 2**15:
                    await asyncio.sleep(0.01)  # a slow consumer
            assert total == size
    assert peak <= high + 2**18  # bounded by the high-water mark plus one socket read
    assert any(paused)  # the socket was paused while the consumer lagged


async def test_request_compress_deflate_and_gzip(serve, handler_for, make_response) -> None:
    async with serve(handler_for(lambda r: make_response(200, b"ok"))) as srv:
        async with ClientSession() as session:
            async with session.post(srv.url(), data=TEXT, compress=True) as resp:
                await resp.read()
            async with session.post(srv.url(), data=TEXT, compress="gzip") as resp:
                await resp.read()
            with pytest.raises(ValueError, match="Content-Encoding header is set"):
                await session.post(
                    srv.url(), data=b"x", compress=True, headers={"Content-Encoding": "br"}
                )
    deflated, gzipped = srv.requests
    assert deflated.headers["Content-Encoding"] == "deflate"
    assert deflated.headers["Transfer-Encoding"] == "chunked"
    assert zlib.decompress(deflated.body) == TEXT
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gzipped.body) == TEXT


async def test_large_streamed_upload(serve, handler_for, make_response) -> None:
    block = b"z" * 2**16

    async def blocks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield block

    async with serve(handler_for(lambda r: make_response(200, str(len(r.body)).encode()))) as srv:
        async with ClientSession() as session:
            async with session.put(srv.url(), data=blocks()) as resp:
                assert await resp.read() == str(64 * 2**16).encode()


async def test_upload_from_file(serve, handler_for, make_response, tmp_path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(TEXT * 10)
    async with serve(handler_for(lambda r: make_response(200, r.body[:10]))) as srv:
        async with ClientSession() as session:
            with path.open("rb") as f:
                async with session.post(srv.url(), data=f) as resp:
                    assert await resp.read() == TEXT[:10]
    assert srv.requests[0].headers["Content-Length"] == str(len(TEXT) * 10)


async def test_failing_upload_surfaces_and_discards_the_connection(serve, handler_for) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("generator broke")

    async def handler(conn) -> None:
        await conn.reader.readuntil(b"\r\n\r\n")
        await conn.reader.read()  # never answers; waits for the client to give up

    async with serve(handler) as srv, ClientSession() as session:
        with pytest.raises(Exception) as info:
            await session.post(srv.url(), data=broken(), timeout=ClientTimeout(total=5))
        assert "generator broke" in repr(info.value) or "generator broke" in repr(
            info.value.__cause__
        )


async def test_payload_error_on_corrupt_stream_midway(serve) -> None:
    good = gzip.compress(TEXT)
    corrupt = good[:20] + b"\xff" * 40 + good[60:]

    async def handler(conn) -> None:
        await conn.read_request()
        conn.write(coded("gzip", corrupt))
        await conn.writer.drain()

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            with pytest.raises(ClientPayloadError, match="gzip"):
                await resp.read()
