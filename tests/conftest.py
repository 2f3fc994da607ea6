"""Fixtures for the repository-level tests (tools, layout, packaging metadata)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"aioloom_tools_{name}", ROOT / "tools" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def check_imports() -> ModuleType:
    """tools/check_imports.py, loaded as a module."""
    return _load_tool("check_imports")


@pytest.fixture(scope="session")
def check_docs() -> ModuleType:
    """tools/check_docs.py, loaded as a module."""
    return _load_tool("check_docs")
