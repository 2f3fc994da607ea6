"""FrozenList and Signal: mutable until frozen, read-only after; signals sent only when frozen."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from aioloom.http._signals import FrozenList, Signal

# Every way a MutableSequence can change, each applied to a list holding [1, 2, 3].
MUTATIONS: list[tuple[str, Callable[[FrozenList[int]], object]]] = [
    ("append", lambda items: items.append(4)),
    ("insert", lambda items: items.insert(0, 4)),
    ("extend", lambda items: items.extend([4])),
    ("iadd", lambda items: items.__iadd__([4])),
    ("setitem", lambda items: items.__setitem__(0, 4)),
    ("setslice", lambda items: items.__setitem__(slice(None), [4])),
    ("delitem", lambda items: items.__delitem__(0)),
    ("delslice", lambda items: items.__delitem__(slice(0, 2))),
    ("remove", lambda items: items.remove(2)),
    ("pop", lambda items: items.pop()),
    ("clear", lambda items: items.clear()),
    ("reverse", lambda items: items.reverse()),
]


# -- FrozenList ------------------------------------------------------------------------------


def test_frozen_list_is_a_list_until_frozen() -> None:
    items: FrozenList[int] = FrozenList([1, 2])
    items.append(3)
    items.insert(0, 0)
    items[1] = 10
    del items[2]
    items.extend([4, 5])
    items[0:1] = [-1]
    items += [6]
    assert list(items) == [-1, 10, 3, 4, 5, 6]
    assert items.pop() == 6
    items.remove(4)
    assert list(items) == [-1, 10, 3, 5]
    assert items[1] == 10 and items[-1] == 5
    assert items[1:3] == [10, 3] and type(items[1:3]) is list
    assert 3 in items and 7 not in items
    assert list(reversed(items)) == [5, 3, 10, -1]
    assert items.index(3) == 2 and items.count(10) == 1
    assert len(items) == 4
    assert not items.frozen


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_every_mutation_of_a_frozen_list_is_refused(
    name: str, mutate: Callable[[FrozenList[int]], object]
) -> None:
    unfrozen: FrozenList[int] = FrozenList([1, 2, 3])
    mutate(unfrozen)  # the same mutation works before freezing
    assert list(unfrozen) != [1, 2, 3]

    items: FrozenList[int] = FrozenList([1, 2, 3])
    items.freeze()
    with pytest.raises(RuntimeError, match=r"^Cannot modify frozen list\.$"):
        mutate(items)
    assert list(items) == [1, 2, 3]


def test_freeze_is_idempotent_and_reading_still_works() -> None:
    items = FrozenList("abc")
    items.freeze()
    items.freeze()
    assert items.frozen
    assert items[0] == "a" and items[1:] == ["b", "c"] and "c" in items
    assert list(items) == ["a", "b", "c"] and list(reversed(items)) == ["c", "b", "a"]
    assert items.index("b") == 1 and items.count("a") == 1 and len(items) == 3


def test_initial_items_are_copied() -> None:
    source = [1, 2]
    items = FrozenList(source)
    source.append(3)
    items.append(9)
    assert list(items) == [1, 2, 9] and source == [1, 2, 3]
    assert list(FrozenList()) == [] and list(FrozenList(None)) == []
    assert list(FrozenList(x * 2 for x in range(3))) == [0, 2, 4]


def test_equality_is_list_equality() -> None:
    items = FrozenList([1, 2])
    assert items == [1, 2]
    assert items == FrozenList([1, 2])
    assert items != [2, 1]
    assert items != (1, 2)  # like a list, not equal to a tuple
    items.freeze()
    assert items == [1, 2]  # freezing does not change equality


def test_hash_only_once_frozen() -> None:
    items = FrozenList([1, 2])
    with pytest.raises(RuntimeError, match=r"^Cannot hash unfrozen list\.$"):
        hash(items)
    items.freeze()
    assert hash(items) == hash((1, 2))
    assert {items: "ok"}[items] == "ok"


def test_frozen_list_repr() -> None:
    items = FrozenList([1, "a"])
    assert repr(items) == "<FrozenList(frozen=False, [1, 'a'])>"
    items.freeze()
    assert repr(items) == "<FrozenList(frozen=True, [1, 'a'])>"


# -- Signal ----------------------------------------------------------------------------------


async def test_signal_sends_in_order_with_arguments() -> None:
    calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []

    def make(name: str) -> Callable[..., Any]:
        async def callback(*args: object, **kwargs: object) -> None:
            calls.append((name, args, kwargs))

        return callback

    signal: Signal[...] = Signal(None)
    signal.extend([make("first"), make("second"), make("third")])
    signal.freeze()
    await signal.send(1, "two", key=3)
    expected_args = ((1, "two"), {"key": 3})
    assert calls == [(name, *expected_args) for name in ("first", "second", "third")]
    await signal.send()  # a signal can be sent again
    assert calls[3:] == [("first", (), {}), ("second", (), {}), ("third", (), {})]


async def test_an_unfrozen_signal_cannot_be_sent_and_calls_nothing() -> None:
    calls: list[object] = []

    async def callback(value: object) -> None:
        calls.append(value)

    signal: Signal[[object]] = Signal(None)
    signal.append(callback)
    with pytest.raises(RuntimeError, match=r"^Cannot send non-frozen signal\.$"):
        await signal.send(1)
    assert calls == []
    signal.freeze()
    await signal.send(2)
    assert calls == [2]


async def test_send_stops_at_the_first_error() -> None:
    calls: list[str] = []

    async def before() -> None:
        calls.append("before")

    async def fails() -> None:
        calls.append("fails")
        raise KeyError("boom")

    async def after() -> None:
        calls.append("after")

    signal: Signal[[]] = Signal(None)
    signal.extend([before, fails, after])
    signal.freeze()
    with pytest.raises(KeyError, match="boom"):
        await signal.send()
    assert calls == ["before", "fails"]


def test_send_needs_no_event_loop() -> None:
    # The module is sans-I/O: driving send() by hand works when no callback suspends.
    seen: list[int] = []

    async def callback(value: int) -> None:
        seen.append(value)

    signal: Signal[[int]] = Signal(None)
    signal.append(callback)
    signal.freeze()
    coro = signal.send(5)
    with pytest.raises(StopIteration):
        coro.send(None)
    assert seen == [5]


async def test_empty_frozen_signal_sends_nothing() -> None:
    signal: Signal[[str]] = Signal(None)
    signal.freeze()
    await signal.send("ignored")
    assert len(signal) == 0


def test_signal_is_a_frozen_list_of_callbacks() -> None:
    async def callback() -> None: ...

    signal: Signal[[]] = Signal(object())
    assert isinstance(signal, FrozenList)
    signal.append(callback)
    signal.freeze()
    mutations: list[Callable[[], object]] = [
        lambda: signal.append(callback),
        lambda: signal.insert(0, callback),
        lambda: signal.remove(callback),
        lambda: signal.__setitem__(0, callback),
        lambda: signal.__delitem__(0),
        lambda: signal.clear(),
    ]
    for mutate in mutations:
        with pytest.raises(RuntimeError, match="Cannot modify frozen list"):
            mutate()
    assert list(signal) == [callback]
    assert signal == [callback] and hash(signal) == hash((callback,))


def test_calling_a_signal_appends_the_function_and_returns_it() -> None:
    signal: Signal[[int]] = Signal(None)

    @signal
    async def first(value: int) -> None: ...

    async def second(value: int) -> None: ...

    assert signal(second) is second
    assert list(signal) == [first, second]
    signal.freeze()
    with pytest.raises(RuntimeError, match="Cannot modify frozen list"):
        signal(first)


def test_signal_repr_shows_owner_state_and_callbacks() -> None:
    async def callback() -> None: ...

    signal: Signal[[]] = Signal("my-app")
    assert repr(signal) == "<Signal owner=my-app, frozen=False, []>"
    signal.append(callback)
    signal.freeze()
    assert repr(signal) == f"<Signal owner=my-app, frozen=True, [{callback!r}]>"


def test_the_module_does_not_load_asyncio() -> None:
    code = "import sys, aioloom.http._signals; print('asyncio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False", result.stderr
