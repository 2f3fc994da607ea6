#!/usr/bin/env python3
"""Packaging checks: build every distribution, inspect it, install each one alone.

1. Build the sdist and wheel of each of the six packages and of the meta-package with
   ``hatch build`` (so "hatch build works per package" is checked too).
2. Inspect each wheel: the files sit under its own ``aioloom/<name>/`` (the meta-package:
   ``aioloom/compat/``), no ``aioloom/__init__.py`` (PEP 420 namespace), a ``py.typed`` marker,
   no tests, no caches or build leftovers; the version is the lockstep one and every sibling
   requirement is pinned exactly to it. Each sdist holds no caches or virtual environments.
3. Install each distribution alone, from the built wheels only (third-party dependencies come
   from a wheelhouse downloaded once), into a fresh virtual environment, and import it there:
   ``aioloom-client`` alone must not bring ``aioloom.web`` and vice versa, and so on.

Usage: ``python3 tools/check_packaging.py [--keep] [--workdir DIR]``. Exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import email.parser
import shutil
import subprocess
import sys
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

    @property
    def wheel_prefix(self) -> str:
        return self.name.replace("-", "_") + "-" + VERSION


DISTS = (
    Dist("aioloom-http", "packages/http-parser", "http", frozenset({"http"})),
    Dist("aioloom-websocket", "packages/websocket", "websocket", frozenset({"http", "websocket"})),
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
THIRD_PARTY = ("multidict", "yarl", "attrs", "pytest")
CACHE_PARTS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis", ".venv", ".git")
FORBIDDEN_PARTS = (*CACHE_PARTS, "tests")  # wheels ship no tests; sdists keep them
FORBIDDEN_SUFFIXES = (".pyc", ".pyo", ".c", ".pyx", ".o")


class Report:
    """Collects problems; prints progress."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)
        print(f"  FAIL {message}", flush=True)

    def ok(self, message: str) -> None:
        print(f"  ok   {message}", flush=True)


def run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


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
    if f"{own}py.typed" not in names:
        report.fail(f"{wheel.name}: no {own}py.typed")
    if metadata["Version"] != VERSION:
        report.fail(f"{wheel.name}: version {metadata['Version']} != {VERSION}")
    for req in metadata.get_all("Requires-Dist") or []:
        if req.startswith("aioloom") and f"=={VERSION}" not in req:
            report.fail(f"{wheel.name}: sibling requirement not pinned to =={VERSION}: {req}")
    report.ok(f"{wheel.name}: {len(names)} files, layout and metadata")


def inspect_sdist(sdist: Path, report: Report) -> None:
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
    for name in names:
        parts = name.split("/")
        if any(p in CACHE_PARTS for p in parts) or name.endswith((".pyc", ".o")):
            report.fail(f"{sdist.name}: stray file {name}")
        if name.endswith("/src/aioloom/__init__.py"):
            report.fail(f"{sdist.name}: ships src/aioloom/__init__.py")
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


def install_alone(
    requirement: str, brings: frozenset[str], dists: Path, wheels: Path, work: Path, report: Report
) -> None:
    env = work / ("venv-" + requirement.replace("[", "-").replace("]", ""))
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    python = str(env / "bin" / "python")
    res = run(
        [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(dists),
         "--find-links", str(wheels), requirement]
    )  # fmt: skip
    if res.returncode != 0:
        report.fail(f"{requirement}: does not install alone:\n{res.stdout}{res.stderr}")
        return
    probe = run([python, "-c", PROBE % {"all": sorted(ALL_SUBPACKAGES)}], cwd=work)
    if probe.returncode != 0:
        report.fail(f"{requirement}: import failed:\n{probe.stdout}{probe.stderr}")
        return
    import json

    result = json.loads(probe.stdout.strip().splitlines()[-1])
    found = frozenset(result["found"])
    if found != brings:
        report.fail(
            f"{requirement}: alone it brings aioloom.{{{', '.join(sorted(found))}}}, "
            f"expected aioloom.{{{', '.join(sorted(brings))}}}"
        )
        return
    has_plugin = "aioloom.testing.plugin" in result["plugins"]
    if has_plugin != ("testing" in brings):
        report.fail(f"{requirement}: pytest11 entry point present={has_plugin}")
        return
    report.ok(f"{requirement}: installs alone, imports aioloom.{{{', '.join(sorted(found))}}}")


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
            inspect_sdist(sdist, report)
        print("== install each distribution alone", flush=True)
        make_wheelhouse(wheels, report)
        for dist in DISTS:
            install_alone(dist.name, dist.brings, dists, wheels, work, report)
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
