"""API coverage: which public aiohttp names the compatibility view serves.

Reads an API dump (``tests/data/aiohttp-3.14-public-api.txt``: ``[section]`` titles, one name a
line, ``#`` comments), installs :func:`~aioloom.compat.install_as_aiohttp` and classifies each
name as covered, omitted (:mod:`aioloom.compat._omissions`, deliberate or not yet
implemented) or missing. :func:`render_markdown` writes ``docs/api-coverage.md`` from the
result. Run as ``python -m aioloom.compat coverage API_FILE [--write MARKDOWN]``.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from . import install_as_aiohttp
from ._omissions import reason_for

__all__ = ("Row", "classify", "parse_api", "render_markdown")

# Sections whose names are attributes of one module.
_MODULE_SECTIONS: dict[str, str] = {
    "aiohttp __all__": "aiohttp",
    "aiohttp.web __all__": "aiohttp.web",
    "aiohttp.abc": "aiohttp.abc",
    "aiohttp.hdrs": "aiohttp.hdrs",
    "aiohttp.test_utils": "aiohttp.test_utils",
    "aiohttp.pytest_plugin": "aiohttp.pytest_plugin",
}


@dataclass(frozen=True)
class Row:
    """One public aiohttp name and how aioloom covers it."""

    section: str
    name: str
    status: str  # "covered", "deliberate", "not yet implemented" or "missing"
    note: str  # where it comes from, or why it is omitted


def parse_api(text: str) -> dict[str, list[str]]:
    """Parse an API dump into ``{section: [names]}`` in file order.

    Raises:
        ValueError: a name before the first ``[section]`` title.
    """
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif current is None:
            raise ValueError(f"line {number}: name {line!r} outside any [section]")
        else:
            current.append(line)
    return sections


def _public_part(dotted: str) -> str:
    """``aioloom.web._app`` -> ``aioloom.web``: the public package a private module is in."""
    parts = dotted.split(".")
    keep = list(itertools.takewhile(lambda p: not p.startswith("_"), parts))
    return ".".join(keep) or dotted


def _module_lookup(module_name: str) -> Callable[[str], str | None]:
    module = importlib.import_module(module_name)
    served_by = (module.__doc__ or "").rpartition(" served by ")[2] or module_name

    def lookup(name: str) -> str | None:
        try:
            value = getattr(module, name)
        except AttributeError:
            return None
        if isinstance(value, ModuleType):
            return value.__name__
        if inspect.isclass(value) or inspect.isroutine(value):
            return _public_part(value.__module__)
        return served_by

    return lookup


def _plugin_lookup(section: str) -> Callable[[str], str | None]:
    """Fixtures and hooks come from the aiohttp plugin alias or the aioloom plugin itself."""
    compat = importlib.import_module("aiohttp.pytest_plugin")
    aioloom_plugin = importlib.import_module("aioloom.testing.plugin")
    if section.endswith("options"):
        from .pytest_plugin import _OPTIONS

        return lambda name: "aiohttp.pytest_plugin" if name in _OPTIONS else None

    def lookup(name: str) -> str | None:
        if name in compat.__all__:
            return "aiohttp.pytest_plugin"
        if name in aioloom_plugin.__all__:
            return "aioloom.testing.plugin"
        return None

    return lookup


def classify(api: dict[str, list[str]]) -> list[Row]:
    """Install the compatibility view and classify every name of ``api``.

    A name both served and listed as omitted is reported ``missing`` with a note saying so:
    the omission is stale and must be removed.

    Raises:
        ValueError: a section this module does not know how to check.
    """
    install_as_aiohttp()
    rows: list[Row] = []
    for section, names in api.items():
        if section in _MODULE_SECTIONS:
            lookup = _module_lookup(_MODULE_SECTIONS[section])
        elif section.startswith("aiohttp.pytest_plugin "):
            lookup = _plugin_lookup(section)
        else:
            raise ValueError(f"unknown API section [{section}]")
        for name in names:
            origin, omitted = lookup(name), reason_for(section, name)
            if origin is not None and omitted is not None:
                rows.append(Row(section, name, "missing", "stale omission: it is served now"))
            elif origin is not None:
                rows.append(Row(section, name, "covered", origin))
            elif omitted is not None:
                rows.append(Row(section, name, omitted[0], omitted[1]))
            else:
                rows.append(Row(section, name, "missing", "not served and not listed"))
    return rows


def render_markdown(rows: list[Row], source: str) -> str:
    """``docs/api-coverage.md``: a summary, then a table per section."""
    lines = [
        "# aiohttp API coverage",
        "",
        "Generated by `python -m aioloom.compat coverage tests/data/aiohttp-3.14-public-api.txt "
        "--write docs/api-coverage.md`; do not edit by hand (a test checks it is up to date).",
        "",
        f"Public names of aiohttp from `{source}` as served by `aioloom.compat."
        "install_as_aiohttp()`. Omissions and their reasons live in "
        "`src/aioloom/compat/_omissions.py`.",
        "",
        "| section | names | covered | deliberate | not yet implemented | missing |",
        "|---|---|---|---|---|---|",
    ]
    sections = list(dict.fromkeys(row.section for row in rows))
    for section in sections:
        own = [row for row in rows if row.section == section]
        counts = [
            sum(row.status == s for row in own)
            for s in ("covered", "deliberate", "not yet implemented", "missing")
        ]
        lines.append(f"| `{section}` | {len(own)} | " + " | ".join(map(str, counts)) + " |")
    for section in sections:
        lines += ["", f"## {section}", "", "| name | status | from / reason |", "|---|---|---|"]
        for row in rows:
            if row.section == section:
                note = row.note.replace("|", "\\|")
                lines.append(f"| `{row.name}` | {row.status} | {note} |")
    return "\n".join(lines) + "\n"
