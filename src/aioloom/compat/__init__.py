"""aioloom.compat: run existing aiohttp code on aioloom.

:func:`install_as_aiohttp` registers modules named ``aiohttp`` and ``aiohttp.<module>`` in
``sys.modules`` whose names resolve to aioloom's own objects, so that ``import aiohttp`` and
``from aiohttp import web`` in unchanged code load aioloom. The table of aliases grows with the
packages: an alias whose aioloom target is not installed is left out, so the first use of such a
name fails with an ``ImportError`` naming it.

Names a package serves lazily (through its module ``__getattr__``, e.g. ``WSMsgType`` in
``aioloom.web``) stay lazy: an alias module forwards unknown attributes to its sources. Modules
whose import may fail for an optional third-party reason (``aiohttp.worker`` needs gunicorn) are
built on first import by a finder, not at install time.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = (
    "ALIASES",
    "LAZY_ALIASES",
    "LAZY_NAMES",
    "TOP_LEVEL",
    "AiohttpAlreadyImported",
    "Source",
    "install_as_aiohttp",
    "installed_aliases",
)

# A source is a module (all its public names) or (module, names) to pick a few names from it.
Source = str | tuple[str, tuple[str, ...]]

_WEB = "aioloom.web"
_CLIENT = "aioloom.client"

# aiohttp module name -> the aioloom sources whose names it carries (first wins on clashes).
ALIASES: dict[str, tuple[Source, ...]] = {
    "aiohttp.hdrs": ("aioloom.http.hdrs",),
    "aiohttp.http_exceptions": ("aioloom.http",),
    "aiohttp.helpers": ("aioloom.http",),
    "aiohttp.http": ("aioloom.http", "aioloom.http.aio", "aioloom.websocket"),
    "aiohttp.http_parser": ("aioloom.http",),
    "aiohttp.http_writer": ("aioloom.http.aio",),
    "aiohttp.http_websocket": ("aioloom.websocket",),
    "aiohttp.streams": ("aioloom.http.aio",),
    "aiohttp.payload": ("aioloom.http.aio",),
    "aiohttp.abc": (
        ("aioloom.http.aio", ("AbstractStreamWriter",)),
        (_WEB, ("AbstractRouter", "AbstractMatchInfo", "AbstractView", "AbstractAccessLogger")),
        (
            _CLIENT,
            ("AbstractCookieJar", "AbstractResolver", "ClearCookiePredicate", "ResolveResult"),
        ),
    ),
    "aiohttp.client": (_CLIENT,),
    "aiohttp.client_exceptions": (_CLIENT,),
    "aiohttp.client_reqrep": (_CLIENT,),
    "aiohttp.client_ws": (_CLIENT,),
    "aiohttp.client_middlewares": (_CLIENT,),
    "aiohttp.client_middleware_digest_auth": (_CLIENT,),
    "aiohttp.connector": (_CLIENT,),
    "aiohttp.cookiejar": (_CLIENT,),
    "aiohttp.resolver": (_CLIENT,),
    "aiohttp.tracing": (_CLIENT,),
    "aiohttp.formdata": ("aioloom.multipart",),
    "aiohttp.multipart": ("aioloom.multipart",),
    # aiohttp.typedefs and aiohttp.log have no public counterpart module in aioloom: their
    # names live in private modules of aioloom.web and aioloom.client.
    "aiohttp.typedefs": ("aioloom.web._typedefs",),
    "aiohttp.log": (
        ("aioloom.web._log", ("access_logger", "server_logger", "web_logger")),
        ("aioloom.web._ws", ("ws_logger",)),
        ("aioloom.client._cookiejar", ("client_logger",)),
    ),
    "aiohttp.web": (_WEB,),
    "aiohttp.web_app": (_WEB,),
    "aiohttp.web_exceptions": (_WEB,),
    "aiohttp.web_fileresponse": (_WEB,),
    "aiohttp.web_log": (_WEB,),
    "aiohttp.web_middlewares": (_WEB,),
    "aiohttp.web_protocol": (_WEB,),
    "aiohttp.web_request": (_WEB,),
    "aiohttp.web_response": (_WEB,),
    "aiohttp.web_routedef": (_WEB,),
    "aiohttp.web_runner": (_WEB,),
    "aiohttp.web_server": (_WEB,),
    "aiohttp.web_urldispatcher": (_WEB,),
    "aiohttp.web_ws": (_WEB,),
    "aiohttp.test_utils": ("aioloom.testing",),
}

# Built on first import only: their sources need optional third-party packages (gunicorn,
# pytest) that a program using aiohttp's other modules must not be made to load.
LAZY_ALIASES: dict[str, tuple[Source, ...]] = {
    "aiohttp.worker": ("aioloom.web.worker",),
    "aiohttp.pytest_plugin": ("aioloom.compat.pytest_plugin",),
}

# The top-level ``aiohttp`` module re-exports the public names of these aioloom modules.
TOP_LEVEL: tuple[Source, ...] = (
    "aioloom.http",
    "aioloom.http.aio",
    _CLIENT,
    "aioloom.multipart",
    "aioloom.websocket",
)

# Names an alias serves on first access only, from a module that needs an optional
# third-party package (aiohttp's top level does the same for its gunicorn workers).
LAZY_NAMES: dict[str, dict[str, str]] = {
    "aiohttp": {
        "GunicornWebWorker": "aioloom.web.worker",
        "GunicornUVLoopWebWorker": "aioloom.web.worker",
    },
}

_MARK = "__aioloom_compat__"


class AiohttpAlreadyImported(RuntimeError):
    """The real aiohttp was imported before :func:`install_as_aiohttp` was called."""


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        # A module without __all__: what it defines, not the modules and typing helpers
        # it imported.
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and not isinstance(v, ModuleType) and n != "annotations"
        ]
    return list(names)


def _load(sources: Sequence[Source]) -> list[tuple[ModuleType, tuple[str, ...] | None]]:
    loaded: list[tuple[ModuleType, tuple[str, ...] | None]] = []
    for source in sources:
        name, picked = (source, None) if isinstance(source, str) else source
        try:
            loaded.append((importlib.import_module(name), picked))
        except ImportError:
            continue
    return loaded


def _forwarder(alias: str, modules: list[ModuleType]) -> Any:
    """A module ``__getattr__``: :data:`LAZY_NAMES`, then each source's own ``__getattr__``."""
    lazy = LAZY_NAMES.get(alias, {})

    def __getattr__(name: str) -> Any:
        if name in lazy:
            return getattr(importlib.import_module(lazy[name]), name)
        if not name.startswith("__"):
            for module in modules:
                try:
                    return getattr(module, name)
                except AttributeError:
                    continue
        raise AttributeError(f"module {alias!r} (aioloom.compat) has no attribute {name!r}")

    return __getattr__


def _fill(alias: ModuleType, loaded: list[tuple[ModuleType, tuple[str, ...] | None]]) -> None:
    exported: list[str] = []
    for module, picked in reversed(loaded):  # the first source wins on clashes
        for attr in picked if picked is not None else _public_names(module):
            setattr(alias, attr, getattr(module, attr))
            exported.append(attr)
    alias.__all__ = sorted(set(exported))  # type: ignore[attr-defined]
    whole = [module for module, picked in loaded if picked is None]
    alias.__getattr__ = _forwarder(alias.__name__, whole)  # type: ignore[method-assign]


def _alias(name: str, sources: Sequence[Source]) -> ModuleType | None:
    """Build the alias module ``name`` from the importable ``sources``; None if none imports."""
    loaded = _load(sources)
    if not loaded:
        return None
    served = ", ".join(s if isinstance(s, str) else s[0] for s in sources)
    alias = ModuleType(name, f"aiohttp compatibility alias served by {served}")
    setattr(alias, _MARK, True)
    _fill(alias, loaded)
    return alias


class _LazyAliasLoader(importlib.abc.Loader):
    """Builds a :data:`LAZY_ALIASES` module when it is first imported."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        sources = LAZY_ALIASES[spec.name]
        alias = _alias(spec.name, sources)
        if alias is None:
            # Import the first source again, so the error names what is really missing.
            first = sources[0]
            importlib.import_module(first if isinstance(first, str) else first[0])
            raise ImportError(f"no aioloom module serves {spec.name}", name=spec.name)
        return alias

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: :meth:`create_module` filled the module."""


class _LazyAliasFinder(importlib.abc.MetaPathFinder):
    """Finds the :data:`LAZY_ALIASES` modules (and only them)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in LAZY_ALIASES:
            return None
        return importlib.machinery.ModuleSpec(fullname, _LazyAliasLoader())


def _install_finder() -> None:
    if not any(isinstance(f, _LazyAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _LazyAliasFinder())


def install_as_aiohttp() -> list[str]:
    """Make ``import aiohttp`` (and its modules) load aioloom.

    Calling it again is harmless.

    Returns:
        The names registered in ``sys.modules`` (the lazy aliases, such as ``aiohttp.worker``,
        are registered when first imported and are not listed).

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
    _install_finder()
    return registered


def installed_aliases() -> list[str]:
    """The aiohttp module names currently served by aioloom in ``sys.modules``."""
    return sorted(n for n, m in sys.modules.items() if getattr(m, _MARK, False))
