"""Reporting what a test left open: unclosed sessions, connectors, transports, sockets.

Objects that own a resource warn with :class:`ResourceWarning` when they are collected
unclosed (``ClientSession``, connectors, asyncio transports, sockets), and a coroutine that
was never awaited warns with :class:`RuntimeWarning`. Most of them are collected by the
garbage-collection pass at the end of the test's loop teardown, inside ``__del__``, where
a warning raised as an error (``-W error``) can only become an "exception ignored" note.

:func:`collect_leaks` records the warnings of that teardown instead, and
:meth:`Leaks.report` issues them again from the fixture's teardown, with their original
location and source object. So the warnings filters apply as usual: by default they are
listed in the warnings summary under the test that leaked; with ``-W error`` (or
``filterwarnings = error``) the first becomes an error of that test's teardown, its message
naming every leak.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

__all__ = ("Leaks", "collect_leaks")


class Leaks:
    """The warnings recorded by :func:`collect_leaks`."""

    __slots__ = ("caught",)

    def __init__(self) -> None:
        self.caught: list[warnings.WarningMessage] = []

    def report(self) -> None:
        """Issue every recorded warning again, through the current warnings filters.

        Raises:
            Warning: a filter turned a warning into an error; its message lists the others.
        """
        __tracebackhide__ = True  # pytest: the error is the test's, not this function's
        caught, self.caught = self.caught, []
        errors: list[Warning] = []
        for item in caught:
            try:
                warnings.warn_explicit(
                    item.message, item.category, item.filename, item.lineno, source=item.source
                )
            except Warning as exc:
                errors.append(exc)
        if not errors:
            return
        first = errors[0]
        if len(errors) > 1:
            others = "; ".join(str(exc) for exc in errors[1:])
            first.args = (f"{first} (and {len(errors) - 1} more: {others})",)
        raise first


@contextlib.contextmanager
def collect_leaks() -> Iterator[Leaks]:
    """Record every warning issued in the block, for :meth:`Leaks.report` afterwards.

    Inside the block no warning is raised as an error (not even under ``-W error``), so
    that ``__del__`` methods can issue theirs.
    """
    leaks = Leaks()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield leaks
        finally:
            leaks.caught.extend(caught)
