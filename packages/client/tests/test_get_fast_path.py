"""The keep-alive GET path's shortcuts keep the behaviour of the long way round.

``async with session.get(...)`` releases the response without ClientResponse's own
``__aexit__`` coroutine when the class does not override it; the connection goes back to
the pool once (the protocol's ``should_close`` read by the connector alone); the protocol
dispatches parser events inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aioloom.client._response import ClientResponse
from aioloom.client._session import ClientSession

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def _ok(request: object) -> bytes:
    return _OK


async def test_context_exit_pools_the_connection(serve: Any, handler_for: Any) -> None:
    async with serve(handler_for(_ok)) as srv, ClientSession() as session:
        for _ in range(3):
            async with session.get(srv.url("/")) as resp:
                assert await resp.read() == b"hello"
            assert resp.connection is None
            assert resp.closed
        assert srv.connections == 1  # every request reused the pooled connection
        connector = session.connector
        assert connector is not None
        assert len(connector._conns) == 1


async def test_context_exit_releases_an_unread_body(serve: Any, handler_for: Any) -> None:
    async with serve(handler_for(_ok)) as srv, ClientSession() as session:
        async with session.get(srv.url("/")) as resp:
            assert resp.status == 200
        assert resp.closed
        assert resp.connection is None
        # The unread body made the connection unusable or it was drained: either way the
        # next request works.
        async with session.get(srv.url("/")) as resp:
            assert await resp.read() == b"hello"


async def test_overridden_aexit_is_still_called(serve: Any, handler_for: Any) -> None:
    exits: list[object] = []

    class Tracked(ClientResponse):
        async def __aexit__(self, *args: Any) -> None:
            exits.append(args[0])
            await super().__aexit__(*args)

    async with serve(handler_for(_ok)) as srv, ClientSession(response_class=Tracked) as session:
        async with session.get(srv.url("/")) as resp:
            assert await resp.read() == b"hello"
        assert exits == [None]
        assert resp.connection is None


async def test_overridden_wait_for_close_is_still_called(serve: Any, handler_for: Any) -> None:
    waits: list[int] = []

    class Tracked(ClientResponse):
        async def wait_for_close(self) -> None:
            waits.append(1)
            await super().wait_for_close()

    async with serve(handler_for(_ok)) as srv, ClientSession(response_class=Tracked) as session:
        async with session.get(srv.url("/")) as resp:
            assert await resp.read() == b"hello"
        assert waits == [1]


async def test_connection_release_reads_should_close_once(
    serve: Any, handler_for: Any, monkeypatch: Any
) -> None:
    from aioloom.client import _connection

    reads: list[int] = []
    original: Callable[[Any], bool] = _connection.ResponseHandler.should_close.fget  # type: ignore[attr-defined]

    def counting(self: Any) -> bool:
        reads.append(1)
        return original(self)

    monkeypatch.setattr(_connection.ResponseHandler, "should_close", property(counting))
    async with serve(handler_for(_ok)) as srv, ClientSession() as session:
        async with session.get(srv.url("/")) as resp:  # a new connection: no pool check
            assert await resp.read() == b"hello"
        assert reads == [1]  # the release, once (the connector's own read)
        assert srv.connections == 1
