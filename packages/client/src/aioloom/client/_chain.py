"""The hops of one session request: the request, then each redirect it is sent on to.

:class:`RequestChain` builds a :class:`ClientRequest` per hop (cookies from the jar for
that hop's URL, the proxy for that URL), hands it to the request's handler (the
middlewares, then :class:`~._exchange.Exchange`), stores the response's cookies, and asks
:func:`~._redirects.next_hop` whether and where to go next. :class:`Hop` is what changes
from one hop to the next; :class:`HopOptions` is what does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, istr
from yarl import URL

from aioloom.http import hdrs
from aioloom.http._auth import BasicAuth

from ._cookie_seam import LooseCookies, merge_cookies
from ._exceptions import RedirectClientError, TooManyRedirects
from ._fingerprint import SSLArg
from ._middleware import ClientHandlerType
from ._redirects import REDIRECT_STATUSES, RedirectHop, hop_headers, next_hop
from ._request import ClientRequest, LooseHeaders, Params
from ._response import ClientResponse
from ._timeouts import TimerContext
from ._tracer import _Tracer

if TYPE_CHECKING:
    from ._session import ClientSession
    from ._upload import UploadTracker

__all__ = ("Hop", "HopOptions", "RequestChain")


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
    """Runs the hops of one request.

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

    async def run(self) -> ClientResponse:
        """Send the request, follow its redirects, and return the final response.

        Raises:
            TooManyRedirects: more than ``max_redirects`` redirects.
            RedirectClientError: see :meth:`_follow` and :func:`next_hop`.
        """
        hop = self.hop
        history: list[ClientResponse] = []
        while True:
            req = self._make_request()
            resp = await self._handler(req)
            self._store_cookies(resp)
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
                resp._history = tuple(history)
                return resp
            if self._tracer.enabled:
                await self._tracer.send_request_redirect(hop.method, req.url, hop.headers, resp)
            history.append(resp)
            if self._max and len(history) >= self._max:
                await req.close_body()
                resp.close()
                raise TooManyRedirects(history[0].request_info, tuple(history))
            await self._follow(req, resp, target)

    def _make_request(self) -> ClientRequest:
        session, hop, options = self._session, self.hop, self._options
        proxy, proxy_auth = options.proxy, options.proxy_auth
        if proxy is None and session.trust_env:
            proxy, proxy_auth = _env_proxy(hop.url)
        req = session._request_class(
            hop.method,
            hop.url,
            params=hop.params,
            headers=hop.headers,
            skip_auto_headers=options.skip_auto_headers,
            data=hop.data,
            cookies=self._hop_cookies(hop.url),
            auth=hop.auth,
            version=session.version,
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
            trust_env=session.trust_env,
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

    def _hop_cookies(self, url: URL) -> LooseCookies | None:
        """The jar's cookies for ``url``, then the request's own (which win)."""
        cookies = self._options.cookies
        jar_cookies = self._session.cookie_jar.filter_cookies(url)
        if not cookies:
            return jar_cookies or None
        if not jar_cookies:
            return cookies
        merge_cookies(jar_cookies, cookies)
        return jar_cookies

    def _store_cookies(self, resp: ClientResponse) -> None:
        if resp.headers.get(hdrs.SET_COOKIE) is not None:
            self._session.cookie_jar.update_cookies(resp.cookies, resp.url)


def _env_proxy(url: URL) -> tuple[URL | None, BasicAuth | None]:
    """The proxy the environment sets for ``url`` (``trust_env=True``), if any."""
    from ._proxy_env import get_env_proxy_for_url

    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None, None
