"""Client cookie storage: aiohttp's ``AbstractCookieJar``, ``CookieJar`` and ``DummyCookieJar``.

:class:`CookieJar` follows the user-agent side of RFC 6265:

* storing (§5.3): host-only cookies for responses without ``Domain``; a ``Domain`` that
  does not domain-match the response host is refused (no public-suffix list is used);
  cookies from IP-address hosts only with ``unsafe=True``; the default-path of §5.1.4;
  ``Max-Age`` wins over ``Expires`` (§5.3 step 3); a date in the past or ``Max-Age<=0``
  deletes the stored cookie; a replaced cookie keeps its creation time (§5.3 step 11.3);
  ``Secure``, ``HttpOnly``, ``SameSite`` and ``Partitioned`` are kept on the Morsel.
  Cookies given without a response URL (``ClientSession(cookies=...)``) are *shared*:
  sent to every host, as in aiohttp.
* selecting (§5.4): domain-match (host-only cookies only to their exact host),
  path-match (§5.1.4), ``Secure`` cookies only over ``https``/``wss`` or to an origin in
  ``treat_as_secure_origin``; expired cookies are dropped first. Longer paths come first,
  then more specific domains, then older cookies (§5.4 step 2); a ``BaseCookie`` holds one
  cookie per name, so for a repeated name the first in that order is sent.

Values are sent back exactly as the server sent them (the Morsel's ``coded_value``).
``quote_cookie`` decides how plain ``str`` values given to :meth:`CookieJar.update_cookies`
are written: quoted like :class:`http.cookies.SimpleCookie` (``True``) or as they are.

Persistence: :meth:`CookieJar.save` / :meth:`CookieJar.load` use JSON, in the document shape
aiohttp 3.14 writes, and never pickle (``aioloom.client._cookie_file``).
:meth:`CookieJar.load` validates the whole document before it replaces the jar's content
and raises ``ValueError`` for anything that is not such a document.

The matching rules live in ``aioloom.client._cookie_rules`` (§5.1.3, §5.1.4, §5.2.3), a
stored cookie and its expiry time in ``aioloom.client._cookie_morsels`` (§5.2.1, §5.2.2,
§5.3 step 3); this module keeps the jars: what is stored, replaced, expired and selected.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
import warnings
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from types import MappingProxyType
from typing import Any, TypeAlias

from yarl import URL

from aioloom.http._cookies import parse_set_cookie_headers

from ._cookie_file import PathLike, read_cookie_file, write_cookie_file
from ._cookie_morsels import (
    COOKIE_NAME_RE,
    UNSAFE_VALUE_RE,
    StoredCookie,
    expiry,
    is_safe,
    new_morsel,
)
from ._cookie_rules import default_path, domain_attribute, domain_match, is_ip_host, path_match

__all__ = (
    "AbstractCookieJar",
    "ClearCookiePredicate",
    "CookieJar",
    "DummyCookieJar",
    "LooseCookies",
)

client_logger = logging.getLogger("aioloom.client")

ClearCookiePredicate: TypeAlias = Callable[[Morsel[str]], bool]
_CookieValue: TypeAlias = str | BaseCookie[str] | Morsel[Any]
LooseCookies: TypeAlias = (
    Mapping[str, _CookieValue] | Iterable[tuple[str, _CookieValue]] | BaseCookie[str]
)
StrOrURL: TypeAlias = str | URL

_SIMPLE_COOKIE: SimpleCookie = SimpleCookie()
_EMPTY_URL = URL()
# Rebuild the expiry heap once stale entries (replaced cookies) outnumber live ones by this.
_HEAP_SLACK = 64


class AbstractCookieJar(Sized, Iterable[Morsel[str]]):
    """The cookie-jar interface a ``ClientSession`` uses (``aiohttp.abc.AbstractCookieJar``)."""

    __slots__ = ()

    @property
    @abstractmethod
    def quote_cookie(self) -> bool:
        """Whether plain cookie values are quoted like ``SimpleCookie`` does."""

    @abstractmethod
    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or those for which ``predicate(morsel)`` is true."""

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of all its subdomains."""

    @abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies received from ``response_url`` (or shared ones without a URL)."""

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` field values (RFC 6265 §5.2).

        Args:
            headers: the field values, one per ``Set-Cookie`` line.
            response_url: the URL of the response that carried them.
        """
        if headers:
            cookies = parse_set_cookie_headers(headers)
            if cookies:
                self.update_cookies(cookies, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Return the cookies to send with a request to ``request_url``."""


def _secure_origins(origins: StrOrURL | Iterable[StrOrURL] | None) -> frozenset[URL]:
    if origins is None:
        return frozenset()
    if isinstance(origins, (str, URL)):
        origins = (origins,)
    return frozenset(
        URL(item).origin() if isinstance(item, str) else item.origin() for item in origins
    )


class CookieJar(AbstractCookieJar):
    """Cookie storage following RFC 6265 (see the module documentation).

    Args:
        unsafe: accept and send cookies for IP-address hosts (RFC 6265 leaves them out of
            domain matching; aiohttp refuses them unless asked).
        quote_cookie: quote plain ``str`` values given to :meth:`update_cookies` the way
            :class:`http.cookies.SimpleCookie` does (values from servers are always sent
            back as received).
        treat_as_secure_origin: an origin (``str`` or URL) or several whose plain ``http``
            requests still get ``Secure`` cookies (e.g. a local test server).

    Raises:
        ValueError: an entry of ``treat_as_secure_origin`` is not an absolute URL.
    """

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: StrOrURL | Iterable[StrOrURL] | None = None,
    ) -> None:
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        self._treat_as_secure_origin = _secure_origins(treat_as_secure_origin)
        # domain ("" = shared) -> {(path, name): cookie}; dicts keep storage order.
        self._cookies: dict[str, dict[tuple[str, str], StoredCookie]] = {}
        self._size = 0
        self._counter = itertools.count()
        # (expiry, domain, path, name); entries of replaced cookies are skipped lazily.
        self._expiry_heap: list[tuple[float, str, str, str]] = []

    @property
    def unsafe(self) -> bool:
        """Whether cookies of IP-address hosts are accepted."""
        return self._unsafe

    @property
    def quote_cookie(self) -> bool:
        """Whether plain ``str`` values are quoted like ``SimpleCookie`` does."""
        return self._quote_cookie

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """A snapshot of the stored cookies keyed by ``(domain, path)``."""
        self._expire(time.time())
        view: dict[tuple[str, str], SimpleCookie] = {}
        for domain, bucket in self._cookies.items():
            for (path, name), cookie in bucket.items():
                dict.__setitem__(
                    view.setdefault((domain, path), SimpleCookie()), name, cookie.morsel
                )
        return MappingProxyType(view)

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str]]:
        """The ``(domain, name)`` pairs of the host-only cookies."""
        return frozenset(
            (cookie.domain, cookie.morsel.key)
            for bucket in self._cookies.values()
            for cookie in bucket.values()
            if cookie.host_only
        )

    def __len__(self) -> int:
        self._expire(time.time())
        return self._size

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._expire(time.time())
        cookies = [cookie.morsel for bucket in self._cookies.values() for cookie in bucket.values()]
        return iter(cookies)

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or the expired ones and those matching ``predicate``.

        Args:
            predicate: called with each stored Morsel; ``True`` removes the cookie.
        """
        if predicate is None:
            self._cookies.clear()
            self._expiry_heap.clear()
            self._size = 0
            return
        now = time.time()
        doomed = [
            (domain, key)
            for domain, bucket in self._cookies.items()
            for key, cookie in bucket.items()
            if (cookie.expires is not None and cookie.expires <= now) or predicate(cookie.morsel)
        ]
        for domain, key in doomed:
            self._remove(domain, key)

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies whose domain is ``domain`` or one of its subdomains.

        Args:
            domain: e.g. ``"example.com"`` (also removes ``www.example.com``'s cookies).
        """
        domain = domain.lower().removeprefix(".")
        self.clear(lambda morsel: domain_match(morsel["domain"], domain))

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies as RFC 6265 §5.3 says a user agent does.

        Args:
            cookies: ``{name: value}``, ``(name, value)`` pairs or a ``BaseCookie``; values
                are ``str`` or Morsels (a Morsel's attributes are honoured; it is copied,
                never modified).
            response_url: the URL of the response that set them; without a host the
                cookies are shared (sent to every host) unless they carry a ``Domain``.

        Raises:
            http.cookies.CookieError: a plain ``str`` value's name is not a cookie name, or
                the value (with ``quote_cookie=False``) holds a control character or ``;``.
                An unsafe Morsel is skipped instead (and logged at debug level).
        """
        host = response_url.raw_host
        if host is not None:
            host = host.lower()
            if not self._unsafe and is_ip_host(host):
                return  # aiohttp: no cookies from IP addresses unless unsafe=True
        now = time.time()
        request_path = response_url.raw_path
        for morsel in self._morsels(cookies):
            if not is_safe(morsel.key, morsel.coded_value):
                client_logger.debug("Ignoring cookie %r: unsafe name or value", morsel.key)
                continue
            self._store(morsel, host, request_path, expiry(morsel, now), now)
        self._expire(now)

    def _morsels(self, cookies: LooseCookies) -> Iterator[Morsel[str]]:
        items: Iterable[tuple[str, _CookieValue]]
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, Morsel):
                yield value.copy()
            elif isinstance(value, BaseCookie):
                yield from (morsel.copy() for morsel in value.values())
            else:
                yield self._plain_morsel(name, value)

    def _plain_morsel(self, name: str, value: object) -> Morsel[str]:
        if COOKIE_NAME_RE.fullmatch(name) is None:
            raise CookieError(f"Illegal key {name!r}")
        text = str(value)
        coded = _SIMPLE_COOKIE.value_encode(text)[1] if self._quote_cookie else text
        if UNSAFE_VALUE_RE.search(coded) is not None:
            raise CookieError(f"Illegal value for cookie {name!r}: control character or ';'")
        return new_morsel(name, text, coded)

    def _store(
        self,
        morsel: Morsel[str],
        host: str | None,
        request_path: str,
        expires: float | None,
        now: float,
    ) -> None:
        attribute = domain_attribute(morsel.get("domain"))  # RFC 6265 §5.2.3
        if attribute is None:
            return
        if not attribute:
            # §5.3 step 6: no Domain attribute -> host-only cookie for the response host.
            domain, host_only = (host, True) if host is not None else ("", False)
        elif host is not None and not domain_match(host, attribute):
            client_logger.debug("Ignoring cookie %r: %r is not %r", morsel.key, host, attribute)
            return  # §5.3 step 6: the domain does not cover the host
        else:
            domain, host_only = attribute, False
        path = str(morsel.get("path") or "")
        if not path.startswith("/"):
            path = default_path(request_path)  # §5.2.4, §5.1.4
        key = (path, morsel.key)
        bucket = self._cookies.get(domain)
        old = bucket.get(key) if bucket is not None else None
        if expires is not None and expires <= now:
            if old is not None:  # §5.3 step 11-12: an expired cookie replaces and goes
                self._remove(domain, key)
            return
        morsel["domain"] = domain
        morsel["path"] = path
        if bucket is None:
            bucket = self._cookies[domain] = {}
        if old is None:
            self._size += 1
        created = old.created if old is not None else next(self._counter)  # §5.3 step 11.3
        bucket[key] = StoredCookie(morsel, domain, path, host_only, expires, created)
        if expires is not None:
            heapq.heappush(self._expiry_heap, (expires, domain, path, morsel.key))

    def _remove(self, domain: str, key: tuple[str, str]) -> None:
        bucket = self._cookies[domain]
        del bucket[key]
        self._size -= 1
        if not bucket:
            del self._cookies[domain]

    def _expire(self, now: float) -> None:
        heap = self._expiry_heap
        if len(heap) > 2 * self._size + _HEAP_SLACK:
            heap[:] = [entry for entry in heap if self._is_live(entry)]
            heapq.heapify(heap)
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._is_live(entry):
                self._remove(entry[1], (entry[2], entry[3]))

    def _is_live(self, entry: tuple[float, str, str, str]) -> bool:
        bucket = self._cookies.get(entry[1])
        cookie = bucket.get((entry[2], entry[3])) if bucket is not None else None
        return cookie is not None and cookie.expires == entry[0]

    def _is_secure(self, url: URL) -> bool:
        if url.scheme in ("https", "wss"):
            return True
        if not self._treat_as_secure_origin:
            return False
        try:
            return url.origin() in self._treat_as_secure_origin
        except ValueError:  # a relative URL has no origin
            return False

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Select the cookies to send to ``request_url`` (RFC 6265 §5.4).

        Args:
            request_url: the request URL (a ``str`` is accepted with a
                ``DeprecationWarning``, as in aiohttp).

        Returns:
            Bare name/value Morsels, longest path first, one per name.
        """
        if not isinstance(request_url, URL):
            warnings.warn(
                f"filter_cookies expects yarl.URL instances only, got {type(request_url)}",
                DeprecationWarning,
                stacklevel=2,
            )
            request_url = URL(request_url)
        filtered: BaseCookie[str] = BaseCookie()
        if not self._cookies:
            return filtered
        self._expire(time.time())
        host = (request_url.raw_host or "").lower()
        path = request_url.raw_path or "/"
        secure = self._is_secure(request_url)
        found: list[StoredCookie] = []
        self._select(self._cookies.get(""), host, path, secure, found)
        if host and not is_ip_host(host):
            candidate = host
            while True:  # the host and every parent domain: all the domains matching it
                self._select(self._cookies.get(candidate), host, path, secure, found)
                dot = candidate.find(".")
                if dot < 0:
                    break
                candidate = candidate[dot + 1 :]
        elif host and self._unsafe:
            self._select(self._cookies.get(host), host, path, secure, found)
        # RFC 6265 §5.4 step 2: longer paths first, then (our tie-break) the more specific
        # domain, then the earlier creation time.
        found.sort(key=lambda cookie: (-len(cookie.path), -len(cookie.domain), cookie.created))
        for cookie in found:
            name = cookie.morsel.key
            if name not in filtered:
                dict.__setitem__(filtered, name, self._outgoing(cookie))
        return filtered

    @staticmethod
    def _select(
        bucket: dict[tuple[str, str], StoredCookie] | None,
        host: str,
        path: str,
        secure: bool,
        found: list[StoredCookie],
    ) -> None:
        if not bucket:
            return
        for cookie in bucket.values():
            if cookie.host_only and cookie.domain != host:
                continue  # §5.4 step 1: a host-only cookie goes to its host only
            if not path_match(path, cookie.path):
                continue
            if cookie.morsel["secure"] and not secure:
                continue  # §5.4 step 1: Secure cookies only over secure channels
            found.append(cookie)

    @staticmethod
    def _outgoing(cookie: StoredCookie) -> Morsel[str]:
        if cookie.outgoing is None:
            morsel = cookie.morsel
            cookie.outgoing = new_morsel(morsel.key, morsel.value, morsel.coded_value)
        return cookie.outgoing

    def save(self, file_path: PathLike) -> None:
        """Write the cookies to ``file_path`` as JSON (created with mode ``0o600``).

        Args:
            file_path: where to write; an existing file is replaced.
        """
        self._expire(time.time())
        write_cookie_file(
            file_path, (cookie for bucket in self._cookies.values() for cookie in bucket.values())
        )

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's cookies with those saved in ``file_path`` by :meth:`save`.

        The file is parsed as JSON only and validated as a whole before the jar changes;
        each cookie then goes through the same rules as :meth:`update_cookies` (e.g. IP
        hosts need ``unsafe=True``), and expired ones are dropped.

        Args:
            file_path: the file to read.

        Raises:
            OSError: the file cannot be read.
            ValueError: the file is not UTF-8 JSON of the shape :meth:`save` writes (e.g.
                a pickle, a list, a cookie without a value, an unsafe name or value).
        """
        records = read_cookie_file(file_path)
        self.clear()
        now = time.time()
        for domain, morsel, host_only, expires in records:
            if domain and not self._unsafe and is_ip_host(domain):
                continue
            if host_only:
                morsel["domain"] = ""
            self._store(morsel, domain or None, "/", expires, now)
        self._expire(now)


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: ``ClientSession(cookie_jar=DummyCookieJar())``."""

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    @property
    def unsafe(self) -> bool:
        """Always ``False``."""
        return False

    @property
    def quote_cookie(self) -> bool:
        """Always ``True``."""
        return True

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """Always empty."""
        return MappingProxyType({})

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str]]:
        """Always empty."""
        return frozenset()

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Do nothing."""

    def clear_domain(self, domain: str) -> None:
        """Do nothing."""

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Do nothing: the cookies are dropped."""

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Return an empty cookie set."""
        return SimpleCookie()
