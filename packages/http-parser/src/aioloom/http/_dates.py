"""HTTP-date (RFC 9110 §5.6.7): format as IMF-fixdate, parse all three historic forms.

Formatting the current second is the hot path (every response carries ``Date``), so the
last formatted second is kept and reused. Parsing never raises: a value that is not an
HTTP-date gives ``None``, which callers treat as an absent or invalid header
(RFC 9110 §13.1.3: an invalid If-Modified-Since is ignored).
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import time
from datetime import datetime, timezone

__all__ = ("format_http_date", "parse_http_date")

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name.lower(): number for number, name in enumerate(_MONTH_NAMES, 1)}

# The last second formatted and its text, replaced as one tuple (no torn reads).
_last: tuple[int, str] = (-1, "")

_FLAGS = re.IGNORECASE | re.ASCII  # names in any case; \d is 0-9 only
_MONTH = "(" + "|".join(_MONTH_NAMES) + ")"
_TIME = r"(\d\d):(\d\d):(\d\d)"
# RFC 9110 §5.6.7: IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
#                  date1 = day SP month SP year   (2DIGIT, 3ALPHA, 4DIGIT)
_IMF_FIXDATE_RE = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) {_MONTH} (\d{{4}}) {_TIME} GMT", _FLAGS
)
# obs-date: rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT
#           date2 = day "-" month "-" 2DIGIT
_RFC850_RE = re.compile(
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    rf"(\d\d)-{_MONTH}-(\d\d) {_TIME} GMT",
    _FLAGS,
)
# obs-date: asctime-date = day-name SP date3 SP time-of-day SP year
#           date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
_ASCTIME_RE = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MONTH} ([ \d]\d) {_TIME} (\d{{4}})", _FLAGS
)


def _format_second(second: int) -> str:
    global _last
    last_second, text = _last
    if second == last_second:
        return text
    try:
        tm = time.gmtime(second)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp {second} out of range for an HTTP-date") from exc
    if not 1 <= tm.tm_year <= 9999:
        raise ValueError(f"year {tm.tm_year} cannot be written as an HTTP-date")
    text = (
        f"{_DAY_NAMES[tm.tm_wday]}, {tm.tm_mday:02d} {_MONTH_NAMES[tm.tm_mon - 1]} "
        f"{tm.tm_year:04d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} GMT"
    )
    _last = (second, text)
    return text


def format_http_date(value: float | datetime | None = None) -> str:
    """Format a point in time as an IMF-fixdate (RFC 9110 §5.6.7).

    Args:
        value: a POSIX timestamp, a :class:`~datetime.datetime` (a naive one is taken
            as UTC, as aiohttp does), or ``None`` for now. Fractions of a second are
            dropped (rounded down).

    Returns:
        e.g. ``"Sun, 06 Nov 1994 08:49:37 GMT"``.

    Raises:
        ValueError: the time is outside the years 0001-9999 or not a finite number.
    """
    if value is None:
        return _format_second(int(time.time()))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return _format_second(calendar.timegm(value.timetuple()))
    if not math.isfinite(value):
        raise ValueError(f"timestamp {value!r} is not a finite number")
    return _format_second(math.floor(value))


def _build(year: int, month: str, day: int, hour: str, minute: str, second: str) -> datetime:
    # RFC 9110 §5.6.7: second may be 60 (a leap second); datetime cannot hold it.
    sec = int(second)
    if sec > 60:
        raise ValueError(f"second {sec} out of range")
    return datetime(
        year,
        _MONTHS[month.lower()],
        day,
        int(hour),
        int(minute),
        min(sec, 59),
        tzinfo=timezone.utc,
    )


def _rfc850_year(two_digits: int) -> int:
    # RFC 9110 §5.6.7: a two-digit year that looks more than 50 years in the future is
    # the most recent past year with the same last two digits.
    this_year = time.gmtime().tm_year
    year = this_year - this_year % 100 + two_digits
    if year > this_year + 50:
        year -= 100
    return year


@functools.lru_cache(maxsize=128)
def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP-date in any of its three forms (RFC 9110 §5.6.7).

    Accepts IMF-fixdate, the obsolete RFC 850 form and ANSI C's asctime() form. Day and
    month names are matched without regard to case; the day-name is not checked
    against the date. Never raises.

    Args:
        value: the field value, e.g. ``"Sun, 06 Nov 1994 08:49:37 GMT"``, or ``None``.

    Returns:
        An aware UTC :class:`~datetime.datetime`, or ``None`` when ``value`` is absent or
        is not a valid HTTP-date (wrong form, or an impossible date or time).
    """
    if not value:
        return None
    text = value.strip(" \t")
    try:
        match = _IMF_FIXDATE_RE.fullmatch(text)
        if match is not None:
            day, month, year, hh, mm, ss = match.groups()
            return _build(int(year), month, int(day), hh, mm, ss)
        match = _RFC850_RE.fullmatch(text)
        if match is not None:
            day, month, year, hh, mm, ss = match.groups()
            return _build(_rfc850_year(int(year)), month, int(day), hh, mm, ss)
        match = _ASCTIME_RE.fullmatch(text)
        if match is not None:
            month, day, hh, mm, ss, year = match.groups()
            return _build(int(year), month, int(day), hh, mm, ss)
    except ValueError:  # day 31 of a 30-day month, hour 24, year 0000...
        return None
    return None
