"""``ClientRequest``: one HTTP request as a model, with its headers and body prepared.

The request never writes itself: :mod:`._sender` puts it on a connection. Everything that
can be wrong with a request is found here, before a connection is even asked for: a method
that is not a token (RFC 9110 §9.1), a version other than HTTP/1.0 or HTTP/1.1, a URL
that is not absolute http(s) or holds CR, LF or NUL, conflicting body options. (CR, LF or
NUL in a header value is refused by the head serialiser, also before any byte is sent.)

Preparation follows aiohttp 3.14: ``Host``, ``Accept``, ``Accept-Encoding`` and
``User-Agent`` are added unless given or skipped; credentials come from ``auth`` or the
URL's userinfo; cookies become one ``Cookie`` field; ``data`` becomes a
:class:`~aioloom.http.aio._payload.Payload` whose size gives ``Content-Length`` (or
chunked transfer coding when it is unknown, RFC 9112 §6.1).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterable, Mapping
from http.cookies import SimpleCookie
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL, Query

from aioloom.http import hdrs
from aioloom.http._auth import BasicAuth
from aioloom.http._codings import accept_encoding
from aioloom.http._messages import HttpVersion, HttpVersion10, HttpVersion11
from aioloom.http.aio._payload import Payload

from ._cookie_seam import LooseCookies, merge_cookies
from ._data import prepare_data
from ._exceptions import InvalidUrlClientError, NonHttpUrlClientError
from ._fingerprint import SSLArg, check_ssl_arg
from ._reqrep_info import ConnectionKey, RequestInfo

if TYPE_CHECKING:
    from ._response import ClientResponse
    from ._timeouts import TimerContext
    from ._tracer import _Tracer
    from ._upload import UploadTracker

__all__ = ("ClientRequest", "LooseHeaders", "Params", "prepare_data")

LooseHeaders = Mapping[str, str] | Iterable[tuple[str, str]] | CIMultiDict[str]
Params = Query

# RFC 9110 §5.6.2: method = token.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_URL_FORBIDDEN: Final = re.compile(r"[\r\n\x00]")
_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
_SSL_SCHEMES: Final = frozenset({"https", "wss"})
_NO_NAMES: Final[frozenset[Any]] = frozenset()
# Methods and URLs that passed the checks: a client asks for the same few again and again.
# Both are bounded (the URLs start over when full), so odd inputs cannot grow them.
_CHECKED_MAX: Final = 256
_CHECKED_METHODS: Final[dict[str, str]] = {}
_CHECKED_URLS: Final[dict[URL, None]] = {}


def _user_agent() -> str:
    try:
        version = metadata.version("aioloom-client")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"Python/{sys.version_info[0]}.{sys.version_info[1]} aioloom/{version}"


USER_AGENT: Final = _user_agent()
_ACCEPT_ENCODING: Final = accept_encoding()
# The steps of ClientRequest's preparation; _prepare_plain does what they do for empty inputs.
_PREPARATION_STEPS: Final = (
    "_update_auth_from_url",
    "update_headers",
    "update_auto_headers",
    "update_cookies",
    "update_content_encoding",
    "update_auth",
    "update_proxy",
    "update_body_from_data",
    "update_transfer_encoding",
    "update_expect_continue",
)


class ClientRequest:
    """One request: method, URL, headers, body and connection settings.

    Args mirror aiohttp's ``ClientRequest``. The session builds requests; a middleware
    receives one and may change ``headers``, ``url`` or the body (:meth:`update_body`)
    before calling its handler.

    Raises:
        ValueError: a bad method, version, URL, or conflicting body options.
        TypeError: ``auth`` is not a :class:`BasicAuth`, or an unusable ``ssl``.
    """

    GET_METHODS: Final = frozenset(
        {hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS, hdrs.METH_TRACE}
    )
    POST_METHODS: Final = frozenset({hdrs.METH_PATCH, hdrs.METH_POST, hdrs.METH_PUT})
    ALL_METHODS: Final = GET_METHODS | POST_METHODS | {hdrs.METH_DELETE}
    DEFAULT_HEADERS: Final = {hdrs.ACCEPT: "*/*", hdrs.ACCEPT_ENCODING: _ACCEPT_ENCODING}

    _body: Payload | None = None
    _auto_framing = False
    _plain_init = True  # no preparation step overridden (see __init_subclass__)
    _skip_auto_headers: frozenset[istr]
    _skip_lower: frozenset[str]
    auth: BasicAuth | None = None
    response: ClientResponse | None = None
    upload_tracker: UploadTracker | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        params: Params | None = None,
        headers: LooseHeaders | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        data: Any = None,
        cookies: LooseCookies | None = None,
        auth: BasicAuth | None = None,
        version: HttpVersion = HttpVersion11,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        response_class: type[ClientResponse] | None = None,
        proxy: URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timer: TimerContext | None = None,
        session: Any = None,
        ssl: SSLArg | None = True,
        proxy_headers: LooseHeaders | None = None,
        traces: _Tracer | None = None,
        trust_env: bool = False,
        server_hostname: str | None = None,
        upload_tracker: UploadTracker | None = None,
    ) -> None:
        checked = _CHECKED_METHODS.get(method) if type(method) is str else None
        self.method = checked if checked is not None else _check_method(method)
        if type(url) is not URL or url not in _CHECKED_URLS:
            url = _check_url(url)
        if params:
            url = url.extend_query(params)
        self.original_url = url
        self.url = url.with_fragment(None) if url.raw_fragment else url
        self.version = version if version is HttpVersion11 else _check_version(version)
        self.loop = loop
        self.response_class = response_class
        self._timer = timer
        self._session = session
        self._traces = traces
        self.trust_env = trust_env
        self.ssl = True if ssl is True else check_ssl_arg(ssl)
        self.server_hostname = server_hostname
        if upload_tracker is not None:
            self.upload_tracker = upload_tracker
        self.compress: str | None = None
        self.chunked = False
        self.expect100 = False
        self.proxy: URL | None = None
        self.proxy_auth: BasicAuth | None = None
        self.proxy_headers: CIMultiDict[str] | None = None

        self.headers: CIMultiDict[str] = CIMultiDict()
        self._chunked_arg = chunked
        if (
            self._plain_init
            and auth is None
            and data is None
            and proxy is None
            and not cookies
            and not chunked
            and not expect100
            and not trust_env
            and self.url.raw_user is None
            and self.url.raw_password is None
        ):
            self._prepare_plain(headers, skip_auto_headers)
            return
        self._update_auth_from_url(auth)
        self.update_headers(headers)
        self.update_auto_headers(skip_auto_headers)
        self.update_cookies(cookies)
        self.update_content_encoding(data, compress)
        self.update_auth(self.auth)
        self.update_proxy(proxy, proxy_auth, proxy_headers)
        self.update_body_from_data(data)
        self.update_expect_continue(expect100)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass that overrides a step of the preparation gets every step called.
        cls._plain_init = cls.DEFAULT_HEADERS is ClientRequest.DEFAULT_HEADERS and all(
            getattr(cls, name) is getattr(ClientRequest, name) for name in _PREPARATION_STEPS
        )

    def _prepare_plain(
        self, headers: LooseHeaders | None, skip_auto_headers: Iterable[str] | None
    ) -> None:
        """The preparation of a request without body, credentials, cookies or proxy.

        What the ``update_*`` steps would do with empty inputs, minus their calls: a GET's
        preparation runs on every request.
        """
        if headers or skip_auto_headers:
            self.update_headers(headers)
            self.update_auto_headers(skip_auto_headers)
        else:
            netloc = self.url.host_port_subcomponent
            assert netloc is not None
            self._skip_auto_headers = self._skip_lower = _NO_NAMES
            self.headers.extend(
                (
                    (hdrs.HOST, netloc),
                    (hdrs.ACCEPT, "*/*"),
                    (hdrs.ACCEPT_ENCODING, _ACCEPT_ENCODING),
                    (hdrs.USER_AGENT, USER_AGENT),
                )
            )
            if self.method in self.GET_METHODS:
                return  # no framing field (RFC 9110 §8.6), no Expect: nothing left to do
        if (
            self.method not in self.GET_METHODS
            or hdrs.TRANSFER_ENCODING in self.headers
            or hdrs.EXPECT in self.headers
        ):
            self.update_transfer_encoding()
            self.update_expect_continue(False)

    # -- URL and identity -----------------------------------------------------------------

    @property
    def host(self) -> str:
        """The origin's host name (as in the URL, without brackets for IPv6)."""
        host = self.url.raw_host
        assert host is not None
        return host

    @property
    def port(self) -> int | None:
        """The origin's port (the scheme's default when the URL gives none)."""
        return self.url.port

    def is_ssl(self) -> bool:
        """True for https (and wss) URLs."""
        return self.url.scheme in _SSL_SCHEMES

    @property
    def connection_key(self) -> ConnectionKey:
        """The key this request's connection is pooled under."""
        proxy_headers_hash = None
        if self.proxy_headers:
            proxy_headers_hash = hash(tuple(self.proxy_headers.items()))
        url = self.url
        host = url.raw_host
        assert host is not None
        # The tuple itself: NamedTuple's generated __new__ is a Python call per request.
        return tuple.__new__(
            ConnectionKey,
            (
                host,
                url.port,
                url.scheme in _SSL_SCHEMES,
                self.ssl,
                self.proxy,
                self.proxy_auth,
                proxy_headers_hash,
            ),
        )

    @property
    def request_info(self) -> RequestInfo:
        """The request as sent (for responses and errors)."""
        # RequestInfo's fields in order, without its __new__ (a Python call per request).
        fields = (self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)
        return tuple.__new__(RequestInfo, fields)

    def request_target(self) -> str:
        """The request-target of the request line (RFC 9112 §3.2).

        absolute-form for a plain-HTTP proxy, authority-form for CONNECT, origin-form
        otherwise.
        """
        if self.method == hdrs.METH_CONNECT:
            return f"{self.url.host_subcomponent}:{self.port}"
        if self.proxy is not None and not self.is_ssl():
            return str(self.url)
        return self.url.raw_path_qs or "/"

    def status_line(self) -> str:
        """The request line without CRLF, e.g. ``GET / HTTP/1.1``."""
        version = self.version
        method = self.method
        if method != hdrs.METH_CONNECT and self.proxy is None:
            target = self.url.raw_path_qs or "/"  # origin-form, request_target() inlined
        else:
            target = self.request_target()
        return f"{method} {target} HTTP/{version.major}.{version.minor}"

    def _update_auth_from_url(self, auth: BasicAuth | None) -> None:
        url_auth = BasicAuth.from_url(self.url)
        if url_auth is not None:
            if auth is not None:
                raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
            self.url = self.url.with_user(None)
            self.original_url = self.original_url.with_user(None)
            auth = url_auth
        if auth is None and self.trust_env and self.url.host is not None:
            auth = _netrc_auth(self.url.host)
        if auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError("BasicAuth() tuple is required instead")
        self.auth = auth

    # -- headers --------------------------------------------------------------------------

    def update_headers(self, headers: LooseHeaders | None) -> None:
        """Set ``Host`` (from the URL unless given) and add ``headers``."""
        netloc = self.url.host_port_subcomponent
        assert netloc is not None
        self.headers[hdrs.HOST] = netloc
        if not headers:
            return
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            if name.lower() == "host":
                self.headers[hdrs.HOST] = value  # one Host only (RFC 9112 §3.2)
            else:
                self.headers.add(name, value)

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        """Add Accept, Accept-Encoding and User-Agent unless given or skipped."""
        headers = self.headers
        if not skip_auto_headers:  # the common case, kept short
            self._skip_auto_headers = _NO_NAMES
            self._skip_lower = _NO_NAMES
            for name, value in self.DEFAULT_HEADERS.items():
                if name not in headers:
                    headers[name] = value
            if hdrs.USER_AGENT not in headers:
                headers[hdrs.USER_AGENT] = USER_AGENT
            return
        names = list(skip_auto_headers)
        self._skip_auto_headers = frozenset(istr(name) for name in names)
        # istr compares like str: header names are matched lower-cased (RFC 9110 §5.1).
        skip = self._skip_lower = frozenset(name.lower() for name in names)
        if "host" in skip:
            del self.headers[hdrs.HOST]
        for name, value in self.DEFAULT_HEADERS.items():
            if name.lower() not in skip and name not in self.headers:
                self.headers[name] = value
        if "user-agent" not in skip and hdrs.USER_AGENT not in self.headers:
            self.headers[hdrs.USER_AGENT] = USER_AGENT

    @property
    def skip_auto_headers(self) -> frozenset[istr]:
        """The header names that are never added automatically."""
        return self._skip_auto_headers

    def update_cookies(self, cookies: LooseCookies | None) -> None:
        """Merge ``cookies`` into the ``Cookie`` field (RFC 6265 §5.4: one field)."""
        if not cookies:
            return
        jar = SimpleCookie()
        existing = self.headers.popall(hdrs.COOKIE, None)
        if existing:
            jar.load("; ".join(existing))
        merge_cookies(jar, cookies)
        value = "; ".join(f"{name}={morsel.coded_value}" for name, morsel in jar.items())
        if value:
            self.headers[hdrs.COOKIE] = value

    def update_auth(self, auth: BasicAuth | None) -> None:
        """Set ``Authorization`` from Basic credentials (RFC 7617)."""
        if auth is None:
            return
        if not isinstance(auth, BasicAuth):
            raise TypeError("BasicAuth() tuple is required instead")
        if hdrs.AUTHORIZATION in self.headers:
            raise ValueError(
                "Cannot combine AUTHORIZATION header with AUTH argument or credentials "
                "encoded in URL"
            )
        self.auth = auth
        self.headers[hdrs.AUTHORIZATION] = auth.encode()

    def update_proxy(
        self,
        proxy: URL | None,
        proxy_auth: BasicAuth | None,
        proxy_headers: LooseHeaders | None,
    ) -> None:
        """Record the proxy; for a plain-HTTP request it sees the proxy fields too."""
        if proxy is None:
            return
        if proxy_auth is not None and not isinstance(proxy_auth, BasicAuth):
            raise ValueError("proxy_auth must be None or BasicAuth() tuple")
        if proxy.scheme not in ("http", "https") or not proxy.host:
            raise InvalidUrlClientError(proxy, "Only http:// and https:// proxies are supported")
        url_auth = BasicAuth.from_url(proxy)
        if url_auth is not None:
            # Credentials in the proxy URL are the proxy's (as aiohttp's proxy request
            # takes them); the URL itself goes on without them.
            if proxy_auth is not None:
                raise ValueError("Cannot combine proxy_auth with credentials in the proxy URL")
            proxy_auth = url_auth
            proxy = proxy.with_user(None)
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        self.proxy_headers = CIMultiDict(proxy_headers) if proxy_headers else None
        if not self.is_ssl():
            # RFC 9110 §11.7.2: credentials for the proxy the request passes through.
            if proxy_auth is not None:
                self.headers[hdrs.PROXY_AUTHORIZATION] = proxy_auth.encode()
            if self.proxy_headers:
                self.headers.extend(self.proxy_headers)

    # -- body -----------------------------------------------------------------------------

    def update_content_encoding(self, data: Any, compress: str | bool | None) -> None:
        """Decide the content coding to apply to the body (``compress``)."""
        if not data:
            return  # nothing to compress (aiohttp ignores ``compress`` then too)
        if self.headers.get(hdrs.CONTENT_ENCODING):
            if compress:
                raise ValueError("compress can not be set if Content-Encoding header is set")
        elif compress:
            self.compress = compress if isinstance(compress, str) else "deflate"
            self.headers[hdrs.CONTENT_ENCODING] = self.compress

    @property
    def payload(self) -> Payload | None:
        """The body payload, or None without a body."""
        return self._body

    @property
    def body(self) -> Payload | bytes:
        """The body payload, or ``b""`` without a body."""
        return self._body if self._body is not None else b""

    @body.setter
    def body(self, value: Any) -> None:
        self.update_body_from_data(value)

    async def update_body(self, body: Any) -> None:
        """Replace the body (closing the previous payload) and recompute the framing."""
        old = self._body
        self.update_body_from_data(body)
        if old is not None and old is not self._body:
            await old.close()

    def update_body_from_data(self, data: Any) -> None:
        """Turn ``data`` into the payload and set Content-Type, Content-Length or chunked."""
        if self._auto_framing:
            # A new body: the framing computed for the previous one no longer holds.
            self.headers.popall(hdrs.CONTENT_LENGTH, None)
            self.headers.popall(hdrs.TRANSFER_ENCODING, None)
            self._auto_framing = False
        if data is None:
            self._body = None
        else:
            self._body = prepare_data(data)
            if "content-type" not in self._skip_lower and hdrs.CONTENT_TYPE not in self.headers:
                for name, value in self._body.headers.items():
                    if name.lower() == "content-type":
                        self.headers[hdrs.CONTENT_TYPE] = value
        self.update_transfer_encoding()

    def update_transfer_encoding(self) -> None:
        """Set Content-Length or ``Transfer-Encoding: chunked`` (RFC 9112 §6)."""
        chunked_arg = self._chunked_arg
        te = self.headers.get(hdrs.TRANSFER_ENCODING, "").lower()
        if "chunked" in te:
            if chunked_arg:
                raise ValueError(
                    'chunked can not be set if "Transfer-Encoding: chunked" header is set'
                )
            self.chunked = True
        elif chunked_arg:
            if hdrs.CONTENT_LENGTH in self.headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
            self.chunked = True
        else:
            self.chunked = False
        if self.compress:
            self.chunked = True  # the compressed size is unknown in advance
        body = self._body
        size = None if body is None else body.size
        if not self.chunked and body is not None and size is None:
            self.chunked = True
        if self.chunked:
            if self.version < HttpVersion11:
                raise ValueError(
                    "chunked transfer encoding needs HTTP/1.1 (RFC 9112 §7): "
                    "give the body a known size to send it with HTTP/1.0"
                )
            self.headers.popall(hdrs.CONTENT_LENGTH, None)
            if "chunked" not in te:
                self.headers[hdrs.TRANSFER_ENCODING] = "chunked"
                self._auto_framing = True
        elif hdrs.CONTENT_LENGTH not in self.headers:
            if body is not None:
                self.headers[hdrs.CONTENT_LENGTH] = str(size)
                self._auto_framing = True
            elif self.method not in self.GET_METHODS and self.method != hdrs.METH_CONNECT:
                # RFC 9110 §8.6: a method that defines content gets an explicit zero.
                self.headers[hdrs.CONTENT_LENGTH] = "0"
                self._auto_framing = True

    def update_expect_continue(self, expect: bool = False) -> None:
        """Ask for ``100 Continue`` before the body is sent (RFC 9110 §10.1.1)."""
        if expect:
            self.headers[hdrs.EXPECT] = "100-continue"
        elif self.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
            expect = True
        self.expect100 = expect

    def body_reusable(self) -> bool:
        """True when the body can be sent again (for a retry or a 307/308 redirect)."""
        return self._body is None or not self._body.consumed

    async def close_body(self) -> None:
        """Release the body's resources (files)."""
        if self._body is not None:
            await self._body.close()

    def __repr__(self) -> str:
        return f"<ClientRequest({self.method} {self.url})>"


def _netrc_auth(host: str) -> BasicAuth | None:
    """The ``.netrc`` credentials for ``host`` (``trust_env=True``), if any."""
    from ._proxy_env import basicauth_from_netrc, netrc_from_env

    try:
        return basicauth_from_netrc(netrc_from_env(), host)
    except LookupError:
        return None


def _check_method(method: str) -> str:
    checked = _CHECKED_METHODS.get(method) if type(method) is str else None
    if checked is not None:
        return checked
    if not isinstance(method, str) or not _TOKEN_RE.fullmatch(method):
        raise ValueError(f"Method cannot contain non-token characters {method!r} (RFC 9110 §9.1)")
    checked = method.upper()
    if len(_CHECKED_METHODS) < _CHECKED_MAX:
        _CHECKED_METHODS[method] = checked
    return checked


def _check_url(url: URL) -> URL:
    if type(url) is URL and url in _CHECKED_URLS:
        return url
    if not isinstance(url, URL):
        raise InvalidUrlClientError(url, "the URL must be a yarl.URL")
    if _URL_FORBIDDEN.search(str(url)):
        # RFC 9112 §3: a CR or LF would end the request line early (request splitting).
        raise InvalidUrlClientError(url, "CR, LF or NUL in the URL")
    if not url.absolute or not url.raw_host:
        raise InvalidUrlClientError(url)
    if url.scheme not in _SCHEMES:
        raise NonHttpUrlClientError(url)
    if len(_CHECKED_URLS) >= _CHECKED_MAX:
        _CHECKED_URLS.clear()  # start over: simple, and safe if loops in threads share it
    _CHECKED_URLS[url] = None
    return url


def _check_version(version: HttpVersion) -> HttpVersion:
    if version is HttpVersion11:
        return version
    if version not in (HttpVersion10, HttpVersion11):
        raise ValueError(f"Unsupported HTTP version {version!r}: use HTTP/1.0 or HTTP/1.1")
    return HttpVersion10 if version == HttpVersion10 else HttpVersion11
