"""python -m aioloom.compat check PATH: the aiohttp names a code base uses that aioloom lacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

# The root ``src`` (aioloom.compat) is on sys.path only in hatch's environment, so the
# collector runs in a subprocess with PYTHONPATH set, as the command line does.
_COLLECT = """
import json, sys
from aioloom.compat._check import collect_uses
try:
    uses = collect_uses(open(sys.argv[1]).read(), "app.py")
except SyntaxError as exc:
    print(json.dumps(["SyntaxError", exc.lineno]))
else:
    print(json.dumps([[u.dotted, u.line, u.module, u.name] for u in uses]))
"""


def run(repo_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-W", "error", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def run_check(repo_root: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return run(repo_root, "-m", "aioloom.compat", "check", str(target))


def collected(repo_root: Path, tmp_path: Path, source: str) -> list[Any]:
    path = tmp_path / "source.py"
    path.write_text(textwrap.dedent(source))
    res = run(repo_root, "-c", _COLLECT, str(path))
    assert res.returncode == 0, res.stderr
    result: list[Any] = json.loads(res.stdout)
    return result


def dotted(repo_root: Path, tmp_path: Path, source: str) -> list[str]:
    return [use[0] for use in collected(repo_root, tmp_path, source)]


def test_collects_imports_from_imports_and_attribute_chains(
    repo_root: Path, tmp_path: Path
) -> None:
    assert dotted(
        repo_root,
        tmp_path,
        """
        import aiohttp
        import aiohttp.web as w
        from aiohttp import web, ClientSession as CS
        from aiohttp.web import json_response
        import os

        aiohttp.ClientTimeout(total=1)
        aiohttp.web.Application()
        w.Response
        web.run_app
        os.path.join
        """,
    ) == [
        "aiohttp",
        "aiohttp.web",
        "aiohttp",
        "aiohttp.web",
        "aiohttp.ClientSession",
        "aiohttp.web",
        "aiohttp.web.json_response",
        "aiohttp.ClientTimeout",
        "aiohttp.web.Application",
        "aiohttp.web.Response",
        "aiohttp.web.run_app",
    ]


def test_only_names_bound_to_aiohttp_count(repo_root: Path, tmp_path: Path) -> None:
    # ``web`` here is not aiohttp's; a relative import and other packages are ignored.
    assert (
        dotted(
            repo_root,
            tmp_path,
            """
            from . import aiohttp
            import aiohttpx
            from mypkg import web
            web.Application
            aiohttp.ClientSession
            """,
        )
        == []
    )


def test_attribute_use_carries_its_line(repo_root: Path, tmp_path: Path) -> None:
    uses = collected(repo_root, tmp_path, "from aiohttp import web\n\n\nweb.NamedPipeSite\n")
    assert uses[-1] == ["aiohttp.web.NamedPipeSite", 4, "aiohttp.web", "NamedPipeSite"]


def test_syntax_error_is_raised(repo_root: Path, tmp_path: Path) -> None:
    assert collected(repo_root, tmp_path, "import aiohttp\ndef broken(:\n") == [
        "SyntaxError",
        2,
    ]


def test_check_reports_what_aioloom_lacks(repo_root: Path, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "server.py").write_text(
        textwrap.dedent(
            """
            from aiohttp import web

            app = web.Application()
            site = web.NamedPipeSite
            """
        )
    )
    (tmp_path / "pkg" / "client.py").write_text(
        textwrap.dedent(
            """
            import aiohttp
            from aiohttp.no_such_module import thing

            aiohttp.ClientSession
            aiohttp.NoSuchClient
            """
        )
    )
    (tmp_path / "notes.txt").write_text("import aiohttp.never_checked\n")
    res = run_check(repo_root, tmp_path)
    assert res.returncode == 1, res.stderr
    lines = res.stdout.splitlines()
    assert any(line.startswith(f"{tmp_path / 'pkg' / 'server.py'}:5: ") for line in lines)
    assert "aiohttp.web.NamedPipeSite" in res.stdout
    assert "aiohttp.NoSuchClient" in res.stdout
    assert "aiohttp.no_such_module" in res.stdout
    assert "never_checked" not in res.stdout
    assert "ClientSession" not in res.stdout
    assert "web.Application" not in res.stdout
    assert lines[-1] == (
        "aioloom lacks 4 aiohttp name(s): aiohttp.NoSuchClient, aiohttp.no_such_module, "
        "aiohttp.no_such_module.thing, aiohttp.web.NamedPipeSite"
    )


def test_check_passes_a_clean_tree(repo_root: Path, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            import aiohttp
            from aiohttp import web, WSMsgType
            from aiohttp.test_utils import TestClient

            web.WSMsgType.TEXT
            aiohttp.ClientSession
            aiohttp.web.json_response
            """
        )
    )
    (tmp_path / "broken.py").write_text("def broken(:\n")
    res = run_check(repo_root, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "aioloom serves every aiohttp name used" in res.stdout
    assert "broken.py: skipped, cannot parse" in res.stderr


def test_check_refuses_a_missing_path(repo_root: Path, tmp_path: Path) -> None:
    res = run_check(repo_root, tmp_path / "absent")
    assert res.returncode == 2
    assert "no such file or directory" in res.stderr
