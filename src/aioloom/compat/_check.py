"""``python -m aioloom.compat check PATH``: the aiohttp names a code base uses that aioloom lacks.

The source is parsed with :mod:`ast`, never imported. Collected: ``import aiohttp[.x]``
(the module), ``from aiohttp[.x] import y`` (``y`` of that module) and attribute chains on a
name bound to an aiohttp module (``aiohttp.ClientSession``, ``web.Application`` after
``from aiohttp import web``, ``aiohttp.web.json_response``). Each is then looked up in the
compatibility view built by :func:`~aioloom.compat.install_as_aiohttp`.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from . import ALIASES, LAZY_ALIASES, install_as_aiohttp

__all__ = ("Use", "collect_uses", "find_lacking", "iter_sources")

_ROOT = "aiohttp"


@dataclass(frozen=True, order=True)
class Use:
    """One use of an aiohttp name: ``module`` and ``name`` (None: the module itself)."""

    path: str
    line: int
    module: str
    name: str | None

    @property
    def dotted(self) -> str:
        """``aiohttp.web.Application`` (or the module's name)."""
        return self.module if self.name is None else f"{self.module}.{self.name}"


def _known_modules() -> frozenset[str]:
    return frozenset({_ROOT, *ALIASES, *LAZY_ALIASES})


class _Collector(ast.NodeVisitor):
    """Walks one module, tracking which local names are bound to aiohttp modules."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.bound: dict[str, str] = {}  # local name -> aiohttp module
        self.uses: list[Use] = []
        self.known = _known_modules()

    def _use(self, node: ast.AST, module: str, name: str | None) -> None:
        self.uses.append(Use(self.path, getattr(node, "lineno", 0), module, name))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name != _ROOT and not alias.name.startswith(_ROOT + "."):
                continue
            self._use(node, alias.name, None)
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:  # ``import aiohttp.web`` binds ``aiohttp``
                self.bound[_ROOT] = _ROOT

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or (module != _ROOT and not module.startswith(_ROOT + ".")):
            return
        self._use(node, module, None)
        for alias in node.names:
            if alias.name == "*":
                continue
            self._use(node, module, alias.name)
            full = f"{module}.{alias.name}"
            if full in self.known:
                self.bound[alias.asname or alias.name] = full

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in self.bound:
            self.generic_visit(node)
            return
        module = self.bound[base.id]
        for attr in reversed(chain):
            if f"{module}.{attr}" in self.known:
                module = f"{module}.{attr}"
                continue
            self._use(node, module, attr)
            break
        # The chain is handled whole: its inner Attribute nodes are not visited again.


def collect_uses(source: str, path: str = "<string>") -> list[Use]:
    """The aiohttp names ``source`` uses, in order.

    Raises:
        SyntaxError: ``source`` is not valid Python.
    """
    collector = _Collector(path)
    collector.visit(ast.parse(source, filename=path))
    return collector.uses


def iter_sources(root: Path) -> Iterator[Path]:
    """``root`` itself if it is a file, else the ``.py`` files under it, sorted."""
    if root.is_file():
        yield root
        return
    yield from sorted(p for p in root.rglob("*.py") if p.is_file())


def _resolve(module_name: str, cache: dict[str, ModuleType | str]) -> ModuleType | str:
    """The alias module, or the reason it cannot be imported."""
    if module_name not in cache:
        try:
            cache[module_name] = importlib.import_module(module_name)
        except ImportError as exc:
            cache[module_name] = f"cannot import {module_name}: {exc}"
    return cache[module_name]


def find_lacking(uses: Iterable[Use]) -> list[tuple[Use, str]]:
    """The uses aioloom cannot serve, each with the reason.

    Installs the compatibility view in this process first.

    Raises:
        aioloom.compat.AiohttpAlreadyImported: the real aiohttp is imported here.
    """
    install_as_aiohttp()
    cache: dict[str, ModuleType | str] = {}
    lacking: list[tuple[Use, str]] = []
    for use in uses:
        module = _resolve(use.module, cache)
        if isinstance(module, str):
            lacking.append((use, module))
        elif use.name is not None and not hasattr(module, use.name):
            # ``from aiohttp import x`` may also name an unknown submodule: same verdict.
            lacking.append((use, f"{use.module} has no {use.name!r}"))
    return lacking
