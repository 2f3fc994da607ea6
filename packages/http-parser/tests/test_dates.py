"""HTTP-date (RFC 9110 §5.6.7): format_http_date and parse_http_date."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.http._dates import format_http_date, parse_http_date

UTC = timezone.utc
# The RFC 9110 §5.6.7 example, in its three forms.
EXAMPLE = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
EXAMPLE_TS = 784111777
FIRST_SECOND = -62135596800  # 0001-01-01T00:00:00Z
LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z

# --- format_http_date ------------------------------------------------------------------------


def test_format_timestamp() -> None:
    assert format_http_date(EXAMPLE_TS) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_format_drops_fraction_downwards() -> None:
    assert format_http_date(EXAMPLE_TS + 0.999) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_http_date(-0.5) == "Wed, 31 Dec 1969 23:59:59 GMT"


def test_format_datetime() -> None:
    assert format_http_date(EXAMPLE) == "Sun, 06 Nov 1994 08:49:37 GMT"
    # Naive datetimes are UTC, aware ones are converted.
    assert format_http_date(EXAMPLE.replace(tzinfo=None)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    paris = EXAMPLE.astimezone(timezone(timedelta(hours=2)))
    assert format_http_date(paris) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_format_pads_small_years_and_days() -> None:
    assert format_http_date(datetime(33, 1, 2, 3, 4, 5)) == "Sun, 02 Jan 0033 03:04:05 GMT"
    assert format_http_date(FIRST_SECOND) == "Mon, 01 Jan 0001 00:00:00 GMT"
    assert format_http_date(LAST_SECOND) == "Fri, 31 Dec 9999 23:59:59 GMT"


def test_format_now() -> None:
    before = int(time.time())
    text = format_http_date()
    after = int(time.time())
    parsed = parse_http_date(text)
    assert parsed is not None
    assert before <= parsed.timestamp() <= after


def test_format_caches_the_second() -> None:
    first = format_http_date(EXAMPLE_TS)
    assert format_http_date(EXAMPLE_TS + 0.5) is first
    assert format_http_date(EXAMPLE_TS + 1) == "Sun, 06 Nov 1994 08:49:38 GMT"
    assert format_http_date(EXAMPLE_TS) == first  # recomputed after the cache moved on


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), 1e20, -1e20, LAST_SECOND + 1]
)
def test_format_out_of_range(value: float) -> None:
    with pytest.raises(ValueError):
        format_http_date(value)


# --- parse_http_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850 format
        "Sun Nov  6 08:49:37 1994",  # ANSI C's asctime() format
        "Sun Nov 06 08:49:37 1994",
        "sun, 06 nov 1994 08:49:37 gmt",  # names in any case
        "SUNDAY, 06-NOV-94 08:49:37 GMT",
        "  Sun, 06 Nov 1994 08:49:37 GMT\t",  # surrounding OWS
        "Mon, 06 Nov 1994 08:49:37 GMT",  # day-name not checked against the date
    ],
)
def test_parse_forms(value: str) -> None:
    assert parse_http_date(value) == EXAMPLE


def test_parse_result_is_aware_utc() -> None:
    parsed = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")
    assert parsed is not None
    assert parsed.tzinfo is UTC


def test_parse_leap_second() -> None:
    assert parse_http_date("Wed, 31 Dec 2016 23:59:60 GMT") == datetime(
        2016, 12, 31, 23, 59, 59, tzinfo=UTC
    )


def test_parse_rfc850_two_digit_year() -> None:
    # RFC 9110 §5.6.7: more than 50 years in the future means the previous century.
    this_year = datetime.now(UTC).year
    for two_digits in range(100):
        parsed = parse_http_date(f"Sunday, 06-Nov-{two_digits:02d} 08:49:37 GMT")
        assert parsed is not None
        assert parsed.year % 100 == two_digits
        assert this_year - 50 <= parsed.year <= this_year + 50


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "Sun, 31 Nov 1994 08:49:37 GMT",  # no 31 November
        "Sun, 29 Feb 2023 08:49:37 GMT",  # not a leap year
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 6 Nov 1994 08:49:37 GMT",  # day is 2DIGIT
        "Sun, 06 Nov 94 08:49:37 GMT",  # year is 4DIGIT
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 November 1994 08:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 06\tNov 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT\n",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, ０６ Nov 1994 08:49:37 GMT",  # non-ASCII digits
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov   6 08:49:37 1994",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
    ],
)
def test_parse_invalid(value: str | None) -> None:
    assert parse_http_date(value) is None


@given(st.integers(min_value=FIRST_SECOND, max_value=LAST_SECOND))
def test_round_trip(timestamp: int) -> None:
    text = format_http_date(timestamp)
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=timestamp)
    assert parse_http_date(text) == expected


@given(st.integers(min_value=0, max_value=LAST_SECOND))
def test_format_agrees_with_email_utils(timestamp: int) -> None:
    # An independent parser reads our output as the same instant.
    parsed = parsedate_to_datetime(format_http_date(timestamp))
    assert parsed == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=timestamp)


@given(st.text(max_size=40))
def test_parse_never_raises(value: str) -> None:
    result = parse_http_date(value)
    assert result is None or result.tzinfo is UTC
