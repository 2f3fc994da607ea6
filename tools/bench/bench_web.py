"""The ``web`` benchmark: requests per second of an HTTP server under wrk, aioloom against peers.

Each measurement starts one server process (the bench venv's Python running this
file as ``bench_web.py serve SYSTEM CASE PORT``) on 127.0.0.1 and a free port,
pinned to the measurement's first core, checks one response with ``http.client``
(a wrong status or body is a failed check, never timed), then drives it with
``wrk -t1 -c64`` pinned to the second core: a warm-up run, then
``WRK_RUNS`` runs, and the fastest run's requests/s is the figure (interference
only ever slows a run down, as in ``harness.measure``). Any non-2xx response or
socket error during a run fails the measurement.

Systems: aioloom.web (pure-Python parser and serializer), aiohttp with its compiled
extensions (the reference), aiohttp with ``AIOHTTP_NO_EXTENSIONS=1`` (pure Python),
uvicorn with httptools on a bare ASGI callable (no framework: hello, json, post),
and a bare asyncio protocol that answers canned bytes without parsing (the
ceiling of the loop and the sockets; hello and json only). aioloom and aiohttp
serve the very same application code (their APIs are the same), through
``web.run_app(..., access_log=None)``.

The module's top level uses only the standard library and ``harness``: the
frameworks are imported only inside the server process.
"""

from __future__ import annotations

import http.client
import importlib
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import Benchmark, Case, CheckFailed, Context, System, Unavailable, spawn_pinned

HELLO = b"Hello, World!"
JSON_BODY = b'{"message": "Hello, World!"}'
POST_SIZE = 64 * 1024
USER_ID = "4711"
CONNECTIONS = 64
WRK_RUNS = 3
SERVER_START_TIMEOUT = 30.0
# The server process prints this (and exits with UNAVAILABLE_EXIT) when it cannot run.
UNAVAILABLE_MARK = "BENCH-UNAVAILABLE "
UNAVAILABLE_EXIT = 3
# Set to an os.pathsep-separated list of source folders (each holding ``aioloom/``) to
# serve aioloom from there instead of the checkout, e.g. a pre-change snapshot.
AIOLOOM_PATH_VARIABLE = "BENCH_WEB_AIOLOOM_PATH"


@dataclass(frozen=True)
class Workload:
    """What wrk sends for a case and what the server must answer.

    Attributes:
        path: The request target.
        body: The expected response body.
        post: Whether the request is a POST of ``POST_SIZE`` bytes (echoed back).
        routes: Routes the application registers (the tested one is the last).
        dynamic: With ``routes=1``, the one route is ``/user/{id}`` (the baseline of the
            routing cases: the same handler, nothing else to search).
        framework: Whether one middleware and one on_response_prepare signal are installed.
    """

    path: str
    body: bytes
    post: bool = False
    routes: int = 1
    framework: bool = False
    dynamic: bool = False


POST_PAYLOAD = bytes(range(256)) * (POST_SIZE // 256)

WORKLOADS = {
    "hello": Workload("/", HELLO),
    "json": Workload("/json", JSON_BODY),
    "routes1": Workload(f"/user/{USER_ID}", f"user {USER_ID}".encode(), routes=1, dynamic=True),
    "routes100": Workload(f"/user/{USER_ID}", f"user {USER_ID}".encode(), routes=100),
    "routes1000": Workload(f"/user/{USER_ID}", f"user {USER_ID}".encode(), routes=1000),
    "post": Workload("/echo", POST_PAYLOAD, post=True),
    "framework": Workload("/", HELLO, framework=True),
}

CASES = (
    Case("hello", 'plaintext `GET /` -> "Hello, World!" (text/plain)'),
    Case("json", '`GET /json` -> `json_response({"message": "Hello, World!"})`'),
    Case(
        "routes100",
        f"`GET /user/{USER_ID}` matched by `/user/{{id}}`, the last of 100 routes"
        " (half static, half with a variable)",
    ),
    Case("routes1000", "the same among 1,000 routes"),
    Case(
        "routes1",
        f"`GET /user/{USER_ID}` with `/user/{{id}}` the only route (the routing cases' baseline:"
        " the same handler and match, no other route to search)",
    ),
    Case("post", f"`POST /echo` with a {POST_SIZE // 1024} KiB body, read and echoed back"),
    Case(
        "framework",
        "hello through one middleware (awaits the handler) and one on_response_prepare"
        " signal (sets a header)",
    ),
)


# ---------------------------------------------------------------------------------------------
# The server side (runs in the server process)


def _build_app(web: Any, workload: Workload) -> Any:
    """The application of a case, for ``aioloom.web`` or ``aiohttp.web`` (same API)."""
    middlewares: list[Any] = []
    if workload.framework:

        async def passthrough(request: Any, handler: Any) -> Any:
            return await handler(request)

        middlewares.append(web.middleware(passthrough))
    app = web.Application(middlewares=middlewares)
    if workload.framework:

        async def on_prepare(request: Any, response: Any) -> None:
            response.headers["X-Bench"] = "1"

        app.on_response_prepare.append(on_prepare)

    async def hello(request: Any) -> Any:
        return web.Response(text="Hello, World!")

    async def json_handler(request: Any) -> Any:
        return web.json_response({"message": "Hello, World!"})

    async def user(request: Any) -> Any:
        return web.Response(text="user " + request.match_info["id"])

    async def other(request: Any) -> Any:
        return web.Response(text="other")

    async def echo(request: Any) -> Any:
        return web.Response(body=await request.read())

    router = app.router
    for i in range(workload.routes - 1):
        if i % 2:
            router.add_get(f"/static{i}/page", other)
        else:
            router.add_get(f"/item{i}/{{id}}", other)
    if workload.routes > 1 or workload.dynamic:
        router.add_get("/user/{id}", user)
    else:
        router.add_get("/", hello)
        router.add_get("/json", json_handler)
        router.add_post("/echo", echo)
    return app


def _unavailable(reason: str) -> None:
    print(UNAVAILABLE_MARK + reason, flush=True)
    sys.exit(UNAVAILABLE_EXIT)


def _serve_framework(system: str, workload: Workload, port: int) -> None:
    aioloom = system.startswith("aioloom")
    web: Any = importlib.import_module("aioloom.web" if aioloom else "aiohttp.web")
    if system == "aioloom-nocache":
        # wrk sends the same head every time, so aioloom's parser reuses its parse of it (the
        # head cache in aioloom.http._parser); this system parses every head as a new one
        # would be, to show what the cache contributes. Parsers read the module-level cache at
        # construction; None turns it off.
        parser_module: Any = importlib.import_module("aioloom.http._parser")
        parser_module._request_heads = None
    if not aioloom:
        http_parser: Any = importlib.import_module("aiohttp.http_parser")
        compiled = http_parser.HttpRequestParser is not http_parser.HttpRequestParserPy
        if system == "aiohttp" and not compiled:
            _unavailable("aiohttp runs without its C extension here")
        if system == "aiohttp-py" and compiled:
            _unavailable("AIOHTTP_NO_EXTENSIONS did not disable the C extension")
    app = _build_app(web, workload)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _serve_uvicorn(workload: Workload, port: int) -> None:
    try:
        importlib.import_module("httptools")
        uvicorn: Any = importlib.import_module("uvicorn")
    except ImportError as exc:
        _unavailable(f"{type(exc).__name__}: {exc}")
    text_headers = [(b"content-type", b"text/plain; charset=utf-8")]
    json_headers = [(b"content-type", b"application/json; charset=utf-8")]
    binary_headers = [(b"content-type", b"application/octet-stream")]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/echo":
            chunks = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body, headers = b"".join(chunks), binary_headers
        elif path == "/json":
            body, headers = JSON_BODY, json_headers
        else:
            body, headers = HELLO, text_headers
        start = {"type": "http.response.start", "status": 200}
        start["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
        await send(start)
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        access_log=False,
    )


def _serve_bare(workload: Workload, port: int) -> None:
    import asyncio

    content_type = b"application/json" if workload.path == "/json" else b"text/plain"
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"; charset=utf-8\r\n"
        b"Content-Length: %d\r\n\r\n" % len(workload.body) + workload.body
    )

    class Canned(asyncio.Protocol):
        """Answers every head (counted by its blank line) with the canned response."""

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.tail = b""

        def data_received(self, data: bytes) -> None:
            data = self.tail + data
            count = data.count(b"\r\n\r\n")
            self.tail = data[data.rfind(b"\r\n\r\n") + 4 :] if count else data
            if count:
                self.transport.write(answer * count)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Canned, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def serve(system: str, case: str, port: int) -> None:
    """Run the server of ``system`` for ``case`` on 127.0.0.1:``port`` until SIGTERM."""
    workload = WORKLOADS[case]
    if system in ("aioloom", "aioloom-nocache", "aiohttp", "aiohttp-py"):
        _serve_framework(system, workload, port)
    elif system == "uvicorn":
        _serve_uvicorn(workload, port)
    elif system == "bare":
        _serve_bare(workload, port)
    else:
        raise SystemExit(f"unknown system {system!r}")


# ---------------------------------------------------------------------------------------------
# The measuring side (runs in the harness worker)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], port: int) -> None:
    """Wait until the server accepts connections; a server that exits is unavailable/broken."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            text = out.decode(errors="replace")
            if UNAVAILABLE_MARK in text:
                raise Unavailable(text.split(UNAVAILABLE_MARK, 1)[1].strip())
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise CheckFailed(f"server exited with {process.returncode}: {last[0]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise CheckFailed(f"server did not listen within {SERVER_START_TIMEOUT:g} s")


def _check(port: int, workload: Workload) -> None:
    """One request through http.client: the status and the body must be right."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if workload.post:
            conn.request("POST", workload.path, body=POST_PAYLOAD)
        else:
            conn.request("GET", workload.path)
        response = conn.getresponse()
        body = response.read()
        bench_header = response.getheader("X-Bench")
    finally:
        conn.close()
    if response.status != 200 or body != workload.body:
        raise CheckFailed(f"GET {workload.path}: {response.status}, body {body[:60]!r}")
    if workload.framework and bench_header != "1":
        raise CheckFailed("the on_response_prepare signal did not set X-Bench")


_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_FAILURES = re.compile(r"^\s*(Non-2xx or 3xx responses|Socket errors):.*$", re.MULTILINE)


def _lua_script(directory: str) -> str:
    """A wrk script that POSTs the case's payload (wrk sends its body as a Lua string)."""
    path = Path(directory) / "post.lua"
    escaped = "".join(f"\\{byte}" for byte in POST_PAYLOAD)
    path.write_text(
        f'wrk.method = "POST"\nwrk.body = "{escaped}"\n'
        'wrk.headers["Content-Type"] = "application/octet-stream"\n'
    )
    return str(path)


def _wrk(argv: list[str], ctx: Context) -> float:
    """Run wrk pinned to the measurement's second core; return its requests/s."""
    process = spawn_pinned(argv, ctx.core(1))
    out, err = process.communicate(timeout=120)
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise CheckFailed(f"wrk failed: {err.decode(errors='replace').strip()[:200]}")
    failure = _FAILURES.search(text)
    if failure:
        raise CheckFailed("wrk: " + " ".join(failure.group(0).split()))
    match = _RATE.search(text)
    if match is None:
        raise CheckFailed(f"no Requests/sec in wrk output: {text[:200]!r}")
    return float(match.group(1))


def measure_server(
    system: str, workload_name: str, ctx: Context, env: dict[str, str] | None = None
) -> float:
    """Start ``system``'s server for a workload, check its answer, load it: its req/s.

    Args:
        system: The server (``"aioloom"``, ``"aiohttp"``, ...; see :func:`serve`).
        workload_name: A key of :data:`WORKLOADS`.
        ctx: The measurement's context (cores, ``min_time``).
        env: Variables added to the server's environment.
    """
    workload = WORKLOADS[workload_name]
    port = _free_port()
    child_env = dict(os.environ if env is None else {**os.environ, **env})
    if system.startswith("aioloom") and os.environ.get(AIOLOOM_PATH_VARIABLE):
        # Measure another copy of aioloom's sources (e.g. a snapshot taken before a
        # change) ahead of the editable install; run.py drops PYTHON* variables.
        child_env["PYTHONPATH"] = os.environ[AIOLOOM_PATH_VARIABLE]
    server = spawn_pinned(
        [sys.executable, __file__, "serve", system, workload_name, str(port)],
        ctx.core(0),
        env=child_env,
    )
    try:
        _wait_ready(server, port)
        _check(port, workload)
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["wrk", "-t1", f"-c{CONNECTIONS}"]
            if workload.post:
                argv += ["-s", _lua_script(tmp)]
            url = f"http://127.0.0.1:{port}{workload.path}"
            seconds = max(1, math.ceil(ctx.min_time))
            _wrk([*argv, "-d1s", url], ctx)  # warm-up
            rate = max(_wrk([*argv, f"-d{seconds}s", url], ctx) for _ in range(WRK_RUNS))
        if server.poll() is not None:
            raise CheckFailed(f"server exited with {server.returncode} during the run")
        return rate
    finally:
        _stop(server)


def _runner(system: str, env: dict[str, str] | None = None) -> Callable[[Case, Context], float]:
    def run(case: Case, ctx: Context) -> float:
        return measure_server(system, case.name, ctx, env)

    return run


SYSTEMS = (
    System(
        "aioloom",
        "`aioloom.web` (pure-Python parser and serializer), `web.run_app`, access_log=None",
        _runner("aioloom"),
    ),
    System(
        "aioloom-nocache",
        "as `aioloom`, with the parser's head cache off: every request head is parsed (wrk"
        " repeats one head, which `aioloom` parses once)",
        _runner("aioloom-nocache"),
    ),
    System(
        "aiohttp",
        "`aiohttp.web` with its compiled extensions (llhttp parser, C helpers), the reference",
        _runner("aiohttp"),
    ),
    System(
        "aiohttp-py",
        "`aiohttp.web` with `AIOHTTP_NO_EXTENSIONS=1` (pure-Python parser and helpers)",
        _runner("aiohttp-py", {"AIOHTTP_NO_EXTENSIONS": "1"}),
    ),
    System(
        "uvicorn",
        "uvicorn with httptools and the asyncio loop on a bare ASGI callable (no framework,"
        " no routing)",
        _runner("uvicorn"),
        cases=frozenset({"hello", "json", "post"}),
    ),
    System(
        "bare",
        "an asyncio Protocol that answers each request head with canned bytes, no parsing"
        " (the ceiling of the loop and the sockets)",
        _runner("bare"),
        cases=frozenset({"hello", "json"}),
    ),
)

BENCHMARK = Benchmark(
    name="web",
    title="HTTP server under wrk",
    description=(
        f"Requests per second over loopback: one server process on 127.0.0.1 (pinned to one"
        f" core) driven by `wrk -t1 -c{CONNECTIONS}` (pinned to the other); per measurement a"
        f" 1 s warm-up then {WRK_RUNS} wrk runs, the fastest counts. Each server's first"
        f" response is checked (status, body) before it is loaded; a non-2xx response or"
        f" socket error under load fails the measurement."
    ),
    unit="req/s",
    cases=CASES,
    systems=SYSTEMS,
    reference="aiohttp",
    cores_per_measurement=2,
    needs=("wrk",),
    packages=("aioloom-web", "aioloom-http", "aiohttp", "uvicorn", "httptools", "multidict"),
)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit("usage: bench_web.py serve SYSTEM CASE PORT")
