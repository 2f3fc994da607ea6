"""Shared fixtures for the HTTP/1.1 parser tests: feeding a message whole and in pieces.

``feed`` runs a parser over a list of chunks and returns a comparable outcome; ``parse``
feeds the same bytes whole, one byte at a time and split at every position (a sample of
positions for long inputs), asserts that every way gives the same outcome, and returns it.
Body chunks may be cut differently by different splits, so adjacent ``bytes`` events are
joined before comparing; errors compare by type and ``code``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._parser import EndOfMessage, HttpRequestParser, HttpResponseParser

Parser = HttpRequestParser | HttpResponseParser
Factory = Callable[[], Parser]


@dataclass
class Outcome:
    """What a parser made of some input."""

    events: list[object] = field(default_factory=list)
    upgraded: bool = False
    tail: bytes = b""
    error: type[HttpProcessingError] | None = None
    code: int | None = None
    exc: HttpProcessingError | None = field(default=None, compare=False)

    @property
    def messages(self) -> list[object]:
        """The heads, without body chunks and EndOfMessage events."""
        return [e for e in self.events if isinstance(e, tuple)]

    @property
    def body(self) -> bytes:
        """Every body byte, all messages together."""
        return b"".join(e for e in self.events if isinstance(e, bytes))


def _join_bytes(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes):
            assert event, "a body chunk event must not be empty"
            if out and isinstance(out[-1], bytes):
                out[-1] = out[-1] + event
                continue
        out.append(event)
    return out


def run_feed(factory: Factory, chunks: Sequence[bytes], *, eof: bool = False) -> Outcome:
    """Feed ``chunks`` to a fresh parser (then EOF if asked) and record the outcome."""
    parser = factory()
    events: list[object] = []
    try:
        for index, chunk in enumerate(chunks):
            new, upgraded, tail = parser.feed_data(chunk)
            events.extend(new)
            if upgraded:
                rest = b"".join(chunks[index + 1 :])
                return Outcome(_join_bytes(events), True, tail + rest)
            assert tail == b""
        if eof:
            events.extend(parser.feed_eof())
    except HttpProcessingError as exc:
        return Outcome(_join_bytes(events), error=type(exc), code=exc.code, exc=exc)
    return Outcome(_join_bytes(events))


def _splits(data: bytes) -> list[list[bytes]]:
    ways = [[data[i : i + 1] for i in range(len(data))]]
    if len(data) <= 1500:
        positions: Sequence[int] = range(1, len(data))
    else:
        rng = random.Random(len(data))
        positions = sorted(rng.sample(range(1, len(data)), 300))
    ways.extend([data[:i], data[i:]] for i in positions)
    rng = random.Random(0)
    for _ in range(20):
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, 5)))
        ways.append([data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)])
    return ways


# The start of a next message (no line end yet): it must neither change the events of the
# message before it nor raise.
TRAILING = b"\r\nNEXT-MESSAGE-START"


def parse_every_way(factory: Factory, data: bytes, *, eof: bool = False) -> Outcome:
    """Parse ``data`` whole, bytewise, split, and with trailing data; assert all agree.

    The events produced before an error may differ with the split (a message completed in
    an earlier read is delivered before the error), so only the error is compared then.
    Trailing data is checked when the input ends with a complete message that leaves the
    connection open for another one.
    """
    whole = run_feed(factory, [data], eof=eof)
    for chunks in _splits(data):
        split = run_feed(factory, chunks, eof=eof)
        if whole.error is not None:
            assert (split.error, split.code) == (whole.error, whole.code), (chunks, split.exc)
        else:
            assert split == whole, chunks
    if whole.error is None and not whole.upgraded and not eof and whole.events:
        last_head = [e for e in whole.events if isinstance(e, tuple)][-1]
        if isinstance(whole.events[-1], EndOfMessage) and not last_head.should_close:
            for chunks in ([data + TRAILING], [data, TRAILING], [data[:-1], data[-1:] + TRAILING]):
                assert run_feed(factory, chunks) == whole, chunks
    return whole


@pytest.fixture
def parse() -> Callable[..., Outcome]:
    """``parse(factory, data, eof=False)``: parse every way, assert agreement."""
    return parse_every_way


@pytest.fixture
def feed() -> Callable[..., Outcome]:
    """``feed(factory, chunks, eof=False)``: one feeding of the given chunks."""
    return run_feed


@pytest.fixture
def req() -> Callable[[], HttpRequestParser]:
    """A request parser factory with the default limits."""
    return HttpRequestParser


@pytest.fixture
def strict_resp() -> Callable[[], HttpResponseParser]:
    """A strict response parser factory (GET requests)."""

    def make() -> HttpResponseParser:
        parser = HttpResponseParser(lax=False)
        parser.method = "GET"
        return parser

    return make


@pytest.fixture
def lax_resp() -> Callable[[], HttpResponseParser]:
    """A lax response parser factory (GET requests)."""

    def make() -> HttpResponseParser:
        parser = HttpResponseParser(lax=True)
        parser.method = "GET"
        return parser

    return make
