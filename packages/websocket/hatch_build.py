"""Hatch build hook: compile the optional WebSocket mask accelerator (``_mask_c``).

``src/aioloom/websocket/_mask_c.c`` is compiled with the building interpreter's own compiler
settings (``sysconfig``: ``CC``, ``CFLAGS``, ``CCSHARED``, ``LDSHARED``, the include folder and
``EXT_SUFFIX``; the ``CC``, ``CFLAGS`` and ``LDSHARED`` environment variables override them as
they do for setuptools). No setuptools and no Cython: one C file needs one compiler call and one
link.

* A standard wheel gets the shared object as ``aioloom/websocket/_mask_c<EXT_SUFFIX>`` and is
  tagged for this interpreter and platform.
* An editable install (``pip install -e``, hatch's workspace environments) gets it compiled in
  place, next to ``_mask_c.c`` in ``src/`` (``*.so`` is ignored by git), so the tests of an
  editable environment use it. It is rebuilt by reinstalling.
* When there is no compiler, when compiling fails, or when ``AIOLOOM_NO_EXTENSIONS`` is set at
  build time, the hook prints a warning and the build goes on as a pure-Python wheel: the
  package always installs, and ``aioloom.websocket._mask`` falls back to its Python mask.

The sdist ships ``_mask_c.c`` and this file; it never ships a compiled object.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "aioloom/websocket"
SOURCE = f"src/{PACKAGE}/_mask_c.c"
MODULE = "_mask_c"
# A compiler that hangs must not hang the install forever.
COMPILE_TIMEOUT = 300


class CompileError(Exception):
    """The accelerator could not be built here (the build then goes on without it)."""


class MaskAcceleratorHook(BuildHookInterface[BuilderConfig]):
    """Add the compiled mask to wheels; compile it in place for editable installs."""

    PLUGIN_NAME = "aioloom-websocket-mask"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the accelerator and tell hatchling where it goes.

        Args:
            version: the wheel flavour, ``"standard"`` or ``"editable"``.
            build_data: hatchling's build data, updated in place.
        """
        self._scratch: str | None = None
        if self.target_name != "wheel":
            return  # the sdist ships the C source, never a build
        if os.environ.get("AIOLOOM_NO_EXTENSIONS"):
            self.app.display_warning(
                "aioloom-websocket: AIOLOOM_NO_EXTENSIONS is set, building without the "
                "compiled mask (pure Python)"
            )
            return
        editable = version == "editable"
        if editable:
            out_dir = Path(self.root, SOURCE).parent
        else:
            self._scratch = tempfile.mkdtemp(prefix="aioloom-mask-")
            out_dir = Path(self._scratch)
        try:
            built = compile_extension(Path(self.root, SOURCE), out_dir)
        except CompileError as exc:
            if editable:
                # An older in-place build would no longer match the source: drop it.
                Path(out_dir, f"{MODULE}{sysconfig.get_config_var('EXT_SUFFIX')}").unlink(
                    missing_ok=True
                )
            self.app.display_warning(
                f"aioloom-websocket: the compiled mask was not built ({exc}); the package "
                "uses its pure-Python mask"
            )
            return
        if editable:
            self.app.display_info(f"aioloom-websocket: compiled {built} in place")
            return
        build_data["force_include"][str(built)] = f"{PACKAGE}/{built.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the scratch folder of a standard wheel build."""
        if getattr(self, "_scratch", None):
            shutil.rmtree(str(self._scratch), ignore_errors=True)
            self._scratch = None


def compile_extension(source: Path, out_dir: Path) -> Path:
    """Compile and link ``source`` into ``out_dir/_mask_c<EXT_SUFFIX>``.

    The object is linked in a scratch folder and moved into place with one rename, so a
    process that has the previous build loaded (an editable environment) never sees a
    half-written file.

    Args:
        source: the C file.
        out_dir: where the shared object goes.

    Returns:
        The path of the shared object.

    Raises:
        CompileError: no compiler is configured or found, or it failed.
    """
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    include = sysconfig.get_paths().get("include")
    compiler = _tool("CC")
    linker = _tool("LDSHARED")
    if not suffix or not include or not compiler or not linker:
        raise CompileError("this Python has no compiler configuration (sysconfig CC/LDSHARED)")
    if shutil.which(compiler[0]) is None or shutil.which(linker[0]) is None:
        raise CompileError(f"no C compiler: {compiler[0]!r} is not on PATH")
    cflags = _flags("CFLAGS") + shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    target = out_dir / f"{MODULE}{suffix}"
    with tempfile.TemporaryDirectory(prefix="aioloom-mask-") as scratch:
        obj = Path(scratch, f"{MODULE}.o")
        linked = Path(scratch, target.name)
        _run([*compiler, *cflags, f"-I{include}", "-c", str(source), "-o", str(obj)])
        _run([*linker, str(obj), *_flags("LDFLAGS", sysconfig_too=False), "-o", str(linked)])
        out_dir.mkdir(parents=True, exist_ok=True)
        staged = out_dir / f".staging{target.name}"  # still *.so: ignored by git
        shutil.copyfile(linked, staged)
        os.replace(staged, target)
    return target


def _tool(name: str) -> list[str]:
    """A compiler or linker command line: the environment's if set, else the interpreter's."""
    return shlex.split(os.environ.get(name) or sysconfig.get_config_var(name) or "")


def _flags(name: str, *, sysconfig_too: bool = True) -> list[str]:
    """The interpreter's flags followed by the environment's (which therefore win)."""
    configured = sysconfig.get_config_var(name) if sysconfig_too else None
    return shlex.split(configured or "") + shlex.split(os.environ.get(name, ""))


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=COMPILE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CompileError(f"{shlex.join(command)}: {exc}") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise CompileError(f"{shlex.join(command)} exited with {done.returncode}: {output}")
