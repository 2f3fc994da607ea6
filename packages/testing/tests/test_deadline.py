"""run_with_deadline and the timeout report."""

from __future__ import annotations

import asyncio
import re

import pytest

from aioloom.testing import TestTimeoutError
from aioloom.testing._deadline import describe_task, run_with_deadline
from aioloom.testing._loop import loop_context


async def answer() -> int:
    await asyncio.sleep(0)
    return 42


async def blocked_inner(event: asyncio.Event) -> None:
    await event.wait()


async def blocked_outer(event: asyncio.Event) -> None:
    await blocked_inner(event)


def test_the_result_is_returned_with_or_without_a_limit() -> None:
    with loop_context(fast=True) as loop:
        assert run_with_deadline(loop, answer(), timeout=None, what="t") == 42
        assert run_with_deadline(loop, answer(), timeout=5, what="t") == 42


def test_errors_pass_through() -> None:
    async def fail() -> None:
        raise KeyError("inner")

    with loop_context(fast=True) as loop:
        with pytest.raises(KeyError, match="inner"):
            run_with_deadline(loop, fail(), timeout=5, what="t")


def test_the_timeout_report_names_both_waiting_places() -> None:
    cancelled: list[bool] = []

    async def test_body(event: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        loop.create_task(blocked_outer(event), name="helper")
        try:
            await blocked_inner(event)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with loop_context(fast=True) as loop:
        event = asyncio.Event()
        with pytest.raises(TestTimeoutError) as info:
            run_with_deadline(loop, test_body(event), timeout=0.05, what="test_x[pyloop]")
    report = str(info.value)
    assert report.startswith("test_x[pyloop] did not finish within 0.05 s (aioloom timeout)")
    assert cancelled == [True]  # the test was cancelled, so its finally blocks ran
    waiting, others = report.split("Other pending tasks (1):")
    assert re.search(r"in test_body\n\s+await blocked_inner\(event\)", waiting)
    assert re.search(r"in blocked_inner\n\s+await event.wait\(\)", waiting)
    assert "helper (blocked_outer):" in others
    assert "in blocked_outer" in others and "in blocked_inner" in others
    assert isinstance(info.value, TimeoutError)


def test_a_test_that_ignores_cancellation_does_not_hang_the_report() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)  # ignores the first cancellation

    with loop_context(fast=True) as loop:
        begin = loop.time()
        with pytest.raises(TestTimeoutError):
            run_with_deadline(loop, stubborn(), timeout=0.05, what="t")
        assert loop.time() - begin < 2.0  # the limit, then at most the unwind grace (1 s)
    # loop_context's teardown cancelled it a second time, and closed the loop.


def test_describe_a_finished_task_and_a_future() -> None:
    with loop_context(fast=True) as loop:
        task = loop.create_task(answer(), name="done-task")
        loop.run_until_complete(task)
        assert describe_task(task) == (
            "done-task (answer):\n    (no Python frame: not started or finished)"
        )
        future: asyncio.Future[None] = loop.create_future()
        assert describe_task(future).startswith("<Future pending")
        future.cancel()
