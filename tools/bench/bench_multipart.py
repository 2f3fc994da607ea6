"""The ``multipart`` benchmark: a 200 MB file uploaded as multipart/form-data, streamed to disk.

The client (the measuring process) posts a ``FormData`` holding an open 200 MB file (20 MB
with ``--quick``); the server (this module run as a script, in its own process pinned to
the other core) reads the body with ``await request.multipart()``, takes the first part
and copies it to a temporary file with ``read_chunk(64 KiB)``, then answers with the
byte count and its own peak RSS. aioloom's client talks to aioloom.web, aiohttp's to
aiohttp.web: each pair is one system.

The rate is MB/s (10^6 bytes) of file content; the side figures are the peak RSS growth
(``VmHWM``) of each process over the measurement, which streaming keeps small however
large the file.

If aioloom.web's ``request.multipart()`` raises, the server falls back to
``aioloom.multipart.MultipartReader(request.headers, request.content)`` and the result
says so (``aioloom-fallback`` side figure of 1).

Top level: standard library and ``harness`` only (``run.py`` imports this module).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import socket
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
from harness import Benchmark, Case, CheckFailed, Context, System, measure

MB = 1_000_000
UPLOAD_MB = 200
QUICK_UPLOAD_MB = 20
READ_CHUNK = 64 * 1024
BLOCK = os.urandom(1024 * 1024)  # the file is this block repeated (random: no compression luck)
CLIENT_RSS = "client peak RSS growth (MiB)"
SERVER_RSS = "server peak RSS growth (MiB)"
FALLBACK = "aioloom-fallback"

# ---------------------------------------------------------------------------------------------
# The server (runs in its own process: ``python bench_multipart.py aioloom|aiohttp``)


def peak_rss_kib() -> int:
    """This process's peak resident set size so far (``VmHWM``), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def _reader(flavour: str, request: Any) -> tuple[Any, bool]:
    """The request's MultipartReader, and whether aioloom needed the fallback."""
    try:
        return await request.multipart(), False
    except Exception:
        if flavour != "aioloom":
            raise
        from aioloom.multipart import MultipartReader

        return MultipartReader(request.headers, request.content), True


def _app(flavour: str, web: Any) -> Any:
    async def upload(request: Any) -> Any:
        reader, fallback = await _reader(flavour, request)
        part = await reader.next()
        size = 0
        with tempfile.TemporaryFile() as sink:
            while chunk := await part.read_chunk(READ_CHUNK):
                sink.write(chunk)
                size += len(chunk)
        report = {"bytes": size, "filename": part.filename, "peak_kib": peak_rss_kib()}
        report["fallback"] = fallback
        return web.json_response(report)

    async def ping(request: Any) -> Any:
        return web.json_response({"peak_kib": peak_rss_kib()})

    app = web.Application(client_max_size=1024**3)
    app.router.add_post("/upload", upload)
    app.router.add_get("/ping", ping)
    return app


async def _serve(flavour: str) -> None:
    web: Any = importlib.import_module("aioloom.web" if flavour == "aioloom" else "aiohttp.web")
    runner = web.AppRunner(_app(flavour, web), access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


# ---------------------------------------------------------------------------------------------
# The client (the measuring process)


def _server_peak(port: int) -> int:
    """The server's VmHWM (KiB) after its imports and start, asked over plain urllib."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=30) as answer:
        return int(json.load(answer)["peak_kib"])


def _big_file(directory: str, megabytes: int) -> Path:
    path = Path(directory) / "upload.bin"
    with path.open("wb") as out:
        for _ in range(megabytes * MB // len(BLOCK)):
            out.write(BLOCK)
        out.write(BLOCK[: megabytes * MB % len(BLOCK)])
    return path


def _runner(flavour: str) -> harness.Runner:
    def run(case: Case, ctx: Context) -> float:
        client = importlib.import_module("aioloom.client" if flavour == "aioloom" else "aiohttp")
        megabytes = QUICK_UPLOAD_MB if ctx.quick else UPLOAD_MB
        argv = [sys.executable, os.path.abspath(__file__), flavour]
        with (
            tempfile.TemporaryDirectory() as folder,
            harness.serving(argv, ctx.core(1)) as (
                _process,
                port,
            ),
        ):
            path = _big_file(folder, megabytes)
            return _measure(client, int(port), path, megabytes, ctx)

    return run


def _measure(client: Any, port: int, path: Path, megabytes: int, ctx: Context) -> float:
    size = megabytes * MB
    url = f"http://127.0.0.1:{port}/upload"
    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(_session(client))
    reports: list[dict[str, Any]] = []
    # aiohttp.FormData, aioloom.client.FormData (served lazily from aioloom.multipart); a
    # client without the attribute takes aioloom.multipart.FormData.
    form_class: Any = getattr(client, "FormData", None) or (
        importlib.import_module("aioloom.multipart").FormData
    )

    async def upload() -> None:
        form = form_class()
        with path.open("rb") as file:
            form.add_field(
                "file", file, filename="upload.bin", content_type="application/octet-stream"
            )
            async with session.post(url, data=form) as response:
                if response.status != 200:
                    raise CheckFailed(f"status {response.status}: {await response.text()}")
                report = await response.json()
        if report["bytes"] != size or report["filename"] != "upload.bin":
            raise CheckFailed(f"server got {report}, expected {size} bytes of upload.bin")
        reports.append(report)

    upload_once: Callable[[], None] = lambda: loop.run_until_complete(upload())  # noqa: E731
    try:
        server_before = _server_peak(port)
        client_before = peak_rss_kib()
        rate = measure(upload_once, ctx.min_time, units=megabytes)
        harness.record(CLIENT_RSS, (peak_rss_kib() - client_before) / 1024)
        harness.record(SERVER_RSS, (reports[-1]["peak_kib"] - server_before) / 1024)
        if any(report["fallback"] for report in reports):
            harness.record(FALLBACK, 1)
        return rate
    finally:
        loop.run_until_complete(session.close())
        loop.close()


async def _session(client: Any) -> Any:
    return client.ClientSession()


BENCHMARK = Benchmark(
    name="multipart",
    title="multipart upload streamed to disk",
    description=(
        f"A {UPLOAD_MB} MB file ({QUICK_UPLOAD_MB} MB with --quick) posted as"
        " multipart/form-data (`FormData.add_field` with an open file) by the client, in the"
        " measuring process, to a server in its own process pinned to the other core, which"
        " copies the part to a temporary file with `await request.multipart()`, `next()` and"
        f" `read_chunk({READ_CHUNK // 1024} KiB)` and answers with the byte count (checked)."
        " Both processes run plain asyncio loops. Side figures: each process's VmHWM growth"
        " over the measurement (the server's measured from after its start). If aioloom.web's"
        " `request.multipart()` raises, its server falls back to"
        " `aioloom.multipart.MultipartReader(request.headers, request.content)` and reports an"
        f" `{FALLBACK}` side figure of 1."
    ),
    unit="MB/s",
    cases=(Case("upload", "one file part per request; unit MB/s (10^6 bytes of file)"),),
    systems=(
        System(
            "aioloom",
            "`aioloom.client.ClientSession` -> `aioloom.web` (AppRunner + SockSite)",
            _runner("aioloom"),
        ),
        System(
            "aiohttp",
            "`aiohttp.ClientSession` -> `aiohttp.web` (AppRunner + SockSite), C extensions on",
            _runner("aiohttp"),
        ),
    ),
    reference="aiohttp",
    cores_per_measurement=2,
    packages=("aioloom-client", "aioloom-web", "aioloom-multipart", "aiohttp", "multidict"),
)


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
