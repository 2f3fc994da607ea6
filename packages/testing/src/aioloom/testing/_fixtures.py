"""What the pytest fixtures ``aioloom_client``, ``aioloom_server`` and ``aioloom_raw_server`` are.

Each fixture's value is a factory object: awaiting it starts a server (and a client) and
remembers it; :meth:`close` (run by the fixture's teardown, whether the test passed or
not) closes everything it made, newest first. The classes double as type annotations for
test functions::

    async def test_hello(aioloom_client: AioloomClient) -> None:
        client = await aioloom_client(make_app())
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._client import TestClient
from ._server import BaseTestServer, RawTestServer, TestServer

if TYPE_CHECKING:
    from aioloom.web import Application, BaseRequest, StreamResponse

__all__ = ("AioloomClient", "AioloomRawServer", "AioloomServer")


class _Closable(Protocol):
    async def close(self) -> None: ...


async def _close_all(items: list[Any]) -> None:
    """Close every item, newest first, even when one fails; then raise the first error."""
    error: BaseException | None = None
    while items:
        item: _Closable = items.pop()
        try:
            await item.close()
        except BaseException as exc:  # each item must be tried
            if error is None:
                error = exc
    if error is not None:
        raise error


class AioloomServer:
    """The ``aioloom_server`` fixture: ``await aioloom_server(app, *, port=None, **kwargs)``.

    ``kwargs`` go to :meth:`TestServer.start_server` (``ssl``, ``shutdown_timeout``,
    server options). Returns the started :class:`TestServer`.
    """

    def __init__(self) -> None:
        self._servers: list[TestServer] = []

    async def __call__(
        self, app: Application, *, port: int | None = None, **kwargs: Any
    ) -> TestServer:
        server = TestServer(app, port=port)
        await server.start_server(**kwargs)
        self._servers.append(server)
        return server

    async def close(self) -> None:
        """Close every server this fixture started."""
        await _close_all(self._servers)


class AioloomRawServer:
    """The ``aioloom_raw_server`` fixture: ``await aioloom_raw_server(handler, *, port=None)``.

    ``kwargs`` go to :meth:`RawTestServer.start_server`. Returns the started
    :class:`RawTestServer`.
    """

    def __init__(self) -> None:
        self._servers: list[RawTestServer] = []

    async def __call__(
        self,
        handler: Callable[[BaseRequest], Awaitable[StreamResponse]],
        *,
        port: int | None = None,
        **kwargs: Any,
    ) -> RawTestServer:
        server = RawTestServer(handler, port=port)
        await server.start_server(**kwargs)
        self._servers.append(server)
        return server

    async def close(self) -> None:
        """Close every server this fixture started."""
        await _close_all(self._servers)


class AioloomClient:
    """The ``aioloom_client`` fixture: ``await aioloom_client(app_or_server, **kwargs)``.

    Given an :class:`~aioloom.web.Application`, it serves it on a new :class:`TestServer`
    (made with ``server_kwargs``); given a test server (:class:`TestServer`,
    :class:`RawTestServer`), it uses it. ``kwargs`` go to the client class (by default
    :class:`TestClient`, and so to its :class:`~aioloom.client.ClientSession`).

    Args:
        client_class: the client class (the ``aioloom_client_cls`` fixture).
    """

    def __init__(self, client_class: type[TestClient] = TestClient) -> None:
        self._client_class = client_class
        self._clients: list[TestClient] = []

    async def __call__(
        self,
        target: Application | BaseTestServer,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient:
        """Start a client (and its server) for ``target``.

        Raises:
            ValueError: ``target`` is neither an application nor a test server.
            TypeError: ``server_kwargs`` given with a server that exists already.
        """
        from aioloom.web import Application

        if isinstance(target, Application):
            server: BaseTestServer = TestServer(target, **(server_kwargs or {}))
        elif isinstance(target, BaseTestServer):
            if server_kwargs:
                raise TypeError("server_kwargs apply to an Application, not to a test server")
            server = target
        else:
            raise ValueError(f"Unknown argument type: {type(target)!r}")
        client = self._client_class(server, **kwargs)
        try:
            await client.start_server()
        except BaseException:
            await client.close()
            raise
        self._clients.append(client)
        return client

    async def close(self) -> None:
        """Close every client this fixture made (and so their servers)."""
        await _close_all(self._clients)
