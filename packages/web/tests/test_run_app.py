"""run_app: in-process runs (banner, sites, graceful stop) and subprocesses stopped by signals."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import signal
import socket
import sys
import textwrap
import threading
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._request import Request
from aioloom.web._response import Response, StreamResponse
from aioloom.web._run_app import _make_sites, run_app
from aioloom.web._runner import AppRunner, GracefulExit, SockSite, TCPSite, UnixSite


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as resp:
        body: bytes = resp.read()
        return body


# -- in process -----------------------------------------------------------------------------


def _stopping_app(events: list[str], stop: Any = GracefulExit, after: float = 0.3) -> Application:
    """An app that records its signals and stops the loop ``after`` seconds from startup."""
    app = Application()

    async def on_startup(app: Application) -> None:
        events.append("startup")

        def raise_stop() -> None:
            raise stop()

        asyncio.get_running_loop().call_later(after, raise_stop)

    async def on_shutdown(app: Application) -> None:
        events.append("shutdown")

    async def on_cleanup(app: Application) -> None:
        events.append("cleanup")

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


@pytest.mark.parametrize("stop", [GracefulExit, KeyboardInterrupt])
def test_in_process_run_and_graceful_stop(stop: type[BaseException]) -> None:
    events: list[str] = []
    printed: list[str] = []
    port = free_port()
    loop = asyncio.new_event_loop()
    run_app(
        _stopping_app(events, stop),
        host="127.0.0.1",
        port=port,
        print=printed.append,
        handle_signals=False,
        loop=loop,
    )
    assert events == ["startup", "shutdown", "cleanup"]
    assert printed == [
        f"======== Running on http://127.0.0.1:{port} ========\n(Press CTRL+C to quit)"
    ]
    assert loop.is_closed()


def test_banner_lists_every_site_sorted(tmp_path: pathlib.Path) -> None:
    printed: list[str] = []
    port = free_port()
    path = tmp_path / "a.sock"
    run_app(
        _stopping_app([]),
        host=["127.0.0.2", "127.0.0.1"],
        port=port,
        path=str(path),
        print=printed.append,
        handle_signals=False,
    )
    (banner,) = printed
    names = [f"http://127.0.0.1:{port}", f"http://127.0.0.2:{port}", f"http://unix:{path}:"]
    assert banner == f"======== Running on {', '.join(names)} ========\n(Press CTRL+C to quit)"


def test_print_none_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    run_app(_stopping_app([]), host="127.0.0.1", port=free_port(), print=None, handle_signals=False)
    assert capsys.readouterr().out == ""


def test_app_from_coroutine() -> None:
    events: list[str] = []

    async def make() -> Application:
        events.append("factory")
        return _stopping_app(events)

    run_app(make(), host="127.0.0.1", port=free_port(), print=None, handle_signals=False)
    assert events == ["factory", "startup", "shutdown", "cleanup"]


def test_serves_requests_until_stopped() -> None:
    app = _stopping_app([], after=5.0)
    port = free_port()
    bodies: list[bytes] = []

    async def hello(request: Request) -> StreamResponse:
        return Response(text="hello")

    app.router.add_get("/", hello)

    def client() -> None:
        # Runs in a thread while run_app owns the main thread's loop.
        for _ in range(100):
            with contextlib.suppress(OSError):
                bodies.append(_fetch(f"http://127.0.0.1:{port}/"))
                break
            threading.Event().wait(0.05)

    thread = threading.Thread(target=client)
    thread.start()

    async def stop_when_served(app: Application) -> None:
        async def watch() -> None:
            while thread.is_alive():
                await asyncio.sleep(0.02)
            raise_exit()

        asyncio.get_running_loop().create_task(watch())

    def raise_exit() -> None:
        raise GracefulExit()

    app.on_startup.append(stop_when_served)
    run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False)
    thread.join()
    assert bodies == [b"hello"]


def test_bind_error_propagates() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        events: list[str] = []
        with pytest.raises(OSError):
            run_app(
                _stopping_app(events),
                host="127.0.0.1",
                port=port,
                print=None,
                handle_signals=False,
                reuse_address=False,
            )
    assert events == ["startup", "shutdown", "cleanup"]  # the runner was still cleaned up


def test_failed_startup_still_cleans_up() -> None:
    events: list[str] = []
    app = Application()

    async def context(app: Application) -> Any:
        events.append("ctx enter")
        yield
        events.append("ctx exit")

    async def broken(app: Application) -> None:
        raise RuntimeError("no database")

    app.cleanup_ctx.append(context)
    app.on_startup.append(broken)
    with pytest.raises(RuntimeError, match="no database"):
        run_app(app, host="127.0.0.1", port=free_port(), print=None, handle_signals=True)
    assert events == ["ctx enter", "ctx exit"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sock_argument() -> None:
    printed: list[str] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    run_app(_stopping_app([]), sock=sock, print=printed.append, handle_signals=False)
    sock.close()
    assert printed[0].startswith(f"======== Running on http://127.0.0.1:{port} ")


async def test_make_sites_choices(tmp_path: pathlib.Path) -> None:
    runner = AppRunner(Application())
    await runner.setup()
    try:
        common: dict[str, Any] = {
            "ssl_context": None,
            "backlog": 128,
            "reuse_address": None,
            "reuse_port": None,
        }
        default = _make_sites(runner, host=None, port=None, path=None, sock=None, **common)
        assert [type(s) for s in default] == [TCPSite]
        assert default[0].name == "http://0.0.0.0:8080"
        unix_only = _make_sites(
            runner, host=None, port=None, path=tmp_path / "x", sock=None, **common
        )
        assert [type(s) for s in unix_only] == [UnixSite]
        unix_and_port = _make_sites(
            runner, host=None, port=81, path=[tmp_path / "x", tmp_path / "y"], sock=None, **common
        )
        assert [type(s) for s in unix_and_port] == [TCPSite, UnixSite, UnixSite]
        with socket.socket() as one, socket.socket() as two:
            one.bind(("127.0.0.1", 0))
            two.bind(("127.0.0.1", 0))
            socks = _make_sites(runner, host="h", port=1, path=None, sock=[one, two], **common)
            assert [type(s) for s in socks] == [TCPSite, SockSite, SockSite]
            assert socks[0].name == "http://h:1"
    finally:
        await runner.cleanup()


# -- subprocesses and real signals -----------------------------------------------------------

SCRIPT = """
import asyncio, sys
from aioloom.web._app import Application
from aioloom.web._response import Response
from aioloom.web._run_app import run_app

def say(*parts):
    print(*parts, flush=True)

async def slow(request):
    say("handler started")
    await asyncio.sleep(1.0)
    say("handler finished")
    return Response(text="slow answer")

async def spawn(request):
    async def background():
        await asyncio.sleep(0.5)
        say("background finished")
    asyncio.get_running_loop().create_task(background())
    return Response(text="spawned")

async def on_shutdown(app):
    say("on_shutdown")

async def on_cleanup(app):
    say("on_cleanup")

app = Application()
app.router.add_get("/slow", slow)
app.router.add_get("/spawn", spawn)
app.on_shutdown.append(on_shutdown)
app.on_cleanup.append(on_cleanup)
run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=say, shutdown_timeout=10)
say("exited run_app")
"""


class Proc:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def expect(self, text: str, timeout: float = 10.0) -> None:
        """Read stdout lines until one equal to ``text`` arrives."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not raw:
                raise AssertionError(f"{text!r} never printed; got {self.lines}")
            line = raw.decode().rstrip("\n")
            self.lines.append(line)
            if line == text:
                return

    async def finish(self, timeout: float = 15.0) -> int:
        assert self.proc.stdout is not None
        rest = await asyncio.wait_for(self.proc.stdout.read(), timeout)
        self.lines.extend(rest.decode().splitlines())
        return await asyncio.wait_for(self.proc.wait(), timeout)


@contextlib.asynccontextmanager
async def start_script(tmp_path: pathlib.Path, source: str, *args: str) -> AsyncIterator[Proc]:
    script = tmp_path / "serve.py"
    script.write_text(textwrap.dedent(source))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield Proc(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return data


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_signal_stops_gracefully(
    tmp_path: pathlib.Path, h11_parse: Any, sig: signal.Signals
) -> None:
    port = free_port()
    async with start_script(tmp_path, SCRIPT, str(port)) as proc:
        await proc.expect(f"======== Running on http://127.0.0.1:{port} ========")
        await proc.expect("(Press CTRL+C to quit)")
        client = asyncio.ensure_future(_get(port, "/slow"))
        await proc.expect("handler started")
        proc.proc.send_signal(sig)
        (answer,) = h11_parse(await client)
        code = await proc.finish()
    assert (answer.status, answer.body) == (200, b"slow answer")
    assert code == 0, proc.lines
    tail = proc.lines[proc.lines.index("handler started") + 1 :]
    assert tail == ["on_shutdown", "handler finished", "on_cleanup", "exited run_app"], tail


async def test_background_tasks_are_awaited(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    port = free_port()
    async with start_script(tmp_path, SCRIPT, str(port)) as proc:
        await proc.expect("(Press CTRL+C to quit)")
        (answer,) = h11_parse(await _get(port, "/spawn"))
        assert answer.body == b"spawned"
        proc.proc.send_signal(signal.SIGINT)
        code = await proc.finish()
    assert code == 0, proc.lines
    assert proc.lines[-3:] == ["background finished", "on_cleanup", "exited run_app"], proc.lines
    assert proc.lines.index("on_shutdown") < proc.lines.index("background finished")
