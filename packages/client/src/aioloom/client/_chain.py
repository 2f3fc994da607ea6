"""The hops of one session request: the request, then each redirect it is sent on to.

:class:`RequestChain` builds a :class:`ClientRequest` per hop (cookies from the jar for
that hop's URL, the proxy for that URL), hands it to the request's handler (the
middlewares, then :class:`~._exchange.Exchange`), stores the response's cookies, and asks
:func:`~._redirects.next_hop` whether and where to go next. :class:`Hop` is what changes
from one hop to the next; :class:`HopOptions` is what does not.

The session sends the first hop itself (:meth:`RequestChain.make_request`, its handler,
:meth:`RequestChain.redirect_target`) and hands a redirect to
:meth:`RequestChain.run_redirects`: a request that is not redirected, nearly all of them,
then has no coroutine of this module between the session and the exchange.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, istr
from yarl import URL

from aioloom.http import hdrs
from aioloom.http._auth import BasicAuth

from ._cookie_seam import LooseCookies, merge_cookies
from ._exceptions import RedirectClientError, TooManyRedirects
from ._fingerprint import SSLArg, check_ssl_arg
from ._middleware import ClientHandlerType
from ._redirects import REDIRECT_STATUSES, RedirectHop, hop_headers, next_hop
from ._request import ClientRequest, LooseHeaders, Params
from ._response import ClientResponse
from ._timeouts import TimerContext
from ._tracer import _Tracer

if TYPE_CHECKING:
    from ._session import ClientSession
    from ._upload import UploadTracker

__all__ = ("Hop", "HopOptions", "RequestChain", "hop_options")


@dataclass(slots=True)
class Hop:
    """What changes from one hop of a redirect chain to the next."""

    method: str
    url: URL
    params: Params | None
    data: Any
    headers: CIMultiDict[str]
    auth: BasicAuth | None


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a setattr call per field
class HopOptions:
    """The request options that every hop shares (never changed once built)."""

    skip_auto_headers: frozenset[istr]
    cookies: LooseCookies | None
    compress: str | bool | None
    chunked: bool | None
    expect100: bool
    proxy: URL | None
    proxy_auth: BasicAuth | None
    ssl: SSLArg
    server_hostname: str | None
    proxy_headers: LooseHeaders | None
    upload_tracker: UploadTracker | None = None


class RequestChain:
    """The hops of one request (see the module docstring for how they are run).

    Args:
        session: the session (its request class, jar, version and redirect settings).
        hop: the first hop.
        options: the options of every hop.
        handler: the request handler (middlewares and the exchange).
        timer: the request's total deadline, or None.
        tracer: the request's tracer.
        allow_redirects: follow redirects at all.
        max_redirects: the most redirects followed (0: no limit).
    """

    __slots__ = (
        "_allow",
        "_handler",
        "_history",
        "_max",
        "_options",
        "_session",
        "_timer",
        "_tracer",
        "hop",
    )

    def __init__(
        self,
        session: ClientSession,
        hop: Hop,
        options: HopOptions,
        handler: ClientHandlerType,
        timer: TimerContext | None,
        tracer: _Tracer,
        *,
        allow_redirects: bool,
        max_redirects: int,
    ) -> None:
        self._session = session
        self.hop = hop
        self._options = options
        self._handler = handler
        self._timer = timer
        self._tracer = tracer
        self._allow = allow_redirects
        self._max = max_redirects
        self._history: list[ClientResponse] = []

    def redirect_target(self, req: ClientRequest, resp: ClientResponse) -> RedirectHop | None:
        """Store the response's cookies; where it redirects to, or None when it is final.

        A final response gets its history (empty for the first hop) here.
        """
        if resp.headers.get(hdrs.SET_COOKIE) is not None:
            self._session.cookie_jar.update_cookies(resp.cookies, resp.url)
        target = None
        if self._allow and resp.status in REDIRECT_STATUSES:
            location = resp.headers.get(hdrs.LOCATION) or resp.headers.get(hdrs.URI)
            target = next_hop(
                resp.status,
                req.method,
                req.url,
                location,
                requote=self._session.requote_redirect_url,
            )
        if target is None:
            resp._history = tuple(self._history)
        return target

    async def run_redirects(
        self, req: ClientRequest, resp: ClientResponse, target: RedirectHop
    ) -> ClientResponse:
        """Follow the redirect ``resp`` (the answer to ``req``) to ``target``, and on.

        Raises:
            TooManyRedirects: more than ``max_redirects`` redirects.
            RedirectClientError: see :meth:`_follow` and :func:`next_hop`.
        """
        hop = self.hop
        history = self._history
        while True:
            if self._tracer.enabled:
                await self._tracer.send_request_redirect(hop.method, req.url, hop.headers, resp)
            history.append(resp)
            if self._max and len(history) >= self._max:
                await req.close_body()
                resp.close()
                raise TooManyRedirects(history[0].request_info, tuple(history))
            await self._follow(req, resp, target)
            req = self.make_request()
            resp = await self._handler(req)
            next_target = self.redirect_target(req, resp)
            if next_target is None:
                return resp
            target = next_target

    def make_request(self) -> ClientRequest:
        """The :class:`ClientRequest` of the current hop."""
        session, hop, options = self._session, self.hop, self._options
        proxy, proxy_auth = options.proxy, options.proxy_auth
        trust_env = session._trust_env
        if proxy is None and trust_env:
            proxy, proxy_auth = _env_proxy(hop.url)
        # The jar's cookies for the hop's URL, then the request's own (which win).
        cookies = options.cookies
        plain_jar = session._plain_jar
        if plain_jar is not None and not plain_jar._cookies:
            jar_cookies = None  # what filter_cookies answers for an empty CookieJar
        else:
            jar_cookies = session._cookie_jar.filter_cookies(hop.url)
        if not cookies:
            cookies = jar_cookies or None
        elif jar_cookies:
            merge_cookies(jar_cookies, cookies)
            cookies = jar_cookies
        req = session._request_class(
            hop.method,
            hop.url,
            params=hop.params,
            headers=hop.headers,
            skip_auto_headers=options.skip_auto_headers,
            data=hop.data,
            cookies=cookies,
            auth=hop.auth,
            version=session._version,
            compress=options.compress,
            chunked=options.chunked,
            expect100=options.expect100,
            loop=session._loop,
            response_class=session._response_class,
            proxy=proxy,
            proxy_auth=proxy_auth,
            timer=self._timer,
            session=session,
            ssl=options.ssl,
            server_hostname=options.server_hostname,
            proxy_headers=options.proxy_headers,
            trust_env=trust_env,
        )
        if options.upload_tracker is not None:
            req.upload_tracker = options.upload_tracker
        return req

    async def _follow(self, req: ClientRequest, resp: ClientResponse, target: RedirectHop) -> None:
        """Turn the hop into the next one of a redirect (see :mod:`._redirects`).

        Raises:
            RedirectClientError: a 307/308 must resend a body that was streamed.
        """
        hop = self.hop
        if target.keep_body:
            if not req.body_reusable():
                resp.close()
                raise RedirectClientError(
                    f"cannot follow the {resp.status} redirect to {target.url}: "
                    "the request body was streamed and cannot be sent again"
                )
            hop.data = req.payload
        else:
            await req.close_body()
            hop.data = None
        hop.headers = hop_headers(hop.headers, target)
        if target.cross_origin:
            hop.auth = None
        resp.release()
        hop.method, hop.url, hop.params = target.method, target.url, None


def _env_proxy(url: URL) -> tuple[URL | None, BasicAuth | None]:
    """The proxy the environment sets for ``url`` (``trust_env=True``), if any."""
    from ._proxy_env import get_env_proxy_for_url

    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None, None


def hop_options(
    session: ClientSession,
    *,
    skip_auto_headers: Iterable[str] | None,
    cookies: LooseCookies | None,
    compress: str | bool | None,
    chunked: bool | None,
    expect100: bool,
    proxy: str | URL | None,
    proxy_auth: BasicAuth | None,
    ssl: SSLArg | None,
    server_hostname: str | None,
    proxy_headers: LooseHeaders | None,
    upload_tracker: UploadTracker | None,
) -> HopOptions:
    """The :class:`HopOptions` of a request that sets some of them (``proxy``: resolved).

    Raises:
        TypeError, ValueError: an unusable ``ssl`` (see :func:`check_ssl_arg`).
    """
    return HopOptions(
        skip_auto_headers=session.skip_auto_headers.union(istr(name) for name in skip_auto_headers)
        if skip_auto_headers
        else session.skip_auto_headers,
        cookies=cookies,
        compress=compress,
        chunked=chunked,
        expect100=expect100,
        proxy=URL(proxy) if isinstance(proxy, str) else proxy,
        proxy_auth=proxy_auth,
        ssl=True if ssl is True else check_ssl_arg(ssl),
        server_hostname=server_hostname,
        proxy_headers=proxy_headers,
        upload_tracker=upload_tracker,
    )
