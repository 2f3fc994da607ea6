"""Heartbeat: a ping after silence, a timeout without an answer, any input as an answer.

The timers run on a manual clock (a stand-in for the loop's ``time``/``call_at``), so the
tests are exact and never depend on scheduling delays.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any, cast

import pytest

from aioloom.websocket.aio import Heartbeat


class Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Just enough of an event loop for Heartbeat: ``time()`` and ``call_at()``."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, Handle, Callable[[], None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> Handle:
        handle = Handle()
        heapq.heappush(self._timers, (when, next(self._seq), handle, callback))
        return handle

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while self._timers and self._timers[0][0] <= end:
            when, _, handle, callback = heapq.heappop(self._timers)
            self.now = when
            if not handle.cancelled:
                callback()
        self.now = end

    @property
    def armed(self) -> int:
        return sum(not timer[2].cancelled for timer in self._timers)


class Recorder:
    def __init__(self) -> None:
        self.pings = 0
        self.timeouts = 0

    def ping(self) -> None:
        self.pings += 1

    def timeout(self) -> None:
        self.timeouts += 1


def make(interval: float) -> tuple[Clock, Recorder, Heartbeat]:
    clock = Clock()
    rec = Recorder()
    beat = Heartbeat(cast(Any, clock), interval, rec.ping, rec.timeout)
    return clock, rec, beat


@pytest.mark.parametrize("interval", [0, -1.0])
def test_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        make(interval)


def test_silence_sends_a_ping_then_times_out_after_half_the_interval() -> None:
    clock, rec, beat = make(10.0)
    assert beat.pong_timeout == 5.0
    beat.touch()
    clock.advance(9.9)
    assert (rec.pings, rec.timeouts) == (0, 0)
    clock.advance(0.1)
    assert (rec.pings, rec.timeouts) == (1, 0)
    clock.advance(4.9)
    assert rec.timeouts == 0
    clock.advance(0.1)
    assert (rec.pings, rec.timeouts) == (1, 1)
    assert not beat.active


def test_input_after_the_ping_counts_as_the_answer() -> None:
    clock, rec, beat = make(10.0)
    beat.touch()
    clock.advance(10.0)
    assert rec.pings == 1
    clock.advance(2.0)
    beat.touch()  # the pong (or any data) arrived
    clock.advance(5.0)
    assert rec.timeouts == 0
    clock.advance(5.0)  # ten seconds of silence since the answer: the next ping
    assert rec.pings == 2


def test_steady_input_defers_the_ping_without_new_timers() -> None:
    clock, rec, beat = make(10.0)
    beat.touch()
    for _ in range(20):
        clock.advance(3.0)
        beat.touch()
    assert (rec.pings, rec.timeouts) == (0, 0)
    # One timer, moved lazily when it fires early, never one per touch().
    assert clock.armed == 1
    assert beat.active


def test_cancel_stops_a_pending_timeout() -> None:
    clock, rec, beat = make(10.0)
    beat.touch()
    clock.advance(10.0)
    assert rec.pings == 1
    beat.cancel()
    assert not beat.active
    clock.advance(100.0)
    assert (rec.pings, rec.timeouts) == (1, 0)
