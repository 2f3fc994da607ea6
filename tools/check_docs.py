#!/usr/bin/env python3
"""Documentation checks: docs/architecture.md stays true, and no doc link is broken.

1. Every module of every package (``packages/*/src/aioloom/<pkg>/**.py`` and
   ``src/aioloom/compat/**.py``) is named in docs/architecture.md by its dotted path
   (``aioloom.http._parser``) or by its file path relative to the subpackage
   (``aio/_streams.py``); ``__init__.py`` files are exempt. A module nobody documented fails.
2. Every relative link ``[text](target)`` in README.md, the package READMEs and docs/**.md
   points to a file that exists.

Usage: ``python3 tools/check_docs.py [ROOT]``; prints one line per problem, exits 1 if any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def module_names(root: Path) -> list[tuple[str, str, str]]:
    """(dotted name, path within the subpackage, repo-relative path) of each module."""
    found: list[tuple[str, str, str]] = []
    sources = [p / "src" / "aioloom" for p in sorted(root.glob("packages/*"))]
    sources.append(root / "src" / "aioloom")
    for base in sources:
        if not base.is_dir():
            continue
        for module in sorted(base.rglob("*.py")):
            if module.name == "__init__.py":
                continue
            rel = module.relative_to(base)
            dotted = "aioloom." + ".".join(rel.with_suffix("").parts)
            inner = Path(*rel.parts[1:]).as_posix()
            found.append((dotted, inner, module.relative_to(root).as_posix()))
    return found


def check_architecture(root: Path) -> list[str]:
    arch = root / "docs" / "architecture.md"
    if not arch.exists():
        return ["docs/architecture.md is missing"]
    text = arch.read_text(encoding="utf-8")
    problems = []
    for dotted, inner, rel in module_names(root):
        # A module is named by its dotted path, or as a file within its subpackage's section.
        if dotted not in text and not re.search(rf"(?<![\w/]){re.escape(inner)}\b", text):
            problems.append(f"{rel}: not described in docs/architecture.md (name {dotted})")
    return problems


def check_links(root: Path) -> list[str]:
    problems = []
    docs = [root / "README.md", *sorted(root.glob("packages/*/README.md"))]
    docs += sorted((root / "docs").rglob("*.md")) if (root / "docs").is_dir() else []
    for doc in docs:
        if not doc.exists():
            continue
        for match in _LINK.finditer(doc.read_text(encoding="utf-8")):
            target = match.group(1).split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # in-page anchor or an absolute URL
            if not (doc.parent / target).exists():
                problems.append(f"{doc.relative_to(root)}: broken link to {match.group(1)}")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = check_architecture(root) + check_links(root)
    for line in problems:
        print(line)
    if not problems:
        print("docs: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
