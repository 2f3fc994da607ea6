#!/usr/bin/env python3
"""Documentation checks: the architecture page, links, the site's reference, runnable examples.

1. Every module of every package (``packages/*/src/aioloom/<pkg>/**.py`` and
   ``src/aioloom/compat/**.py``) is named in docs/architecture.md by its dotted path
   (``aioloom.http._parser``) or by its file path relative to the subpackage
   (``aio/_streams.py``); ``__init__.py`` files are exempt. A module nobody documented fails.
2. Every relative link ``[text](target)`` in README.md, the package READMEs and docs/**.md
   points to a file that exists (``docs/_build``, the site's output, is skipped).
3. Every package (``packages/*/src/aioloom/<name>`` and ``src/aioloom/compat``) has its API
   reference: an ``.. automodule:: aioloom.<name>`` in a page under ``docs/reference/``.
4. Every fenced ``python`` block marked runnable (the line before its fence is
   ``<!-- runnable -->``) in README.md and docs/**.md compiles; tests/test_docs.py runs them.
5. README.md's benchmark table (between ``<!-- bench-table:begin -->`` and
   ``<!-- bench-table:end -->``) is the one tools/bench/RESULTS.md gives;
   ``--write-bench-table`` rewrites it from RESULTS.md after a benchmark run.

The site itself is built by ``python3 -m hatch run docs:check`` after these checks
(Sphinx, warnings as errors; see hatch.toml).

Usage: ``python3 tools/check_docs.py [--write-bench-table] [ROOT]``; prints one line per
problem, exits 1 if any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_RUNNABLE = re.compile(r"^<!-- runnable -->\n```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_AUTOMODULE = re.compile(r"^\.\. automodule:: (aioloom\.[\w.]+)$", re.MULTILINE)
_BENCH_BEGIN, _BENCH_END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
_SECTION = re.compile(r"<!-- bench:(\w+):begin -->(.*?)<!-- bench:\1:end -->", re.DOTALL)
# The aiohttp builds the README compares against: compiled (the parser benchmark calls it
# aiohttp-c, the others aiohttp) and pure Python.
_COMPILED, _PURE = ("aiohttp", "aiohttp-c"), "aiohttp-py"


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


def doc_pages(root: Path) -> list[Path]:
    """The Markdown pages of docs/ (the site's build output excluded)."""
    build = root / "docs" / "_build"
    pages = sorted((root / "docs").rglob("*.md")) if (root / "docs").is_dir() else []
    return [page for page in pages if build not in page.parents]


def check_links(root: Path) -> list[str]:
    problems = []
    docs = [root / "README.md", *sorted(root.glob("packages/*/README.md")), *doc_pages(root)]
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


def package_names(root: Path) -> list[str]:
    """The dotted name of every package: ``aioloom.http`` ... ``aioloom.compat``."""
    bases = [p / "src" / "aioloom" for p in sorted(root.glob("packages/*"))]
    bases.append(root / "src" / "aioloom")
    names = {
        "aioloom." + init.parent.name
        for base in bases
        if base.is_dir()
        for init in base.glob("*/__init__.py")
    }
    return sorted(names)


def check_reference(root: Path) -> list[str]:
    documented: set[str] = set()
    for page in sorted((root / "docs" / "reference").glob("*.md")):
        documented.update(_AUTOMODULE.findall(page.read_text(encoding="utf-8")))
    return [
        f"docs/reference: no API reference for {name} (.. automodule:: {name})"
        for name in package_names(root)
        if name not in documented
    ]


def runnable_blocks(root: Path) -> list[tuple[str, int, str]]:
    """(repo-relative page, line of the fence, code) of each block marked runnable."""
    blocks = []
    for page in [root / "README.md", *doc_pages(root)]:
        if not page.exists():
            continue
        text = page.read_text(encoding="utf-8")
        for match in _RUNNABLE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            blocks.append((page.relative_to(root).as_posix(), line, match.group(1)))
    return blocks


def check_runnable(root: Path) -> list[str]:
    problems = []
    for page, line, code in runnable_blocks(root):
        try:
            compile(code, f"{page}:{line}", "exec")
        except SyntaxError as exc:
            problems.append(f"{page}:{line}: runnable block does not compile: {exc.msg}")
    return problems


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def bench_rows(results: str) -> list[tuple[str, str, str, str]]:
    """(benchmark, case, aioloom vs compiled aiohttp, aioloom vs pure-Python aiohttp).

    Read from RESULTS.md's tables: the ratio column is the one headed ``vs <system>``; a
    ratio against a system other than that reference is the quotient of the two ratios.
    Missing figures are ``-``.
    """
    rows = []
    for name, section in _SECTION.findall(results):
        lines = [line for line in section.splitlines() if line.startswith("|")]
        if len(lines) < 3:
            continue
        head = _cells(lines[0])
        ratio_col = next((i for i, cell in enumerate(head) if cell.startswith("vs ")), None)
        if ratio_col is None:
            continue
        ratios: dict[str, dict[str, float]] = {}
        for line in lines[2:]:
            cells = _cells(line)
            # Count the ratio column from the right: a few tables have one header cell more.
            ratio = cells[ratio_col - len(head)].rstrip("x")
            ratios.setdefault(cells[0], {})[cells[1]] = float(ratio)
        for case, by_system in ratios.items():
            compiled = next((by_system[s] for s in _COMPILED if s in by_system), None)
            pure = by_system.get(_PURE)
            for system, label in _OURS:
                ours = by_system.get(system)
                if ours is not None:
                    row = (name, case + label, _quotient(ours, compiled), _quotient(ours, pure))
                    rows.append(row)
    return rows


# aioloom's systems in RESULTS.md and the suffix each gets in the case column: the parser and
# web benchmarks also measure aioloom with its parser's head cache off (every head parsed).
_OURS = (("aioloom", ""), ("aioloom-nocache", " (head cache off)"))


def _quotient(ours: float, theirs: float | None) -> str:
    return "-" if theirs is None else f"{ours / theirs:.2f}x"


def bench_table(results: str) -> str:
    """The README's benchmark table (Markdown) for the text of RESULTS.md."""
    lines = [
        "| benchmark | case | vs aiohttp (C extensions) | vs aiohttp (pure Python) |",
        "|---|---|--:|--:|",
    ]
    lines += [f"| {name} | {case} | {c} | {p} |" for name, case, c, p in bench_rows(results)]
    return "\n".join(lines)


def _bench_span(readme: str) -> tuple[int, int] | None:
    start, end = readme.find(_BENCH_BEGIN), readme.find(_BENCH_END)
    if start < 0 or end < start:
        return None
    return start + len(_BENCH_BEGIN), end


def check_bench_table(root: Path) -> list[str]:
    results = root / "tools" / "bench" / "RESULTS.md"
    readme = root / "README.md"
    if not results.exists() or not readme.exists():
        return []
    text = readme.read_text(encoding="utf-8")
    span = _bench_span(text)
    if span is None:
        return [f"README.md: no {_BENCH_BEGIN} ... {_BENCH_END} benchmark table"]
    expected = bench_table(results.read_text(encoding="utf-8"))
    if text[span[0] : span[1]].strip() != expected:
        return [
            "README.md: the benchmark table differs from tools/bench/RESULTS.md "
            "(run python3 tools/check_docs.py --write-bench-table)"
        ]
    return []


def write_bench_table(root: Path) -> bool:
    """Rewrite README.md's benchmark table from RESULTS.md; False if it has no markers."""
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    span = _bench_span(text)
    if span is None:
        return False
    table = bench_table((root / "tools" / "bench" / "RESULTS.md").read_text(encoding="utf-8"))
    readme.write_text(f"{text[: span[0]]}\n{table}\n{text[span[1] :]}", encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    args = [arg for arg in argv[1:] if arg != "--write-bench-table"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    if "--write-bench-table" in argv and not write_bench_table(root):
        print(f"README.md: no {_BENCH_BEGIN} ... {_BENCH_END} markers")
        return 1
    problems = check_architecture(root) + check_links(root) + check_reference(root)
    problems += check_runnable(root) + check_bench_table(root)
    for line in problems:
        print(line)
    if not problems:
        print("docs: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
