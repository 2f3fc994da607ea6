#!/usr/bin/env python3
"""The import contract of the aioloom monorepo (docs/architecture.md, "Who may import whom").

Every module under ``packages/*/src/aioloom/<pkg>/`` and ``src/aioloom/compat/`` is parsed (never
imported) and each import is checked against three rules:

1. A package imports only the aioloom siblings it is allowed to (design.md §2): websocket and
   multipart only ``aioloom.http``; client and web also websocket and multipart; testing
   everything but compat.
2. An optional sibling or third-party package (one that comes in through an extra, such as
   ``aioloom-client[websocket]`` or ``brotli``) is imported lazily: inside a function, or under
   ``if TYPE_CHECKING:``, never at module level, so importing the package never fails for it.
3. A third-party import must be declared in the package's own ``pyproject.toml``: required
   dependencies anywhere, optional ones lazily.

Usage: ``python3 tools/check_imports.py [ROOT]``; prints one line per problem, exits 1 if any.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

# design.md §2: the aioloom siblings each package may import at all.
ALLOWED: dict[str, frozenset[str]] = {
    "http": frozenset(),
    "websocket": frozenset({"http"}),
    "multipart": frozenset({"http"}),
    "client": frozenset({"http", "websocket", "multipart"}),
    "web": frozenset({"http", "websocket", "multipart"}),
    "testing": frozenset({"http", "client", "web", "websocket", "multipart"}),
    "compat": frozenset({"http", "client", "web", "websocket", "multipart", "testing"}),
}

# Distribution name -> the import names it provides (for third-party dependencies).
IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "attrs": ("attr", "attrs"),
    "pytest": ("pytest", "_pytest"),
}

_DIST_OF_SUBPACKAGE = {
    "aioloom-http": "http",
    "aioloom-websocket": "websocket",
    "aioloom-multipart": "multipart",
    "aioloom-client": "client",
    "aioloom-web": "web",
    "aioloom-testing": "testing",
}

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass
class Declared:
    """What one distribution declares: required and optional (extra) imports."""

    siblings_required: set[str] = field(default_factory=set)
    siblings_optional: set[str] = field(default_factory=set)
    third_required: set[str] = field(default_factory=set)
    third_optional: set[str] = field(default_factory=set)


def _requirement_name(requirement: str) -> str:
    match = _REQ_NAME.match(requirement)
    if match is None:
        raise ValueError(f"cannot read requirement {requirement!r}")
    return match.group(1).lower().replace("_", "-")


def _add(decl: Declared, requirement: str, *, optional: bool) -> None:
    name = _requirement_name(requirement)
    if name in _DIST_OF_SUBPACKAGE:
        target = decl.siblings_optional if optional else decl.siblings_required
        target.add(_DIST_OF_SUBPACKAGE[name])
        return
    imports = IMPORT_NAMES.get(name, (name.replace("-", "_"),))
    (decl.third_optional if optional else decl.third_required).update(imports)


def read_declared(pyproject: Path) -> Declared:
    """Read the dependencies and extras a pyproject.toml declares."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    decl = Declared()
    for req in project.get("dependencies", []):
        _add(decl, req, optional=False)
    for reqs in project.get("optional-dependencies", {}).values():
        for req in reqs:
            _add(decl, req, optional=True)
    return decl


def _import_ids(node: ast.AST) -> set[int]:
    return {id(sub) for sub in ast.walk(node) if isinstance(sub, ast.Import | ast.ImportFrom)}


def _lazy_nodes(tree: ast.Module) -> tuple[set[int], set[int]]:
    """The ids of import nodes that run lazily, and of those that never run at all.

    Lazy: inside a function, or under ``if TYPE_CHECKING:``. Never run: under
    ``if TYPE_CHECKING:`` (read by type checkers only, so not a run-time dependency).
    """
    lazy: set[int] = set()
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            lazy |= _import_ids(node)
        elif isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    typing_only |= _import_ids(stmt)
    return lazy | typing_only, typing_only


def _guarded_nodes(tree: ast.Module) -> set[int]:
    """The ids of import nodes inside ``try: ... except ImportError`` (optional third parties)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught: set[str] = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught.update(k.id for k in kinds if isinstance(k, ast.Name))
        if caught & {"ImportError", "ModuleNotFoundError"}:
            for stmt in node.body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        guarded.add(id(sub))
    return guarded


def _imports(tree: ast.Module) -> Iterator[tuple[ast.stmt, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "aioloom":
                # `from aioloom import web` names the sibling in the alias.
                for alias in node.names:
                    yield node, f"aioloom.{alias.name}"
            else:
                yield node, node.module


def check_module(path: Path, owner: str, decl: Declared, rel: str) -> list[str]:
    """Check one module of package ``owner`` against the contract."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        return [f"{rel}: does not parse: {exc}"]
    lazy, typing_only = _lazy_nodes(tree)
    guarded = _guarded_nodes(tree)
    problems: list[str] = []
    stdlib = sys.stdlib_module_names
    for node, module in _imports(tree):
        top = module.split(".")[0]
        where = f"{rel}:{node.lineno}"
        if top == "aioloom":
            parts = module.split(".")
            if len(parts) < 2 or parts[1] == owner:
                continue
            dep = parts[1]
            if dep not in ALLOWED[owner]:
                problems.append(f"{where}: aioloom.{owner} must not import aioloom.{dep}")
            elif owner != "compat" and dep not in decl.siblings_required:
                if dep not in decl.siblings_optional:
                    problems.append(
                        f"{where}: aioloom.{owner} imports aioloom.{dep} but its pyproject.toml "
                        "does not declare that distribution"
                    )
                elif id(node) not in lazy:
                    problems.append(
                        f"{where}: aioloom.{dep} is an optional extra of aioloom.{owner}: import "
                        "it lazily (inside the function that needs it), with an error naming the "
                        "extra"
                    )
            continue
        if top in stdlib or top == "__future__" or id(node) in typing_only:
            continue
        if top in decl.third_required:
            continue
        if top in decl.third_optional:
            if id(node) not in lazy and id(node) not in guarded:
                problems.append(
                    f"{where}: {top} is an optional dependency of aioloom.{owner}: import it "
                    "lazily or under `try: ... except ImportError`"
                )
            continue
        if id(node) in lazy and owner == "compat":
            continue
        problems.append(
            f"{where}: aioloom.{owner} imports {top}, which its pyproject.toml does not declare"
        )
    return problems


def iter_packages(root: Path) -> Iterator[tuple[str, Path, Path]]:
    """Yield (owner, source folder, pyproject.toml) for each package and the compat layer."""
    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        for src in sorted((pyproject.parent / "src" / "aioloom").iterdir()):
            if src.is_dir() and src.name in ALLOWED:
                yield src.name, src, pyproject
    compat = root / "src" / "aioloom" / "compat"
    if compat.is_dir():
        yield "compat", compat, root / "pyproject.toml"


def check_tree(root: Path) -> list[str]:
    """Check every package under ``root``; return the problems found."""
    problems: list[str] = []
    for namespace_init in sorted(root.glob("**/src/aioloom/__init__.py")):
        init_rel = namespace_init.relative_to(root).as_posix()
        problems.append(f"{init_rel}: aioloom is a PEP 420 namespace package: remove this file")
    for owner, src, pyproject in iter_packages(root):
        decl = read_declared(pyproject)
        for module in sorted(src.rglob("*.py")):
            rel = module.relative_to(root).as_posix()
            problems.extend(check_module(module, owner, decl, rel))
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = check_tree(root)
    for line in problems:
        print(line)
    if not problems:
        print("import contract: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
