"""Fixtures shared by the aioloom.websocket tests: the ways a byte stream may be split."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Splitter = Callable[[bytes], list[bytes]]


def _whole(data: bytes) -> list[bytes]:
    return [data]


def _bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def _odd_chunks(data: bytes) -> list[bytes]:
    # 7 does not divide any header size, so splits fall inside headers, keys and payloads.
    return [data[i : i + 7] for i in range(0, len(data), 7)]


@pytest.fixture(params=[_whole, _bytewise, _odd_chunks], ids=["whole", "bytewise", "chunks7"])
def split(request: pytest.FixtureRequest) -> Splitter:
    """How received bytes are cut: in one piece, one byte at a time, or in 7-byte pieces."""
    splitter: Splitter = request.param
    return splitter
