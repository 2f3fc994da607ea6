"""FileResponse over real sockets: the sendfile path, the read-in-executor path, curl.

The server is the low-level ``Server`` on 127.0.0.1 (the ``serve`` fixture); clients are
raw sockets read back with h11, and curl as an independent implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import os
import pathlib
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aioloom.web import _fileresponse
from aioloom.web._fileresponse import FileResponse
from aioloom.web._request import BaseRequest
from aioloom.web._stream_response import StreamResponse

CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")

BIG_SIZE = 8 * 2**20 + 12345  # larger than any socket buffer: the send really streams


@pytest.fixture
def big_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(BIG_SIZE))
    return path


def file_handler(path: pathlib.Path, **kwargs: Any) -> Callable[[BaseRequest], Awaitable[Any]]:
    async def handler(request: BaseRequest) -> StreamResponse:
        return FileResponse(path, **kwargs)

    return handler


@pytest.fixture
def sendfile_calls(
    loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, int]]:
    """Record the (offset, count) of every loop.sendfile call on the test's loop."""
    calls: list[tuple[int, int]] = []
    original = loop.sendfile

    async def spy(transport: Any, file: Any, offset: int = 0, count: int | None = None) -> int:
        calls.append((offset, count or 0))
        return await original(transport, file, offset, count)

    monkeypatch.setattr(loop, "sendfile", spy)
    return calls


async def _get(port: int, target: str = "/", headers: str = "") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode()
        )
        return await asyncio.wait_for(reader.read(), 20)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_sendfile_path_streams_large_file(
    serve: Any, h11_parse: Any, big_file: pathlib.Path, sendfile_calls: list[tuple[int, int]]
) -> None:
    sent: list[FileResponse] = []

    async def handler(request: BaseRequest) -> StreamResponse:
        sent.append(FileResponse(big_file))
        return sent[-1]

    async with serve(handler) as (port, _):
        data = await _get(port)
        (resp,) = h11_parse(data)
    assert resp.status == 200
    assert resp.header("Content-Length") == str(BIG_SIZE)
    assert sent[0].body_length == len(data)  # head and file: what %b logs
    assert hashlib.sha256(resp.body).digest() == hashlib.sha256(big_file.read_bytes()).digest()
    assert sendfile_calls == [(0, BIG_SIZE)]


async def test_executor_path_streams_large_file(
    serve: Any,
    h11_parse: Any,
    big_file: pathlib.Path,
    sendfile_calls: list[tuple[int, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_fileresponse, "NOSENDFILE", True)
    async with serve(file_handler(big_file, chunk_size=64 * 1024)) as (port, _):
        (resp,) = h11_parse(await _get(port))
    assert resp.status == 200
    assert resp.body == big_file.read_bytes()
    assert sendfile_calls == []


async def test_loop_without_sendfile_falls_back(
    serve: Any,
    h11_parse: Any,
    big_file: pathlib.Path,
    loop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sendfile(*args: Any, **kwargs: Any) -> int:
        raise NotImplementedError  # what uvloop does

    monkeypatch.setattr(loop, "sendfile", no_sendfile)
    async with serve(file_handler(big_file)) as (port, _):
        (resp,) = h11_parse(await _get(port, headers="Range: bytes=100-\r\n"))
    assert resp.status == 206
    assert resp.body == big_file.read_bytes()[100:]


async def test_sendfile_range_and_keep_alive(
    serve: Any,
    h11_parse: Any,
    big_file: pathlib.Path,
    sendfile_calls: list[tuple[int, int]],
) -> None:
    content = big_file.read_bytes()
    async with serve(file_handler(big_file)) as (port, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # Two ranges then a HEAD on one connection: the framing of each answer must be exact.
        for header in ("Range: bytes=10-19", "Range: bytes=-5"):
            writer.write(f"GET / HTTP/1.1\r\nHost: x\r\n{header}\r\n\r\n".encode())
        writer.write(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 10)
        first, second, head = h11_parse(data, ["GET", "GET", "HEAD"])
        writer.close()
        await writer.wait_closed()
    assert (first.status, first.body) == (206, content[10:20])
    assert (second.status, second.body) == (206, content[-5:])
    assert (head.status, head.body) == (200, b"")
    assert head.header("Content-Length") == str(BIG_SIZE)
    assert sendfile_calls == [(10, 10), (BIG_SIZE - 5, 5)]
    assert server.requests_count == 3


async def test_client_gone_mid_file_server_keeps_serving(
    serve: Any, h11_parse: Any, big_file: pathlib.Path
) -> None:
    async with serve(file_handler(big_file)) as (port, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readexactly(1000)
        writer.transport.abort()  # reset in the middle of the body
        await asyncio.sleep(0.1)
        (resp,) = h11_parse(await _get(port, headers="Range: bytes=0-2\r\n"))
        assert resp.status == 206
        assert resp.body == big_file.read_bytes()[:3]
        for _ in range(100):
            if len(server.connections) == 0:
                break
            await asyncio.sleep(0.02)
        assert server.connections == []


async def test_not_modified_over_socket(serve: Any, h11_parse: Any, big_file: pathlib.Path) -> None:
    async with serve(file_handler(big_file)) as (port, _):
        (first,) = h11_parse(await _get(port))
        etag = first.header("ETag")
        (again,) = h11_parse(await _get(port, headers=f"If-None-Match: {etag}\r\n"))
    assert again.status == 304
    assert again.body == b""
    assert again.header("ETag") == etag


# -- curl as the client ------------------------------------------------------------------


async def curl(*args: str) -> tuple[int, bytes, bytes]:
    assert CURL is not None
    proc = await asyncio.create_subprocess_exec(
        CURL,
        "--silent",
        "--show-error",
        "--max-time",
        "20",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out, err


@needs_curl
async def test_curl_downloads_file(
    serve: Any, big_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    target = tmp_path / "download.bin"
    async with serve(file_handler(big_file)) as (port, _):
        code, out, err = await curl(
            "-o", str(target), "-w", "%{http_code} %{size_download}", f"http://127.0.0.1:{port}/"
        )
    assert code == 0, err
    assert out == f"200 {BIG_SIZE}".encode()
    assert target.read_bytes() == big_file.read_bytes()


@needs_curl
async def test_curl_range(serve: Any, big_file: pathlib.Path) -> None:
    async with serve(file_handler(big_file)) as (port, _):
        code, out, err = await curl("-r", "1000-1099", "-i", f"http://127.0.0.1:{port}/")
    assert code == 0, err
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206")
    assert f"content-range: bytes 1000-1099/{BIG_SIZE}".encode() in head.lower()
    assert body == big_file.read_bytes()[1000:1100]


@needs_curl
async def test_curl_unsatisfiable_range(serve: Any, big_file: pathlib.Path) -> None:
    async with serve(file_handler(big_file)) as (port, _):
        code, out, err = await curl(
            "-r",
            f"{BIG_SIZE}-",
            "-o",
            os.devnull,
            "-w",
            "%{http_code}",
            f"http://127.0.0.1:{port}/",
        )
    assert code == 0, err
    assert out == b"416"


@needs_curl
async def test_curl_compressed_sibling(serve: Any, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "app.css"
    text = b"body { color: red; }\n" * 500
    path.write_bytes(text)
    path.with_name("app.css.gz").write_bytes(gzip.compress(text))
    async with serve(file_handler(path)) as (port, _):
        code, out, err = await curl("--compressed", "-D", "-", f"http://127.0.0.1:{port}/")
    assert code == 0, err
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert b"vary: accept-encoding" in head.lower()
    assert body == text  # curl decoded it


@needs_curl
async def test_curl_conditional_get(serve: Any, big_file: pathlib.Path) -> None:
    async with serve(file_handler(big_file)) as (port, _):
        code, out, err = await curl("-I", f"http://127.0.0.1:{port}/")
        assert code == 0, err
        etag = next(
            line.split(b":", 1)[1].strip()
            for line in out.splitlines()
            if line.lower().startswith(b"etag:")
        )
        code, out, err = await curl(
            "-H",
            f"If-None-Match: {etag.decode()}",
            "-w",
            "%{http_code}",
            f"http://127.0.0.1:{port}/",
        )
    assert code == 0, err
    assert out == b"304"
