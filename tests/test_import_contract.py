"""The import contract checker (tools/check_imports.py): the real tree passes, violations fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

HTTP_PYPROJECT = """
[project]
name = "aioloom-http"
version = "0.1.0"
dependencies = ["multidict>=6", "yarl>=1.17", "attrs>=23"]
[project.optional-dependencies]
speedups = ["brotli>=1.1"]
"""

CLIENT_PYPROJECT = """
[project]
name = "aioloom-client"
version = "0.1.0"
dependencies = ["aioloom-http==0.1.0", "multidict>=6.1", "yarl>=1.17"]
[project.optional-dependencies]
websocket = ["aioloom-websocket==0.1.0"]
multipart = ["aioloom-multipart==0.1.0"]
speedups = ["aiodns>=3.2", "brotli>=1.1"]
"""


def make_tree(root: Path, client_module: str, http_module: str = "X = 1\n") -> Path:
    """A minimal two-package tree: http and client, with the given client module source."""
    for folder, name, pyproject in (
        ("http-parser", "http", HTTP_PYPROJECT),
        ("client", "client", CLIENT_PYPROJECT),
    ):
        pkg = root / "packages" / folder
        (pkg / "src" / "aioloom" / name).mkdir(parents=True)
        (pkg / "pyproject.toml").write_text(pyproject)
        (pkg / "src" / "aioloom" / name / "__init__.py").write_text("")
    (root / "packages/http-parser/src/aioloom/http/core.py").write_text(http_module)
    (root / "packages/client/src/aioloom/client/mod.py").write_text(textwrap.dedent(client_module))
    return root


def test_real_tree_passes(check_imports: ModuleType, repo_root: Path) -> None:
    assert check_imports.check_tree(repo_root) == []


def test_cli_exit_codes(repo_root: Path, tmp_path: Path) -> None:
    tool = str(repo_root / "tools" / "check_imports.py")
    ok = subprocess.run([sys.executable, tool, str(repo_root)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = make_tree(tmp_path, "import aioloom.web\n")
    res = subprocess.run([sys.executable, tool, str(bad)], capture_output=True, text=True)
    assert res.returncode == 1
    assert "aioloom.client must not import aioloom.web" in res.stdout


@pytest.mark.parametrize(
    "source",
    [
        "import aioloom.web\n",
        "from aioloom.web import Application\n",
        "from aioloom import web\n",
        "def f():\n    import aioloom.web\n",  # forbidden even lazily
        "import aioloom.testing\n",
    ],
)
def test_client_importing_web_or_testing_is_rejected(
    check_imports: ModuleType, tmp_path: Path, source: str
) -> None:
    problems = check_imports.check_tree(make_tree(tmp_path, source))
    assert len(problems) == 1
    assert "aioloom.client must not import aioloom." in problems[0]
    assert "packages/client/src/aioloom/client/mod.py:" in problems[0]


def test_optional_sibling_at_module_level_is_rejected(
    check_imports: ModuleType, tmp_path: Path
) -> None:
    problems = check_imports.check_tree(make_tree(tmp_path, "import aioloom.websocket\n"))
    assert len(problems) == 1
    assert "optional extra of aioloom.client" in problems[0]


@pytest.mark.parametrize(
    "source",
    [
        "def connect():\n    from aioloom.websocket import WSMsgType\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import aioloom.multipart\n",
        "import aioloom.http\nfrom aioloom.http import hdrs\nimport multidict, yarl\n",
        "import json, asyncio, ssl\n",
        "try:\n    import brotli\nexcept ImportError:\n    brotli = None\n",
        "def resolver():\n    import aiodns\n",
        # A typing-only import is no run-time dependency.
        "import typing\nif typing.TYPE_CHECKING:\n    from typing_extensions import Y\n",
    ],
)
def test_allowed_imports_pass(check_imports: ModuleType, tmp_path: Path, source: str) -> None:
    assert check_imports.check_tree(make_tree(tmp_path, source)) == []


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("import requests\n", "imports requests, which its pyproject.toml does not declare"),
        ("import aiodns\n", "aiodns is an optional dependency of aioloom.client"),
    ],
)
def test_third_party_rules(
    check_imports: ModuleType, tmp_path: Path, source: str, fragment: str
) -> None:
    problems = check_imports.check_tree(make_tree(tmp_path, source))
    assert len(problems) == 1 and fragment in problems[0]


def test_http_may_import_no_sibling(check_imports: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "X = 1\n", http_module="def f():\n    import aioloom.client\n")
    problems = check_imports.check_tree(tree)
    assert problems == [
        "packages/http-parser/src/aioloom/http/core.py:2: "
        "aioloom.http must not import aioloom.client"
    ]


def test_namespace_init_is_rejected(check_imports: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "X = 1\n")
    (tree / "packages/client/src/aioloom/__init__.py").write_text("")
    problems = check_imports.check_tree(tree)
    assert problems == [
        "packages/client/src/aioloom/__init__.py: aioloom is a PEP 420 namespace package: "
        "remove this file"
    ]


def test_syntax_error_is_reported(check_imports: ModuleType, tmp_path: Path) -> None:
    problems = check_imports.check_tree(make_tree(tmp_path, "def broken(:\n"))
    assert len(problems) == 1 and "does not parse" in problems[0]
