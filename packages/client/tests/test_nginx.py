"""The client against nginx, an independent HTTP/1.1 server.

One nginx per test module, in the foreground (``-p prefix -c conf -g 'daemon off;'``), with
its configuration, pid file, logs and temporary folders in a temporary directory. It serves
a folder of static files; under ``/gz/`` it compresses text with gzip, which for a static
file means an unknown length and so a chunked body (RFC 9112 §7.1) that is also
gzip-coded (RFC 9110 §8.4). Every answer carries nginx's ``$connection`` (the connection's
serial number) and ``$connection_requests`` (requests so far on it) in headers, which is
how a test sees, from the server's side, that the pool reused a connection.

Skipped only when nginx is not installed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from yarl import URL

from aioloom.client import ClientResponseError, ClientSession, TCPConnector, TraceConfig

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")

# Sizes around the boundaries of the buffers on the way: nginx's output buffers and the
# client's reads (64 KiB), the stream's high-water mark, the parser's chunks.
SIZES = (0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 16384, 65535, 65536, 65537, 131073)
LARGE = 24 * 2**20 + 7  # streamed and compared by hash
TEXT = b"".join(
    b"line %06d: the quick brown fox jumps over the lazy dog\n" % n for n in range(4000)
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _conf(prefix: Path, port: int) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the prefix
    temp = "".join(
        f"{kind}_temp_path {prefix}/temp/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    types {{ text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    keepalive_requests 1000;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        add_header X-Connection $connection always;
        add_header X-Connection-Requests $connection_requests always;
        location /gz/ {{
            gzip on;
            gzip_types text/plain;
            gzip_min_length 1;
            chunked_transfer_encoding on;
        }}
    }}
}}
"""


def _wait_until_accepting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}: {_read(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not accept on port {port}: {_read(log)}")


def _read(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A running nginx: ``.url(path)``, ``.files`` (name -> bytes), ``.large`` (a Path)."""
    assert NGINX is not None
    prefix = tmp_path_factory.mktemp("nginx")
    www = prefix / "www"
    (www / "gz").mkdir(parents=True)
    (prefix / "temp").mkdir()
    files = {f"size{size}.bin": bytes(n % 251 for n in range(size)) for size in SIZES}
    for name, data in files.items():
        (www / name).write_bytes(data)
    (www / "gz" / "text.txt").write_bytes(TEXT)
    large = www / "large.bin"
    with large.open("wb") as out:
        block = os.urandom(2**20)
        for n in range(LARGE // len(block)):
            out.write(bytes([n % 256]) + block[1:])
        out.write(block[: LARGE % len(block)])
    port = _free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(_conf(prefix, port))
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(prefix),
            "-c",
            str(conf),
            "-e",
            str(prefix / "error.log"),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_accepting(port, process, prefix / "error.log")
        base = URL(f"http://127.0.0.1:{port}")
        yield SimpleNamespace(url=lambda path: base.with_path(path), files=files, large=large)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - nginx ignored SIGTERM
            process.kill()
            process.wait()


def _tracing() -> tuple[TraceConfig[Any], dict[str, int]]:
    """A TraceConfig counting new and reused connections."""
    counts = {"created": 0, "reused": 0}
    config: TraceConfig[Any] = TraceConfig()

    async def created(session: Any, ctx: Any, params: Any) -> None:
        counts["created"] += 1

    async def reused(session: Any, ctx: Any, params: Any) -> None:
        counts["reused"] += 1

    config.on_connection_create_end.append(created)
    config.on_connection_reuseconn.append(reused)
    return config, counts


async def test_static_files_around_buffer_boundaries(nginx: SimpleNamespace) -> None:
    async with ClientSession() as session:
        for name, data in nginx.files.items():
            async with session.get(nginx.url(f"/{name}")) as resp:
                assert resp.status == 200
                assert resp.content_length == len(data)
                assert await resp.read() == data, name
            # the same file read in odd-sized pieces
            async with session.get(nginx.url(f"/{name}")) as resp:
                pieces = [piece async for piece in resp.content.iter_chunked(4093)]
            assert b"".join(pieces) == data, name
            assert all(len(piece) <= 4093 for piece in pieces)


async def test_a_large_file_streams_with_iter_chunked(nginx: SimpleNamespace) -> None:
    expected = hashlib.sha256(nginx.large.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    total = 0
    async with ClientSession() as session:
        async with session.get(nginx.url("/large.bin")) as resp:
            assert resp.content_length == LARGE
            async for chunk in resp.content.iter_chunked(2**16):
                assert 0 < len(chunk) <= 2**16
                digest.update(chunk)
                total += len(chunk)
    assert total == LARGE
    assert digest.hexdigest() == expected


async def test_a_gzip_chunked_body_is_decoded(nginx: SimpleNamespace) -> None:
    async with ClientSession() as session:
        async with session.get(nginx.url("/gz/text.txt")) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert resp.headers["Transfer-Encoding"] == "chunked"
            assert "Content-Length" not in resp.headers
            assert await resp.read() == TEXT
            assert 0 < resp.content.total_raw_bytes < len(TEXT) // 3  # it was compressed
        async with session.get(nginx.url("/gz/text.txt"), auto_decompress=False) as resp:
            coded = await resp.read()
        assert coded[:2] == b"\x1f\x8b" and len(coded) < len(TEXT)
        # identity when the client does not offer gzip (RFC 9110 §12.5.3)
        async with session.get(
            nginx.url("/gz/text.txt"), headers={"Accept-Encoding": "identity"}
        ) as resp:
            assert "Content-Encoding" not in resp.headers
            assert await resp.read() == TEXT


async def test_head_gives_the_length_and_no_body(nginx: SimpleNamespace) -> None:
    async with ClientSession() as session:
        async with session.head(nginx.url("/size65537.bin")) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Length"] == "65537"
            assert await resp.read() == b""
        async with session.get(nginx.url("/size1.bin")) as resp:  # the connection goes on
            assert await resp.read() == nginx.files["size1.bin"]
            assert resp.headers["X-Connection-Requests"] == "2"


async def test_range_requests(nginx: SimpleNamespace) -> None:
    data = nginx.files["size131073.bin"]
    url = nginx.url("/size131073.bin")
    async with ClientSession() as session:
        async with session.get(url, headers={"Range": "bytes=100-199"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
            assert await resp.read() == data[100:200]
        async with session.get(url, headers={"Range": "bytes=-10"}) as resp:  # a suffix
            assert resp.status == 206
            assert await resp.read() == data[-10:]
        async with session.get(url, headers={"Range": "bytes=131000-"}) as resp:
            assert await resp.read() == data[131000:]
        async with session.get(url, headers={"Range": f"bytes={len(data)}-"}) as resp:
            assert resp.status == 416  # RFC 9110 §15.5.17: nothing of it exists
            await resp.read()


async def test_not_modified_with_if_modified_since_and_if_none_match(
    nginx: SimpleNamespace,
) -> None:
    url = nginx.url("/size8192.bin")
    async with ClientSession() as session:
        async with session.get(url) as resp:
            last_modified = resp.headers["Last-Modified"]
            etag = resp.headers["ETag"]
            await resp.read()
        async with session.get(url, headers={"If-Modified-Since": last_modified}) as resp:
            assert resp.status == 304
            assert await resp.read() == b""  # RFC 9110 §15.4.5: no content
        async with session.get(url, headers={"If-None-Match": etag}) as resp:
            assert resp.status == 304
            assert await resp.read() == b""
        async with session.get(
            url, headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}
        ) as resp:
            assert resp.status == 200
            assert len(await resp.read()) == 8192
            assert resp.headers["X-Connection-Requests"] == "4"  # 304s kept the connection


async def test_keep_alive_reuses_one_connection(nginx: SimpleNamespace) -> None:
    config, counts = _tracing()
    connections = set()
    async with ClientSession(trace_configs=[config]) as session:
        for n in range(1, 11):
            async with session.get(nginx.url("/size4096.bin")) as resp:
                await resp.read()
                connections.add(resp.headers["X-Connection"])
                assert resp.headers["X-Connection-Requests"] == str(n)
    assert len(connections) == 1
    assert counts == {"created": 1, "reused": 9}


async def test_concurrent_requests_share_a_bounded_pool(nginx: SimpleNamespace) -> None:
    config, counts = _tracing()
    connector = TCPConnector(limit=4)
    async with ClientSession(connector=connector, trace_configs=[config]) as session:

        async def fetch(name: str) -> bytes:
            async with session.get(nginx.url(f"/{name}")) as resp:
                return await resp.read()

        names = list(nginx.files) * 4
        bodies = await asyncio.gather(*(fetch(name) for name in names))
    assert bodies == [nginx.files[name] for name in names]
    assert counts["created"] <= 4
    assert counts["created"] + counts["reused"] == len(names)


async def test_404(nginx: SimpleNamespace) -> None:
    async with ClientSession() as session:
        async with session.get(nginx.url("/missing.bin")) as resp:
            assert resp.status == 404
            assert resp.reason == "Not Found"
            assert b"404" in await resp.read()
            with pytest.raises(ClientResponseError) as info:
                resp.raise_for_status()
            assert info.value.status == 404
        with pytest.raises(ClientResponseError):
            await session.get(nginx.url("/missing.bin"), raise_for_status=True)
        async with session.get(nginx.url("/size0.bin")) as resp:
            assert await resp.read() == b""
            assert resp.headers["X-Connection-Requests"] == "3"
