"""MessageQueue: order, one waiter, timeouts, the end, and read back-pressure."""

from __future__ import annotations

import asyncio

import pytest

from aioloom.websocket import WS_CLOSED_MESSAGE, WSMessage, WSMsgType
from aioloom.websocket.aio import DEFAULT_READER_LIMIT, MessageQueue


class Flow:
    """Records pause_reading()/resume_reading() calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def text(data: str) -> WSMessage:
    return WSMessage(WSMsgType.TEXT, data, "")


async def test_messages_come_out_in_order() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    for n in range(3):
        queue.put(text(str(n)), 1)
    assert len(queue) == 3
    assert queue.size == 3
    assert [(await queue.get()).data for _ in range(3)] == ["0", "1", "2"]
    assert queue.size == 0
    assert queue.get_nowait() is None


async def test_get_waits_for_put() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert queue.waiting
    queue.put(text("late"))
    assert (await getter).data == "late"
    assert not queue.waiting


async def test_a_second_waiter_is_refused() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    first = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Concurrent call to receive"):
        await queue.get()
    queue.put(text("x"))
    assert (await first).data == "x"


async def test_get_times_out_and_the_queue_stays_usable() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    with pytest.raises(asyncio.TimeoutError):
        await queue.get(0.01)
    assert not queue.waiting
    queue.put(text("after"))
    assert (await queue.get(0.01)).data == "after"


async def test_cancelled_get_leaves_no_waiter() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert not queue.waiting
    queue.put(text("next"))
    assert (await queue.get()).data == "next"


async def test_eof_hands_out_what_is_held_then_closed_for_ever() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    queue.put(text("kept"))
    queue.feed_eof()
    assert queue.is_eof()
    assert (await queue.get()).data == "kept"
    assert await queue.get() is WS_CLOSED_MESSAGE
    assert queue.get_nowait() is WS_CLOSED_MESSAGE


async def test_eof_wakes_a_waiter() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.feed_eof()
    assert await getter is WS_CLOSED_MESSAGE


async def test_reading_pauses_above_the_limit_and_resumes_below() -> None:
    flow = Flow()
    queue = MessageQueue(flow, asyncio.get_running_loop(), limit=10)
    queue.put(text("a"), 6)
    assert flow.calls == []
    queue.put(text("b"), 6)  # 12 > 10
    assert flow.calls == ["pause"]
    assert queue.paused
    queue.put(text("c"), 6)  # already paused: not again
    assert flow.calls == ["pause"]
    await queue.get()  # 12 left: still above
    assert flow.calls == ["pause"]
    await queue.get()  # 6 left: below the limit
    assert flow.calls == ["pause", "resume"]
    assert not queue.paused


async def test_control_messages_do_not_count() -> None:
    flow = Flow()
    queue = MessageQueue(flow, asyncio.get_running_loop(), limit=1)
    for _ in range(100):
        queue.put(WSMessage(WSMsgType.PING, b"", ""))
    assert queue.size == 0
    assert flow.calls == []


def test_default_limit_is_aiohttps() -> None:
    assert DEFAULT_READER_LIMIT == 2**16


async def test_a_message_put_while_waiting_goes_straight_to_the_consumer() -> None:
    flow = Flow()
    queue = MessageQueue(flow, asyncio.get_running_loop(), limit=1)
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put(text("direct"), 10)  # over the limit, but never held
    assert len(queue) == 0
    assert queue.size == 0
    assert (await getter).data == "direct"
    assert flow.calls == []


async def test_a_message_handed_to_a_cancelled_consumer_is_kept() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put(text("kept"))
    queue.put(text("next"))
    getter.cancel()  # before the getter resumed with its message
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert not queue.waiting
    assert [(await queue.get()).data for _ in range(2)] == ["kept", "next"]


async def test_wait_is_done_at_once_when_a_message_is_held() -> None:
    flow = Flow()
    queue = MessageQueue(flow, asyncio.get_running_loop(), limit=4)
    queue.put(text("held"), 6)
    assert flow.calls == ["pause"]
    waiter = queue.wait()
    assert waiter.done()
    assert waiter.result() == text("held")
    assert not queue.waiting
    assert flow.calls == ["pause", "resume"]  # taken: the byte count went back down


async def test_wait_refuses_a_second_consumer() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    waiter = queue.wait()
    with pytest.raises(RuntimeError, match="Concurrent call to receive"):
        queue.wait()
    queue.put(text("first"))
    assert await waiter == text("first")


async def test_a_message_handed_over_stops_the_timer() -> None:
    loop = asyncio.get_running_loop()
    queue = MessageQueue(Flow(), loop)
    before = len(loop._scheduled)  # type: ignore[attr-defined]
    waiter = queue.wait(30.0)
    assert len(loop._scheduled) == before + 1  # type: ignore[attr-defined]
    queue.put(text("in time"))
    assert await waiter == text("in time")
    timers = loop._scheduled  # type: ignore[attr-defined]
    assert all(handle.cancelled() for handle in timers[before:])


async def test_abandon_puts_a_handed_over_message_back_in_front() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    waiter = queue.wait(30.0)
    queue.put(text("handed"))
    queue.put(text("second"))
    queue.abandon(waiter)  # as receive() does when cancelled before it resumed
    assert not queue.waiting
    assert [(await queue.get()).data for _ in range(2)] == ["handed", "second"]


async def test_abandon_after_a_timeout_drops_the_waiter() -> None:
    queue = MessageQueue(Flow(), asyncio.get_running_loop())
    waiter = queue.wait(0.01)
    with pytest.raises(asyncio.TimeoutError):
        await waiter
    queue.abandon(waiter)
    assert not queue.waiting
    queue.put(text("later"))
    assert (await queue.get()).data == "later"
