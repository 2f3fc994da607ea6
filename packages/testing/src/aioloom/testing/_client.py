"""The client side of a test: aiohttp's ``TestClient``.

A :class:`TestClient` wraps a real :class:`~aioloom.client.ClientSession` aimed at one test
server: its request methods take paths (``await client.get("/users")``) and return normal
:class:`~aioloom.client.ClientResponse` objects. Its cookie jar accepts cookies for IP
addresses such as 127.0.0.1 (``CookieJar(unsafe=True)``), which a browser-like jar would
refuse. :meth:`TestClient.close` releases every response it handed out, closes its
WebSockets and session, then the server.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from yarl import URL

from ._server import BaseTestServer

if TYPE_CHECKING:
    from aioloom.client import ClientResponse, ClientSession
    from aioloom.client._cookie_seam import CookieJarLike  # a Protocol aioloom.client keeps private
    from aioloom.web import Application

__all__ = ("TestClient",)

_Client = TypeVar("_Client", bound="TestClient")
_T = TypeVar("_T")


class TestClient:
    """A client session bound to one test server (aiohttp's ``TestClient``).

    Create it in a running event loop (the session needs one).

    Args:
        server: a :class:`TestServer` or :class:`RawTestServer` (started by
            :meth:`start_server` or ``async with``).
        cookie_jar: the session's jar; default: ``CookieJar(unsafe=True)``.
        **kwargs: passed to :class:`~aioloom.client.ClientSession` (``headers``,
            ``timeout``, ``raise_for_status``, ``connector``...).

    Raises:
        TypeError: ``server`` is not a test server.
        RuntimeError: no event loop is running.
    """

    __test__ = False  # a helper, not a test class for pytest to collect

    def __init__(
        self,
        server: BaseTestServer,
        *,
        cookie_jar: CookieJarLike | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(server, BaseTestServer):
            raise TypeError(f"server must be a TestServer instance, found type: {type(server)!r}")
        from aioloom.client import ClientSession, CookieJar

        self._server = server
        if cookie_jar is None:
            cookie_jar = CookieJar(unsafe=True)
        self._session = ClientSession(cookie_jar=cookie_jar, **kwargs)
        self._closed = False
        self._responses: list[ClientResponse] = []
        self._websockets: list[Any] = []

    async def start_server(self) -> None:
        """Start the server (nothing happens when it runs already)."""
        await self._server.start_server()

    @property
    def scheme(self) -> str:
        """The server's URL scheme."""
        return self._server.scheme

    @property
    def host(self) -> str:
        """The server's address."""
        return self._server.host

    @property
    def port(self) -> int | None:
        """The server's port (None before it starts)."""
        return self._server.port

    @property
    def server(self) -> BaseTestServer:
        """The test server."""
        return self._server

    @property
    def app(self) -> Application | None:
        """The server's application (None for a :class:`RawTestServer`)."""
        app: Application | None = getattr(self._server, "app", None)
        return app

    @property
    def session(self) -> ClientSession:
        """The underlying session; its methods need absolute URLs (see :meth:`make_url`)."""
        return self._session

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def make_url(self, path: str | URL) -> URL:
        """The absolute URL of ``path`` on the server."""
        return self._server.make_url(path)

    async def _request(self, method: str, path: str | URL, **kwargs: Any) -> ClientResponse:
        resp = await self._session.request(method, self.make_url(path), **kwargs)
        self._responses.append(resp)  # released at close() if the test did not
        return resp

    def request(self, method: str, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a request to ``path``: ``await`` it, or use it with ``async with``.

        The options are :meth:`ClientSession.request`'s.
        """
        return _Context(self._request(method, path, **kwargs))

    def get(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a GET request."""
        return _Context(self._request("GET", path, **kwargs))

    def post(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a POST request."""
        return _Context(self._request("POST", path, **kwargs))

    def options(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send an OPTIONS request."""
        return _Context(self._request("OPTIONS", path, **kwargs))

    def head(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a HEAD request."""
        kwargs.setdefault("allow_redirects", False)  # as ClientSession.head
        return _Context(self._request("HEAD", path, **kwargs))

    def put(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a PUT request."""
        return _Context(self._request("PUT", path, **kwargs))

    def patch(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a PATCH request."""
        return _Context(self._request("PATCH", path, **kwargs))

    def delete(self, path: str | URL, **kwargs: Any) -> _Context[ClientResponse]:
        """Send a DELETE request."""
        return _Context(self._request("DELETE", path, **kwargs))

    def ws_connect(self, path: str | URL, **kwargs: Any) -> _Context[Any]:
        """Open a WebSocket to ``path`` through the session's ``ws_connect``.

        ``await`` the result, or use it with ``async with`` (the WebSocket is closed on
        exit). WebSockets still open are closed by :meth:`close`.

        Raises:
            ImportError: the client's WebSocket support is not installed (the session
                names the ``pip install`` command).
        """
        return _Context(self._ws_connect(path, **kwargs))

    async def _ws_connect(self, path: str | URL, **kwargs: Any) -> Any:
        ws = await self._session.ws_connect(self.make_url(path), **kwargs)
        self._websockets.append(ws)
        return ws

    async def close(self) -> None:
        """Release the responses, close the WebSockets, the session and the server.

        Idempotent; also run by ``async with`` and by the ``aioloom_client`` fixture.
        """
        if self._closed:
            return
        self._closed = True
        try:
            for resp in self._responses:
                resp.close()
            for ws in self._websockets:
                await ws.close()
            await self._session.close()
        finally:
            await self._server.close()

    async def __aenter__(self: _Client) -> _Client:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _Context(Generic[_T]):
    """What the request methods return: awaitable, and an async context manager.

    ``await`` gives the result (a response, a WebSocket); ``async with`` gives it too and
    exits it on the way out (a response is released, a WebSocket closed).
    """

    __slots__ = ("_coro", "_result")

    def __init__(self, coro: Coroutine[Any, Any, _T]) -> None:
        self._coro = coro
        self._result: Any = None

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()

    async def __aenter__(self) -> _T:
        self._result = await self._coro
        entered: _T = await self._result.__aenter__()
        return entered

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._result.__aexit__(exc_type, exc, tb)
