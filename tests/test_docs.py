"""tools/check_docs.py: architecture page, links, reference pages, runnable docs, bench table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType


def make_tree(root: Path, architecture: str, readme: str = "# x\n") -> Path:
    src = root / "packages" / "http-parser" / "src" / "aioloom" / "http"
    (src / "aio").mkdir(parents=True)
    for name in ("__init__.py", "_parser.py", "aio/__init__.py", "aio/_streams.py"):
        (src / name).write_text("")
    (root / "docs").mkdir()
    (root / "docs" / "architecture.md").write_text(architecture)
    (root / "README.md").write_text(readme)
    return root


def test_real_tree_passes(check_docs: ModuleType, repo_root: Path) -> None:
    assert check_docs.check_architecture(repo_root) + check_docs.check_links(repo_root) == []


def test_undocumented_module_fails(check_docs: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "`aioloom.http._parser` parses.\n")
    assert check_docs.check_architecture(tree) == [
        "packages/http-parser/src/aioloom/http/aio/_streams.py: not described in "
        "docs/architecture.md (name aioloom.http.aio._streams)"
    ]


def test_module_named_by_inner_path_passes(check_docs: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "- `_parser.py` parses\n- `aio/_streams.py` streams\n")
    assert check_docs.check_architecture(tree) == []


def test_similar_name_does_not_count(check_docs: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "- `x_parser.py`\n- `aio/_streams.pyx`\n")
    assert len(check_docs.check_architecture(tree)) == 2


def test_broken_link_fails(check_docs: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(
        tmp_path, "x", readme="[arch](docs/architecture.md) [gone](docs/nope.md) [w](https://x.y)\n"
    )
    assert check_docs.check_links(tree) == ["README.md: broken link to docs/nope.md"]


def add_packages(root: Path, *names: str) -> None:
    for name in names:
        init = root / "packages" / name / "src" / "aioloom" / name / "__init__.py"
        init.parent.mkdir(parents=True, exist_ok=True)
        init.write_text("")


def test_real_tree_site_checks_pass(check_docs: ModuleType, repo_root: Path) -> None:
    assert check_docs.check_reference(repo_root) == []
    assert check_docs.check_runnable(repo_root) == []
    assert check_docs.check_bench_table(repo_root) == []


def test_package_without_reference_fails(check_docs: ModuleType, tmp_path: Path) -> None:
    add_packages(tmp_path, "client", "web")
    (tmp_path / "docs" / "reference").mkdir(parents=True)
    (tmp_path / "docs" / "reference" / "client.md").write_text(
        "```{eval-rst}\n.. automodule:: aioloom.client\n```\n"
    )
    assert check_docs.package_names(tmp_path) == ["aioloom.client", "aioloom.web"]
    assert check_docs.check_reference(tmp_path) == [
        "docs/reference: no API reference for aioloom.web (.. automodule:: aioloom.web)"
    ]


def test_links_in_new_pages_checked_and_build_output_skipped(
    check_docs: ModuleType, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path, "x")
    (tree / "docs" / "reference").mkdir()
    (tree / "docs" / "reference" / "web.md").write_text("[ok](../architecture.md) [x](gone.md)\n")
    (tree / "docs" / "_build" / "html").mkdir(parents=True)
    (tree / "docs" / "_build" / "html" / "copy.md").write_text("[x](nowhere.md)\n")
    assert check_docs.check_links(tree) == ["docs/reference/web.md: broken link to gone.md"]


RUNNABLE_PAGE = """# Page

<!-- runnable -->
```python
print("ok")
```

```python
this is only an illustration (
```

<!-- runnable -->
```python
def broken(:
    pass
```
"""


def test_runnable_blocks_extracted_and_compiled(check_docs: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "x")
    (tree / "docs" / "guide.md").write_text(RUNNABLE_PAGE)
    blocks = check_docs.runnable_blocks(tree)
    assert [(page, line) for page, line, _ in blocks] == [
        ("docs/guide.md", 4),
        ("docs/guide.md", 13),
    ]
    assert blocks[0][2] == 'print("ok")\n'
    problems = check_docs.check_runnable(tree)
    assert len(problems) == 1 and problems[0].startswith("docs/guide.md:13: runnable block")


RESULTS = """
<!-- bench:parser:begin -->
| case | system | msg/s (median) | vs aiohttp-py | ratio range | rounds |
|---|---|--:|--:|--:|--:|
| get | aioloom | 68k | 2.84x | 2.79-3.07 | 5 |
| get | aiohttp-py | 24k | 1.00x | 1.00-1.00 | 5 |
| get | aiohttp-c | 125k | 5.18x | 5.17-5.74 | 5 |
| get | aioloom-nocache | 50k | 2.07x | 2.00-2.10 | 5 |
<!-- bench:parser:end -->
<!-- bench:client:begin -->
| case | system | GET/s | MB/s (median) | vs aiohttp | ratio range | rounds |
|---|---|--:|--:|--:|--:|
| get | aioloom | 2.24k | 0.99x | 0.84-1.13 | 2 |
| get | aiohttp | 2.36k | 1.00x | 1.00-1.00 | 2 |
| get | httpx | 132 | 0.06x | 0.05-0.07 | 2 |
<!-- bench:client:end -->
"""


def test_bench_rows_from_results(check_docs: ModuleType) -> None:
    assert check_docs.bench_rows(RESULTS) == [
        ("parser", "get", "0.55x", "2.84x"),
        ("parser", "get (head cache off)", "0.40x", "2.07x"),
        ("client", "get", "0.99x", "-"),
    ]


def test_stale_bench_table_fails_until_rewritten(check_docs: ModuleType, tmp_path: Path) -> None:
    readme = "# x\n\n<!-- bench-table:begin -->\n| old |\n<!-- bench-table:end -->\n\nend\n"
    tree = make_tree(tmp_path, "x", readme=readme)
    (tree / "tools" / "bench").mkdir(parents=True)
    (tree / "tools" / "bench" / "RESULTS.md").write_text(RESULTS)
    assert len(check_docs.check_bench_table(tree)) == 1
    assert check_docs.main(["check_docs.py", "--write-bench-table", str(tree)]) == 1  # no arch
    assert check_docs.check_bench_table(tree) == []
    text = (tree / "README.md").read_text()
    assert "| parser | get | 0.55x | 2.84x |" in text and text.endswith("\n\nend\n")


def test_readme_without_bench_markers_fails(check_docs: ModuleType, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, "x")
    (tree / "tools" / "bench").mkdir(parents=True)
    (tree / "tools" / "bench" / "RESULTS.md").write_text(RESULTS)
    assert check_docs.check_bench_table(tree) == [
        "README.md: no <!-- bench-table:begin --> ... <!-- bench-table:end --> benchmark table"
    ]
    assert check_docs.write_bench_table(tree) is False


def test_runnable_examples_run(check_docs: ModuleType, repo_root: Path) -> None:
    """Each runnable block of the docs runs to completion as a script, warnings as errors."""
    blocks = check_docs.runnable_blocks(repo_root)
    assert len(blocks) >= 5
    env = {**os.environ, "PYTHONPATH": str(repo_root / "src")}
    for page, line, code in blocks:
        result = subprocess.run(
            [sys.executable, "-W", "error", "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert result.returncode == 0, f"{page}:{line}\n{result.stderr}"
