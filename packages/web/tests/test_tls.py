"""HTTPS on every kind of site, with certificates made by trustme in the test.

Clients: asyncio TLS streams (answers read by h11) and curl as an independent client.
FileResponse over TLS goes through its chunked-read path (sendfile cannot encrypt).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pathlib
import shutil
import socket
import ssl
from typing import Any

import pytest
import trustme

from aioloom.web._fileresponse import FileResponse
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response, StreamResponse
from aioloom.web._runner import BaseSite, ServerRunner, SockSite, TCPSite, UnixSite
from aioloom.web._server import Server

CURL = shutil.which("curl")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def big_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * 2**20 + 7))
    return path


def make_handler(big_file: pathlib.Path) -> Any:
    async def handler(request: BaseRequest) -> StreamResponse:
        if request.path == "/file":
            return FileResponse(big_file)
        return Response(text=f"{request.scheme} {request.secure}")

    return handler


async def _https_get(
    client_context: ssl.SSLContext, path: str, *, port: int | None = None, unix: str | None = None
) -> bytes:
    if unix is not None:
        reader, writer = await asyncio.open_unix_connection(
            unix, ssl=client_context, server_hostname="localhost"
        )
    else:
        assert port is not None
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
        )
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, ssl.SSLError):
        pass
    return data


async def _runner(big_file: pathlib.Path) -> ServerRunner:
    runner = ServerRunner(Server(make_handler(big_file)))
    await runner.setup()
    return runner


async def test_tcp_site_https(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    big_file: pathlib.Path,
    h11_parse: Any,
    loop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sendfile_calls: list[Any] = []
    original = loop.sendfile

    async def spy(*args: Any, **kwargs: Any) -> int:
        sendfile_calls.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(loop, "sendfile", spy)
    runner = await _runner(big_file)
    try:
        site = TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
        await site.start()
        assert site.name == f"https://127.0.0.1:{site.port}"
        (answer,) = h11_parse(await _https_get(client_context, "/", port=site.port))
        assert answer.body == b"https True"
        (file_answer,) = h11_parse(await _https_get(client_context, "/file", port=site.port))
    finally:
        await runner.cleanup()
    assert file_answer.status == 200
    assert (
        hashlib.sha256(file_answer.body).digest() == hashlib.sha256(big_file.read_bytes()).digest()
    )
    assert sendfile_calls == []  # TLS: the file was read and encrypted, not sendfile'd


async def test_unix_site_https(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    big_file: pathlib.Path,
    tmp_path: pathlib.Path,
    h11_parse: Any,
) -> None:
    path = tmp_path / "tls.sock"
    runner = await _runner(big_file)
    try:
        site = UnixSite(runner, path, ssl_context=server_context)
        await site.start()
        assert site.name == f"https://unix:{path}:"
        (answer,) = h11_parse(await _https_get(client_context, "/", unix=str(path)))
    finally:
        await runner.cleanup()
    assert answer.body == b"https True"


async def test_sock_site_https(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    big_file: pathlib.Path,
    h11_parse: Any,
) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = await _runner(big_file)
    try:
        site: BaseSite = SockSite(runner, sock, ssl_context=server_context)
        await site.start()
        assert site.name == f"https://127.0.0.1:{port}"
        (answer,) = h11_parse(await _https_get(client_context, "/", port=port))
    finally:
        await runner.cleanup()
        sock.close()
    assert answer.body == b"https True"


async def test_plain_http_on_tls_port_does_not_break_server(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    big_file: pathlib.Path,
    h11_parse: Any,
) -> None:
    runner = await _runner(big_file)
    try:
        site = TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
        await site.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = await asyncio.wait_for(reader.read(), 5)
        except ConnectionError:
            data = b""
        assert not data.startswith(b"HTTP/1.1 200")
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
        (answer,) = h11_parse(await _https_get(client_context, "/", port=site.port))
        assert answer.status == 200
    finally:
        await runner.cleanup()


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
async def test_curl_over_tls(
    server_context: ssl.SSLContext,
    ca: trustme.CA,
    big_file: pathlib.Path,
    tmp_path: pathlib.Path,
) -> None:
    assert CURL is not None
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    target = tmp_path / "download.bin"
    runner = await _runner(big_file)
    try:
        site = TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
        await site.start()
        proc = await asyncio.create_subprocess_exec(
            CURL,
            "--silent",
            "--show-error",
            "--max-time",
            "20",
            "--cacert",
            str(ca_path),
            "-r",
            "100-",
            "-o",
            str(target),
            "-w",
            "%{http_code} %{ssl_verify_result}",
            f"https://127.0.0.1:{site.port}/file",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    finally:
        await runner.cleanup()
    assert proc.returncode == 0, err
    assert out == b"206 0"  # partial content, certificate verified
    assert target.read_bytes() == big_file.read_bytes()[100:]
