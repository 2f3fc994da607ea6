"""A session's request URLs: joined with its ``base_url``, checked, and cached.

A request URL must be absolute, with a host, and http(s) or ws(s); a relative one is
joined with the session's ``base_url`` first (RFC 3986 §5.2). A client asks for the same
few URLs again and again, so those given as ``str`` to a session without ``base_url`` are
kept once checked: a bounded cache that starts over when full.
"""

from __future__ import annotations

from typing import Final

from yarl import URL

from ._exceptions import InvalidUrlClientError, NonHttpUrlClientError

__all__ = ("build_url", "check_base_url", "checked_url")

_HTTP_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
_CHECKED_MAX: Final = 256
# Request URLs given as str that passed checked_url, and their URL.
_CHECKED_STR_URLS: Final[dict[str, URL]] = {}


def check_base_url(base_url: str | URL | None) -> URL | None:
    """A session's ``base_url`` as a URL.

    Raises:
        ValueError: it is not absolute, or its path does not end with ``/``.
    """
    if base_url is None:
        return None
    url = base_url if isinstance(base_url, URL) else URL(base_url)
    if not url.absolute:
        raise ValueError(f"base_url must be an absolute URL, got {base_url!r}")
    if not url.path.endswith("/"):
        raise ValueError(f"base_url must have a trailing '/' in its path, got {base_url!r}")
    return url


def build_url(base_url: URL | None, str_or_url: str | URL) -> URL:
    """``str_or_url`` as a URL, joined with ``base_url`` when it is relative.

    Raises:
        InvalidUrlClientError: it cannot be parsed.
    """
    try:
        url = URL(str_or_url)
    except (ValueError, TypeError) as exc:
        raise InvalidUrlClientError(str_or_url) from exc
    if base_url is not None and not url.absolute:
        # RFC 3986 §5.2: "users" joins below the base path, "/users" replaces it.
        return base_url.join(url)
    return url


def checked_url(base_url: URL | None, str_or_url: str | URL) -> URL:
    """The URL of a request (see :func:`build_url`), checked.

    Raises:
        InvalidUrlClientError: it cannot be parsed, or it is not absolute or has no host.
        NonHttpUrlClientError: its scheme is not http, https, ws or wss.
    """
    key: str | None = None
    if isinstance(str_or_url, str) and base_url is None:
        key = str_or_url
        cached = _CHECKED_STR_URLS.get(key)
        if cached is not None:
            return cached
    url = build_url(base_url, str_or_url)
    if url.scheme and url.scheme not in _HTTP_SCHEMES:
        raise NonHttpUrlClientError(url)
    if not url.absolute or not url.raw_host:
        raise InvalidUrlClientError(url)
    if key is not None and type(key) is str:  # not a str subclass: it may compare oddly
        if len(_CHECKED_STR_URLS) >= _CHECKED_MAX:
            _CHECKED_STR_URLS.clear()  # start over: simple, and safe across threads
        _CHECKED_STR_URLS[key] = url
    return url
