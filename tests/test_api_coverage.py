"""Every public aiohttp 3.14 name is served by aioloom.compat, or listed as omitted with why.

The names come from ``tests/data/aiohttp-3.14-public-api.txt`` (a dump of aiohttp 3.14.5's
public surface); the omissions from ``src/aioloom/compat/_omissions.py``. The check runs in a
subprocess, where ``install_as_aiohttp()`` cannot disturb this test session.

Regenerate ``docs/api-coverage.md`` after a change (the last test fails until you do)::

    PYTHONPATH=src python3 -m aioloom.compat coverage \\
        tests/data/aiohttp-3.14-public-api.txt --write docs/api-coverage.md
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

API = Path("tests") / "data" / "aiohttp-3.14-public-api.txt"
DOC = Path("docs") / "api-coverage.md"


def coverage(repo_root: Path, api: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "aioloom.compat", "coverage", str(api), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo_root,
        check=False,
    )


def test_every_public_aiohttp_name_is_covered_or_omitted(repo_root: Path) -> None:
    res = coverage(repo_root, API)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().endswith(", 0 missing")


def test_a_name_neither_served_nor_omitted_fails(repo_root: Path, tmp_path: Path) -> None:
    api = tmp_path / "api.txt"
    api.write_text(
        "# a dump with one name aioloom lacks\n"
        "[aiohttp __all__]\nClientSession\nNoSuchThing\n"
        "[aiohttp.pytest_plugin fixtures]\naiohttp_client\nloop\nno_such_fixture\n"
    )
    res = coverage(repo_root, api)
    assert res.returncode == 1, res.stderr
    assert res.stdout.splitlines() == [
        "[aiohttp __all__] NoSuchThing: not served and not listed",
        "[aiohttp.pytest_plugin fixtures] no_such_fixture: not served and not listed",
        "3 of 5 names covered, 2 missing",
    ]


def test_an_omission_of_a_served_name_is_stale(repo_root: Path, tmp_path: Path) -> None:
    # Run the classifier with an omission list that wrongly omits a name aioloom serves.
    code = (
        "from aioloom.compat import _coverage, _omissions\n"
        "_omissions.DELIBERATE[('aiohttp __all__', 'ClientSession')] = 'wrong'\n"
        "rows = _coverage.classify({'aiohttp __all__': ['ClientSession']})\n"
        "print(rows[0].status, '|', rows[0].note)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(repo_root / "src"))
    res = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "missing | stale omission: it is served now"


def test_unknown_section_is_refused(repo_root: Path, tmp_path: Path) -> None:
    api = tmp_path / "api.txt"
    api.write_text("[aiohttp.nonsense]\nX\n")
    res = coverage(repo_root, api)
    assert res.returncode == 1
    assert "ValueError: unknown API section [aiohttp.nonsense]" in res.stderr


def test_every_omission_names_a_real_public_name(repo_root: Path) -> None:
    # An omission for a name the dump does not have is a typo, or aiohttp dropped it.
    code = (
        "from pathlib import Path\n"
        "from aioloom.compat import _coverage, _omissions\n"
        f"api = _coverage.parse_api(Path({str(repo_root / API)!r}).read_text())\n"
        "keys = set(_omissions.DELIBERATE) | set(_omissions.NOT_YET_IMPLEMENTED)\n"
        "print(sorted(k for k in keys if k[1] not in api.get(k[0], [])))\n"
        "print(bool(set(_omissions.DELIBERATE) & set(_omissions.NOT_YET_IMPLEMENTED)))\n"
        "print(all(r.strip() for r in [*_omissions.DELIBERATE.values(),"
        " *_omissions.NOT_YET_IMPLEMENTED.values()]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(repo_root / "src"))
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["[]", "False", "True"]


def test_committed_coverage_doc_is_up_to_date(repo_root: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "api-coverage.md"
    res = coverage(repo_root, API, "--write", str(fresh))
    assert res.returncode == 0, res.stdout + res.stderr
    committed = (repo_root / DOC).read_text(encoding="utf-8")
    assert committed == fresh.read_text(encoding="utf-8"), (
        "docs/api-coverage.md is stale: regenerate it (see this module's docstring)"
    )
