"""``python -m aioloom.web``: argument errors (in process) and real runs (subprocesses)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import socket
import sys
from typing import Any

import pytest

from aioloom.web.__main__ import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: entry-func"),
        (["no_colon"], "'entry-func' not in 'module:function' syntax"),
        (["module:"], "'entry-func' not in 'module:function' syntax"),
        ([":func"], "'entry-func' not in 'module:function' syntax"),
        ([".relative:func"], "relative module names not supported"),
        (["aioloom_no_such_module_xyz:f"], "unable to import aioloom_no_such_module_xyz:"),
        (["json:no_such_function"], "module 'json' has no attribute 'no_such_function'"),
        (["-P", "not-a-number", "json:loads"], "argument -P/--port: invalid int value"),
    ],
)
def test_argument_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: aioloom.web ")
    assert message in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main(["--help"])
    assert exc_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("-H HOSTNAME", "-P PORT", "-U PATH", "entry-func"):
        assert option in out


APP_MODULE = """
from aioloom.web._app import Application
from aioloom.web._response import Response

def init(argv):
    app = Application()

    async def show(request):
        return Response(text=" ".join(argv))

    app.router.add_get("/", show)
    return app
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _run_module(tmp_path: pathlib.Path, *args: str) -> asyncio.subprocess.Process:
    (tmp_path / "mainapp.py").write_text(APP_MODULE)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        "-m",
        "aioloom.web",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )


async def _wait_for_line(proc: asyncio.subprocess.Process, text: str) -> list[str]:
    assert proc.stdout is not None
    seen: list[str] = []
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), 15)
        if not raw:
            raise AssertionError(f"{text!r} never printed: {seen}")
        seen.append(raw.decode().rstrip("\n"))
        if text in seen[-1]:
            return seen


async def _stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    assert proc.stdout is not None
    proc.send_signal(signal.SIGINT)
    rest = await asyncio.wait_for(proc.stdout.read(), 15)
    code = await asyncio.wait_for(proc.wait(), 15)
    return code, rest.decode()


async def test_serves_tcp_with_extra_args(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    port = free_port()
    proc = await _run_module(
        tmp_path, "-H", "127.0.0.1", "-P", str(port), "mainapp:init", "one", "--two"
    )
    try:
        await _wait_for_line(proc, f"======== Running on http://127.0.0.1:{port} ========")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        (answer,) = h11_parse(await asyncio.wait_for(reader.read(), 10))
        writer.close()
        await writer.wait_closed()
        code, rest = await _stop(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert (answer.status, answer.body) == (200, b"one --two")
    assert code == 0
    assert rest.rstrip().endswith("Stopped")
    assert "aioloom.web.access" in rest  # DEBUG logging on: the access record is printed


async def test_serves_unix_path_only(tmp_path: pathlib.Path, h11_parse: Any) -> None:
    path = tmp_path / "main.sock"
    proc = await _run_module(tmp_path, "-U", str(path), "mainapp:init")
    try:
        lines = await _wait_for_line(proc, "======== Running on")
        assert lines[-1] == f"======== Running on http://unix:{path}: ========"
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        (answer,) = h11_parse(await asyncio.wait_for(reader.read(), 10))
        writer.close()
        await writer.wait_closed()
        code, _ = await _stop(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert answer.status == 200
    assert code == 0
