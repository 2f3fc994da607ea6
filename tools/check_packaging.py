#!/usr/bin/env python3
"""Packaging checks: build every distribution, inspect it, install each one alone.

1. Build the sdist and wheel of each of the six packages and of the meta-package with
   ``hatch build`` (so "hatch build works per package" is checked too).
2. Inspect each wheel: the files sit under its own ``aioloom/<name>/`` (the meta-package:
   ``aioloom/compat/``), no ``aioloom/__init__.py`` (PEP 420 namespace), a ``py.typed`` marker,
   no tests, no caches or build leftovers; the version is the lockstep one and every sibling
   requirement is pinned exactly to it. Each sdist holds no caches or virtual environments.
   Compiled code: the one accelerator, ``aioloom-websocket``'s mask, is the only C source an
   sdist may ship (with the ``hatch_build.py`` that compiles it) and the only extension module
   a wheel may ship, as ``aioloom/websocket/_mask_c<EXT_SUFFIX>`` of this interpreter, in a
   wheel tagged for this platform; when this interpreter has a C compiler (and
   ``AIOLOOM_NO_EXTENSIONS`` is unset) the wheel must have it; every other wheel is pure.
3. Install each distribution alone, from the built wheels only (third-party dependencies come
   from a wheelhouse downloaded once), into a fresh virtual environment, and import it there:
   ``aioloom-client`` alone must not bring ``aioloom.web`` and vice versa, and so on. Where a
   wheel has the accelerator, the installed package must use it, and fall back to pure Python
   under ``AIOLOOM_NO_EXTENSIONS=1``; the websocket sdist must also build and install on its
   own (pip, hatchling from the wheelhouse) with the accelerator.

Usage: ``python3 tools/check_packaging.py [--keep] [--workdir DIR]``. Exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import email.message
import email.parser
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import textwrap
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"


@dataclass(frozen=True)
class Dist:
    """One distribution of the monorepo and what installing it alone must give."""

    name: str  # distribution name
    folder: str  # source folder relative to the repository root
    subpackage: str  # the aioloom.<subpackage> it ships
    brings: frozenset[str]  # aioloom subpackages importable after installing it alone
    accelerator: str | None = None  # its one optional compiled module, e.g. "_mask_c"

    @property
    def wheel_prefix(self) -> str:
        return self.name.replace("-", "_") + "-" + VERSION

    @property
    def sdist_prefix(self) -> str:
        return self.name.replace("-", "_") + "-" + VERSION + "/"

    def allowed_in_sdist(self) -> frozenset[str]:
        """The compiled-code files its sdist may hold: the accelerator's C source and hook."""
        if self.accelerator is None:
            return frozenset()
        own = f"{self.sdist_prefix}src/aioloom/{self.subpackage}/"
        return frozenset({f"{own}{self.accelerator}.c", f"{self.sdist_prefix}hatch_build.py"})

    def extension_in_wheel(self) -> str | None:
        """Where its wheel holds the compiled accelerator (for this interpreter), if any."""
        if self.accelerator is None:
            return None
        return f"aioloom/{self.subpackage}/{self.accelerator}{EXT_SUFFIX}"


DISTS = (
    Dist("aioloom-http", "packages/http-parser", "http", frozenset({"http"})),
    Dist(
        "aioloom-websocket",
        "packages/websocket",
        "websocket",
        frozenset({"http", "websocket"}),
        accelerator="_mask_c",
    ),
    Dist("aioloom-multipart", "packages/multipart", "multipart", frozenset({"http", "multipart"})),
    Dist("aioloom-client", "packages/client", "client", frozenset({"http", "client"})),
    Dist("aioloom-web", "packages/web", "web", frozenset({"http", "web"})),
    Dist(
        "aioloom-testing",
        "packages/testing",
        "testing",
        frozenset({"http", "client", "web", "testing"}),
    ),
    Dist(
        "aioloom",
        ".",
        "compat",
        frozenset({"http", "websocket", "multipart", "client", "web", "testing", "compat"}),
    ),
)
ALL_SUBPACKAGES = frozenset(
    {"http", "websocket", "multipart", "client", "web", "testing", "compat"}
)
# Extras that pull a sibling in: installing "<dist>[<extra>]" must also bring these.
EXTRAS = (("aioloom-client", "websocket", "websocket"), ("aioloom-web", "multipart", "multipart"))
# hatchling: to build the websocket sdist in an isolated pip build without an index.
THIRD_PARTY = ("multidict", "yarl", "attrs", "pytest", "hatchling")
CACHE_PARTS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis", ".venv", ".git")
FORBIDDEN_PARTS = (*CACHE_PARTS, "tests")  # wheels ship no tests; sdists keep them
FORBIDDEN_SUFFIXES = (".pyc", ".pyo", ".c", ".pyx", ".o")
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
EXT_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))


class Report:
    """Collects problems; prints progress."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)
        print(f"  FAIL {message}", flush=True)

    def ok(self, message: str) -> None:
        print(f"  ok   {message}", flush=True)


def run(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def build(dist: Dist, out: Path, report: Report) -> None:
    res = run(["hatch", "build", "-t", "sdist", "-t", "wheel", str(out)], cwd=ROOT / dist.folder)
    if res.returncode != 0:
        report.fail(f"{dist.name}: hatch build failed:\n{res.stdout}{res.stderr}")
    else:
        report.ok(f"{dist.name}: built")


def inspect_wheel(dist: Dist, wheel: Path, report: Report) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(zf.read(meta_name).decode())
    own = f"aioloom/{dist.subpackage}/"
    for name in names:
        parts = name.split("/")
        if name == "aioloom/__init__.py":
            report.fail(f"{wheel.name}: ships aioloom/__init__.py (must stay a PEP 420 namespace)")
        elif not (name.startswith(own) or parts[0].endswith((".dist-info", ".data"))):
            report.fail(f"{wheel.name}: {name} lies outside {own}")
        if any(p in FORBIDDEN_PARTS for p in parts) or name.endswith(FORBIDDEN_SUFFIXES):
            report.fail(f"{wheel.name}: stray file {name}")
        elif name.endswith(COMPILED_SUFFIXES) and name != dist.extension_in_wheel():
            report.fail(f"{wheel.name}: compiled file {name} is not the package's accelerator")
    inspect_wheel_tag(dist, wheel, names, metadata_wheel(wheel), report)
    if f"{own}py.typed" not in names:
        report.fail(f"{wheel.name}: no {own}py.typed")
    if metadata["Version"] != VERSION:
        report.fail(f"{wheel.name}: version {metadata['Version']} != {VERSION}")
    for req in metadata.get_all("Requires-Dist") or []:
        if req.startswith("aioloom") and f"=={VERSION}" not in req:
            report.fail(f"{wheel.name}: sibling requirement not pinned to =={VERSION}: {req}")
    report.ok(f"{wheel.name}: {len(names)} files, layout and metadata")


def metadata_wheel(wheel: Path) -> email.message.Message:
    """The wheel's ``WHEEL`` file (its tags and ``Root-Is-Purelib``)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/WHEEL"))
        return email.parser.Parser().parsestr(zf.read(name).decode())


def compiler_available() -> bool:
    """Whether this interpreter can compile its extensions (what hatch_build.py checks)."""
    if os.environ.get("AIOLOOM_NO_EXTENSIONS"):
        return False
    tools = [os.environ.get(v) or sysconfig.get_config_var(v) or "" for v in ("CC", "LDSHARED")]
    return all(tool.strip() and shutil.which(shlex.split(tool)[0]) for tool in tools)


def inspect_wheel_tag(
    dist: Dist, wheel: Path, names: list[str], info: email.message.Message, report: Report
) -> None:
    """A wheel with the accelerator is platform-specific; without it, pure (py3-none-any)."""
    extension = dist.extension_in_wheel()
    compiled = extension is not None and extension in names
    pure = info["Root-Is-Purelib"] == "true" and info.get_all("Tag") == ["py3-none-any"]
    if compiled and pure:
        report.fail(f"{wheel.name}: holds {extension} but is tagged pure Python")
    elif not compiled and not pure:
        report.fail(f"{wheel.name}: platform-specific tag {info.get_all('Tag')} without a module")
    if extension is not None and not compiled and compiler_available():
        report.fail(f"{wheel.name}: no {extension} although this interpreter has a C compiler")


def inspect_sdist(dist: Dist, sdist: Path, report: Report) -> None:
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
    allowed = dist.allowed_in_sdist()
    for name in names:
        parts = name.split("/")
        if any(p in CACHE_PARTS for p in parts) or name.endswith((".pyc", ".o")):
            report.fail(f"{sdist.name}: stray file {name}")
        elif name.endswith((".c", ".pyx", *COMPILED_SUFFIXES)) and name not in allowed:
            report.fail(f"{sdist.name}: compiled code or C source {name} is not allowed")
        if name.endswith("/src/aioloom/__init__.py"):
            report.fail(f"{sdist.name}: ships src/aioloom/__init__.py")
    for name in sorted(allowed - set(names)):
        report.fail(f"{sdist.name}: lacks {name} (a wheel built from it would be pure)")
    report.ok(f"{sdist.name}: {len(names)} files")


def make_wheelhouse(dest: Path, report: Report) -> None:
    res = run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(dest), *THIRD_PARTY])
    if res.returncode != 0:
        report.fail(f"could not fetch third-party wheels:\n{res.stdout}{res.stderr}")


PROBE = """
import importlib, importlib.util, sys, json
import aioloom
assert aioloom.__file__ is None, f"aioloom is not a namespace package: {aioloom.__file__}"
found = sorted(n for n in %(all)r if importlib.util.find_spec("aioloom." + n) is not None)
for name in found:
    importlib.import_module("aioloom." + name)
from importlib.metadata import entry_points
plugins = sorted(ep.value for ep in entry_points(group="pytest11"))
print(json.dumps({"found": found, "plugins": plugins}))
"""


# How each accelerator's seam tells which implementation it picked.
SEAM_PROBES = {
    "_mask_c": (
        "from aioloom.websocket import _mask\n"
        "print('python' if _mask.websocket_mask is _mask.websocket_mask_python else 'compiled')"
    ),
}


def install_alone(
    requirement: str, brings: frozenset[str], dists: Path, wheels: Path, work: Path, report: Report
) -> str | None:
    """Install ``requirement`` (a name or an sdist path) alone; return the venv's Python."""
    label = Path(requirement).name if requirement.endswith(".tar.gz") else requirement
    env = work / ("venv-" + label.replace("[", "-").replace("]", ""))
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    python = str(env / "bin" / "python")
    res = run(
        [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(dists),
         "--find-links", str(wheels), requirement]
    )  # fmt: skip
    if res.returncode != 0:
        report.fail(f"{label}: does not install alone:\n{res.stdout}{res.stderr}")
        return None
    probe = run([python, "-c", PROBE % {"all": sorted(ALL_SUBPACKAGES)}], cwd=work)
    if probe.returncode != 0:
        report.fail(f"{label}: import failed:\n{probe.stdout}{probe.stderr}")
        return None
    import json

    result = json.loads(probe.stdout.strip().splitlines()[-1])
    found = frozenset(result["found"])
    if found != brings:
        report.fail(
            f"{label}: alone it brings aioloom.{{{', '.join(sorted(found))}}}, "
            f"expected aioloom.{{{', '.join(sorted(brings))}}}"
        )
        return None
    has_plugin = "aioloom.testing.plugin" in result["plugins"]
    if has_plugin != ("testing" in brings):
        report.fail(f"{label}: pytest11 entry point present={has_plugin}")
        return None
    report.ok(f"{label}: installs alone, imports aioloom.{{{', '.join(sorted(found))}}}")
    return python


def check_accelerator(
    dist: Dist, label: str, python: str, compiled: bool, work: Path, report: Report
) -> None:
    """The installed seam picks the compiled module if it was built, and honours the switch."""
    if dist.accelerator is None:
        return
    code = SEAM_PROBES[dist.accelerator]
    picked = run([python, "-W", "error", "-c", code], cwd=work)
    env = dict(os.environ, AIOLOOM_NO_EXTENSIONS="1")
    switched_off = run([python, "-W", "error", "-c", code], cwd=work, env=env)
    expected = "compiled" if compiled else "python"
    if picked.returncode or picked.stdout.strip() != expected:
        report.fail(
            f"{label}: expected the {expected} {dist.accelerator}: {picked.stdout}{picked.stderr}"
        )
    elif switched_off.returncode or switched_off.stdout.strip() != "python":
        report.fail(f"{label}: AIOLOOM_NO_EXTENSIONS=1 does not fall back: {switched_off.stderr}")
    else:
        report.ok(f"{label}: uses the {expected} {dist.accelerator}; AIOLOOM_NO_EXTENSIONS=1 works")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--workdir", type=Path, help="work folder (default: a new temp folder)")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aioloom-packaging-"))
    work.mkdir(parents=True, exist_ok=True)
    dists, wheels = work / "dist", work / "wheelhouse"
    report = Report()
    try:
        print("== build", flush=True)
        for dist in DISTS:
            build(dist, dists, report)
        if report.problems:
            return 1
        print("== inspect", flush=True)
        for dist in DISTS:
            wheel = next(dists.glob(f"{dist.wheel_prefix}-*.whl"), None)
            sdist = dists / f"{dist.name.replace('-', '_')}-{VERSION}.tar.gz"
            if wheel is None or not sdist.exists():
                report.fail(f"{dist.name}: wheel or sdist missing in {dists}")
                continue
            inspect_wheel(dist, wheel, report)
            inspect_sdist(dist, sdist, report)
        print("== install each distribution alone", flush=True)
        make_wheelhouse(wheels, report)
        for dist in DISTS:
            python = install_alone(dist.name, dist.brings, dists, wheels, work, report)
            if python is not None and dist.accelerator is not None:
                wheel = next(dists.glob(f"{dist.wheel_prefix}-*.whl"))
                with zipfile.ZipFile(wheel) as zf:
                    compiled = dist.extension_in_wheel() in zf.namelist()
                check_accelerator(dist, dist.name, python, compiled, work, report)
                # Built from its sdist by pip (hatchling from the wheelhouse): the hook runs there.
                source = str(dists / f"{dist.name.replace('-', '_')}-{VERSION}.tar.gz")
                python = install_alone(source, dist.brings, dists, wheels, work, report)
                if python is not None:
                    label = Path(source).name
                    check_accelerator(dist, label, python, compiler_available(), work, report)
        for name, extra, sibling in EXTRAS:
            base = next(d for d in DISTS if d.name == name)
            install_alone(f"{name}[{extra}]", base.brings | {sibling}, dists, wheels, work, report)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if report.problems:
        print(f"\npackaging: {len(report.problems)} problem(s)")
        print(textwrap.indent("\n".join(report.problems), "  "))
        return 1
    print("\npackaging: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
