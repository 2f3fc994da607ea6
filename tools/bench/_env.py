"""The bench environment: the separate venv, its installs, external programs, the machine.

The venv lives in ``tools/bench/.venv`` and never touches the development
environment. It is created once with the interpreter that runs ``run.py`` and
reused; a stamp file (a hash of ``requirements.txt``, of the aioloom
``pyproject.toml`` files and of the list of aioloom packages) decides when pip
has to run again.

aioloom's packages are installed editable (``pip install -e``): the benchmarks
then always measure the working tree as it is, while a non-editable install
would keep measuring the code of the day of the install, because the stamp does
not (and should not) hash every source file.

Standard library only, Python 3.10+.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = (
    "AIOLOOM_PACKAGES",
    "BENCH_DIR",
    "ROOT",
    "VENV",
    "Machine",
    "ensure_program",
    "ensure_venv",
    "machine",
    "worker_env",
)

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent
VENV = BENCH_DIR / ".venv"
REQUIREMENTS = BENCH_DIR / "requirements.txt"
STAMP = VENV / "bench-stamp.txt"

# The aioloom distributions installed into the venv (paths relative to the repo root).
# aioloom-testing is left out: it only adds pytest, which no benchmark runs.
AIOLOOM_PACKAGES = (
    "packages/http-parser",
    "packages/websocket",
    "packages/multipart",
    "packages/client",
    "packages/web",
)

# Debian package that provides each external program a benchmark may need.
APT_PACKAGES = {"wrk": "wrk"}

_PROJECT_NAME = re.compile(r'^name\s*=\s*"([^"]+)"', re.MULTILINE)
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def venv_python() -> Path:
    """The bench venv's interpreter (it may not exist yet)."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _package_dirs() -> list[Path]:
    """The aioloom package folders of this checkout that exist."""
    return [ROOT / p for p in AIOLOOM_PACKAGES if (ROOT / p / "pyproject.toml").is_file()]


def _stamp() -> str:
    """Hash of everything that decides what the venv must contain."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    for folder in _package_dirs():
        digest.update(str(folder.relative_to(ROOT)).encode())
        digest.update((folder / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def ensure_venv(*, reinstall: bool = False) -> Path:
    """Create the bench venv if needed and bring its installs up to date.

    Args:
        reinstall: Run pip even if the stamp says the venv is current.

    Returns:
        The venv's Python interpreter.

    Raises:
        subprocess.CalledProcessError: venv creation or pip failed.
    """
    python = venv_python()
    if not python.exists():
        _log(f"creating the bench venv {VENV.relative_to(ROOT)} with {sys.executable}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = _stamp()
    if not reinstall and STAMP.is_file() and STAMP.read_text().strip() == stamp:
        return python
    editable: list[str] = []
    for folder in _package_dirs():
        editable += ["-e", str(folder)]
    _log("installing the pinned peers and aioloom (editable) into the bench venv")
    command = [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)]
    subprocess.run(command + editable, check=True)
    STAMP.write_text(stamp + "\n")
    return python


def ensure_program(name: str) -> str:
    """Make sure the external program ``name`` is installed; install it with apt if not.

    Args:
        name: The program, e.g. ``"wrk"``.

    Returns:
        Its path.

    Raises:
        SystemExit: It is missing and cannot be installed here (unknown program,
            not root, or apt failed).
    """
    found = shutil.which(name)
    if found:
        return found
    package = APT_PACKAGES.get(name)
    if package is None:
        raise SystemExit(f"{name} is missing and tools/bench does not know how to install it")
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SystemExit(f"{name} is missing: install it with `apt-get install -y {package}`")
    policy = subprocess.run(
        ["apt-cache", "policy", package], capture_output=True, text=True, check=False
    ).stdout
    if "Candidate:" not in policy or "Candidate: (none)" in policy:
        _log("apt has no candidate for " + package + ": running apt-get update")
        subprocess.run(["apt-get", "update"], check=True)
    _log(f"installing {package} from Debian")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", package], check=True, env=env)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"apt-get installed {package} but {name} is still not on PATH")
    return found


def worker_env() -> dict[str, str]:
    """Environment for measuring subprocesses: this one minus the dev env's Python settings.

    PYTHONPATH (hatch puts ``src`` there), PYTHONDEVMODE, PYTHONASYNCIODEBUG and the like
    would change what is measured, so every ``PYTHON*`` variable is dropped.
    """
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


@dataclass(frozen=True)
class Machine:
    """What the report says about the machine and the measured interpreter."""

    nproc: int
    affinity: tuple[int, ...]
    cpu_model: str
    python: str
    packages: dict[str, str | None]


_VERSIONS_SCRIPT = """
import importlib.metadata as md, json, platform, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = md.version(name)
    except md.PackageNotFoundError:
        found[name] = None
impl = platform.python_implementation()
print(json.dumps({"python": impl + " " + platform.python_version(), "packages": found}))
"""


def machine(python: Path, packages: tuple[str, ...]) -> Machine:
    """Describe this machine and the versions installed in the bench venv.

    Args:
        python: The bench venv's interpreter.
        packages: Distributions to report; empty means every pinned requirement and
            every installed aioloom distribution.

    Returns:
        The description.
    """
    names = list(packages) or _requirement_names() + _aioloom_names()
    done = subprocess.run(
        [str(python), "-E", "-c", _VERSIONS_SCRIPT, *names],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    return Machine(
        nproc=os.cpu_count() or 1,
        affinity=tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else (),
        cpu_model=_cpu_model(),
        python=str(found["python"]),
        packages={str(k): (None if v is None else str(v)) for k, v in found["packages"].items()},
    )


def _requirement_names() -> list[str]:
    names = []
    for line in REQUIREMENTS.read_text().splitlines():
        match = _REQUIREMENT_NAME.match(line)
        if match and not line.lstrip().startswith("#"):
            names.append(match.group(1))
    return names


def _aioloom_names() -> list[str]:
    names = []
    for folder in _package_dirs():
        match = _PROJECT_NAME.search((folder / "pyproject.toml").read_text())
        if match:
            names.append(match.group(1))
    return names


def _cpu_model() -> str:
    """The CPU model named by /proc/cpuinfo, else what the platform module knows."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model"):
            return value.strip()
    return platform.processor() or "unknown"


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
