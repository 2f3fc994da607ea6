"""FrozenList and Signal: ordered, mutable until frozen, sent only when frozen."""

from __future__ import annotations

from typing import Any

import pytest

from aioloom.web._signals import FrozenList, Signal


def test_frozen_list_is_a_list_until_frozen() -> None:
    items: FrozenList[int] = FrozenList([1, 2])
    items.append(3)
    items.insert(0, 0)
    items[1] = 10
    del items[2]
    items.extend([4, 5])
    items[0:1] = [-1]
    assert list(items) == [-1, 10, 3, 4, 5]
    assert items == [-1, 10, 3, 4, 5]
    assert items[1] == 10 and items[-1] == 5 and list(items[1:3]) == [10, 3]
    assert 3 in items and 7 not in items
    assert list(reversed(items)) == [5, 4, 3, 10, -1]
    assert len(items) == 5
    assert not items.frozen
    items.freeze()
    items.freeze()  # idempotent
    assert items.frozen
    for mutate in (
        lambda: items.append(6),
        lambda: items.insert(0, 6),
        lambda: items.__setitem__(0, 6),
        lambda: items.__delitem__(0),
        lambda: items.extend([6]),
        lambda: items.remove(3),
        lambda: items.pop(),
        lambda: items.clear(),
        lambda: items.reverse(),
    ):
        with pytest.raises(RuntimeError, match="Cannot modify frozen list."):
            mutate()
    assert list(items) == [-1, 10, 3, 4, 5]
    assert repr(items) == "<FrozenList(frozen=True, [-1, 10, 3, 4, 5])>"


def test_frozen_list_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(FrozenList())


async def test_signal_sends_in_order_with_arguments() -> None:
    calls: list[tuple[str, Any, Any]] = []

    async def first(a: Any, *, b: Any) -> None:
        calls.append(("first", a, b))

    async def second(a: Any, *, b: Any) -> None:
        calls.append(("second", a, b))

    owner = object()
    signal: Signal[Any] = Signal(owner)
    signal.append(first)
    signal.append(second)
    signal.freeze()
    await signal.send(1, b=2)
    assert calls == [("first", 1, 2), ("second", 1, 2)]
    assert repr(signal).startswith(f"<Signal owner={owner!r}, frozen=True, [")


async def test_signal_must_be_frozen_to_send() -> None:
    signal: Signal[Any] = Signal(None)
    with pytest.raises(RuntimeError, match="non-frozen"):
        await signal.send()


async def test_signal_stops_at_the_first_error() -> None:
    calls: list[str] = []

    async def fails() -> None:
        calls.append("fails")
        raise ValueError("boom")

    async def after() -> None:
        calls.append("after")

    signal: Signal[[]] = Signal(None)
    signal.extend([fails, after])
    signal.freeze()
    with pytest.raises(ValueError, match="boom"):
        await signal.send()
    assert calls == ["fails"]
