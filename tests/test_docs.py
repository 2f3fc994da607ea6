"""tools/check_docs.py: the architecture page names every module; links resolve."""

from __future__ import annotations

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
