"""aioloom.testing: the pytest plugin and test utilities for aioloom.

The plugin (:mod:`aioloom.testing.plugin`) is registered through the ``pytest11`` entry
point, so installing aioloom-testing is enough for ``async def`` tests to run.
"""

from __future__ import annotations

from ._loop import loop_context, setup_test_loop, teardown_test_loop

__all__ = ("loop_context", "setup_test_loop", "teardown_test_loop")
