"""Message heads produced by the parsers: aiohttp's RawRequestMessage and RawResponseMessage."""

from __future__ import annotations

from typing import NamedTuple

from multidict import CIMultiDictProxy
from yarl import URL

__all__ = (
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "RawHeaders",
    "RawRequestMessage",
    "RawResponseMessage",
)


class HttpVersion(NamedTuple):
    """An HTTP version as (major, minor); RFC 9112 §2.3."""

    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)

RawHeaders = tuple[tuple[bytes, bytes], ...]


class RawRequestMessage(NamedTuple):
    """A parsed request head."""

    method: str
    path: str
    version: HttpVersion
    headers: CIMultiDictProxy[str]
    raw_headers: RawHeaders
    should_close: bool
    compression: str | None
    upgrade: bool
    chunked: bool
    url: URL


class RawResponseMessage(NamedTuple):
    """A parsed response head."""

    version: HttpVersion
    code: int
    reason: str
    headers: CIMultiDictProxy[str]
    raw_headers: RawHeaders
    should_close: bool
    compression: str | None
    upgrade: bool
    chunked: bool
