"""collect_leaks: warnings issued in teardown are reported again, through the filters."""

from __future__ import annotations

import warnings

import pytest

from aioloom.testing._leaks import collect_leaks


class Owner:
    def __del__(self) -> None:
        warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=1, source=self)


def test_warnings_inside_are_recorded_not_raised() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with collect_leaks() as leaks:
            warnings.warn("one", ResourceWarning, stacklevel=1)
            warnings.warn("two", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in leaks.caught] == ["one", "two"]


def test_report_issues_them_again_with_their_location() -> None:
    with collect_leaks() as leaks:
        warnings.warn("left open", ResourceWarning, stacklevel=1)
    with pytest.warns(ResourceWarning, match="left open") as caught:
        leaks.report()
    assert caught[0].filename == __file__
    leaks.report()  # reported once only: nothing is left


def test_under_error_filters_the_first_is_raised_naming_the_others() -> None:
    with collect_leaks() as leaks:
        Owner()
        Owner()
        warnings.warn("coroutine 'x' was never awaited", RuntimeWarning, stacklevel=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ResourceWarning, match=r"unclosed .*\(and 2 more: unclosed .*; coro"):
            leaks.report()


def test_ignored_categories_stay_ignored() -> None:
    with collect_leaks() as leaks:
        warnings.warn("quiet", ResourceWarning, stacklevel=1)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ResourceWarning)
        leaks.report()
    assert seen == []


def test_nothing_recorded_reports_nothing() -> None:
    with collect_leaks() as leaks:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        leaks.report()
