"""The ``client`` benchmark: HTTP/1.1 client throughput against a server that costs nothing.

Two cases. ``get``: 20,000 GETs (2,000 with ``--quick``) issued by 64 concurrent tasks over
keep-alive connections, each response a fixed 13-byte body that is read and checked.
``download``: one 100 MB response (20 MB with ``--quick``) streamed with
``iter_chunked(64 KiB)``; its side figure is the client's peak RSS growth while streaming
(``VmHWM`` before the first download and after the last), which a client that streams
keeps flat.

The server is this module run as a script (``python bench_client.py``): a bare asyncio
protocol, pinned to the other core, that answers each request head (found by its blank
line, nothing parsed) with a fixed response, or with the big body when the request line
names ``/download``; so the figure is the client's cost alone.

Top level: standard library and ``harness`` only (``run.py`` imports this module).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import harness
from harness import Benchmark, Case, CheckFailed, Context, System, Unavailable, measure

CONCURRENCY = 64
GETS = 20_000
QUICK_GETS = 2_000
MB = 1_000_000
DOWNLOAD_MB = 100
QUICK_DOWNLOAD_MB = 20
READ_CHUNK = 64 * 1024

SMALL_BODY = b"Hello, world!"
SMALL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: " + str(len(SMALL_BODY)).encode() + b"\r\n"
    b"\r\n" + SMALL_BODY
)
# The big body is this block sent again and again (a memoryview: no copy per write).
BLOCK = bytes(range(256)) * 4096  # 1 MiB
RSS_FIGURE = "client peak RSS growth while streaming (MiB)"

Fetch = Callable[[str], Awaitable[int]]

# ---------------------------------------------------------------------------------------------
# The server (runs in its own process)


class _FixedResponder(asyncio.Protocol):
    """Answers every request head with ``SMALL_RESPONSE``; ``/download`` with the big body."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._pending = b""
        self._left = 0  # bytes of big body still to send
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=4 * 1024 * 1024)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        heads = (self._pending + data).split(b"\r\n\r\n")
        self._pending = heads.pop()
        replies = []
        for head in heads:
            if head.startswith(b"GET /download/"):
                size = int(head[len(b"GET /download/") :].split(b" ", 1)[0])
                replies.append(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                self._left = size
            else:
                replies.append(SMALL_RESPONSE)
        self._transport.write(b"".join(replies))
        self._send_body()

    def _send_body(self) -> None:
        assert self._transport is not None
        view = memoryview(BLOCK)
        while self._left and not self._paused:
            piece = view[: min(self._left, len(view))]
            self._left -= len(piece)
            self._transport.write(piece)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._send_body()


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_FixedResponder, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


# ---------------------------------------------------------------------------------------------
# Shared pieces of the systems


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


def _counts(ctx: Context) -> tuple[int, int]:
    """(GETs, download MB) for this run."""
    return (QUICK_GETS, QUICK_DOWNLOAD_MB) if ctx.quick else (GETS, DOWNLOAD_MB)


async def _gets(fetch: Fetch, url: str, count: int) -> None:
    """``count`` GETs of ``url`` from ``CONCURRENCY`` tasks, each checked."""
    left = count

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await fetch(url)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def _measure_case(
    case: Case,
    ctx: Context,
    make: Callable[[], Awaitable[tuple[Fetch, Fetch, Callable[[], Awaitable[None]]]]],
) -> float:
    """Start the server, build the client with ``make``, check, then time ``case``.

    ``make`` returns (get, download, close): ``get(url)`` reads a small response and
    returns its body length, ``download(url)`` streams one and returns the bytes read.
    """
    gets, download_mb = _counts(ctx)
    argv = [sys.executable, os.path.abspath(__file__)]
    with harness.serving(argv, ctx.core(1)) as (_process, port):
        loop = asyncio.new_event_loop()
        try:
            get, download, close = loop.run_until_complete(make())
            try:
                return _time(
                    case, ctx, loop, get, download, f"http://127.0.0.1:{port}", gets, download_mb
                )
            finally:
                loop.run_until_complete(close())
        finally:
            loop.close()


def _time(
    case: Case,
    ctx: Context,
    loop: asyncio.AbstractEventLoop,
    get: Fetch,
    download: Fetch,
    base: str,
    gets: int,
    download_mb: int,
) -> float:
    """Check one small response, then time the case's workload."""
    if loop.run_until_complete(get(base + "/")) != len(SMALL_BODY):
        raise CheckFailed("wrong small body")
    if case.name == "get":
        return measure(
            lambda: loop.run_until_complete(_gets(get, base + "/", gets)), ctx.min_time, units=gets
        )
    size = download_mb * MB
    url = f"{base}/download/{size}"

    def stream() -> None:
        got = loop.run_until_complete(download(url))
        if got != size:
            raise CheckFailed(f"downloaded {got} bytes, {size} expected")

    before = peak_rss_kib()
    rate = measure(stream, ctx.min_time, units=download_mb)
    harness.record(RSS_FIGURE, (peak_rss_kib() - before) / 1024)
    return rate


def _check_body(body: bytes) -> int:
    if body != SMALL_BODY:
        raise CheckFailed(f"body {body[:40]!r}, {SMALL_BODY!r} expected")
    return len(body)


# ---------------------------------------------------------------------------------------------
# The systems


def _aiohttp_style(module: Any) -> Callable[[], Awaitable[tuple[Fetch, Fetch, Any]]]:
    """aioloom.client and aiohttp share the API: one ClientSession, default connector."""

    async def make() -> tuple[Fetch, Fetch, Any]:
        session = module.ClientSession()

        async def get(url: str) -> int:
            async with session.get(url) as response:
                if response.status != 200:
                    raise CheckFailed(f"status {response.status}")
                return _check_body(await response.read())

        async def download(url: str) -> int:
            total = 0
            async with session.get(url) as response:
                async for chunk in response.content.iter_chunked(READ_CHUNK):
                    total += len(chunk)
            return total

        return get, download, session.close

    return make


def _run_aioloom(case: Case, ctx: Context) -> float:
    import aioloom.client

    return _measure_case(case, ctx, _aiohttp_style(aioloom.client))


def _aiohttp(pure: bool) -> harness.Runner:
    def run(case: Case, ctx: Context) -> float:
        if pure:
            # Read by aiohttp at import time; this process has not imported it yet.
            os.environ["AIOHTTP_NO_EXTENSIONS"] = "1"
        aiohttp = importlib.import_module("aiohttp")
        parser = importlib.import_module("aiohttp.http_parser")
        compiled = parser.HttpResponseParser is not parser.HttpResponseParserPy
        if compiled == pure:
            raise Unavailable(f"aiohttp's response parser is {'C' if compiled else 'Python'}")
        return _measure_case(case, ctx, _aiohttp_style(aiohttp))

    return run


def _run_httpx(case: Case, ctx: Context) -> float:
    httpx: Any = importlib.import_module("httpx")

    async def make() -> tuple[Fetch, Fetch, Any]:
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        client = httpx.AsyncClient(http1=True, http2=False, limits=limits)

        async def get(url: str) -> int:
            response = await client.get(url)
            if response.status_code != 200:
                raise CheckFailed(f"status {response.status_code}")
            return _check_body(response.content)

        async def download(url: str) -> int:
            total = 0
            async with client.stream("GET", url) as response:
                async for chunk in response.aiter_bytes(READ_CHUNK):
                    total += len(chunk)
            return total

        return get, download, client.aclose

    return _measure_case(case, ctx, make)


CASES = (
    Case(
        "get",
        f"{GETS:,} GETs ({QUICK_GETS:,} with --quick) from {CONCURRENCY} concurrent tasks over"
        f" keep-alive, {len(SMALL_BODY)}-byte body read and checked; unit GET/s",
    ),
    Case(
        "download",
        f"one {DOWNLOAD_MB} MB response ({QUICK_DOWNLOAD_MB} MB with --quick) streamed with"
        f" iter_chunked({READ_CHUNK // 1024} KiB) (httpx: aiter_bytes); unit MB/s (10^6 bytes);"
        " side figure: the client's VmHWM growth over all the downloads of the measurement",
    ),
)

SYSTEMS = (
    System(
        "aioloom",
        "`aioloom.client.ClientSession()` with its default connector",
        _run_aioloom,
    ),
    System(
        "aiohttp",
        "`aiohttp.ClientSession()` with its default connector, C extensions (llhttp) on",
        _aiohttp(pure=False),
    ),
    System(
        "aiohttp-py",
        "as `aiohttp`, with `AIOHTTP_NO_EXTENSIONS=1` (pure-Python parser and helpers)",
        _aiohttp(pure=True),
    ),
    System(
        "httpx",
        f"`httpx.AsyncClient(http1=True)`, limits {CONCURRENCY} connections; `.content`,"
        " `stream()`",
        _run_httpx,
    ),
)

BENCHMARK = Benchmark(
    name="client",
    title="HTTP/1.1 client",
    description=(
        "Client throughput against a server that costs almost nothing: a bare asyncio protocol"
        " (this module run as a script) pinned to the other core, answering each request head"
        " with a fixed response without parsing it. The client runs on a plain asyncio loop"
        " (no uvloop) in the measuring process; one call of the timed function is a whole"
        " batch of GETs or one whole download, and the session (and its pool) lives across"
        " calls, as in a real program."
    ),
    unit="GET/s | MB/s",
    cases=CASES,
    systems=SYSTEMS,
    reference="aiohttp",
    cores_per_measurement=2,
    packages=("aioloom-client", "aioloom-http", "aiohttp", "httpx", "multidict", "yarl"),
)


if __name__ == "__main__":
    asyncio.run(_serve())
