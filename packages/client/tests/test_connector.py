"""The connection pool: keep-alive reuse (counted on the server), limits and FIFO
fairness, keep-alive expiry, dead pooled connections, closing, and warnings."""

from __future__ import annotations

import asyncio
import gc
import socket

import pytest

from aioloom.client._connection import Connection
from aioloom.client._connector import BaseConnector
from aioloom.client._exceptions import (
    ClientConnectionError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ServerDisconnectedError,
    UnixClientConnectorError,
)
from aioloom.client._request import ClientRequest
from aioloom.client._resolver import AbstractResolver, ResolveResult
from aioloom.client._session import ClientSession
from aioloom.client._tcp import TCPConnector, UnixConnector
from aioloom.client._timeouts import ClientTimeout

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_keep_alive_reuses_one_connection(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv, ClientSession() as session:
        for _ in range(5):
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"ok"
    assert srv.connections == 1
    assert len(srv.requests) == 5


async def test_unread_body_closes_the_connection(serve, handler_for) -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + b"x" * 300000
    async with serve(handler_for(lambda r: big if r.target == "/big" else OK)) as srv:
        async with ClientSession() as session:
            async with session.get(srv.url("/big")) as resp:
                assert len(await resp.content.read(10)) == 10
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"ok"
    assert srv.connections == 2


async def test_body_read_to_end_returns_connection_without_release(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        assert await resp.read() == b"ok"
        assert resp.connection is None  # released by itself at the end of the body
        resp2 = await session.get(srv.url())
        await resp2.read()
    assert srv.connections == 1


async def test_limit_and_fifo_fairness(serve) -> None:
    gate = asyncio.Event()
    order: list[str] = []

    async def handler(conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.target == "/hold":
                await gate.wait()
            order.append(request.target)
            conn.write(OK)
            await conn.writer.drain()

    async with serve(handler) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:

            async def fetch(path: str) -> None:
                async with session.get(srv.url(path)) as resp:
                    await resp.read()

            holder = asyncio.ensure_future(fetch("/hold"))
            await asyncio.sleep(0.05)
            waiters = []
            for i in range(5):
                waiters.append(asyncio.ensure_future(fetch(f"/w{i}")))
                await asyncio.sleep(0.01)
            assert len(connector._waiters) == 5
            gate.set()
            await asyncio.gather(holder, *waiters)
    assert order == ["/hold", "/w0", "/w1", "/w2", "/w3", "/w4"]
    assert srv.connections == 1


async def test_limit_per_host(serve, handler_for) -> None:
    active = 0
    peak = 0

    async def respond(request) -> bytes:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        return OK

    async with serve(handler_for(respond)) as srv:
        connector = TCPConnector(limit_per_host=2)
        async with ClientSession(connector=connector) as session:

            async def fetch() -> bytes:
                async with session.get(srv.url()) as resp:
                    return await resp.read()

            results = await asyncio.gather(*(fetch() for _ in range(8)))
    assert results == [b"ok"] * 8
    assert peak == 2
    assert srv.connections == 2


async def test_cancelled_waiter_does_not_leak_its_slot(serve) -> None:
    gate = asyncio.Event()

    async def handler(conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.target == "/hold":
                await gate.wait()
            conn.write(OK)
            await conn.writer.drain()

    async with serve(handler) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:
            holder = asyncio.ensure_future(session.get(srv.url("/hold")))
            await asyncio.sleep(0.05)
            waiter = asyncio.ensure_future(session.get(srv.url("/w")))
            await asyncio.sleep(0.01)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            gate.set()
            resp = await holder
            await resp.read()
            async with session.get(srv.url("/after")) as after:
                assert await after.read() == b"ok"
            assert not connector._acquired


async def test_keepalive_timeout_expires_idle_connections(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv:
        connector = TCPConnector(keepalive_timeout=0.1, timeout_ceil_threshold=100)
        async with ClientSession(connector=connector) as session:
            async with session.get(srv.url()) as resp:
                await resp.read()
            assert connector._conns
            await asyncio.sleep(0.3)
            assert not connector._conns  # the cleanup timer closed it
            async with session.get(srv.url()) as resp:
                await resp.read()
    assert srv.connections == 2


async def test_dead_pooled_connection_is_retried_once_on_a_fresh_one(serve) -> None:
    async def handler(conn) -> None:
        request = await conn.read_request()
        if request is None:
            return
        conn.server.requests.append(request)
        conn.write(OK)  # advertises keep-alive ...
        await conn.writer.drain()
        # ... but closes as soon as the client is idle

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url("/1")) as resp:
            assert await resp.read() == b"ok"
        await asyncio.sleep(0)  # the close may or may not have been seen yet
        async with session.get(srv.url("/2")) as resp:
            assert await resp.read() == b"ok"
    assert [r.target for r in srv.requests] == ["/1", "/2"]
    assert srv.connections == 2


async def test_stale_connection_race_retried_for_idempotent_method(serve) -> None:
    """The server closes a pooled connection right when the next request goes out."""
    closes = []

    async def handler(conn) -> None:
        request = await conn.read_request()
        if request is None:
            return
        conn.server.requests.append(request)
        if conn.index == 1:
            conn.write(OK)
            await conn.writer.drain()
            await conn.read_request()  # the second request arrives on the stale one ...
            closes.append(1)
            return  # ... and the server closes without answering
        conn.write(OK)
        await conn.writer.drain()

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url("/1")) as resp:
            await resp.read()
        async with session.get(srv.url("/2")) as resp:
            assert await resp.read() == b"ok"
    assert closes == [1]
    assert srv.connections == 2


async def test_non_idempotent_request_is_not_retried(serve) -> None:
    async def handler(conn) -> None:
        request = await conn.read_request()
        if request is None:
            return
        conn.write(OK)
        await conn.writer.drain()
        await conn.read_request()  # swallow the POST and close

    async with serve(handler) as srv, ClientSession() as session:
        async with session.get(srv.url("/1")) as resp:
            await resp.read()
        with pytest.raises(ServerDisconnectedError):
            await session.post(srv.url("/2"), data=b"x")
    assert srv.connections == 1


async def test_fresh_connection_failure_is_not_retried(serve) -> None:
    async def handler(conn) -> None:
        await conn.read_request()

    async with serve(handler) as srv, ClientSession() as session:
        with pytest.raises(ServerDisconnectedError):
            await session.get(srv.url())
    assert srv.connections == 1


async def test_connection_refused_is_client_connector_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with ClientSession() as session:
        with pytest.raises(ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    error = info.value
    assert type(error) is ClientConnectorError
    assert error.host == "127.0.0.1"
    assert error.port == port
    assert error.ssl is True
    assert isinstance(error.os_error, ConnectionRefusedError)
    assert f"Cannot connect to host 127.0.0.1:{port} ssl:default" in str(error)


class FailingResolver(AbstractResolver):
    async def resolve(self, host, port=0, family=socket.AF_INET):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


class StaticResolver(AbstractResolver):
    def __init__(self, port: int) -> None:
        self.port = port
        self.calls = 0

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.calls += 1
        await asyncio.sleep(0.01)
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self.port,
                family=socket.AF_INET,
                proto=0,
                flags=0,
            )
        ]

    async def close(self) -> None:
        pass


async def test_dns_failure_is_client_connector_dns_error() -> None:
    connector = TCPConnector(resolver=FailingResolver())
    async with ClientSession(connector=connector) as session:
        with pytest.raises(ClientConnectorDNSError) as info:
            await session.get("http://no-such-host.invalid/")
    assert info.value.host == "no-such-host.invalid"
    assert isinstance(info.value.os_error, socket.gaierror)


async def test_dns_cache_shares_one_lookup(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv:
        resolver = StaticResolver(srv.port)
        connector = TCPConnector(resolver=resolver, force_close=True)
        async with ClientSession(connector=connector) as session:

            async def fetch() -> bytes:
                async with session.get(f"http://example.test:{srv.port}/") as resp:
                    return await resp.read()

            assert await asyncio.gather(*(fetch() for _ in range(4))) == [b"ok"] * 4
            assert resolver.calls == 1
            await fetch()
            assert resolver.calls == 1
            connector.clear_dns_cache("example.test", srv.port)
            await fetch()
            assert resolver.calls == 2
            with pytest.raises(ValueError):
                connector.clear_dns_cache("example.test")
            connector.clear_dns_cache()
            await fetch()
            assert resolver.calls == 3


async def test_dns_cache_disabled(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv:
        resolver = StaticResolver(srv.port)
        connector = TCPConnector(resolver=resolver, use_dns_cache=False, force_close=True)
        assert connector.use_dns_cache is False
        async with ClientSession(connector=connector) as session:
            for _ in range(2):
                async with session.get(f"http://example.test:{srv.port}/") as resp:
                    await resp.read()
    assert resolver.calls == 2


async def test_local_addr_and_family(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv:
        connector = TCPConnector(local_addr=("127.0.0.1", 0), family=socket.AF_INET)
        assert connector.family == socket.AF_INET
        async with ClientSession(connector=connector) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"ok"


async def test_socket_factory_is_used(serve, handler_for) -> None:
    made = []

    def factory(info):
        made.append(info[0])
        return socket.socket(info[0], info[1], info[2])

    async with serve(handler_for(lambda r: OK)) as srv:
        connector = TCPConnector(socket_factory=factory)
        async with ClientSession(connector=connector) as session:
            async with session.get(srv.url()) as resp:
                await resp.read()
    assert made == [socket.AF_INET]


async def test_happy_eyeballs_falls_back_to_the_next_address(serve, handler_for) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()

    async with serve(handler_for(lambda r: OK)) as srv:

        class TwoAddresses(AbstractResolver):
            async def resolve(self, host, port=0, family=socket.AF_INET):
                return [
                    ResolveResult(
                        hostname=host,
                        host="127.0.0.1",
                        port=dead_port,
                        family=socket.AF_INET,
                        proto=0,
                        flags=0,
                    ),
                    ResolveResult(
                        hostname=host,
                        host="127.0.0.1",
                        port=srv.port,
                        family=socket.AF_INET,
                        proto=0,
                        flags=0,
                    ),
                ]

            async def close(self) -> None:
                pass

        for delay in (0.25, None):
            connector = TCPConnector(resolver=TwoAddresses(), happy_eyeballs_delay=delay)
            async with ClientSession(connector=connector) as session:
                async with session.get("http://two.test/") as resp:
                    assert await resp.read() == b"ok"


async def test_unix_connector(tmp_path, handler_for) -> None:
    path = str(tmp_path / "sock")
    served = []

    async def on_connect(reader, writer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        served.append(head)
        writer.write(OK)
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(on_connect, path)
    try:
        connector = UnixConnector(path)
        assert connector.path == path
        async with ClientSession(connector=connector) as session:
            async with session.get("http://localhost/unix") as resp:
                assert await resp.read() == b"ok"
    finally:
        server.close()
        await server.wait_closed()
    assert served[0].startswith(b"GET /unix HTTP/1.1\r\nHost: localhost\r\n")


async def test_unix_connector_error(tmp_path) -> None:
    path = str(tmp_path / "missing.sock")
    async with ClientSession(connector=UnixConnector(path)) as session:
        with pytest.raises(UnixClientConnectorError) as info:
            await session.get("http://localhost/")
    assert info.value.path == path
    assert f"Cannot connect to unix socket {path}" in str(info.value)


async def test_closed_connector_refuses_and_fails_waiters(serve) -> None:
    gate = asyncio.Event()

    async def handler(conn) -> None:
        await conn.read_request()
        await gate.wait()

    async with serve(handler) as srv:
        connector = TCPConnector(limit=1)
        session = ClientSession(connector=connector)
        first = asyncio.ensure_future(session.get(srv.url()))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(session.get(srv.url()))
        await asyncio.sleep(0.01)
        await session.close()
        gate.set()
        with pytest.raises(ClientConnectionError):
            await second
        with pytest.raises((ServerDisconnectedError, ClientConnectionError)):
            await first
        assert connector.closed
        with pytest.raises(ClientConnectionError, match="Connector is closed"):
            req = ClientRequest("GET", srv.url())
            await connector.connect(req, timeout=ClientTimeout())


async def test_unclosed_connector_warns(serve, handler_for) -> None:
    loop = asyncio.get_running_loop()
    contexts = []
    loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
    try:
        async with serve(handler_for(lambda r: OK)) as srv:
            connector = TCPConnector()
            session = ClientSession(connector=connector, connector_owner=False)
            async with session.get(srv.url()) as resp:
                await resp.read()
            await session.close()
            assert connector._conns
            with pytest.warns(ResourceWarning, match="Unclosed connector"):
                del connector, session, resp
                gc.collect()
            await asyncio.sleep(0.01)
    finally:
        loop.set_exception_handler(None)
    assert contexts[0]["message"] == "Unclosed connector"


async def test_connection_object(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as srv:
        connector = TCPConnector()
        try:
            req = ClientRequest("GET", srv.url())
            conn = await connector.connect(req, timeout=ClientTimeout())
            assert isinstance(conn, Connection)
            assert not conn.closed
            assert conn.transport is not None
            assert conn.key == req.connection_key
            released = []
            conn.add_callback(lambda: released.append(1))
            conn.release()  # never used: still reusable
            assert released == [1]
            assert conn.closed and conn.protocol is None
            assert len(connector._conns[req.connection_key]) == 1
            again = await connector.connect(req, timeout=ClientTimeout())
            assert again.reused
            again.close()
            assert req.connection_key not in connector._conns
        finally:
            await connector.close()


async def test_force_close_and_keepalive_conflict() -> None:
    with pytest.raises(ValueError, match="keepalive_timeout cannot be set"):
        TCPConnector(force_close=True, keepalive_timeout=10)
    connector = TCPConnector(force_close=True, limit=7, limit_per_host=3)
    assert connector.force_close
    assert connector.limit == 7
    assert connector.limit_per_host == 3
    await connector.close()


def test_connector_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        TCPConnector()


async def test_base_connector_is_abstract() -> None:
    with pytest.raises(TypeError, match="_create_connection"):
        BaseConnector()  # type: ignore[abstract]


async def test_session_and_connector_loops_must_match() -> None:
    other = asyncio.new_event_loop()
    try:
        connector = TCPConnector()
        connector._loop = other  # simulate a connector made on another loop
        with pytest.raises(RuntimeError, match="same event loop"):
            ClientSession(connector=connector)
    finally:
        other.close()


async def test_stale_retry_goes_to_a_fresh_connection(serve) -> None:
    gate = asyncio.Event()

    async def handler(conn) -> None:
        request = await conn.read_request()
        if request is None:
            return
        conn.server.requests.append(request)
        if conn.index <= 3:
            await gate.wait()  # the first three are answered together ...
            conn.write(OK)
            await conn.writer.drain()
            await conn.read_request()  # ... then each drops the next request unanswered
            return
        conn.write(OK)
        await conn.writer.drain()

    async with serve(handler) as srv, ClientSession() as session:

        async def fetch(path: str) -> bytes:
            async with session.get(srv.url(path)) as resp:
                return await resp.read()

        first = [asyncio.ensure_future(fetch(f"/{i}")) for i in range(3)]
        await asyncio.sleep(0.05)
        gate.set()
        assert await asyncio.gather(*first) == [b"ok"] * 3
        assert await fetch("/retry") == b"ok"
    assert srv.connections == 4  # one stale attempt, then a fresh connection


def test_interleave_and_combined_errors() -> None:
    from aioloom.client._tcp import _combined, _interleave

    v6 = [(socket.AF_INET6, 1, 6, "", (f"::{i}", 80, 0, 0)) for i in range(1, 4)]
    v4 = [(socket.AF_INET, 1, 6, "", (f"10.0.0.{i}", 80)) for i in range(1, 3)]
    order = [info[4][0] for info in _interleave(v6 + v4, 1)]
    assert order == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]
    order2 = [info[4][0] for info in _interleave(v6 + v4, 2)]
    assert order2 == ["::1", "::2", "10.0.0.1", "::3", "10.0.0.2"]
    assert _interleave(v4, 1) == v4
    same = [ConnectionRefusedError(111, "refused"), ConnectionRefusedError(111, "refused")]
    assert _combined(same) is same[0]
    mixed = _combined([ConnectionRefusedError(111, "refused"), OSError(113, "no route")])
    assert "Multiple exceptions" in str(mixed)
    assert "refused" in str(mixed) and "no route" in str(mixed)
    assert str(_combined([])) == "connection failed"
