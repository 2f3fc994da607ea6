"""The RFC 6265 matching rules the client cookie jar applies to hosts, domains and paths.

* domain-match (RFC 6265 §5.1.3), with IP-address hosts only ever matching themselves;
* the ``Domain`` attribute as a user agent reads it (§5.2.3);
* default-path and path-match (§5.1.4).

Pure functions over lower-cased host names and raw URL paths; the jar
(``aioloom.client._cookiejar``) decides what to store and what to send with them.
"""

from __future__ import annotations

import functools
import ipaddress

from yarl import URL

__all__ = ("default_path", "domain_attribute", "domain_match", "is_ip_host", "path_match")


@functools.lru_cache(maxsize=512)
def is_ip_host(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address (an IPv6 zone ``%...`` is allowed)."""
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


def domain_match(host: str, domain: str) -> bool:
    """Whether ``host`` domain-matches ``domain`` (RFC 6265 §5.1.3); both lower-case."""
    # §5.1.3: the strings are identical, or domain is a suffix of host, the character of
    # host just before that suffix is ".", and host is a host name, not an IP address.
    if host == domain:
        return True
    return (
        len(host) > len(domain)
        and host.endswith(domain)
        and host[-len(domain) - 1] == "."
        and not is_ip_host(host)
    )


def domain_attribute(value: object) -> str | None:
    """A cookie's ``Domain`` attribute as the jar uses it; ``""`` when there is none.

    Args:
        value: the Morsel's ``domain`` item (``""`` or missing when the server sent none).

    Returns:
        The lower-case domain without its leading dot (RFC 6265 §5.2.3), IDNA-encoded
        when it is not ASCII; ``""`` when absent or ending with a dot (ignored, as aiohttp
        does); ``None`` when it is no valid host name (the cookie is refused).
    """
    # §5.2.3: lower-cased, and a leading "." is removed.
    attribute = str(value or "").lower().removeprefix(".")
    if attribute.endswith("."):
        return ""
    if attribute and not attribute.isascii():
        try:
            return URL.build(scheme="http", host=attribute).raw_host or ""
        except ValueError:
            return None
    return attribute


def default_path(uri_path: str) -> str:
    """The default-path of a cookie set by a response to ``uri_path`` (RFC 6265 §5.1.4)."""
    # §5.1.4 steps 2-4: "/" unless the path starts with "/" and has a second "/"; otherwise
    # the path up to, not including, its right-most "/".
    if not uri_path.startswith("/"):
        return "/"
    last = uri_path.rfind("/")
    return uri_path[:last] if last > 0 else "/"


def path_match(request_path: str, cookie_path: str) -> bool:
    """Whether ``request_path`` path-matches ``cookie_path`` (RFC 6265 §5.1.4)."""
    # §5.1.4: identical; or cookie_path is a prefix of request_path and either ends with
    # "/" or is followed in request_path by "/".
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
