"""The public aiohttp 3.14 names the compatibility view deliberately does not serve.

``tests/test_api_coverage.py`` fails for any public aiohttp name (``tests/data/``'s API dump)
that ``install_as_aiohttp()`` does not resolve, unless it is listed here with its reason; the
same lists produce ``docs/api-coverage.md``. Keys are ``(section, name)`` with the section as
the dump spells it (``"aiohttp __all__"``, ``"aiohttp.pytest_plugin fixtures"`` ...).

Two groups: :data:`DELIBERATE` (aioloom will not provide them) and :data:`NOT_YET_IMPLEMENTED`
(gaps: each names the package and work item that owns it, so the gap stays visible).
"""

from __future__ import annotations

from typing import Final

__all__ = ("DELIBERATE", "NOT_YET_IMPLEMENTED", "reason_for")

_WINDOWS = "Windows-only (named pipes / proactor loop); aioloom targets POSIX event loops"
_DEPRECATED_FIXTURE = "deprecated alias in aiohttp 3.x (warns); use the aiohttp_* fixture"

# Names aioloom will not provide, with why.
DELIBERATE: Final[dict[tuple[str, str], str]] = {
    # -- Windows only
    ("aiohttp __all__", "NamedPipeConnector"): _WINDOWS,
    ("aiohttp.web __all__", "NamedPipeSite"): _WINDOWS,
    ("aiohttp.pytest_plugin fixtures", "proactor_loop"): _WINDOWS,
    # -- deprecated in aiohttp
    ("aiohttp __all__", "streamer"): (
        "deprecated in aiohttp 3.x (it warns); pass an async generator as the body"
    ),
    ("aiohttp.test_utils", "unittest_run_loop"): (
        "deprecated since aiohttp 3.8, a no-op: AioHTTPTestCase runs async test methods itself"
    ),
    ("aiohttp.pytest_plugin fixtures", "test_client"): _DEPRECATED_FIXTURE,
    ("aiohttp.pytest_plugin fixtures", "test_server"): _DEPRECATED_FIXTURE,
    ("aiohttp.pytest_plugin fixtures", "raw_test_server"): _DEPRECATED_FIXTURE,
    ("aiohttp.pytest_plugin fixtures", "unused_port"): _DEPRECATED_FIXTURE,
    # -- not needed by aioloom's design
    ("aiohttp.pytest_plugin hooks", "pytest_pycollect_makeitem"): (
        "pytest collects async def tests itself; the aioloom plugin runs them in pytest_pyfunc_call"
    ),
}

# Names aioloom should provide but does not yet: name -> the owner of the gap. The repository
# has no issue tracker numbers yet; the owner is the package (and the work item) to file it on.
NOT_YET_IMPLEMENTED: Final[dict[tuple[str, str], str]] = {}


def reason_for(section: str, name: str) -> tuple[str, str] | None:
    """Why ``name`` of ``section`` is omitted, as ``(group, reason)``; None if it is not.

    Args:
        section: the API dump's section title, e.g. ``"aiohttp.web __all__"``.
        name: the public name.

    Returns:
        ``("deliberate", reason)``, ``("not yet implemented", owner)`` or None.
    """
    key = (section, name)
    if key in DELIBERATE:
        return "deliberate", DELIBERATE[key]
    if key in NOT_YET_IMPLEMENTED:
        return "not yet implemented", NOT_YET_IMPLEMENTED[key]
    return None
