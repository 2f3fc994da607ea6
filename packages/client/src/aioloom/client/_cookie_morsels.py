"""One cookie as the client jar keeps it: its Morsel, whether it may be sent, when it expires.

* :class:`StoredCookie`: the jar's record of a cookie (domain, path, host-only flag,
  expiry time and creation order, RFC 6265 §5.3 steps 3, 6, 11.3);
* :func:`new_morsel` and :func:`set_attribute`: Morsels built without the checks of
  :class:`http.cookies.Morsel` that refuse what servers do send;
* :func:`is_safe`: the names and values the jar may put in a ``Cookie`` field;
* :func:`expiry`: the expiry time of a cookie from ``Max-Age`` and ``Expires``
  (RFC 6265 §5.2.1, §5.2.2, §5.3 step 3).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from http.cookies import Morsel

from aioloom.http._cookies import parse_cookie_date

__all__ = (
    "COOKIE_NAME_RE",
    "MAX_EXPIRY",
    "UNSAFE_VALUE_RE",
    "StoredCookie",
    "expiry",
    "is_safe",
    "new_morsel",
    "set_attribute",
)

# Cookie names as servers send them (the tolerant set aioloom.http._cookies also reads).
COOKIE_NAME_RE = re.compile(r"[!#$%&'()*+\-./0-9:<>?@A-Z\[\]^_`a-z{|}~]+")
# What must never reach the Cookie header: control characters other than HTAB end or break
# the field line (RFC 9110 §5.5), ";" starts another cookie-pair (RFC 6265 §4.2.1).
UNSAFE_VALUE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f;]")
# The latest expiry kept (the end of year 9999); later dates are clamped to it so that
# timestamps stay finite and representable as datetimes.
MAX_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()


@dataclass(slots=True)
class StoredCookie:
    """The jar's record of one cookie (RFC 6265 §5.3 step 11: the stored fields)."""

    morsel: Morsel[str]
    domain: str  # "" for a shared cookie
    path: str
    host_only: bool
    expires: float | None
    created: int  # a counter: the order cookies were first stored (RFC 6265 §5.4 step 2)
    outgoing: Morsel[str] | None = None  # the bare name/value Morsel filter_cookies hands out


def new_morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    """A Morsel holding ``name`` and its value, without Morsel's own name check."""
    morsel: Morsel[str] = Morsel()
    # __setstate__ skips Morsel.set's key check, which refuses names servers do send
    # (e.g. "a[b]"); names are checked against COOKIE_NAME_RE instead.
    morsel.__setstate__(  # type: ignore[attr-defined]
        {"key": name, "value": value, "coded_value": coded_value}
    )
    return morsel


def set_attribute(morsel: Morsel[str], name: str, value: str | bool) -> None:
    """Set a Morsel attribute, even one this Python's Morsel does not know."""
    # dict.__setitem__: Morsel refuses keys it does not know ("partitioned" before 3.14).
    dict.__setitem__(morsel, name, value)


def is_safe(name: str, coded_value: str) -> bool:
    """Whether a cookie-pair of ``name`` and ``coded_value`` may go into a Cookie field."""
    return (
        COOKIE_NAME_RE.fullmatch(name) is not None and UNSAFE_VALUE_RE.search(coded_value) is None
    )


def expiry(morsel: Morsel[str], now: float) -> float | None:
    """The expiry time of a cookie (RFC 6265 §5.3 step 3), or None for a session cookie.

    An invalid ``Max-Age`` or unparsable ``Expires`` is cleared on the Morsel, as the
    attribute is ignored (RFC 6265 §5.2.1, §5.2.2).

    Args:
        morsel: the cookie; ``expires`` may be the server's text, a ``datetime`` or a
            number of seconds from now (Morsel semantics).
        now: the current time, as ``time.time()``.

    Returns:
        A timestamp no later than :data:`MAX_EXPIRY` (``-inf`` for ``Max-Age<=0``), or None.
    """
    max_age = morsel.get("max-age")
    if max_age not in (None, "") and not isinstance(max_age, bool):
        try:
            delta = int(str(max_age))
        except ValueError:
            morsel["max-age"] = ""  # RFC 6265 §5.2.2: an invalid Max-Age is ignored
        else:
            # §5.2.2: delta <= 0 means "the earliest representable time": expired.
            # The delta is capped before the addition: a Max-Age of hundreds of digits would
            # otherwise overflow the float conversion (a hostile server's crash).
            return min(now + min(delta, MAX_EXPIRY), MAX_EXPIRY) if delta > 0 else -math.inf
    # §5.3 step 3: Max-Age wins; only without one does Expires count.
    expires: object = morsel.get("expires")
    if isinstance(expires, str) and expires:
        when = parse_cookie_date(expires)
        if when is None:
            morsel["expires"] = ""  # RFC 6265 §5.2.1: an unparsable date is ignored
            return None
        return min(when.timestamp(), MAX_EXPIRY)
    if isinstance(expires, datetime):
        aware = expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
        return min(aware.timestamp(), MAX_EXPIRY)
    if isinstance(expires, (int, float)) and not isinstance(expires, bool):
        # Morsel semantics: seconds from now. NaN is no time: ignored, as an unparsable
        # date is; a NaN deadline would also never expire at the top of the jar's heap.
        if isinstance(expires, float) and math.isnan(expires):
            morsel["expires"] = ""
            return None
        # Capped before the addition, like Max-Age: a huge int would overflow the float.
        seconds = max(min(expires, MAX_EXPIRY), -MAX_EXPIRY)
        return min(now + seconds, MAX_EXPIRY)
    return None
