"""aioloom.compat: run existing aiohttp code on aioloom.

:func:`install_as_aiohttp` registers modules named ``aiohttp`` and ``aiohttp.<module>`` in
``sys.modules`` whose names resolve to aioloom's own objects, so that ``import aiohttp`` and
``from aiohttp import web`` in unchanged code load aioloom. The table of aliases grows with the
packages: an alias whose aioloom target is not installed is left out, so the first use of such a
name fails with an ``ImportError`` naming it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ("ALIASES", "AiohttpAlreadyImported", "install_as_aiohttp", "installed_aliases")

# aiohttp module name -> the aioloom modules whose public names it carries (first wins).
ALIASES: dict[str, tuple[str, ...]] = {
    "aiohttp.hdrs": ("aioloom.http.hdrs",),
    "aiohttp.http_exceptions": ("aioloom.http",),
    "aiohttp.streams": ("aioloom.http.aio",),
    "aiohttp.payload": ("aioloom.http.aio",),
    "aiohttp.abc": ("aioloom.http.aio",),
}

# The top-level ``aiohttp`` module re-exports the public names of these aioloom modules.
TOP_LEVEL: tuple[str, ...] = (
    "aioloom.http",
    "aioloom.http.aio",
    "aioloom.client",
    "aioloom.multipart",
    "aioloom.websocket",
)

_MARK = "__aioloom_compat__"


class AiohttpAlreadyImported(RuntimeError):
    """The real aiohttp was imported before :func:`install_as_aiohttp` was called."""


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return list(names)


def _alias(name: str, sources: tuple[str, ...]) -> ModuleType | None:
    """Build the alias module ``name`` from the importable ``sources``; None if none imports."""
    loaded = []
    for source in sources:
        try:
            loaded.append(importlib.import_module(source))
        except ImportError:
            continue
    if not loaded:
        return None
    alias = ModuleType(name, f"aiohttp compatibility alias served by {', '.join(sources)}")
    setattr(alias, _MARK, True)
    exported: list[str] = []
    for module in reversed(loaded):  # the first source wins on clashes
        for attr in _public_names(module):
            setattr(alias, attr, getattr(module, attr))
            exported.append(attr)
    alias.__all__ = sorted(set(exported))  # type: ignore[attr-defined]
    return alias


def install_as_aiohttp() -> list[str]:
    """Make ``import aiohttp`` (and its modules) load aioloom.

    Calling it again is harmless.

    Returns:
        The names registered in ``sys.modules``.

    Raises:
        AiohttpAlreadyImported: the real aiohttp is already imported in this process; its
            objects and aioloom's would mix, so nothing is registered.
    """
    current = sys.modules.get("aiohttp")
    if current is not None and not getattr(current, _MARK, False):
        raise AiohttpAlreadyImported(
            "the real aiohttp is already imported; call aioloom.compat.install_as_aiohttp() "
            "before anything imports aiohttp"
        )
    registered: list[str] = []
    top = _alias("aiohttp", TOP_LEVEL)
    if top is None:  # pragma: no cover - aioloom-http is a dependency of the meta-package
        raise ImportError("aioloom.compat needs aioloom-http: pip install aioloom")
    top.__path__ = []  # a package, so that submodule imports resolve
    sys.modules["aiohttp"] = top
    registered.append("aiohttp")
    for name, sources in ALIASES.items():
        module = _alias(name, sources)
        if module is None:
            continue
        sys.modules[name] = module
        setattr(top, name.rpartition(".")[2], module)
        registered.append(name)
    return registered


def installed_aliases() -> list[str]:
    """The aiohttp module names currently served by aioloom in ``sys.modules``."""
    return sorted(n for n, m in sys.modules.items() if getattr(m, _MARK, False))
