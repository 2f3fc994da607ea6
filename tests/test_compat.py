"""aioloom.compat.install_as_aiohttp(): aliases resolve to aioloom's objects; refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run_py(repo_root: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_aliases_resolve_to_aioloom_objects(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        from aioloom.compat import install_as_aiohttp, installed_aliases
        names = install_as_aiohttp()
        assert names[0] == "aiohttp" and "aiohttp.http_exceptions" in names, names
        import aiohttp
        import aiohttp.http_exceptions as he
        from aiohttp.http_exceptions import BadHttpMessage
        import aioloom.http
        assert BadHttpMessage is aioloom.http.BadHttpMessage
        assert aiohttp.HttpVersion11 is aioloom.http.HttpVersion11
        assert he is aiohttp.http_exceptions
        assert install_as_aiohttp() == names  # idempotent
        assert installed_aliases() == sorted(names)
        print("ok")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_refuses_when_real_aiohttp_is_imported(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        import sys, types
        sys.modules["aiohttp"] = types.ModuleType("aiohttp")  # stands for the real package
        from aioloom.compat import AiohttpAlreadyImported, install_as_aiohttp
        try:
            install_as_aiohttp()
        except AiohttpAlreadyImported as exc:
            assert "already imported" in str(exc)
            print("refused")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "refused"


def test_unknown_module_fails_with_import_error(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        from aioloom.compat import install_as_aiohttp
        install_as_aiohttp()
        try:
            import aiohttp.no_such_module  # noqa: F401
        except ImportError as exc:
            print("ImportError", exc.name)
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ImportError aiohttp.no_such_module"
