"""Large compressed messages go to the executor, in order, and survive cancellation.

The connection writes to a recording transport; a peer ``WebSocketProtocol`` decodes the wire,
so every test also proves the DEFLATE stream (context takeover) stayed intact.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest

from aioloom.http.aio._protocol import BaseProtocol
from aioloom.websocket import DeflateParams, Role, WebSocketProtocol, WSMessage, WSMsgType
from aioloom.websocket.aio import COMPRESS_OFFLOAD_SIZE, WebSocketConnection

BIG = bytes(range(256)) * 200  # 51,200 bytes, over the 16 KiB threshold
OFFLOAD = 1024  # a smaller threshold keeps the tests quick


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


class RecordingExecutor(concurrent.futures.ThreadPoolExecutor):
    """Counts submissions and runs them on a worker thread, after ``gate`` opens."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            self.threads.append(threading.current_thread().name)
            assert self.gate.wait(5)
            return fn(*args, **kwargs)

        return super().submit(run)


class Pair:
    def __init__(self, role: Role = Role.CLIENT, **kwargs: Any) -> None:
        self.loop = asyncio.get_running_loop()
        self.executor = RecordingExecutor()
        self.loop.set_default_executor(self.executor)
        self.transport = Transport()
        self.protocol = BaseProtocol(self.loop)
        self.protocol.connection_made(self.transport)
        params = DeflateParams()
        kwargs.setdefault("offload_size", OFFLOAD)
        self.conn = WebSocketConnection(
            role,
            self.protocol,
            loop=self.loop,
            close_transport=self.transport.close,
            compress=params,
            close_timeout=0.5,
            **kwargs,
        )
        peer = Role.SERVER if role is Role.CLIENT else Role.CLIENT
        self.peer = WebSocketProtocol(peer, compress=params, max_msg_size=0)
        self._seen = 0

    def sent(self) -> list[WSMessage]:
        data = b"".join(self.transport.written[self._seen :])
        self._seen = len(self.transport.written)
        return self.peer.receive_data(data)


def test_the_default_threshold_is_aiohttps() -> None:
    assert COMPRESS_OFFLOAD_SIZE == 16 * 1024


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
async def test_a_large_compressed_message_is_compressed_in_the_executor(role: Role) -> None:
    pair = Pair(role)
    assert pair.conn.send(BIG, 0x2) is True  # the caller must wait for it
    assert pair.transport.written == []  # nothing on the wire before it is compressed
    await pair.conn.drain()
    assert len(pair.executor.threads) == 1
    assert pair.executor.threads[0] != threading.current_thread().name
    assert pair.sent() == [WSMessage(WSMsgType.BINARY, BIG, "")]
    assert len(pair.transport.written[0]) < len(BIG) // 10  # it was compressed


async def test_small_and_uncompressed_messages_stay_inline() -> None:
    pair = Pair()
    assert pair.conn.send(b"x" * OFFLOAD, 0x1) is False  # at the threshold: inline
    assert pair.conn.send(BIG, 0x2, compress=0) is False  # not compressed: inline
    assert pair.executor.threads == []
    assert [m.data for m in pair.sent()] == ["x" * OFFLOAD, BIG]


async def test_messages_sent_behind_an_offloaded_one_keep_their_order() -> None:
    pair = Pair()
    pair.executor.gate.clear()  # hold the first compression
    assert pair.conn.send(BIG, 0x2) is True
    assert pair.conn.send(b"small", 0x1) is True  # waits behind it, not compressed yet
    assert pair.conn.send(BIG[::-1], 0x2) is True  # a second large one, after it
    assert pair.conn.send(b"last", 0x2, compress=0) is True
    assert pair.transport.written == []
    pair.executor.gate.set()
    await pair.conn.drain()
    assert pair.sent() == [
        WSMessage(WSMsgType.BINARY, BIG, ""),
        WSMessage(WSMsgType.TEXT, "small", ""),
        WSMessage(WSMsgType.BINARY, BIG[::-1], ""),
        WSMessage(WSMsgType.BINARY, b"last", ""),
    ]
    assert len(pair.executor.threads) == 2


async def test_pings_are_not_held_back_but_the_close_frame_is() -> None:
    pair = Pair()
    pair.executor.gate.clear()
    pair.conn.send(BIG, 0x2)
    await pair.conn.ping(b"p")  # control frames may go between messages (RFC 6455 §5.4)
    assert [m.type for m in pair.sent()] == [WSMsgType.PING]
    closing = asyncio.ensure_future(pair.conn.close())
    await asyncio.sleep(0.01)
    assert len(pair.transport.written) == 1  # the Close frame waits for the message
    pair.executor.gate.set()
    await asyncio.sleep(0.05)
    assert [m.type for m in pair.sent()] == [WSMsgType.BINARY, WSMsgType.CLOSE]
    pair.conn.feed_data(pair.peer.close())
    assert await closing is True


async def test_a_cancelled_sender_still_sends_its_message_and_the_stream_stays_valid() -> None:
    pair = Pair()
    pair.executor.gate.clear()

    async def send() -> None:
        if pair.conn.send(BIG, 0x2):
            await pair.conn.drain()

    task = asyncio.ensure_future(send())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pair.executor.gate.set()
    await pair.conn.drain()
    # The compressor advanced for it: dropping the frame would corrupt the next message.
    assert pair.conn.send(b"next", 0x1) is False
    assert [m.data for m in pair.sent()] == [BIG, "next"]


async def test_a_transport_closed_during_compression_fails_drain() -> None:
    pair = Pair()
    pair.executor.gate.clear()
    assert pair.conn.send(BIG, 0x2) is True
    pair.transport.close()
    pair.executor.gate.set()
    with pytest.raises(ConnectionResetError):
        await pair.conn.drain()


async def test_without_an_executor_large_messages_are_compressed_inline() -> None:
    pair = Pair()
    pair.executor.shutdown()
    assert pair.conn.send(BIG, 0x2) is False
    assert pair.sent() == [WSMessage(WSMsgType.BINARY, BIG, "")]


async def test_sends_after_close_are_refused_even_while_compressing() -> None:
    pair = Pair()
    pair.executor.gate.clear()
    pair.conn.send(BIG, 0x2)
    closing = asyncio.ensure_future(pair.conn.close())
    await asyncio.sleep(0)
    with pytest.raises(ConnectionResetError):
        pair.conn.send(b"late", 0x1)
    pair.executor.gate.set()
    await asyncio.sleep(0.05)
    assert [m.type for m in pair.sent()] == [WSMsgType.BINARY, WSMsgType.CLOSE]
    pair.conn.feed_data(pair.peer.close())
    await closing


async def test_the_event_loop_runs_while_a_large_message_is_compressed() -> None:
    pair = Pair()
    pair.executor.gate.clear()
    pair.conn.send(BIG, 0x2)
    ticks = 0
    for _ in range(3):
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 3 and pair.transport.written == []  # the loop was not blocked
    pair.executor.gate.set()
    await pair.conn.drain()
    assert [m.data for m in pair.sent()] == [BIG]


def test_masking_keys_are_read_from_urandom_a_batch_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aioloom.websocket import _frames

    reads: list[int] = []
    real = os.urandom

    def urandom(size: int) -> bytes:
        reads.append(size)
        return real(size)

    monkeypatch.setattr(os, "urandom", urandom)
    _frames._forget_keys()
    keys = [_frames.encode_frame(0x82, b"", True)[2:6] for _ in range(1025)]
    assert reads == [4096, 4096]  # 1024 keys per system call
    assert all(len(key) == 4 for key in keys)
    assert len(set(keys)) > 1000  # fresh keys, not one repeated
