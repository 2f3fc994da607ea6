"""The build hook (packages/websocket/hatch_build.py): wheels with the compiled mask, or pure ones.

Wheels are built in process with hatchling's own ``WheelBuilder`` into a temporary folder; the
source tree is left alone (a standard wheel compiles in a scratch folder). Without hatchling
(an environment that only runs the tests) the module is skipped.
"""

from __future__ import annotations

import email.parser
import importlib.util
import os
import shutil
import sysconfig
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from aioloom.websocket._mask import websocket_mask_python

wheel_builder = pytest.importorskip("hatchling.builders.wheel")

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
EXT_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))
EXTENSION = f"aioloom/websocket/_mask_c{EXT_SUFFIX}"


def _hook_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hatch_build", PACKAGE_ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_compiler() -> bool:
    tools = [os.environ.get(v) or sysconfig.get_config_var(v) or "" for v in ("CC", "LDSHARED")]
    return all(tool.split() and shutil.which(tool.split()[0]) for tool in tools)


@pytest.fixture
def compiler() -> None:
    if not _has_compiler():
        if os.environ.get("AIOLOOM_REQUIRE_EXTENSIONS"):
            pytest.fail("AIOLOOM_REQUIRE_EXTENSIONS is set and this Python has no C compiler")
        pytest.skip("this Python has no C compiler (sysconfig CC/LDSHARED not found)")


def _build(out: Path) -> tuple[list[str], email.message.Message]:
    builder = wheel_builder.WheelBuilder(str(PACKAGE_ROOT))
    (wheel,) = builder.build(directory=str(out), versions=["standard"])
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info_name = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        info = email.parser.Parser().parsestr(zf.read(info_name).decode())
    return names, info


def _assert_pure(names: list[str], info: email.message.Message) -> None:
    assert not [n for n in names if n.endswith((".so", ".pyd", ".c"))]
    assert info["Root-Is-Purelib"] == "true"
    assert info.get_all("Tag") == ["py3-none-any"]


@pytest.mark.usefixtures("compiler")
def test_wheel_holds_the_compiled_mask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIOLOOM_NO_EXTENSIONS", raising=False)
    names, info = _build(tmp_path)
    assert EXTENSION in names
    assert not [n for n in names if n.endswith(".c")]  # the source stays in the sdist
    assert info["Root-Is-Purelib"] == "false"
    assert info.get_all("Tag") != ["py3-none-any"]


def test_no_extensions_at_build_time_gives_a_pure_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIOLOOM_NO_EXTENSIONS", "1")
    _assert_pure(*_build(tmp_path))
    out, err = capfd.readouterr()
    assert "AIOLOOM_NO_EXTENSIONS is set" in out + err


def test_a_missing_compiler_gives_a_pure_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIOLOOM_NO_EXTENSIONS", raising=False)
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    _assert_pure(*_build(tmp_path))
    out, err = capfd.readouterr()
    assert "no C compiler" in out + err


@pytest.mark.usefixtures("compiler")
def test_a_failing_compile_gives_a_pure_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIOLOOM_NO_EXTENSIONS", raising=False)
    monkeypatch.setenv("CFLAGS", f"-include {tmp_path / 'missing.h'}")
    _assert_pure(*_build(tmp_path))
    out, err = capfd.readouterr()
    assert "the compiled mask was not built" in out + err


@pytest.mark.usefixtures("compiler")
def test_compiled_module_imports_and_masks(tmp_path: Path) -> None:
    hook = _hook_module()
    built = hook.compile_extension(PACKAGE_ROOT / "src/aioloom/websocket/_mask_c.c", tmp_path)
    assert built == tmp_path / f"_mask_c{EXT_SUFFIX}"
    assert [p.name for p in tmp_path.iterdir()] == [built.name]  # no leftovers
    spec = importlib.util.spec_from_file_location("aioloom.websocket._mask_c", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = os.urandom(1000)
    assert module.websocket_mask(b"\x01\x02\x03\x04", data) == websocket_mask_python(
        b"\x01\x02\x03\x04", data
    )
