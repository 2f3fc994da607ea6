"""MemoryTransport: the in-memory connection pair behaves as a TCP connection's ends do."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from aioloom.testing import MemoryTransport, memory_transport_pair


class Recorder(asyncio.Protocol):
    """Records every callback; optionally keeps the connection open on EOF."""

    def __init__(self, *, keep_open_on_eof: bool = False) -> None:
        self.events: list[Any] = []
        self.data = bytearray()
        self.transport: MemoryTransport | None = None
        self.keep_open_on_eof = keep_open_on_eof
        self.lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, MemoryTransport)
        self.transport = transport
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.events.append(("data", len(data)))
        self.data += data

    def eof_received(self) -> bool:
        self.events.append("eof")
        return self.keep_open_on_eof

    def pause_writing(self) -> None:
        self.events.append("pause_writing")

    def resume_writing(self) -> None:
        self.events.append("resume_writing")

    def connection_lost(self, exc: BaseException | None) -> None:
        self.events.append(("lost", type(exc).__name__ if exc else None))
        self.lost.set_result(exc)


async def turns(count: int = 5) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def pair(**kwargs: Any) -> tuple[MemoryTransport, MemoryTransport, Recorder, Recorder]:
    client, server = Recorder(), Recorder(**kwargs)
    ct, st = memory_transport_pair(
        asyncio.get_running_loop(),
        client,
        server,
        first_extra={"peername": ("server", 80)},
        second_extra={"peername": ("client", 4000), "sslcontext": None},
    )
    return ct, st, client, server


async def test_both_ends_are_connected() -> None:
    ct, st, client, server = pair()
    assert client.events == ["made"] and server.events == ["made"]
    assert client.transport is ct and server.transport is st
    assert ct.get_protocol() is client and st.get_protocol() is server
    assert ct.get_extra_info("peername") == ("server", 80)
    assert st.get_extra_info("peername") == ("client", 4000)
    assert st.get_extra_info("socket", "none") == "none"
    assert ct.can_write_eof() and ct.is_reading() and not ct.is_closing()
    ct.close()
    st.close()
    await turns()


async def test_bytes_arrive_later_in_order_and_coalesced() -> None:
    ct, st, client, server = pair()
    ct.write(b"one ")
    ct.writelines([b"two ", bytearray(b"three "), memoryview(b"four")])
    assert server.data == b""  # never delivered inside write()
    assert ct.get_write_buffer_size() == 18
    await turns()
    assert server.data == b"one two three four"
    assert server.events == ["made", ("data", 18)]
    assert ct.get_write_buffer_size() == 0
    ct.close()
    await turns()


async def test_large_writes_arrive_in_socket_sized_pieces() -> None:
    ct, st, client, server = pair()
    ct.write(b"x" * (600 * 1024))
    await turns(10)
    sizes = [size for kind, size in server.events[1:]]
    assert sizes == [256 * 1024, 256 * 1024, 88 * 1024]
    ct.close()
    await turns()


async def test_paused_reading_holds_bytes_and_flow_controls_the_writer() -> None:
    ct, st, client, server = pair()
    st.pause_reading()
    assert not st.is_reading()
    ct.write(b"a" * 65536)
    assert client.events == ["made"]  # at the high-water mark, not above it
    ct.write(b"b")
    assert client.events == ["made", "pause_writing"]
    ct.write(b"c")  # no second pause
    await turns()
    assert server.data == b""
    st.resume_reading()
    await turns()
    assert len(server.data) == 65538
    assert client.events == ["made", "pause_writing", "resume_writing"]
    ct.close()
    await turns()


async def test_write_buffer_limits() -> None:
    ct, st, client, server = pair()
    assert ct.get_write_buffer_limits() == (16384, 65536)
    ct.set_write_buffer_limits(high=10)
    assert ct.get_write_buffer_limits() == (2, 10)
    ct.set_write_buffer_limits(low=5)
    assert ct.get_write_buffer_limits() == (5, 20)
    with pytest.raises(ValueError, match="must be >= low"):
        ct.set_write_buffer_limits(high=1, low=2)
    st.pause_reading()
    ct.write(b"x" * 21)
    assert client.events[-1] == "pause_writing"
    ct.close()
    st.close()
    await turns()


async def test_write_eof_reaches_the_peer_after_the_data() -> None:
    ct, st, client, server = pair(keep_open_on_eof=True)
    ct.write(b"request")
    ct.write_eof()
    with pytest.raises(RuntimeError, match="after write_eof"):
        ct.write(b"more")
    await turns()
    assert server.events == ["made", ("data", 7), "eof"]
    assert not st.is_closing()  # half-closed: the server may still answer
    st.write(b"answer")
    st.close()
    await turns()
    assert client.data == b"answer"
    assert client.events[-2:] == ["eof", ("lost", None)]
    assert server.events[-1] == ("lost", None)


async def test_eof_closes_a_peer_that_does_not_keep_it_open() -> None:
    ct, st, client, server = pair()
    ct.write_eof()
    await turns()
    assert server.events == ["made", "eof", ("lost", None)]
    assert st.is_closing()
    ct.close()
    await turns()
    assert client.events[-1] == ("lost", None)


async def test_close_ends_this_side_and_sends_eof_to_the_peer() -> None:
    ct, st, client, server = pair()
    ct.write(b"last words")
    ct.close()
    assert ct.is_closing()
    ct.write(b"dropped")  # a closed socket drops late writes
    ct.close()  # idempotent
    assert await client.lost is None
    await turns()
    assert server.data == b"last words"
    assert server.events[-2:] == ["eof", ("lost", None)]


async def test_bytes_for_a_closed_end_are_dropped() -> None:
    ct, st, client, server = pair(keep_open_on_eof=True)
    ct.close()
    await turns()
    st.write(b"to nobody")
    assert st.get_write_buffer_size() == 0
    st.close()
    await turns()
    assert client.data == b""


async def test_abort_resets_the_peer_and_drops_its_unread_bytes() -> None:
    ct, st, client, server = pair()
    st.pause_reading()
    ct.write(b"unread")
    ct.abort()
    ct.abort()  # harmless
    await turns()
    assert server.data == b""
    assert server.events[-1] == ("lost", "ConnectionResetError")
    assert client.events[-1] == ("lost", None)


async def test_pause_and_resume_reading_after_close_are_ignored() -> None:
    ct, st, client, server = pair()
    ct.close()
    ct.pause_reading()
    ct.resume_reading()
    assert not ct.is_reading()
    st.close()
    await turns()


async def test_only_bytes_can_be_written() -> None:
    ct, st, client, server = pair()
    with pytest.raises(TypeError, match="bytes-like"):
        ct.write("text")  # type: ignore[arg-type]
    ct.write(b"")  # nothing to send: nothing scheduled
    await turns()
    assert server.events == ["made"]
    ct.close()
    await turns()


async def test_a_failing_protocol_is_reported_and_its_connection_reset() -> None:
    loop = asyncio.get_running_loop()
    contexts: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda loop, context: contexts.append(context))

    class Failing(Recorder):
        def data_received(self, data: bytes) -> None:
            raise ValueError("cannot parse")

    client, server = Recorder(), Failing()
    ct, st = memory_transport_pair(loop, client, server)
    ct.write(b"x")
    await turns()
    assert contexts[0]["message"] == "Fatal error: protocol.data_received() call failed."
    assert isinstance(contexts[0]["exception"], ValueError)
    assert server.events[-1] == ("lost", None)
    assert client.events[-1] == ("lost", "ConnectionResetError")
    loop.set_exception_handler(None)


async def test_an_unclosed_transport_warns_when_collected() -> None:
    def abandon() -> None:
        pair()  # both ends and protocols become garbage when this returns

    with pytest.warns(ResourceWarning, match="unclosed transport") as caught:
        abandon()
        gc.collect()
    assert len([w for w in caught if "unclosed transport" in str(w.message)]) == 2
