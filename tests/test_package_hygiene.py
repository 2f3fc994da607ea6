"""Every package imports cleanly, alone, without pulling in siblings it must not need.

Run in subprocesses (with ``-W error``) so that one test's imports never hide another's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# subpackage -> aioloom siblings that importing it may load (design.md §2; extras are lazy).
MAY_LOAD = {
    "http": set(),
    "websocket": {"http"},
    "multipart": {"http"},
    "client": {"http"},
    "web": {"http"},
    "testing": {"http", "client", "web"},
    "compat": {"http", "websocket", "multipart", "client", "web", "testing"},
}
SOURCES = {
    "http": "packages/http-parser/src",
    "websocket": "packages/websocket/src",
    "multipart": "packages/multipart/src",
    "client": "packages/client/src",
    "web": "packages/web/src",
    "testing": "packages/testing/src",
    "compat": "src",
}
PROBE = """
import importlib, json, sys
mods = %(mods)r
for m in mods:
    importlib.import_module(m)
pkg = importlib.import_module(%(pkg)r)
missing = [n for n in getattr(pkg, "__all__", ()) if not hasattr(pkg, n)]
import aioloom
loaded = sorted({m.split(".")[1] for m in sys.modules if m.startswith("aioloom.")})
print(json.dumps({"missing": missing, "loaded": loaded, "ns": aioloom.__file__,
                  "asyncio": "asyncio" in sys.modules}))
"""


def modules_of(repo_root: Path, name: str) -> list[str]:
    base = repo_root / SOURCES[name] / "aioloom"
    mods = []
    for path in sorted((base / name).rglob("*.py")):
        rel = path.relative_to(base.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods.append(".".join(parts))
    return mods


def probe(repo_root: Path, name: str, mods: list[str]) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    code = PROBE % {"mods": mods, "pkg": f"aioloom.{name}"}
    res = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    result: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("name", sorted(MAY_LOAD))
def test_every_module_imports_and_exports_resolve(repo_root: Path, name: str) -> None:
    result = probe(repo_root, name, modules_of(repo_root, name))
    assert result["missing"] == []
    assert result["ns"] is None, "aioloom must stay a PEP 420 namespace package"


@pytest.mark.parametrize("name", sorted(MAY_LOAD))
def test_package_loads_only_allowed_siblings(repo_root: Path, name: str) -> None:
    result = probe(repo_root, name, [f"aioloom.{name}"])
    loaded = set(result["loaded"]) - {name}  # type: ignore[call-overload]
    assert loaded <= MAY_LOAD[name], f"aioloom.{name} loads {sorted(loaded - MAY_LOAD[name])}"


def test_http_core_does_not_load_asyncio(repo_root: Path) -> None:
    core = [m for m in modules_of(repo_root, "http") if ".aio" not in m]
    assert probe(repo_root, "http", core)["asyncio"] is False
