"""Type aliases shared by the aioloom.web modules (aiohttp's ``typedefs`` for the server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr
from yarl import URL

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._response import StreamResponse

__all__ = (
    "Handler",
    "JSONDecoder",
    "JSONEncoder",
    "LooseHeaders",
    "StrOrURL",
)

LooseHeaders = (
    Mapping[str, str]
    | Mapping[istr, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | MultiDict[str]
    | MultiDictProxy[str]
    | Iterable[tuple[str | istr, str]]
)
"""Anything a headers multidict can be built from."""

StrOrURL = str | URL

JSONEncoder = Callable[[Any], str]
JSONDecoder = Callable[[str], Any]

Handler = Callable[["BaseRequest"], Awaitable["StreamResponse"]]
"""A request handler: ``async def handler(request) -> StreamResponse``."""
