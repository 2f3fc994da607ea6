"""Proxy settings from the environment and credentials from ``.netrc`` (``trust_env=True``).

Owns what aiohttp keeps in ``aiohttp.helpers`` for ``ClientSession(trust_env=True)``:

* :func:`proxies_from_env` reads ``http_proxy``, ``https_proxy``, ``ws_proxy`` and
  ``wss_proxy`` (either case; a lower-case variable wins, and an empty lower-case one
  disables the upper-case one, as :func:`urllib.request.getproxies_environment` does) and
  returns a :class:`ProxyInfo` per request scheme. Credentials come from the proxy URL's
  userinfo, else from the ``.netrc`` entry of the proxy host.
* :func:`get_env_proxy_for_url` picks the proxy for one request URL, honouring
  ``no_proxy`` / ``NO_PROXY`` (see :func:`proxy_bypass`).
* :func:`netrc_from_env` and :func:`basicauth_from_netrc` read ``.netrc`` (``NETRC`` or
  ``~/.netrc``; ``~/_netrc`` on Windows).

Everything here is pure (reads ``os.environ`` and files, no I/O on sockets).
"""

from __future__ import annotations

import ipaddress
import logging
import netrc
import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

from aioloom.http._auth import BasicAuth

__all__ = (
    "ProxyInfo",
    "basicauth_from_netrc",
    "get_env_proxy_for_url",
    "netrc_from_env",
    "proxies_from_env",
    "proxy_bypass",
)

client_logger = logging.getLogger("aioloom.client")

# The request schemes a proxy can be configured for (aiohttp's set).
_PROXY_SCHEMES = ("http", "https", "ws", "wss")
# no_proxy entries are separated by commas; curl also accepts blanks, so do we.
_NO_PROXY_SPLIT_RE = re.compile(r"[,\s]+")
# "host:port" or "[v6]:port" at the end of an entry.
_HOST_PORT_RE = re.compile(r"(?P<host>\[[^\]]*\]|[^:]*):(?P<port>[0-9]{1,5})")

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    """A proxy URL (without credentials) and the credentials to send to it."""

    proxy: URL
    proxy_auth: BasicAuth | None


def _proxy_variables(environ: Mapping[str, str]) -> dict[str, str]:
    # urllib.request.getproxies_environment: every "<scheme>_proxy" variable in any case,
    # then the lower-case spelling overrides (and an empty one removes the scheme).
    found: dict[str, str] = {}
    for name, value in environ.items():
        lowered = name.lower()
        if value and lowered.endswith("_proxy"):
            found[lowered[:-6]] = value
    if "REQUEST_METHOD" in environ:
        # httpoxy (CVE-2016-1000110): under CGI, HTTP_PROXY can come from a request's
        # "Proxy:" header, so only the lower-case http_proxy is trusted there.
        found.pop("http", None)
    for name, value in environ.items():
        if name.endswith("_proxy"):
            scheme = name[:-6].lower()
            if value:
                found[scheme] = value
            else:
                found.pop(scheme, None)
    return found


def _parse_proxy_url(value: str) -> URL:
    # curl and requests read "proxy.example:3128" as an http proxy; yarl alone would take
    # "proxy.example" for a scheme.
    if "://" not in value:
        value = "http://" + value
    return URL(value)


def _netrc_auth(netrc_obj: netrc.netrc | None, host: str | None) -> BasicAuth | None:
    if netrc_obj is None or host is None:
        return None
    try:
        return basicauth_from_netrc(netrc_obj, host)
    except LookupError:
        return None


def proxies_from_env() -> dict[str, ProxyInfo]:
    """Read the proxy configuration of the environment.

    Returns:
        ``{scheme: ProxyInfo}`` for the schemes ``http``, ``https``, ``ws`` and ``wss``
        that have a proxy. The URL loses its userinfo, which becomes ``proxy_auth``; without
        userinfo, the ``.netrc`` entry of the proxy host is used when there is one. Proxies
        whose own scheme is ``https`` or ``wss`` are skipped with a warning, as in aiohttp
        (TLS to the proxy itself is not supported from the environment).
    """
    configured = _proxy_variables(os.environ)
    netrc_obj: netrc.netrc | None = None
    netrc_read = False
    result: dict[str, ProxyInfo] = {}
    for scheme in _PROXY_SCHEMES:
        value = configured.get(scheme)
        if value is None:
            continue
        try:
            url = _parse_proxy_url(value)
            auth = BasicAuth.from_url(url)
        except ValueError as exc:
            client_logger.warning("Ignoring invalid %s_proxy %r: %s", scheme, value, exc)
            continue
        if url.scheme in ("https", "wss"):
            client_logger.warning(
                "%s proxies %s are not supported, ignoring", url.scheme.upper(), url
            )
            continue
        if auth is None:
            if not netrc_read:
                netrc_obj, netrc_read = netrc_from_env(), True
            auth = _netrc_auth(netrc_obj, url.host)
        result[scheme] = ProxyInfo(url.with_user(None), auth)
    return result


def get_env_proxy_for_url(url: URL) -> tuple[URL, BasicAuth | None]:
    """Return the proxy the environment configures for ``url``.

    Args:
        url: the request URL.

    Returns:
        ``(proxy_url, proxy_auth)``.

    Raises:
        LookupError: ``no_proxy`` excludes the host, or no proxy is set for the scheme.
    """
    if url.host is not None and proxy_bypass(url):
        raise LookupError(f"Proxying is disallowed for `{url.host!r}`")
    proxies = proxies_from_env()
    try:
        info = proxies[url.scheme]
    except KeyError:
        raise LookupError(f"No proxies found for `{url!s}` in the env") from None
    return info.proxy, info.proxy_auth


def _ip(text: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(text: str) -> _IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _entry_matches(entry: str, host: str, host_ip: _IPAddress | None, port: int | None) -> bool:
    # One no_proxy entry against the lower-cased request host (yarl's raw_host: IDNA, no
    # brackets). Forms: "*", "host", ".domain"/"*.domain", "host:port", IP, "[v6]:port", CIDR.
    if entry == "*":
        return True
    match = _HOST_PORT_RE.fullmatch(entry)  # never matches a bare IPv6 address or range
    if match is not None:
        if port is None or int(match.group("port")) != port:
            return False
        entry = match.group("host")
    entry = entry.strip("[]")
    if "/" in entry:
        network = _network(entry)
        return network is not None and host_ip is not None and host_ip in network
    entry_ip = _ip(entry)
    if entry_ip is not None or host_ip is not None:
        return entry_ip is not None and entry_ip == host_ip
    # A leading "." (or curl's "*.") is ignored: ".example.com" matches example.com
    # itself and every subdomain, like "example.com" does (urllib, curl).
    name = entry.removeprefix("*").lstrip(".").rstrip(".")
    if not name:
        return False
    return host == name or host.endswith("." + name)


def proxy_bypass(url: URL, no_proxy: str | None = None) -> bool:
    """Tell whether ``no_proxy`` excludes ``url`` from proxying.

    A superset of :func:`urllib.request.proxy_bypass_environment` (which aiohttp uses):
    ``*`` bypasses everything; ``example.com`` and ``.example.com`` match the host and all
    its subdomains; ``host:port`` matches only that port (the scheme's default when the URL
    has none); IP addresses match exactly (``[::1]`` for IPv6) and CIDR ranges
    (``10.0.0.0/8``, ``fd00::/8``) match the IP hosts inside them. Entries are separated by
    commas or blanks; case is ignored.

    Args:
        url: the request URL.
        no_proxy: the list to apply; by default ``no_proxy`` or else ``NO_PROXY`` from the
            environment (the lower-case variable wins, even when empty).

    Returns:
        ``True`` when the request must go direct.
    """
    if no_proxy is None:
        no_proxy = _proxy_variables(os.environ).get("no")
    host = url.raw_host
    if not no_proxy or not host:
        return False
    host = host.lower().rstrip(".")
    host_ip = _ip(host.partition("%")[0])
    port = url.port
    for entry in _NO_PROXY_SPLIT_RE.split(no_proxy.strip().lower()):
        if entry and _entry_matches(entry, host, host_ip, port):
            return True
    return False


def netrc_from_env() -> netrc.netrc | None:
    """Load the ``.netrc`` file named by ``NETRC``, else the one in the home directory.

    Returns:
        The parsed file, or ``None`` (with a debug log saying why) when it is missing,
        unreadable or malformed, or when the home directory cannot be found.
    """
    netrc_env = os.environ.get("NETRC")
    if netrc_env is not None:
        netrc_path = Path(netrc_env)
    else:
        try:
            home = Path.home()
        except (RuntimeError, KeyError) as exc:
            client_logger.debug("Could not find the home directory to read .netrc: %s", exc)
            return None
        netrc_path = home / ("_netrc" if platform.system() == "Windows" else ".netrc")
    try:
        return netrc.netrc(str(netrc_path))
    except netrc.NetrcParseError as exc:
        client_logger.debug("Could not parse .netrc file %s: %s", netrc_path, exc)
    except (OSError, ValueError) as exc:  # missing, unreadable, not text
        client_logger.debug("Could not read .netrc file %s: %s", netrc_path, exc)
    return None


def basicauth_from_netrc(netrc_obj: netrc.netrc | None, host: str) -> BasicAuth:
    """Return the credentials ``.netrc`` holds for ``host`` (or its ``default`` entry).

    Args:
        netrc_obj: a parsed file, e.g. from :func:`netrc_from_env`.
        host: the host name to look up.

    Returns:
        The ``login`` (or, without one, the ``account``) and ``password`` of the entry.

    Raises:
        LookupError: ``netrc_obj`` is ``None`` or has no entry for ``host`` and no default.
        ValueError: the entry's login contains ``":"`` (RFC 7617 §2).
    """
    if netrc_obj is None:
        raise LookupError("No .netrc file found")
    entry = netrc_obj.authenticators(host)
    if entry is None:
        raise LookupError(f"No entry for {host!s} found in the `.netrc` file.")
    login, account, password = entry
    # Python 3.10 gives account=None and login="" for missing fields, 3.11+ gives "".
    username = login or account or ""
    return BasicAuth(username, password or "")
