"""The loop helpers and the --aioloom-loop names."""

from __future__ import annotations

import asyncio
import importlib.util
import warnings
from collections.abc import AsyncIterator

import pytest

from aioloom.testing import loop_context, setup_test_loop, teardown_test_loop
from aioloom.testing._loop import KNOWN_LOOPS, select_loop_factories

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def current_loop() -> asyncio.AbstractEventLoop:
    with warnings.catch_warnings():
        # get_event_loop() warns on some versions when no loop runs; the answer is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop()


def test_setup_makes_the_loop_current_and_teardown_closes_it() -> None:
    loop = setup_test_loop()
    try:
        assert current_loop() is loop
    finally:
        teardown_test_loop(loop)
    assert loop.is_closed()
    with pytest.raises(RuntimeError):
        current_loop()  # none is current any more


def test_teardown_cancels_tasks_and_finishes_async_generators() -> None:
    events: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async def agen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            events.append("agen closed")

    async def start(loop: asyncio.AbstractEventLoop) -> AsyncIterator[int]:
        loop.create_task(forever())
        gen = agen()
        await gen.__anext__()
        return gen

    with loop_context() as loop:
        gen = loop.run_until_complete(start(loop))
    assert events == ["cancelled", "agen closed"]
    del gen


def test_teardown_of_a_closed_loop_is_harmless() -> None:
    loop = setup_test_loop()
    loop.close()
    teardown_test_loop(loop, fast=True)
    assert loop.is_closed()


def test_loop_context_uses_the_factory() -> None:
    class MyLoop(asyncio.SelectorEventLoop):
        pass

    with loop_context(MyLoop, fast=True) as loop:
        assert type(loop) is MyLoop
    assert loop.is_closed()


def test_select_loop_names() -> None:
    assert KNOWN_LOOPS == ("pyloop", "uvloop")
    (choice,) = select_loop_factories("pyloop")
    assert (choice.name, choice.factory, choice.missing) == ("pyloop", asyncio.new_event_loop, "")
    names = [c.name for c in select_loop_factories(" uvloop , pyloop,uvloop ")]
    assert names == ["uvloop", "pyloop"]  # order kept, repeats dropped


def test_all_gives_the_installed_loops() -> None:
    names = [c.name for c in select_loop_factories("all")]
    assert names == (["pyloop", "uvloop"] if HAS_UVLOOP else ["pyloop"])
    assert all(c.factory is not None for c in select_loop_factories("all"))


@pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed")
def test_uvloop_factory_makes_a_uvloop() -> None:
    (choice,) = select_loop_factories("uvloop")
    assert choice.factory is not None
    with loop_context(choice.factory, fast=True) as loop:
        assert type(loop).__module__.startswith("uvloop")


def test_a_missing_uvloop_carries_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    (choice,) = select_loop_factories("uvloop")
    assert choice.factory is None
    assert choice.missing == 'uvloop is not installed: pip install "uvloop"'
    assert select_loop_factories("all") == select_loop_factories("pyloop")


@pytest.mark.parametrize("spec", ["", " , ", "tokio", "pyloop,asyncio", "all,pyloop"])
def test_bad_loop_names_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="known: pyloop, uvloop, all"):
        select_loop_factories(spec)
