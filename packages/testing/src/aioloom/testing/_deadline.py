"""Running a test's coroutine on its loop, with an optional time limit that explains itself.

A test that waits forever (a handler that never answers, a lock never released) is the
hardest failure to read: the run just stops. With a limit (``--aioloom-timeout``, the
``aioloom_timeout`` ini value, or ``@pytest.mark.aioloom_timeout(seconds)``),
:func:`run_with_deadline` stops the coroutine when the limit passes and fails the test with
:class:`TestTimeoutError`, whose message says where the test was waiting and where every
other pending task of the loop (the server's handler tasks among them) was waiting.
"""

from __future__ import annotations

import asyncio
import linecache
from collections.abc import Awaitable
from types import FrameType
from typing import Any, TypeVar

__all__ = ("TestTimeoutError", "describe_task", "run_with_deadline")

_T = TypeVar("_T")

# A cancelled test gets this long to unwind (its finally blocks) before teardown goes on.
_UNWIND_GRACE = 1.0
# Pending tasks listed in a timeout report, at most (a leaking test can have thousands).
_MAX_TASKS = 20


class TestTimeoutError(TimeoutError):
    """A test (or an async fixture) did not finish within its time limit."""

    __test__ = False  # not a test class, despite the name


def _frames(coro: Any) -> list[FrameType]:
    """The frames of a suspended coroutine and of everything it awaits, outermost first."""
    frames: list[FrameType] = []
    seen: set[int] = set()
    current = coro
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frame = (
            getattr(current, "cr_frame", None)
            or getattr(current, "gi_frame", None)
            or getattr(current, "ag_frame", None)
        )
        if frame is not None:
            frames.append(frame)
        current = (
            getattr(current, "cr_await", None)
            or getattr(current, "gi_yieldfrom", None)
            or getattr(current, "ag_await", None)
        )
    return frames


def describe_task(task: asyncio.Future[Any]) -> str:
    """Where ``task`` is waiting: its await chain as ``file:line in function`` lines."""
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    name = task.get_name() if isinstance(task, asyncio.Task) else repr(task)
    lines = [f"{name} ({getattr(coro, '__qualname__', '?')}):"]
    frames = _frames(coro)
    if not frames:
        lines.append("    (no Python frame: not started or finished)")
    for frame in frames:
        code = frame.f_code
        lineno = frame.f_lineno
        lines.append(f'    File "{code.co_filename}", line {lineno}, in {code.co_name}')
        source = linecache.getline(code.co_filename, lineno).strip()
        if source:
            lines.append(f"        {source}")
    return "\n".join(lines)


def _timeout_report(
    loop: asyncio.AbstractEventLoop, task: asyncio.Future[Any], what: str, limit: float
) -> str:
    others = [t for t in asyncio.all_tasks(loop) if t is not task and not t.done()]
    parts = [
        f"{what} did not finish within {limit:g} s (aioloom timeout); it was cancelled.",
        "The test was waiting at:",
        describe_task(task),
    ]
    if others:
        parts.append(f"Other pending tasks ({len(others)}):")
        parts.extend(describe_task(other) for other in others[:_MAX_TASKS])
        if len(others) > _MAX_TASKS:
            parts.append(f"... and {len(others) - _MAX_TASKS} more")
    return "\n".join(parts)


def run_with_deadline(
    loop: asyncio.AbstractEventLoop,
    aw: Awaitable[_T],
    *,
    timeout: float | None,
    what: str,
) -> _T:
    """Run ``aw`` to completion on ``loop``, within ``timeout`` seconds if given.

    Args:
        loop: a loop that is not running.
        aw: the coroutine or awaitable (a test body, an async fixture step).
        timeout: the limit in seconds; None or 0 for none.
        what: how the report names the coroutine (``"test_x[pyloop]"``).

    Returns:
        What the coroutine returned.

    Raises:
        TestTimeoutError: the limit passed; the coroutine was cancelled.
        BaseException: whatever the coroutine raised.
    """
    if not timeout:
        return loop.run_until_complete(aw)
    task = asyncio.ensure_future(aw, loop=loop)
    loop.run_until_complete(asyncio.wait((task,), timeout=timeout))
    if task.done():
        return task.result()
    report = _timeout_report(loop, task, what, timeout)
    task.cancel()
    loop.run_until_complete(asyncio.wait((task,), timeout=_UNWIND_GRACE))
    if task.done() and not task.cancelled():
        task.exception()  # retrieved: its own error is secondary to the timeout
    raise TestTimeoutError(report)
