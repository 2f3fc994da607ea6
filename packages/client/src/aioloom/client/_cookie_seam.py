"""What the session needs from a cookie jar, and the jar it uses when none is given.

The session talks to its ``cookie_jar`` through two methods of aiohttp's
``AbstractCookieJar``: ``filter_cookies(url)`` before each hop (the cookies to send to that
URL) and ``update_cookies(cookies, response_url)`` after each response with
``Set-Cookie`` (and once with the session's ``cookies=``, without a URL). Any object with
those methods works (:class:`CookieJarLike`).

Without an explicit jar the session uses aiohttp's default, ``CookieJar()``, from
``aioloom.client._cookiejar``. When that module is not part of the installation it falls
back to :class:`SharedCookieJar`, which keeps the cookies given without a response URL
(the session's ``cookies=``, sent to every host, as ``CookieJar`` does with them) and does
not store cookies set by responses.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import Any, Protocol, TypeAlias

from yarl import URL

__all__ = (
    "CookieJarLike",
    "LooseCookies",
    "SharedCookieJar",
    "default_cookie_jar",
    "merge_cookies",
)

_CookieValue: TypeAlias = "str | BaseCookie[str] | Morsel[Any]"
LooseCookies: TypeAlias = (
    "Mapping[str, _CookieValue] | Iterable[tuple[str, _CookieValue]] | BaseCookie[str]"
)

_EMPTY_URL = URL()


class CookieJarLike(Protocol):
    """The part of aiohttp's ``AbstractCookieJar`` the session calls."""

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]: ...

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None: ...


def _items(cookies: LooseCookies) -> Iterator[tuple[str, _CookieValue]]:
    if isinstance(cookies, Mapping):
        yield from cookies.items()
    else:
        yield from cookies


def merge_cookies(target: BaseCookie[str], cookies: LooseCookies) -> None:
    """Add ``cookies`` (a mapping, pairs, or a cookie object) to ``target``.

    Morsels keep their ``coded_value`` (it is sent back exactly as received); a value
    that is itself a cookie object contributes its morsels.
    """
    for name, value in _items(cookies):
        if isinstance(value, Morsel):
            morsel: Morsel[str] = Morsel()
            morsel.set(value.key, value.value, value.coded_value)
            dict.__setitem__(target, name, morsel)
        elif isinstance(value, BaseCookie):
            for key, inner in value.items():
                morsel = Morsel()
                morsel.set(inner.key, inner.value, inner.coded_value)
                dict.__setitem__(target, key, morsel)
        else:
            target[name] = str(value)


class SharedCookieJar:
    """A jar that keeps only the cookies given to it without a response URL.

    Those are sent with every request, to every host; cookies set by responses are not
    stored. It is the session's fallback when the full ``CookieJar`` is not installed.
    """

    __slots__ = ("_cookies", "quote_cookie")

    def __init__(self, *, quote_cookie: bool = True) -> None:
        self._cookies = SimpleCookie()
        self.quote_cookie = quote_cookie

    def __len__(self) -> int:
        return len(self._cookies)

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(self._cookies.values())

    def clear(self, predicate: Any = None) -> None:
        """Forget the cookies (all, or those for which ``predicate(morsel)`` is true)."""
        if predicate is None:
            self._cookies.clear()
            return
        for key in [k for k, m in self._cookies.items() if predicate(m)]:
            del self._cookies[key]

    def clear_domain(self, domain: str) -> None:
        """Nothing to do: the cookies kept here belong to no domain."""

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Keep ``cookies`` when given without a response URL; ignore response cookies."""
        if response_url.host is None:
            merge_cookies(self._cookies, cookies)

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """The kept cookies (the same for every URL)."""
        result = SimpleCookie()
        merge_cookies(result, self._cookies)
        return result


def default_cookie_jar() -> CookieJarLike:
    """``CookieJar()`` when the full jar is installed, else a :class:`SharedCookieJar`."""
    try:
        module = importlib.import_module("aioloom.client._cookiejar")
    except ModuleNotFoundError:
        return SharedCookieJar()
    jar: CookieJarLike = module.CookieJar()
    return jar
