"""Request headers parsed on first use: cookies, ``Forwarded``, ``Range``, preconditions.

:class:`ParsedHeadersMixin` gives :class:`~aioloom.web.BaseRequest` the properties that
parse a header into a value: each is a :class:`~aioloom.web._reify.reify`, computed on
the first read and then a plain instance attribute, so a handler pays only for the
headers it looks at. Malformed conditional dates read as None, as in aiohttp.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from multidict import CIMultiDictProxy

from aioloom.http import hdrs
from aioloom.http._cookies import parse_cookie_header
from aioloom.http._dates import parse_http_date
from aioloom.http._etag import ETag

from ._conditional import parse_etag_list, parse_range
from ._forwarded import parse_forwarded
from ._reify import reify

__all__ = ("ParsedHeadersMixin",)


class ParsedHeadersMixin:
    """Header values computed from ``_headers`` on first use (needs an instance ``__dict__``)."""

    _headers: CIMultiDictProxy[str]

    @reify
    def forwarded(self) -> tuple[Mapping[str, str], ...]:
        """The parsed ``Forwarded`` headers (RFC 7239), one mapping per proxy."""
        return parse_forwarded(self._headers.getall(hdrs.FORWARDED, ()))

    @reify
    def cookies(self) -> Mapping[str, str]:
        """The cookies sent by the client (read-only; RFC 6265 §5.4)."""
        return MappingProxyType(parse_cookie_header(self._headers.get(hdrs.COOKIE, "")))

    @reify
    def http_range(self) -> slice:
        """The ``Range`` header as a slice (see :func:`._conditional.parse_range`).

        Raises:
            ValueError: the Range value is malformed.
        """
        return parse_range(self._headers.get(hdrs.RANGE))

    @reify
    def if_modified_since(self) -> datetime | None:
        """If-Modified-Since as an aware datetime, or None (absent or invalid)."""
        return parse_http_date(self._headers.get(hdrs.IF_MODIFIED_SINCE))

    @reify
    def if_unmodified_since(self) -> datetime | None:
        """If-Unmodified-Since as an aware datetime, or None (absent or invalid)."""
        return parse_http_date(self._headers.get(hdrs.IF_UNMODIFIED_SINCE))

    @reify
    def if_match(self) -> tuple[ETag, ...] | None:
        """The entity tags of If-Match, or None."""
        return parse_etag_list(self._headers.get(hdrs.IF_MATCH))

    @reify
    def if_none_match(self) -> tuple[ETag, ...] | None:
        """The entity tags of If-None-Match, or None."""
        return parse_etag_list(self._headers.get(hdrs.IF_NONE_MATCH))

    @reify
    def if_range(self) -> datetime | None:
        """If-Range as an aware datetime, or None (absent, invalid or an entity tag)."""
        return parse_http_date(self._headers.get(hdrs.IF_RANGE))
