"""The redirect policy: given a response and its request, what the next request is.

Pure functions, no I/O: the session asks :func:`next_hop` after each response and, when it
gets a :class:`RedirectHop`, builds the next request from it and :func:`hop_headers`.

The rules (RFC 9110 §15.4, with aiohttp 3.14's choices where the RFC leaves room):

* 303 See Other: the next request is a GET without content; a HEAD stays a HEAD
  (§15.4.4).
* 301 and 302: a POST becomes a GET without content, as every browser does (the RFC
  allows it, §15.4.2 and §15.4.3); other methods are repeated with their content.
* 307 and 308: the method and the content are repeated unchanged (§15.4.8, §15.4.9).
* A relative Location is resolved against the request URL (RFC 3986 §5).
* A Location with another scheme than http/https is refused
  (:class:`NonHttpUrlRedirectClientError`), one that is not a URL or has no host too
  (:class:`InvalidUrlRedirectClientError`).
* When the method changed to GET, the content's header fields go (§15.4: Content-Type,
  Content-Length, Content-Encoding ...). When the next URL has another origin
  (RFC 6454: scheme, host, port), credentials go: ``Authorization`` and ``Cookie`` (the
  cookie jar adds the cookies that belong to the new host).
* A redirect without Location is not followed: the response is returned as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from multidict import CIMultiDict, istr
from yarl import URL

from aioloom.http import hdrs

from ._exceptions import InvalidUrlRedirectClientError, NonHttpUrlRedirectClientError

__all__ = ("REDIRECT_STATUSES", "RedirectHop", "hop_headers", "next_hop")

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_HTTP_SCHEMES: Final = frozenset({"http", "https", ""})

# RFC 9110 §15.4: header fields describing the content, dropped with it.
_CONTENT_FIELDS: Final = tuple(
    istr(name)
    for name in (
        "Content-Encoding",
        "Content-Language",
        "Content-Length",
        "Content-Location",
        "Content-Type",
        "Digest",
        "Last-Modified",
        "Transfer-Encoding",
    )
)
# Credentials that must not leak to another origin.
_CREDENTIAL_FIELDS: Final = (hdrs.AUTHORIZATION, hdrs.COOKIE)


@dataclass(frozen=True, slots=True)
class RedirectHop:
    """The next request of a redirect chain.

    Attributes:
        method: the method of the next request.
        url: its absolute URL.
        keep_body: True when the request content is sent again (307, 308, and 301/302
            of methods other than POST).
        cross_origin: True when ``url`` has another origin than the previous request.
    """

    method: str
    url: URL
    keep_body: bool
    cross_origin: bool


def redirect_method(status: int, method: str) -> tuple[str, bool]:
    """The method of the next request and whether the content is sent again."""
    if status == 303 and method != hdrs.METH_HEAD:
        return hdrs.METH_GET, False  # RFC 9110 §15.4.4
    if status in (301, 302) and method == hdrs.METH_POST:
        return hdrs.METH_GET, False  # RFC 9110 §15.4.2, §15.4.3: the historical rewrite
    return method, True


def next_hop(
    status: int,
    method: str,
    url: URL,
    location: str | None,
    *,
    requote: bool = True,
) -> RedirectHop | None:
    """Decide the next request after a response.

    Args:
        status: the response status.
        method: the method of the request that got the response.
        url: the URL of that request.
        location: the response's Location field, if any.
        requote: re-quote the Location as yarl does (``requote_redirect_url``).

    Returns:
        The next hop, or None when the response is not a redirect to follow.

    Raises:
        InvalidUrlRedirectClientError: the Location is not a usable URL.
        NonHttpUrlRedirectClientError: the Location's scheme is not http or https.
    """
    if status not in REDIRECT_STATUSES or location is None:
        return None
    try:
        target = URL(location, encoded=not requote)
    except (ValueError, TypeError) as exc:
        raise InvalidUrlRedirectClientError(
            location, "Server attempted redirecting to a location that does not look like a URL"
        ) from exc
    if target.scheme not in _HTTP_SCHEMES:
        raise NonHttpUrlRedirectClientError(location)
    if not target.scheme:
        target = url.join(target)  # RFC 3986 §5.2: resolve the reference
    if not target.host:
        raise InvalidUrlRedirectClientError(location, "Invalid redirect URL: no host")
    try:
        target.origin()
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(target, "Invalid redirect URL origin") from exc
    new_method, keep_body = redirect_method(status, method)
    return RedirectHop(new_method, target, keep_body, _origin(url) != _origin(target))


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    """RFC 6454 §4: (scheme, host, port), the default port filled in."""
    return url.scheme, url.host, url.port


def hop_headers(headers: CIMultiDict[str], hop: RedirectHop) -> CIMultiDict[str]:
    """The caller's headers for the next hop (a new multidict; ``headers`` is untouched)."""
    result = CIMultiDict(headers)
    if not hop.keep_body:
        for name in _CONTENT_FIELDS:
            result.popall(name, None)
    if hop.cross_origin:
        for name in _CREDENTIAL_FIELDS:
            result.popall(name, None)
    return result
