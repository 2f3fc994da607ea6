"""Timeouts: the deadline machinery alone, then every ClientTimeout field end to end."""

from __future__ import annotations

import asyncio
import time

import pytest

from aioloom.client._exceptions import (
    ClientError,
    ConnectionTimeoutError,
    ServerTimeoutError,
    SocketTimeoutError,
)
from aioloom.client._session import ClientSession
from aioloom.client._tcp import TCPConnector
from aioloom.client._timeouts import (
    ClientTimeout,
    ClientWSTimeout,
    Deadline,
    IdleTimer,
    TimeoutScope,
    TimerContext,
    deadline_at,
)

# -- the machinery ----------------------------------------------------------------------------


def test_client_timeout_fields_and_immutability() -> None:
    timeout = ClientTimeout(total=1, connect=2, sock_read=3, sock_connect=4, ceil_threshold=6)
    assert (timeout.total, timeout.connect, timeout.sock_read, timeout.sock_connect) == (1, 2, 3, 4)
    assert timeout.ceil_threshold == 6
    assert ClientTimeout() == ClientTimeout(None, None, None, None, 5)
    with pytest.raises(AttributeError):
        timeout.total = 5  # type: ignore[misc]
    ws = ClientWSTimeout(ws_receive=1.5)
    assert ws.ws_receive == 1.5 and ws.ws_close is None


async def test_deadline_at_ceils_long_timeouts() -> None:
    loop = asyncio.get_running_loop()
    assert deadline_at(loop, None) is None
    assert deadline_at(loop, 0) is None
    assert deadline_at(loop, -1) is None
    short = deadline_at(loop, 1, ceil_threshold=5)
    assert short is not None and abs(short - (loop.time() + 1)) < 0.1
    long = deadline_at(loop, 10, ceil_threshold=5)
    assert long == int(long)


async def test_timer_context_turns_its_cancel_into_timeout() -> None:
    loop = asyncio.get_running_loop()
    timer = TimerContext(loop)
    loop.call_later(0.01, timer.timeout)
    with pytest.raises(asyncio.TimeoutError):
        with timer:
            await asyncio.sleep(5)
    assert timer.fired
    with pytest.raises(asyncio.TimeoutError):
        timer.assert_timeout()
    with pytest.raises(asyncio.TimeoutError):
        with timer:  # entering a fired timer fails at once
            pass


async def test_timer_context_passes_foreign_cancellation_through() -> None:
    loop = asyncio.get_running_loop()
    timer = TimerContext(loop)

    async def body() -> None:
        with timer:
            await asyncio.sleep(5)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not timer.fired


def test_timer_context_needs_a_task() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="inside a task"):
            with TimerContext(loop):
                pass
    finally:
        loop.close()


async def test_deadline_and_scope() -> None:
    loop = asyncio.get_running_loop()
    assert Deadline(loop, None).timer is None
    deadline = Deadline(loop, 0.01)
    assert deadline.timer is not None
    with pytest.raises(asyncio.TimeoutError):
        with deadline.timer:
            await asyncio.sleep(5)
    disarmed = Deadline(loop, 0.01)
    disarmed.cancel()
    assert disarmed.timer is not None
    with disarmed.timer:
        await asyncio.sleep(0.03)
    with pytest.raises(asyncio.TimeoutError):
        with TimeoutScope(loop, 0.01):
            await asyncio.sleep(5)
    with TimeoutScope(loop, None):
        await asyncio.sleep(0)


async def test_idle_timer_rearms_while_touched() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    timer = IdleTimer(loop, 0.05, 5, lambda: fired.append(loop.time()))
    start = loop.time()
    timer.start()
    assert timer.active
    for _ in range(4):
        await asyncio.sleep(0.03)
        timer.touch()
    assert not fired
    await asyncio.sleep(0.1)
    assert len(fired) == 1
    assert fired[0] - start >= 0.15
    assert not timer.active
    disabled = IdleTimer(loop, None, 5, lambda: fired.append(0))
    disabled.start()
    assert not disabled.active
    stopped = IdleTimer(loop, 0.01, 5, lambda: fired.append(0))
    stopped.start()
    stopped.stop()
    await asyncio.sleep(0.03)
    assert len(fired) == 1


# -- end to end -------------------------------------------------------------------------------


async def silent(conn) -> None:
    await conn.read_request()
    await asyncio.sleep(30)


async def test_sock_read_on_a_server_that_never_answers(serve) -> None:
    async with serve(silent) as srv, ClientSession() as session:
        start = time.monotonic()
        with pytest.raises(SocketTimeoutError) as info:
            await session.get(srv.url(), timeout=ClientTimeout(sock_read=0.2))
        assert 0.15 < time.monotonic() - start < 2
    assert isinstance(info.value, ServerTimeoutError)
    assert isinstance(info.value, asyncio.TimeoutError)
    assert isinstance(info.value, ClientError)
    assert "Timeout on reading data from socket" in str(info.value)


async def test_sock_read_between_body_chunks(serve) -> None:
    async def slow_body(conn) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfive!")
        await conn.writer.drain()
        await asyncio.sleep(30)

    async with serve(slow_body) as srv, ClientSession() as session:
        async with session.get(srv.url(), timeout=ClientTimeout(sock_read=0.2)) as resp:
            assert await resp.content.read(5) == b"five!"
            with pytest.raises(SocketTimeoutError):
                await resp.content.read()


async def test_sock_read_does_not_fire_while_data_flows(serve) -> None:
    async def trickle(conn) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
        for _ in range(8):
            await asyncio.sleep(0.05)
            conn.write(b"x")
        await conn.writer.drain()
        await conn.reader.read()

    async with serve(trickle) as srv, ClientSession() as session:
        async with session.get(srv.url(), timeout=ClientTimeout(sock_read=0.15)) as resp:
            assert await resp.read() == b"x" * 8


async def test_total_timeout_covers_the_body(serve) -> None:
    async def slow_body(conn) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await conn.writer.drain()
        await asyncio.sleep(30)

    async with serve(slow_body) as srv, ClientSession() as session:
        resp = await session.get(srv.url(), timeout=ClientTimeout(total=0.3))
        start = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await resp.read()
        assert time.monotonic() - start < 2
        resp.close()


async def test_total_timeout_on_a_server_that_never_answers(serve) -> None:
    async with serve(silent) as srv, ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.get(srv.url(), timeout=ClientTimeout(total=0.2))
        with pytest.raises(asyncio.TimeoutError):
            await session.get(srv.url(), timeout=0.2)  # a number is the total


async def test_session_default_timeout_applies(serve) -> None:
    async with serve(silent) as srv:
        async with ClientSession(timeout=ClientTimeout(sock_read=0.1)) as session:
            with pytest.raises(SocketTimeoutError):
                await session.get(srv.url())


async def test_timeout_none_disables_everything(serve, handler_for, make_response) -> None:
    async with serve(handler_for(lambda r: make_response(200, b"ok"))) as srv:
        async with ClientSession(timeout=ClientTimeout(total=0.001)) as session:
            async with session.get(srv.url(), timeout=None) as resp:
                assert await resp.read() == b"ok"


async def test_connect_timeout_while_waiting_for_a_pool_slot(serve) -> None:
    async with serve(silent) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:
            first = asyncio.ensure_future(session.get(srv.url()))
            await asyncio.sleep(0.05)
            with pytest.raises(ConnectionTimeoutError) as info:
                await session.get(srv.url(), timeout=ClientTimeout(connect=0.1))
            assert "Connection timeout to host" in str(info.value)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first


async def test_sock_connect_covers_a_tls_handshake_that_never_ends(serve, client_ssl_ctx) -> None:
    async def mute(conn) -> None:
        await asyncio.sleep(30)  # accepts TCP, never speaks TLS

    async with serve(mute) as srv, ClientSession() as session:
        url = srv.url().with_scheme("https")
        start = time.monotonic()
        with pytest.raises(ConnectionTimeoutError):
            await session.get(url, ssl=client_ssl_ctx, timeout=ClientTimeout(sock_connect=0.2))
        assert time.monotonic() - start < 2


async def test_timeouts_leave_the_pool_healthy(serve) -> None:
    async def first_silent(conn) -> None:
        while (request := await conn.read_request()) is not None:
            if conn.index == 1:
                await asyncio.sleep(30)
            conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await conn.writer.drain()
            del request

    async with serve(first_silent) as srv, ClientSession() as session:
        with pytest.raises(SocketTimeoutError):
            await session.get(srv.url(), timeout=ClientTimeout(sock_read=0.1))
        async with session.get(srv.url()) as resp:
            assert await resp.read() == b"ok"
    assert srv.connections == 2


async def test_sock_read_does_not_count_a_slow_upload(serve) -> None:
    async def slow_reader(conn) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        assert b"chunked" in head
        body = b""
        while not body.endswith(b"0\r\n\r\n"):
            body += await conn.reader.read(65536)
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")
        await conn.writer.drain()
        await conn.reader.read()

    async def slow_body():
        for _ in range(4):
            await asyncio.sleep(0.1)
            yield b"piece"

    async with serve(slow_reader) as srv, ClientSession() as session:
        timeout = ClientTimeout(sock_read=0.15)
        async with session.post(srv.url(), data=slow_body(), timeout=timeout) as resp:
            assert await resp.read() == b"done"


async def test_sock_read_runs_while_waiting_for_100_continue(serve) -> None:
    async with serve(silent) as srv, ClientSession() as session:
        timeout = ClientTimeout(sock_read=0.15)
        with pytest.raises(SocketTimeoutError):
            await session.post(srv.url(), data=b"x", expect100=True, timeout=timeout)
