"""ChainMapProxy: read-only lookups over a chain of mappings, first hit wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from aioloom.http._chainmap import ChainMapProxy


def test_first_hit_wins() -> None:
    proxy = ChainMapProxy([{"a": 1}, {"a": 2, "b": 3}])
    assert proxy["a"] == 1
    assert proxy["b"] == 3


def test_missing_key() -> None:
    proxy = ChainMapProxy([{"a": 1}, {"b": 2}])
    with pytest.raises(KeyError) as info:
        proxy["c"]
    assert info.value.args == ("c",)


def test_empty_chain() -> None:
    proxy: ChainMapProxy[str, int] = ChainMapProxy([])
    assert len(proxy) == 0
    assert list(proxy) == []
    assert not proxy
    with pytest.raises(KeyError):
        proxy["a"]


def test_get() -> None:
    proxy = ChainMapProxy([{"a": 1}, {"a": 2, "b": 3}])
    assert proxy.get("a") == 1
    assert proxy.get("b") == 3
    assert proxy.get("c") is None
    assert proxy.get("c", "default") == "default"


def test_get_finds_none_values() -> None:
    proxy: ChainMapProxy[str, int | None] = ChainMapProxy([{"a": None}, {"a": 1}])
    assert proxy.get("a", "default") is None


def test_len_counts_distinct_keys() -> None:
    assert len(ChainMapProxy([{"a": 1, "b": 2}, {"b": 3, "c": 4}])) == 3


def test_iteration_yields_each_key_once() -> None:
    proxy = ChainMapProxy([{"a": 1, "b": 2}, {"b": 3, "c": 4}])
    keys = list(proxy)
    assert sorted(keys) == ["a", "b", "c"]
    assert len(keys) == 3
    assert dict(proxy.items()) == {"a": 1, "b": 2, "c": 4}
    assert sorted(proxy.values()) == [1, 2, 4]


def test_contains() -> None:
    proxy = ChainMapProxy([{"a": 1}, {"b": 2}])
    assert "a" in proxy
    assert "b" in proxy
    assert "c" not in proxy


def test_bool() -> None:
    assert not ChainMapProxy([{}, {}])
    assert ChainMapProxy([{}, {"a": 1}])


def test_is_a_read_only_mapping() -> None:
    proxy = ChainMapProxy([{"a": 1}])
    assert isinstance(proxy, Mapping)
    with pytest.raises(TypeError):
        proxy["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        del proxy["a"]  # type: ignore[attr-defined]


def test_views_not_copies() -> None:
    inner: dict[str, int] = {}
    proxy = ChainMapProxy([inner, {"a": 2}])
    inner["a"] = 1
    assert proxy["a"] == 1


def test_accepts_any_iterable_once() -> None:
    proxy = ChainMapProxy(iter([{"a": 1}, {"b": 2}]))
    assert dict(proxy) == {"a": 1, "b": 2}
    assert dict(proxy) == {"a": 1, "b": 2}  # the generator was consumed into a tuple


def test_equality_with_dict() -> None:
    assert ChainMapProxy([{"a": 1}, {"a": 5, "b": 2}]) == {"a": 1, "b": 2}
    assert ChainMapProxy([{"a": 1}]) != {"a": 2}


def test_repr() -> None:
    assert repr(ChainMapProxy([{"a": 1}, {"b": 2}])) == "ChainMapProxy({'a': 1}, {'b': 2})"


def test_subclassing_forbidden() -> None:
    with pytest.raises(TypeError, match="is forbidden"):

        class Sub(ChainMapProxy[str, int]):  # type: ignore[misc]
            pass


def test_no_instance_dict() -> None:
    proxy: ChainMapProxy[str, Any] = ChainMapProxy([{}])
    with pytest.raises(AttributeError):
        proxy.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [None, 1])
def test_non_iterable_rejected(bad: Any) -> None:
    with pytest.raises(TypeError):
        ChainMapProxy[str, int](bad)


def test_non_mapping_member_fails_on_lookup() -> None:
    proxy = ChainMapProxy[str, int]([["not", "a", "mapping"]])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        proxy["a"]
