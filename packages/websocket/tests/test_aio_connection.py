"""WebSocketConnection over a recording transport, talking to the sans-I/O codec as its peer.

What the connection writes is decoded by a peer ``WebSocketProtocol`` of the other role, so
every test checks the wire as well as the API (masking by role, close codes and reasons).
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest

from aioloom.http.aio._protocol import BaseProtocol
from aioloom.websocket import (
    DeflateParams,
    Role,
    WebSocketError,
    WebSocketProtocol,
    WSMessage,
    WSMessageTypeError,
    WSMsgType,
    serialize_frame,
)
from aioloom.websocket.aio import THRESHOLD_CONNLOST_ACCESS, WebSocketConnection

ROLES = [Role.SERVER, Role.CLIENT]


class Transport(asyncio.Transport):
    """Records writes; close() only marks it closed (no connection_lost)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


class Pair:
    """A connection under test (``conn``) and the codec of its peer (``peer``)."""

    def __init__(self, role: Role, **kwargs: Any) -> None:
        loop = asyncio.get_running_loop()
        self.transport = Transport()
        self.protocol = BaseProtocol(loop)
        self.protocol.connection_made(self.transport)
        kwargs.setdefault("close_timeout", 5.0)
        self.conn = WebSocketConnection(
            role, self.protocol, loop=loop, close_transport=self.transport.close, **kwargs
        )
        peer_role = Role.CLIENT if role is Role.SERVER else Role.SERVER
        self.peer = WebSocketProtocol(peer_role, compress=kwargs.get("compress"))
        self.peer_masks = peer_role is Role.CLIENT
        self._seen = 0

    def feed(self, data: bytes) -> None:
        assert self.conn.feed_data(data) == (False, b"")

    def sent(self) -> list[WSMessage]:
        """The messages written since the last call, decoded by the peer."""
        data = b"".join(self.transport.written[self._seen :])
        self._seen = len(self.transport.written)
        return self.peer.receive_data(data)


def close_of(message: WSMessage) -> tuple[WSMsgType, int, str | None]:
    return message.type, message.data, message.extra


# -- receiving -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_data_messages_arrive_in_order(role: Role, split: Any) -> None:
    pair = Pair(role)
    wire = (
        pair.peer.send_text("héllo") + pair.peer.send_binary(b"\x00\x01") + pair.peer.send_text("")
    )
    for piece in split(wire):
        pair.feed(piece)
    assert await pair.conn.receive() == WSMessage(WSMsgType.TEXT, "héllo", "")
    assert await pair.conn.receive() == WSMessage(WSMsgType.BINARY, b"\x00\x01", "")
    assert await pair.conn.receive_str() == ""


@pytest.mark.parametrize("role", ROLES)
async def test_autoping_answers_at_once_and_hides_pings_and_pongs(role: Role) -> None:
    pair = Pair(role)
    pair.feed(pair.peer.ping(b"abc"))
    # Answered from feed_data: nobody has called receive() yet.
    assert pair.sent() == [WSMessage(WSMsgType.PONG, b"abc", "")]
    pair.feed(pair.peer.pong(b"unsolicited") + pair.peer.send_text("after"))
    assert await pair.conn.receive() == WSMessage(WSMsgType.TEXT, "after", "")


async def test_without_autoping_pings_and_pongs_are_delivered_unanswered() -> None:
    pair = Pair(Role.SERVER, autoping=False)
    pair.feed(pair.peer.ping(b"p") + pair.peer.pong(b"q"))
    assert await pair.conn.receive() == WSMessage(WSMsgType.PING, b"p", "")
    assert await pair.conn.receive() == WSMessage(WSMsgType.PONG, b"q", "")
    assert pair.transport.written == []
    await pair.conn.pong(b"p")
    assert pair.sent() == [WSMessage(WSMsgType.PONG, b"p", "")]


async def test_decode_text_off_gives_bytes() -> None:
    pair = Pair(Role.SERVER, decode_text=False)
    pair.feed(pair.peer.send_text("é"))
    message = await pair.conn.receive()
    assert message.type is WSMsgType.TEXT
    assert message.data == "é".encode()


async def test_typed_receives_check_the_type() -> None:
    pair = Pair(Role.SERVER)
    pair.feed(pair.peer.send_binary(b"b") + pair.peer.send_text("t") + pair.peer.send_text("[1]"))
    with pytest.raises(WSMessageTypeError, match="is not WSMsgType.TEXT"):
        await pair.conn.receive_str()
    with pytest.raises(WSMessageTypeError, match="is not WSMsgType.BINARY"):
        await pair.conn.receive_bytes()
    assert await pair.conn.receive_json() == [1]


async def test_a_message_handed_to_a_cancelled_receive_is_kept() -> None:
    pair = Pair(Role.SERVER)
    receiver = asyncio.ensure_future(pair.conn.receive(30.0))
    await asyncio.sleep(0)
    pair.feed(pair.peer.send_text("kept"))  # handed straight to the waiting receive()
    pair.feed(pair.peer.send_text("next"))
    receiver.cancel()  # before it resumed with its message
    with pytest.raises(asyncio.CancelledError):
        await receiver
    assert await pair.conn.receive_str() == "kept"
    assert await pair.conn.receive_str() == "next"


async def test_concurrent_receive_is_refused() -> None:
    pair = Pair(Role.SERVER)
    first = asyncio.ensure_future(pair.conn.receive())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Concurrent call to receive"):
        await pair.conn.receive()
    pair.feed(pair.peer.send_text("x"))
    assert (await first).data == "x"


@pytest.mark.parametrize(("role", "code"), [(Role.SERVER, None), (Role.CLIENT, 1006)])
async def test_receive_timeout(role: Role, code: int | None) -> None:
    pair = Pair(role, receive_timeout=0.01)
    with pytest.raises(asyncio.TimeoutError):
        await pair.conn.receive()
    with pytest.raises(asyncio.TimeoutError):
        await pair.conn.receive(timeout=0.01)
    # aiohttp's client reports 1006 after a receive timeout; its server does not.
    assert pair.conn.close_code == code
    assert not pair.conn.closed
    pair.feed(pair.peer.send_text("late"))
    assert (await pair.conn.receive()).data == "late"


# -- the peer closes -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_peer_close_is_answered_inside_receive(role: Role) -> None:
    pair = Pair(role)
    pair.feed(pair.peer.close(4000, "bye"))
    assert not pair.conn.closed  # nothing happens until the application reads
    message = await pair.conn.receive()
    assert close_of(message) == (WSMsgType.CLOSE, 4000, "bye")
    # aiohttp answers with 1000 rather than echoing the code (RFC 6455 §5.5.1 allows both).
    assert [close_of(m) for m in pair.sent()] == [(WSMsgType.CLOSE, 1000, "")]
    assert pair.transport.closed
    assert pair.conn.closed
    assert pair.conn.close_code == 4000
    assert pair.conn.exception is None
    assert (await pair.conn.receive()).type is WSMsgType.CLOSED


async def test_server_receive_on_a_closed_connection_raises_after_a_while() -> None:
    pair = Pair(Role.SERVER)
    pair.feed(pair.peer.close(1000))
    await pair.conn.receive()
    for _ in range(THRESHOLD_CONNLOST_ACCESS - 1):
        assert (await pair.conn.receive()).type is WSMsgType.CLOSED
    with pytest.raises(RuntimeError, match="WebSocket connection is closed"):
        await pair.conn.receive()


async def test_client_receive_on_a_closed_connection_keeps_answering_closed() -> None:
    pair = Pair(Role.CLIENT)
    pair.feed(pair.peer.close(1000))
    await pair.conn.receive()
    for _ in range(THRESHOLD_CONNLOST_ACCESS * 2):
        assert (await pair.conn.receive()).type is WSMsgType.CLOSED


async def test_empty_close_frame_reports_1005() -> None:
    pair = Pair(Role.SERVER)
    pair.feed(serialize_frame(0x8, b"", mask=True))
    assert (await pair.conn.receive()).type is WSMsgType.CLOSE
    assert pair.conn.close_code == 1005  # RFC 6455 §7.1.5: no status code received


async def test_server_without_autoclose_returns_closing_until_closed() -> None:
    pair = Pair(Role.SERVER, autoclose=False)
    pair.feed(pair.peer.close(4000, "bye"))
    assert (await pair.conn.receive()).type is WSMsgType.CLOSE
    assert pair.sent() == []
    assert not pair.transport.closed
    assert (await pair.conn.receive()).type is WSMsgType.CLOSING
    assert await pair.conn.close(code=1000)
    assert [close_of(m) for m in pair.sent()] == [(WSMsgType.CLOSE, 1000, "")]
    assert pair.transport.closed
    assert pair.conn.close_code == 4000


async def test_client_without_autoclose_closes_on_the_next_receive() -> None:
    pair = Pair(Role.CLIENT, autoclose=False)
    pair.feed(pair.peer.close(4000))
    assert (await pair.conn.receive()).type is WSMsgType.CLOSE
    assert pair.sent() == []
    assert (await pair.conn.receive()).type is WSMsgType.CLOSED
    assert [close_of(m) for m in pair.sent()] == [(WSMsgType.CLOSE, 1000, "")]
    assert pair.conn.close_code == 4000


@pytest.mark.parametrize("role", ROLES)
async def test_end_of_input_without_close_is_1006(role: Role) -> None:
    pair = Pair(role)
    waiter = asyncio.ensure_future(pair.conn.receive())
    await asyncio.sleep(0)
    pair.conn.feed_eof()
    pair.conn.feed_eof()  # idempotent (EOF then connection_lost)
    assert (await waiter).type is WSMsgType.CLOSED
    assert pair.conn.closed
    assert pair.conn.close_code == 1006
    assert pair.transport.closed


# -- protocol violations ---------------------------------------------------------------------


def _unmasked_text() -> bytes:
    return serialize_frame(0x1, b"x", mask=False)


def _huge_length() -> bytes:
    # RFC 6455 §5.2: a 64-bit length whose most significant bit is set.
    return bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 2**63) + b"\x00\x00\x00\x00"


def _oversize() -> bytes:
    return serialize_frame(0x2, b"x" * 11, mask=True)


def _bad_utf8() -> bytes:
    return serialize_frame(0x1, b"\xff\xfe", mask=True)


@pytest.mark.parametrize(
    ("wire", "code"),
    [(_unmasked_text, 1002), (_huge_length, 1002), (_oversize, 1009), (_bad_utf8, 1007)],
    ids=["unmasked", "2**63-length", "oversize", "bad-utf8"],
)
async def test_protocol_violation_fails_the_connection_with_its_code(wire: Any, code: int) -> None:
    pair = Pair(Role.SERVER, max_msg_size=10)
    pair.feed(wire())
    message = await pair.conn.receive()
    assert message.type is WSMsgType.ERROR
    assert isinstance(message.data, WebSocketError)
    assert message.data.code == code
    assert [m.type for m in pair.sent()] == [WSMsgType.CLOSE]
    assert pair.peer.close_code == code  # the Close frame carries the violation's code
    assert pair.transport.closed  # failed at once (RFC 6455 §7.1.7), no waiting
    assert pair.conn.close_code == code
    assert pair.conn.exception is message.data
    assert (await pair.conn.receive()).type is WSMsgType.CLOSED


async def test_a_client_fails_on_a_masked_frame() -> None:
    pair = Pair(Role.CLIENT)
    pair.feed(serialize_frame(0x1, b"x", mask=True))
    message = await pair.conn.receive()
    assert message.type is WSMsgType.ERROR
    assert message.data.code == 1002
    assert [m.type for m in pair.sent()] == [WSMsgType.CLOSE]
    assert pair.peer.close_code == 1002


# -- sending ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_sent_messages_reach_the_peer_masked_by_role(role: Role) -> None:
    pair = Pair(role)
    assert pair.conn.send(b"txt", 0x1) is False
    await pair.conn.send_frame(bytearray(b"bin"), 0x2)
    await pair.conn.send_frame(memoryview(b'{"a": 1}'), 0x1)
    await pair.conn.send_frame(b"p", 0x9)
    await pair.conn.ping(b"q")
    masked = [bool(frame[1] & 0x80) for frame in pair.transport.written]
    assert masked == [role is Role.CLIENT] * 5  # RFC 6455 §5.3
    assert [(m.type, m.data) for m in pair.sent()] == [
        (WSMsgType.TEXT, "txt"),
        (WSMsgType.BINARY, b"bin"),
        (WSMsgType.TEXT, '{"a": 1}'),
        (WSMsgType.PING, b"p"),
        (WSMsgType.PING, b"q"),
    ]


async def test_send_checks_opcodes_and_sizes() -> None:
    pair = Pair(Role.SERVER)
    with pytest.raises(ValueError):
        pair.conn.send(b"x", 0x3)  # a reserved opcode
    with pytest.raises(ValueError):
        await pair.conn.ping(b"x" * 126)  # RFC 6455 §5.5: control payloads <= 125 bytes
    assert pair.transport.written == []


class ResetError(ConnectionResetError):
    pass


async def test_sending_after_close_raises_the_reset_error() -> None:
    pair = Pair(Role.CLIENT, reset_error=ResetError, close_timeout=0.01)
    await pair.conn.close()
    for send in (pair.conn.send_frame(b"x", 0x1), pair.conn.ping(), pair.conn.pong()):
        with pytest.raises(ResetError, match="Cannot write to closing transport"):
            await send
    with pytest.raises(ResetError):
        pair.conn.send(b"x", 0x2)


async def test_sending_after_the_peer_closed_raises() -> None:
    pair = Pair(Role.SERVER, autoclose=False)
    pair.feed(pair.peer.close(1000))
    await pair.conn.receive()
    with pytest.raises(ConnectionResetError):
        await pair.conn.send_frame(b"too late", 0x1)
    with pytest.raises(ConnectionResetError):
        await pair.conn.ping()


async def test_compressed_messages_both_ways() -> None:
    params = DeflateParams()
    pair = Pair(Role.SERVER, compress=params)
    assert pair.conn.compress
    await pair.conn.send_frame(b"z" * 1000, 0x1)
    assert len(pair.transport.written[0]) < 100  # compressed on the wire
    assert pair.sent() == [WSMessage(WSMsgType.TEXT, "z" * 1000, "")]
    await pair.conn.send_frame(b"plain", 0x1, compress=0)
    assert b"plain" in pair.transport.written[1]
    pair.feed(pair.peer.send_binary(b"y" * 1000))
    assert await pair.conn.receive_bytes() == b"y" * 1000


async def test_writes_wait_while_the_transport_is_full() -> None:
    pair = Pair(Role.SERVER, writer_limit=10)
    pair.protocol.pause_writing()
    assert pair.conn.send(b"12345", 0x2) is False  # under the limit: no look
    assert pair.conn.send(b"12345", 0x2) is True  # over it, and the transport is full
    sender = asyncio.ensure_future(pair.conn.send_frame(b"x" * 20, 0x2))
    await asyncio.sleep(0.01)
    assert not sender.done()
    pair.protocol.resume_writing()
    await asyncio.wait_for(sender, 1)


async def test_drain_on_a_lost_connection_raises_the_reset_error() -> None:
    pair = Pair(Role.CLIENT, reset_error=ResetError)
    pair.protocol.connection_lost(None)
    with pytest.raises(ResetError):
        await pair.conn.drain()


async def test_reading_pauses_while_messages_pile_up() -> None:
    pair = Pair(Role.SERVER, reader_limit=10)
    pair.feed(b"".join(pair.peer.send_binary(b"x" * 8) for _ in range(3)))
    assert not pair.transport.reading
    await pair.conn.receive()
    assert not pair.transport.reading  # 16 bytes still queued
    await pair.conn.receive()
    assert pair.transport.reading


# -- closing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_close_runs_the_closing_handshake(role: Role) -> None:
    pair = Pair(role)
    closer = asyncio.ensure_future(pair.conn.close(code=4001, message="done"))
    await asyncio.sleep(0)
    assert [close_of(m) for m in pair.sent()] == [(WSMsgType.CLOSE, 4001, "done")]
    assert pair.conn.closed
    assert not pair.transport.closed  # waiting for the peer's Close frame
    # The peer's codec saw our Close; build its last frames by hand.
    mask = pair.peer_masks
    close_frame = serialize_frame(0x8, struct.pack("!H", 4001), mask=mask)
    pair.feed(serialize_frame(0x1, b"dropped", mask=mask) + close_frame)
    assert await asyncio.wait_for(closer, 1) is True
    assert pair.transport.closed
    assert pair.conn.close_code == 4001
    assert pair.conn.exception is None
    assert await pair.conn.close() is False


async def test_close_gives_up_waiting_after_the_timeout() -> None:
    pair = Pair(Role.CLIENT, close_timeout=0.01)
    assert await pair.conn.close() is True
    assert pair.transport.closed
    assert pair.conn.close_code == 1006
    assert isinstance(pair.conn.exception, asyncio.TimeoutError)


async def test_close_when_the_transport_is_gone() -> None:
    pair = Pair(Role.SERVER)
    pair.transport.closed = True
    assert await pair.conn.close() is True
    assert pair.conn.close_code == 1006
    assert isinstance(pair.conn.exception, ConnectionResetError)


async def test_close_after_end_of_input_sends_nothing() -> None:
    pair = Pair(Role.SERVER)
    pair.conn.feed_eof()
    assert await pair.conn.close() is True
    assert pair.transport.written == []
    assert pair.conn.close_code == 1006


async def test_close_rejects_codes_that_may_not_be_sent() -> None:
    pair = Pair(Role.SERVER)
    with pytest.raises(ValueError):
        await pair.conn.close(code=1005)
    with pytest.raises(ValueError):
        await pair.conn.close(message="x" * 124)
    assert not pair.conn.closed  # nothing changed
    assert pair.transport.written == []


async def test_close_from_another_task_wakes_receive() -> None:
    pair = Pair(Role.SERVER)
    reader = asyncio.ensure_future(pair.conn.receive())
    await asyncio.sleep(0)
    closer = asyncio.ensure_future(pair.conn.close())
    assert (await asyncio.wait_for(reader, 1)).type is WSMsgType.CLOSING
    assert not closer.done()  # still waiting for the peer's Close frame
    second = asyncio.ensure_future(pair.conn.close())
    await asyncio.sleep(0)
    assert not second.done()  # waits for the close in progress
    pair.feed(serialize_frame(0x8, struct.pack("!H", 1000), mask=True))
    assert await asyncio.wait_for(closer, 1) is True
    assert await asyncio.wait_for(second, 1) is False
    assert pair.conn.close_code == 1000


async def test_cancelled_close_drops_the_connection() -> None:
    pair = Pair(Role.SERVER)
    closer = asyncio.ensure_future(pair.conn.close())
    await asyncio.sleep(0)
    closer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closer
    assert pair.transport.closed
    assert pair.conn.close_code == 1006


async def test_close_after_an_unread_violation_reports_it() -> None:
    pair = Pair(Role.SERVER)
    pair.feed(serialize_frame(0x1, b"x", mask=False))  # queued as ERROR, never received
    assert await pair.conn.close() is True
    assert [m.type for m in pair.sent()] == [WSMsgType.CLOSE]
    assert pair.peer.close_code == 1002  # the violation's code, not the default 1000
    assert pair.transport.closed  # no waiting for a failed peer
    assert pair.conn.close_code == 1002
    assert isinstance(pair.conn.exception, WebSocketError)


# -- heartbeat -------------------------------------------------------------------------------


class PongTimeout(asyncio.TimeoutError):
    pass


@pytest.mark.parametrize("role", ROLES)
async def test_heartbeat_without_answer_drops_the_connection(role: Role) -> None:
    pair = Pair(role, heartbeat=0.02, timeout_error=PongTimeout)
    message = await asyncio.wait_for(pair.conn.receive(), 2)
    assert message.type is WSMsgType.ERROR
    assert isinstance(message.data, PongTimeout)
    assert "No PONG received after 0.01 seconds" in str(message.data)
    assert [m.type for m in pair.sent()] == [WSMsgType.PING]
    assert pair.conn.closed
    assert pair.transport.closed
    assert pair.conn.close_code == 1006
    assert pair.conn.exception is message.data


async def test_heartbeat_answered_keeps_the_connection() -> None:
    pair = Pair(Role.CLIENT, heartbeat=0.2, close_timeout=0.01)
    answered = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while answered < 2 and loop.time() < deadline:
        await asyncio.sleep(0.005)
        for message in pair.sent():
            assert message.type is WSMsgType.PING
            pair.feed(pair.peer.pong(message.data))
            answered += 1
    assert answered == 2
    assert not pair.conn.closed
    assert pair.conn.close_code is None
    assert await pair.conn.close(code=1000)
    assert pair.conn.close_code == 1006  # the peer never answered our Close frame


async def test_heartbeat_stops_once_closed() -> None:
    pair = Pair(Role.SERVER, heartbeat=0.01)
    pair.feed(pair.peer.close(1000))
    await pair.conn.receive()
    await asyncio.sleep(0.05)
    assert [m.type for m in pair.sent()] == [WSMsgType.CLOSE]  # no ping after closing
