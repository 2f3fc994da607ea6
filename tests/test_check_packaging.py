"""tools/check_packaging.py's rules on compiled code, on hand-made wheels and sdists.

The whole check (builds, fresh venvs) is CI's ``python3 tools/check_packaging.py``; these tests
prove its inspections pass a good websocket wheel and sdist and reject every stray compiled
file or C source, a wrong wheel tag and a missing accelerator.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_TAG = "cp311-cp311-linux_x86_64"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "aioloom_tools_check_packaging_rules", ROOT / "tools" / "check_packaging.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _dist(tool: ModuleType, name: str) -> object:
    return next(d for d in tool.DISTS if d.name == name)


def _wheel(path: Path, sub: str, extra: Iterable[str], tag: str) -> Path:
    pure = "true" if tag == "py3-none-any" else "false"
    dist_info = "x-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        for name in (f"aioloom/{sub}/__init__.py", f"aioloom/{sub}/py.typed", *extra):
            zf.writestr(name, "")
        zf.writestr(f"{dist_info}/METADATA", "Metadata-Version: 2.4\nName: x\nVersion: 0.1.0\n")
        zf.writestr(
            f"{dist_info}/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: {pure}\nTag: {tag}\n"
        )
    return path


def _sdist(path: Path, prefix: str, names: Iterable[str]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name in (f"{prefix}pyproject.toml", *names):
            info = tarfile.TarInfo(name)
            tf.addfile(info, io.BytesIO(b""))
    return path


def _problems(tool: ModuleType, check: str, *args: object) -> list[str]:
    report = tool.Report()
    getattr(tool, check)(*args, report)
    problems: list[str] = report.problems
    return problems


def test_websocket_wheel_with_its_extension_passes(tool: ModuleType, tmp_path: Path) -> None:
    ws = _dist(tool, "aioloom-websocket")
    wheel = _wheel(tmp_path / "w.whl", "websocket", [ws.extension_in_wheel()], PLATFORM_TAG)  # type: ignore[attr-defined]
    assert _problems(tool, "inspect_wheel", ws, wheel) == []


def test_wheel_rules_on_compiled_files(
    tool: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, http = _dist(tool, "aioloom-websocket"), _dist(tool, "aioloom-http")
    extension = ws.extension_in_wheel()  # type: ignore[attr-defined]
    cases = [
        (ws, "websocket", [extension], "py3-none-any", "tagged pure Python"),
        (ws, "websocket", [extension, "aioloom/websocket/_other.so"], PLATFORM_TAG, "_other.so"),
        (ws, "websocket", ["aioloom/websocket/_mask_c.c"], "py3-none-any", "stray file"),
        (http, "http", ["aioloom/http/_speedups.so"], PLATFORM_TAG, "_speedups.so"),
        (http, "http", [], PLATFORM_TAG, "platform-specific tag"),
    ]
    for i, (dist, sub, extra, tag, expected) in enumerate(cases):
        wheel = _wheel(tmp_path / f"{i}.whl", sub, extra, tag)
        problems = _problems(tool, "inspect_wheel", dist, wheel)
        assert any(expected in p for p in problems), (expected, problems)
    # A pure websocket wheel is fine without a compiler, a failure with one.
    pure = _wheel(tmp_path / "pure.whl", "websocket", [], "py3-none-any")
    monkeypatch.setattr(tool, "compiler_available", lambda: False)
    assert _problems(tool, "inspect_wheel", ws, pure) == []
    monkeypatch.setattr(tool, "compiler_available", lambda: True)
    assert any("C compiler" in p for p in _problems(tool, "inspect_wheel", ws, pure))


def test_sdist_rules_on_c_sources(tool: ModuleType, tmp_path: Path) -> None:
    ws, http = _dist(tool, "aioloom-websocket"), _dist(tool, "aioloom-http")
    ws_prefix, http_prefix = ws.sdist_prefix, http.sdist_prefix  # type: ignore[attr-defined]
    source = f"{ws_prefix}src/aioloom/websocket/_mask_c.c"
    hook = f"{ws_prefix}hatch_build.py"
    good = _sdist(tmp_path / "good.tar.gz", ws_prefix, [source, hook])
    assert _problems(tool, "inspect_sdist", ws, good) == []
    cases = [
        (ws, ws_prefix, [source, hook, f"{ws_prefix}src/aioloom/websocket/_x.c"], "_x.c"),
        (ws, ws_prefix, [source, hook, f"{ws_prefix}src/aioloom/websocket/_mask_c.so"], ".so"),
        (ws, ws_prefix, [source], "lacks"),
        (http, http_prefix, [f"{http_prefix}src/aioloom/http/_p.c"], "_p.c"),
    ]
    for i, (dist, prefix, names, expected) in enumerate(cases):
        sdist = _sdist(tmp_path / f"{i}.tar.gz", prefix, names)
        problems = _problems(tool, "inspect_sdist", dist, sdist)
        assert any(expected in p for p in problems), (expected, problems)
