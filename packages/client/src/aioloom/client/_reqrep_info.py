"""Small immutable records shared by requests, responses, connections and errors.

:class:`RequestInfo` describes a sent request (it travels with responses and errors);
:class:`ConnectionKey` is what the connection pool groups connections by.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, NamedTuple

from multidict import CIMultiDictProxy
from yarl import URL

from aioloom.http._auth import BasicAuth

if TYPE_CHECKING:
    from ._fingerprint import Fingerprint

__all__ = ("ConnectionKey", "RequestInfo")


class _RequestInfoFields(NamedTuple):
    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class RequestInfo(_RequestInfoFields):
    """What was sent: ``(url, method, headers, real_url)``.

    Args:
        url: the request URL without its fragment.
        method: the request method.
        headers: the request headers as sent.
        real_url: the URL as given, fragment included (defaults to ``url``).
    """

    __slots__ = ()

    def __new__(
        cls,
        url: URL,
        method: str,
        headers: CIMultiDictProxy[str],
        real_url: URL | None = None,
    ) -> RequestInfo:
        return tuple.__new__(cls, (url, method, headers, url if real_url is None else real_url))


class ConnectionKey(NamedTuple):
    """The identity of a pooled connection: requests with equal keys share connections.

    Attributes:
        host: the origin's host (not the proxy's).
        port: the origin's port.
        is_ssl: True for https.
        ssl: the request's ``ssl`` setting (True, False, an SSLContext or a Fingerprint).
        proxy: the proxy URL, or None.
        proxy_auth: the proxy credentials, or None.
        proxy_headers_hash: a hash of the proxy headers, or None without them.
    """

    host: str
    port: int | None
    is_ssl: bool
    ssl: ssl.SSLContext | bool | Fingerprint
    proxy: URL | None
    proxy_auth: BasicAuth | None
    proxy_headers_hash: int | None
