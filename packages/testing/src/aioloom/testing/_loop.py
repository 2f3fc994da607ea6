"""Fresh event loops for tests: aiohttp's setup_test_loop / teardown_test_loop / loop_context."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

__all__ = ("loop_context", "setup_test_loop", "teardown_test_loop")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


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
        fast: skip the final garbage-collection pass that surfaces unclosed resources.
    """
    closed = loop.is_closed()
    if not closed:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    if not fast:
        import gc

        gc.collect()
    asyncio.set_event_loop(None)


@contextlib.contextmanager
def loop_context(
    loop_factory: LoopFactory = asyncio.new_event_loop, fast: bool = False
) -> Iterator[asyncio.AbstractEventLoop]:
    """A context manager giving a fresh event loop that is torn down on exit."""
    loop = setup_test_loop(loop_factory)
    try:
        yield loop
    finally:
        teardown_test_loop(loop, fast=fast)
