"""An unmodified aiohttp program runs on aioloom under install_as_aiohttp()."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROGRAM = Path(__file__).parent / "data" / "aiohttp_program.py"

# Install the compatibility view, then run the program as ``__main__``, unchanged.
_RUNNER = """
import runpy, sys
from aioloom.compat import install_as_aiohttp
install_as_aiohttp()
runpy.run_path(sys.argv[1], run_name="__main__")
import aiohttp
assert aiohttp.ClientSession.__module__.startswith("aioloom."), aiohttp.ClientSession.__module__
"""


def _env(repo_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def test_aiohttp_program_runs_on_aioloom(repo_root: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER, str(PROGRAM)],
        capture_output=True,
        text=True,
        env=_env(repo_root),
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "status 200 mw",
        "json {'hello': 'world'}",
        "missing 404 None",  # as in aiohttp: HTTPNotFound is raised through the middleware
        "raised 404",
        "ws text True echo:hi",
        "ws bytes b'cba'",
        "ws closed True",
        "counter ['world']",
    ]


def test_aiohttp_pytest_plugin_fixtures(repo_root: Path, tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            from aioloom.compat import install_as_aiohttp

            install_as_aiohttp()
            pytest_plugins = ["aiohttp.pytest_plugin"]
            """
        )
    )
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            from aiohttp import web
            from aiohttp.pytest_plugin import AiohttpClient


            async def hello(request):
                return web.Response(text="hi " + request.query.get("who", "?"))


            async def test_client(aiohttp_client: AiohttpClient) -> None:
                app = web.Application()
                app.router.add_get("/", hello)
                client = await aiohttp_client(app)
                resp = await client.get("/", params={"who": "me"})
                assert resp.status == 200
                assert await resp.text() == "hi me"


            async def test_server_and_port(aiohttp_server, aiohttp_unused_port, loop) -> None:
                assert loop is asyncio.get_running_loop()
                port = aiohttp_unused_port()
                app = web.Application()
                app.router.add_get("/", hello)
                server = await aiohttp_server(app, port=port)
                assert server.port == port


            async def test_raw_server(aiohttp_raw_server, aiohttp_client) -> None:
                server = await aiohttp_raw_server(hello)
                client = await aiohttp_client(server)
                assert await (await client.get("/")).text() == "hi ?"


            def test_flags(fast, loop_debug) -> None:
                assert fast is True and loop_debug is False
            """
        )
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            # hatch's test environment adds these plugins; the inner run needs none of them.
            "-p",
            "no:randomly",
            "-p",
            "no:rerunfailures",
            "-p",
            "no:xdist",
            "-p",
            "no:asyncio",
            "-p",
            "no:cacheprovider",
            "--aiohttp-fast",
            "-W",
            "error",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=_env(repo_root),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 passed" in res.stdout
