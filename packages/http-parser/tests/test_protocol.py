"""Tests for aioloom.http.aio._protocol.BaseProtocol: drain waiters and read flow control."""

from __future__ import annotations

import asyncio
import socket

import pytest

from aioloom.http.aio._protocol import BaseProtocol


class RecordingTransport(asyncio.Transport):
    """A transport that records flow-control calls (optionally failing them)."""

    def __init__(self, error: type[BaseException] | None = None) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.error = error
        self.reading = True

    def pause_reading(self) -> None:
        self.calls.append("pause")
        if self.error is not None:
            raise self.error("no flow control")
        self.reading = False

    def resume_reading(self) -> None:
        self.calls.append("resume")
        if self.error is not None:
            raise self.error("no flow control")
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


def connected_protocol(loop: asyncio.AbstractEventLoop) -> BaseProtocol:
    protocol = BaseProtocol(loop)
    protocol.connection_made(RecordingTransport())
    return protocol


async def test_initial_state(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    assert protocol.transport is None
    assert protocol.connected is False
    assert protocol.writing_paused is False
    assert protocol.reading_paused is False


async def test_connection_made_and_lost(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    assert protocol.transport is transport
    assert protocol.connected is True
    protocol.connection_lost(None)
    assert protocol.transport is None
    assert protocol.connected is False


async def test_drain_returns_at_once_when_not_paused(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    await asyncio.wait_for(protocol._drain_helper(), 1)
    assert protocol._drain_waiters == []


async def test_drain_before_connection_raises(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    with pytest.raises(ConnectionResetError, match="^Connection lost$"):
        await protocol._drain_helper()


async def test_drain_after_connection_lost_raises(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.connection_lost(None)
    with pytest.raises(ConnectionResetError, match="^Connection lost$"):
        await protocol._drain_helper()


async def test_drain_waits_while_paused(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.pause_writing()
    assert protocol.writing_paused is True
    task = loop.create_task(protocol._drain_helper())
    await asyncio.sleep(0.01)
    assert not task.done()
    protocol.resume_writing()
    assert protocol.writing_paused is False
    await asyncio.wait_for(task, 1)
    assert protocol._drain_waiters == []


async def test_all_concurrent_drain_waiters_are_woken(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.pause_writing()
    tasks = [loop.create_task(protocol._drain_helper()) for _ in range(5)]
    done, _ = await asyncio.wait(tasks, timeout=0.05)
    assert not done, "every drain must wait while writing is paused"
    protocol.resume_writing()
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert protocol._drain_waiters == []


async def test_cancelled_waiter_does_not_disturb_others(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.pause_writing()
    first = loop.create_task(protocol._drain_helper())
    second = loop.create_task(protocol._drain_helper())
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert len(protocol._drain_waiters) == 1
    assert not second.done()
    protocol.resume_writing()
    await asyncio.wait_for(second, 1)
    assert protocol._drain_waiters == []


async def test_connection_lost_fails_every_waiter_with_cause(
    loop: asyncio.AbstractEventLoop,
) -> None:
    protocol = connected_protocol(loop)
    protocol.pause_writing()
    tasks = [loop.create_task(protocol._drain_helper()) for _ in range(3)]
    await asyncio.sleep(0)
    cause = OSError("reset by peer")
    protocol.connection_lost(cause)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        assert isinstance(result, ConnectionResetError)
        assert str(result) == "Connection lost"
        assert result.__cause__ is cause
    assert protocol._drain_waiters == []


async def test_clean_connection_lost_fails_waiter(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.pause_writing()
    task = loop.create_task(protocol._drain_helper())
    await asyncio.sleep(0)
    protocol.connection_lost(None)
    with pytest.raises(ConnectionResetError) as info:
        await task
    assert info.value.__cause__ is None


async def test_resume_writing_without_waiters(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.resume_writing()
    protocol.pause_writing()
    protocol.pause_writing()
    assert protocol.writing_paused is True
    protocol.resume_writing()
    assert protocol.writing_paused is False


async def test_pause_and_resume_reading_are_idempotent(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.resume_reading()  # not paused: nothing to do
    protocol.pause_reading()
    protocol.pause_reading()
    assert protocol.reading_paused is True
    assert transport.is_reading() is False
    protocol.resume_reading()
    protocol.resume_reading()
    assert protocol.reading_paused is False
    assert transport.calls == ["pause", "resume"]


async def test_pause_reading_without_transport(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    protocol.pause_reading()
    assert protocol.reading_paused is True
    protocol.resume_reading()
    assert protocol.reading_paused is False


@pytest.mark.parametrize("error", [NotImplementedError, AttributeError, RuntimeError])
async def test_transport_without_flow_control_is_tolerated(
    loop: asyncio.AbstractEventLoop, error: type[BaseException]
) -> None:
    protocol = BaseProtocol(loop)
    transport = RecordingTransport(error)
    protocol.connection_made(transport)
    protocol.pause_reading()
    protocol.resume_reading()
    assert transport.calls == ["pause", "resume"]
    assert protocol.reading_paused is False


async def test_stub_asyncio_transport_is_tolerated(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    protocol.connection_made(asyncio.Transport())  # raises NotImplementedError
    protocol.pause_reading()
    assert protocol.reading_paused is True
    protocol.resume_reading()
    assert protocol.reading_paused is False


async def test_unexpected_transport_error_propagates(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    protocol.connection_made(RecordingTransport(ValueError))
    with pytest.raises(ValueError):
        protocol.pause_reading()


async def test_pause_requested_before_connection_applies(
    loop: asyncio.AbstractEventLoop,
) -> None:
    protocol = BaseProtocol(loop)
    protocol.pause_reading()
    transport = RecordingTransport()
    protocol.connection_made(transport)
    assert transport.calls == ["pause"]
    assert transport.is_reading() is False


async def test_pause_before_connection_tolerates_transport_errors(
    loop: asyncio.AbstractEventLoop,
) -> None:
    protocol = BaseProtocol(loop)
    protocol.pause_reading()
    transport = RecordingTransport(NotImplementedError)
    protocol.connection_made(transport)
    assert transport.calls == ["pause"]
    assert protocol.reading_paused is True


async def test_connection_lost_skips_cancelled_waiter(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.pause_writing()
    cancelled = loop.create_task(protocol._drain_helper())
    waiting = loop.create_task(protocol._drain_helper())
    await asyncio.sleep(0)
    cancelled.cancel()  # its future is cancelled now, its finally: has not run yet
    protocol.connection_lost(None)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    with pytest.raises(ConnectionResetError):
        await waiting


async def test_pause_reading_after_connection_lost(loop: asyncio.AbstractEventLoop) -> None:
    protocol = connected_protocol(loop)
    protocol.connection_lost(None)
    protocol.pause_reading()
    protocol.resume_reading()
    assert protocol.reading_paused is False


class _Sink(asyncio.Protocol):
    """Server side that can stop and start reading (a slow peer)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += len(data)


async def test_real_socket_write_back_pressure(loop: asyncio.AbstractEventLoop) -> None:
    sinks: list[_Sink] = []

    def make_sink() -> _Sink:
        sink = _Sink()
        sinks.append(sink)
        return sink

    server = await loop.create_server(make_sink, "127.0.0.1", 0)
    # Small kernel buffers on both ends (accepted sockets inherit the listener's).
    server.sockets[0].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = server.sockets[0].getsockname()[1]
    transport, protocol = await loop.create_connection(
        lambda: BaseProtocol(loop), "127.0.0.1", port
    )
    try:
        assert isinstance(protocol, BaseProtocol)
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        transport.set_write_buffer_limits(high=16 * 1024)
        for _ in range(100):
            if sinks and sinks[0].transport is not None:
                break
            await asyncio.sleep(0.01)
        peer = sinks[0]
        assert peer.transport is not None
        peer.transport.pause_reading()
        chunk = b"x" * 65536
        sent = 0
        for _ in range(2000):  # fill the kernel buffers until asyncio pauses us
            transport.write(chunk)
            sent += len(chunk)
            if protocol.writing_paused:
                break
            await asyncio.sleep(0)
        assert protocol.writing_paused, "the transport never paused writing"
        # Far more than any kernel buffer holds: the transport stays paused until the
        # peer reads again.
        backlog = b"y" * (8 * 2**20)
        transport.write(backlog)
        sent += len(backlog)
        drain = loop.create_task(protocol._drain_helper())
        await asyncio.sleep(0.05)
        assert not drain.done(), "drain must wait while the peer does not read"
        peer.transport.resume_reading()
        await asyncio.wait_for(drain, 10)
        assert protocol.writing_paused is False
        for _ in range(1000):
            if peer.received == sent:
                break
            await asyncio.sleep(0.01)
        assert peer.received == sent
    finally:
        transport.close()
        server.close()
        await server.wait_closed()


async def test_real_socket_pause_reading(loop: asyncio.AbstractEventLoop) -> None:
    server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport, protocol = await loop.create_connection(
            lambda: BaseProtocol(loop), "127.0.0.1", port
        )
        assert isinstance(protocol, BaseProtocol)
        assert transport.is_reading() is True
        protocol.pause_reading()
        assert transport.is_reading() is False
        protocol.resume_reading()
        assert transport.is_reading() is True
        transport.close()
        await asyncio.sleep(0)
        protocol.pause_reading()  # a closing transport is tolerated
        assert protocol.reading_paused is True
    finally:
        server.close()
        await server.wait_closed()
