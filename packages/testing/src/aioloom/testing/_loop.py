"""Fresh event loops for tests and the named loop implementations tests can run under.

This module owns aiohttp's loop helpers (:func:`setup_test_loop`, :func:`teardown_test_loop`,
:func:`loop_context`) and the table of loop implementations the pytest plugin's
``--aioloom-loop`` option chooses from (:func:`select_loop_factories`): ``pyloop`` (the
standard library's loop) and ``uvloop`` (when that package is installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import NamedTuple

__all__ = (
    "KNOWN_LOOPS",
    "LoopChoice",
    "LoopFactory",
    "loop_context",
    "select_loop_factories",
    "setup_test_loop",
    "teardown_test_loop",
)

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

KNOWN_LOOPS = ("pyloop", "uvloop")
"""The loop names ``--aioloom-loop`` accepts (besides ``all``)."""


def setup_test_loop(
    loop_factory: LoopFactory = asyncio.new_event_loop,
) -> asyncio.AbstractEventLoop:
    """Create a new event loop and make it the current one.

    Args:
        loop_factory: makes the loop (``asyncio.new_event_loop`` by default).

    Returns:
        The new loop, set as the current event loop of this thread.
    """
    loop = loop_factory()
    asyncio.set_event_loop(loop)
    return loop


def teardown_test_loop(loop: asyncio.AbstractEventLoop, fast: bool = False) -> None:
    """Cancel what is left on ``loop``, shut down its async generators and close it.

    Args:
        loop: the loop made by :func:`setup_test_loop`.
        fast: skip the final garbage-collection pass. That pass is what makes objects left
            unclosed by the test (sessions, transports, sockets) report themselves now,
            while the test is still the one blamed.
    """
    if not loop.is_closed():
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    if not fast:
        gc.collect()
    asyncio.set_event_loop(None)


@contextlib.contextmanager
def loop_context(
    loop_factory: LoopFactory = asyncio.new_event_loop, fast: bool = False
) -> Iterator[asyncio.AbstractEventLoop]:
    """A context manager giving a fresh event loop that is torn down on exit.

    Args:
        loop_factory: makes the loop.
        fast: see :func:`teardown_test_loop`.

    Yields:
        The loop, current for the block.
    """
    loop = setup_test_loop(loop_factory)
    try:
        yield loop
    finally:
        teardown_test_loop(loop, fast=fast)


class LoopChoice(NamedTuple):
    """One loop implementation chosen with ``--aioloom-loop``.

    Attributes:
        name: its name (the test id, ``[pyloop]``).
        factory: makes a loop; None when the implementation is not installed.
        missing: why it is unavailable (an install hint), or ``""``.
    """

    name: str
    factory: LoopFactory | None
    missing: str = ""


def _uvloop_choice() -> LoopChoice:
    try:
        import uvloop
    except ImportError:
        return LoopChoice("uvloop", None, 'uvloop is not installed: pip install "uvloop"')
    return LoopChoice("uvloop", uvloop.new_event_loop)


def _choice(name: str) -> LoopChoice:
    if name == "pyloop":
        return LoopChoice("pyloop", asyncio.new_event_loop)
    return _uvloop_choice()


def select_loop_factories(spec: str) -> list[LoopChoice]:
    """Read an ``--aioloom-loop`` value: comma-separated loop names, or ``all``.

    Args:
        spec: e.g. ``"pyloop"``, ``"pyloop,uvloop"`` or ``"all"``.

    Returns:
        One :class:`LoopChoice` per name, in the order given, without repeats. A named
        loop that is not installed is returned with ``factory=None`` (its tests are
        skipped with the reason); ``all`` gives only the installed ones.

    Raises:
        ValueError: an unknown name, or no name at all.
    """
    names = [part.strip() for part in spec.split(",") if part.strip()]
    if not names:
        raise ValueError(f"--aioloom-loop needs at least one loop name (known: {_known()})")
    if names == ["all"]:
        return [choice for choice in map(_choice, KNOWN_LOOPS) if choice.factory is not None]
    unknown = [name for name in names if name not in KNOWN_LOOPS]
    if unknown:
        raise ValueError(f"unknown loop {unknown[0]!r} in --aioloom-loop (known: {_known()})")
    return [_choice(name) for name in dict.fromkeys(names)]


def _known() -> str:
    return ", ".join((*KNOWN_LOOPS, "all"))
