"""Round trips against h11, an independent HTTP/1.1 implementation, as the server."""

from __future__ import annotations

import asyncio
import gzip

from aioloom.client._session import ClientSession


async def test_h11_keep_alive_round_trips(serve, h11_handler) -> None:
    async with serve(h11_handler) as srv, ClientSession() as session:
        for path in ("/a", "/b?x=1", "/c"):
            async with session.get(srv.url(path)) as resp:
                assert resp.status == 200
                assert resp.charset == "utf-8"
                assert await resp.text() == f"h11 {path}"
    assert srv.connections == 1


async def test_h11_echoes_bodies_of_every_framing(serve, h11_handler) -> None:
    async def chunks():
        yield b"streamed "
        yield b"body"

    async with serve(h11_handler) as srv, ClientSession() as session:
        async with session.post(srv.url("/echo"), data=b"fixed length") as resp:
            assert await resp.read() == b"fixed length"
        async with session.post(srv.url("/echo"), data=chunks()) as resp:
            assert await resp.read() == b"streamed body"
        big = gzip.compress(b"compressible " * 5000)
        async with session.put(srv.url("/echo"), data=big) as resp:
            assert await resp.read() == big
    assert srv.connections == 1


async def test_h11_chunked_response(serve, h11_handler) -> None:
    async with serve(h11_handler) as srv, ClientSession() as session:
        async with session.get(srv.url("/chunked")) as resp:
            assert resp.headers["Transfer-Encoding"] == "chunked"
            assert await resp.read() == b"chunk-onechunk-two"
        async with session.get(srv.url("/after")) as resp:
            assert await resp.text() == "h11 /after"
    assert srv.connections == 1


async def test_h11_concurrent_requests_use_several_connections(serve, h11_handler) -> None:
    async with serve(h11_handler) as srv, ClientSession() as session:

        async def one(i: int) -> str:
            async with session.get(srv.url(f"/n{i}")) as resp:
                return await resp.text()

        results = await asyncio.gather(*(one(i) for i in range(6)))
    assert results == [f"h11 /n{i}" for i in range(6)]
    assert 1 <= srv.connections <= 6
