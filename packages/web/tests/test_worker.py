"""The gunicorn workers: configuration helpers, and real gunicorn runs stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import pathlib
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("gunicorn", reason="gunicorn is not installed (a test-only dependency)")

import trustme
from gunicorn.config import Config  # type: ignore[import-untyped,unused-ignore]

from aioloom.web.worker import GunicornUVLoopWebWorker, GunicornWebWorker

WORKER = "aioloom.web.worker.GunicornWebWorker"


def test_gunicorn_is_not_imported_by_the_package() -> None:
    code = (
        "import sys, aioloom.web, aioloom.web._runner, aioloom.web._run_app, "
        "aioloom.web._fileresponse, aioloom.web.__main__\n"
        "assert 'gunicorn' not in sys.modules, 'gunicorn imported'\n"
        "assert 'aioloom.web.worker' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _bare_worker(worker_class: type[GunicornWebWorker] = GunicornWebWorker) -> Any:
    # The helpers under test use no state from __init__ (which needs gunicorn's arbiter).
    return worker_class.__new__(worker_class)


def test_log_format_translation() -> None:
    worker = _bare_worker()
    assert (
        worker._get_valid_log_format(GunicornWebWorker.DEFAULT_GUNICORN_LOG_FORMAT)
        == GunicornWebWorker.DEFAULT_AIOHTTP_LOG_FORMAT
    )
    assert worker._get_valid_log_format("%a %s") == "%a %s"
    with pytest.raises(ValueError, match="not supported"):
        worker._get_valid_log_format("%(h)s %(r)s")


def test_ssl_context_from_gunicorn_settings(tmp_path: pathlib.Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    cfg = Config()
    cfg.set("certfile", str(cert_path))
    cfg.set("keyfile", str(key_path))
    context = GunicornWebWorker._create_ssl_context(cfg)
    assert isinstance(context, ssl.SSLContext)
    assert cfg.is_ssl


def test_uvloop_worker_is_a_web_worker() -> None:
    assert issubclass(GunicornUVLoopWebWorker, GunicornWebWorker)


# -- gunicorn for real ----------------------------------------------------------------------

APP = """
import asyncio, os
from aioloom.web._app import Application
from aioloom.web._fileresponse import FileResponse
from aioloom.web._response import Response

async def pid(request):
    return Response(text=str(os.getpid()))

async def slow(request):
    print("slow started", flush=True)
    await asyncio.sleep(1.0)
    return Response(text="slow done")

async def echo(request):
    return Response(body=await request.read())

async def download(request):
    return FileResponse(os.environ["WAPP_FILE"])

app = Application()
app.router.add_get("/", pid)
app.router.add_get("/slow", slow)
app.router.add_post("/echo", echo)
app.router.add_get("/file", download)

async def factory():
    return app
"""

_LISTENING_RE = re.compile(rb"Listening at: https?://127\.0\.0\.1:(\d+)")


class Gunicorn:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.output = b""

    async def read_until(self, pattern: re.Pattern[bytes], timeout: float = 20) -> re.Match[bytes]:
        assert self.proc.stdout is not None
        while True:
            match = pattern.search(self.output)
            if match is not None:
                return match
            chunk = await asyncio.wait_for(self.proc.stdout.read(4096), timeout)
            if not chunk:
                raise AssertionError(f"gunicorn ended early:\n{self.output.decode()}")
            self.output += chunk


async def _start(
    tmp_path: pathlib.Path, target: str, *extra: str, bind: str = "127.0.0.1:0"
) -> Gunicorn:
    (tmp_path / "wapp.py").write_text(APP)
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "WAPP_FILE": str(tmp_path / "download.bin"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        bind,
        "--worker-class",
        WORKER,
        "--graceful-timeout",
        "10",
        "--access-logfile",
        "-",
        *extra,
        target,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=str(tmp_path),
    )
    return Gunicorn(proc)


@pytest.fixture
async def gunicorn_app(tmp_path: pathlib.Path) -> AsyncIterator[tuple[Gunicorn, int]]:
    server = await _start(tmp_path, "wapp:app")
    try:
        port = int((await server.read_until(_LISTENING_RE)).group(1))
        await server.read_until(re.compile(rb"Booting worker(.|\n)*Booting worker"))
        yield server, port
    finally:
        if server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()


async def _get(port: int, path: str, context: ssl.SSLContext | None = None) -> bytes:
    for _ in range(100):  # the workers may still be starting their loops
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=context, server_hostname="localhost" if context else None
            )
            break
        except ConnectionRefusedError:
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("gunicorn never accepted")
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, ssl.SSLError):
        pass
    return data


async def test_gunicorn_serves_and_stops_gracefully(
    gunicorn_app: tuple[Gunicorn, int], h11_parse: Any
) -> None:
    server, port = gunicorn_app
    pids = set()
    for _ in range(6):
        (answer,) = h11_parse(await _get(port, "/"))
        assert answer.status == 200
        pids.add(int(answer.body))
    assert os.getpid() not in pids
    slow = asyncio.ensure_future(_get(port, "/slow"))
    await server.read_until(re.compile(rb"slow started"))
    server.proc.send_signal(signal.SIGTERM)
    (answer,) = h11_parse(await slow)
    assert (answer.status, answer.body) == (200, b"slow done")  # finished during the stop
    code = await asyncio.wait_for(server.proc.wait(), 20)
    rest = await server.proc.stdout.read() if server.proc.stdout is not None else b""
    output = (server.output + rest).decode()
    assert code == 0, output
    assert "Shutting down: Master" in output
    # The access log went through gunicorn's access logger in aiohttp's format.
    assert re.search(r'127\.0\.0\.1 \[.+\] "GET /slow HTTP/1\.1" 200 \d+', output), output
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_gunicorn_async_factory(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    server = await _start(tmp_path, "wapp:factory")
    try:
        port = int((await server.read_until(_LISTENING_RE)).group(1))
        (answer,) = h11_parse(await _get(port, "/"))
        assert answer.status == 200
        server.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.proc.wait(), 20) == 0
    finally:
        if server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()


async def test_gunicorn_tls(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    server = await _start(
        tmp_path, "wapp:app", "--certfile", str(cert_path), "--keyfile", str(key_path)
    )
    try:
        port = int((await server.read_until(_LISTENING_RE)).group(1))
        (answer,) = h11_parse(await _get(port, "/", client))
        assert answer.status == 200
        server.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.proc.wait(), 20) == 0
    finally:
        if server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()


@pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed")
async def test_gunicorn_uvloop_worker(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    server = await _start(
        tmp_path, "wapp:app", "--worker-class", "aioloom.web.worker.GunicornUVLoopWebWorker"
    )
    try:
        port = int((await server.read_until(_LISTENING_RE)).group(1))
        (answer,) = h11_parse(await _get(port, "/"))
        assert answer.status == 200
        server.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.proc.wait(), 20) == 0
    finally:
        if server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()


# -- behind nginx, with the configuration of docs/deployment.md -----------------------------

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
DEPLOYMENT_DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "deployment.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _nginx_conf(tmp_path: pathlib.Path, port: int, sock: pathlib.Path) -> str:
    """The documented nginx block, pointed at this test's socket, port and folders."""
    text = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    (block,) = re.findall(r"```nginx\n(.*?)```", text, flags=re.S)
    for old, new in (
        ("unix:/run/myapp/gunicorn.sock", f"unix:{sock}"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("/srv/myapp/static/", f"{tmp_path}/static/"),
    ):
        assert old in block, old
        block = block.replace(old, new)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach tmp_path
    return (
        f"{user}worker_processes 1;\ndaemon off;\npid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/nginx-error.log;\nevents {{ worker_connections 64; }}\n"
        f"http {{\naccess_log off;\nclient_body_temp_path {tmp_path}/body;\n"
        f"proxy_temp_path {tmp_path}/proxy;\n{block}\n}}\n"
    )


async def _through_nginx(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    await writer.wait_closed()
    return data


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
async def test_gunicorn_behind_nginx(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    assert NGINX is not None
    sock = tmp_path / "gunicorn.sock"
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "hello.txt").write_text("static hello")
    payload = os.urandom(2 * 2**20 + 3)
    (tmp_path / "download.bin").write_bytes(payload)
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(_nginx_conf(tmp_path, port, sock))
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "t.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    server = await _start(tmp_path, "wapp:app", bind=f"unix:{sock}")
    nginx = await asyncio.create_subprocess_exec(
        NGINX, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "nginx-error.log")
    )
    try:
        await server.read_until(re.compile(rb"Listening at: unix:"))
        for _ in range(100):
            try:
                (answer,) = h11_parse(
                    await _through_nginx(
                        port, b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
                    )
                )
                if answer.status == 200:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.1)
        assert answer.status == 200 and int(answer.body) > 0
        (static,) = h11_parse(
            await _through_nginx(
                port, b"GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
        )
        assert (static.status, static.body) == (200, b"static hello")
        (echoed,) = h11_parse(
            await _through_nginx(
                port,
                b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Connection: close\r\n\r\nhello",
            )
        )
        assert echoed.body == b"hello"
        (ranged,) = h11_parse(
            await _through_nginx(
                port,
                b"GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=5-\r\nConnection: close\r\n\r\n",
            )
        )
        assert (ranged.status, ranged.body) == (206, payload[5:])
        (whole,) = h11_parse(
            await _through_nginx(
                port, b"GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
        )
        assert whole.body == payload
        server.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.proc.wait(), 20) == 0
        (gone,) = h11_parse(
            await _through_nginx(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        )
        assert gone.status == 502  # nginx still up, the backend stopped
    finally:
        for proc in (server.proc, nginx):
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except asyncio.TimeoutError:
                    proc.kill()
                    await proc.wait()
