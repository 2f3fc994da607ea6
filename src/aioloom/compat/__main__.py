"""Command line of aioloom.compat.

``python -m aioloom.compat check PATH``
    print the aiohttp names the code under PATH uses that aioloom lacks; exit 1 if any.
``python -m aioloom.compat coverage API_FILE [--write MARKDOWN]``
    classify every public aiohttp name of an API dump; exit 1 if one is neither served nor
    listed in ``_omissions.py``. ``--write`` regenerates ``docs/api-coverage.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._check import collect_uses, find_lacking, iter_sources
from ._coverage import classify, parse_api, render_markdown


def _check(path: Path) -> int:
    if not path.exists():
        print(f"{path}: no such file or directory", file=sys.stderr)
        return 2
    uses = []
    for source in iter_sources(path):
        try:
            uses += collect_uses(source.read_text(encoding="utf-8"), str(source))
        except (SyntaxError, UnicodeDecodeError) as exc:
            print(f"{source}: skipped, cannot parse: {exc}", file=sys.stderr)
    lacking = find_lacking(uses)
    for use, reason in lacking:
        print(f"{use.path}:{use.line}: {use.dotted} ({reason})")
    names = sorted({use.dotted for use, _ in lacking})
    if names:
        print(f"aioloom lacks {len(names)} aiohttp name(s): {', '.join(names)}")
        return 1
    print(f"aioloom serves every aiohttp name used ({len({u.dotted for u in uses})} names)")
    return 0


def _coverage(api_file: Path, write: Path | None) -> int:
    rows = classify(parse_api(api_file.read_text(encoding="utf-8")))
    if write is not None:
        write.write_text(render_markdown(rows, api_file.name), encoding="utf-8")
    missing = [row for row in rows if row.status == "missing"]
    for row in missing:
        print(f"[{row.section}] {row.name}: {row.note}")
    covered = sum(row.status == "covered" for row in rows)
    print(f"{covered} of {len(rows)} names covered, {len(missing)} missing")
    return 1 if missing else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m aioloom.compat")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="the aiohttp names a code base uses that we lack")
    check.add_argument("path", type=Path)
    coverage = commands.add_parser("coverage", help="aiohttp public API coverage")
    coverage.add_argument("api_file", type=Path)
    coverage.add_argument("--write", type=Path, default=None, help="write the markdown table")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.path)
    return _coverage(args.api_file, args.write)


if __name__ == "__main__":
    sys.exit(main())
