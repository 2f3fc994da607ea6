"""``ChainMapProxy``: aiohttp's read-only view over a chain of mappings.

``request.config_dict`` is one: the application's state first, then each parent
application's, so a nested app sees (and may shadow) its parents' configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, final, overload

__all__ = ("ChainMapProxy",)

_KT = TypeVar("_KT")
_VT_co = TypeVar("_VT_co", covariant=True)
_T = TypeVar("_T")


@final
class ChainMapProxy(Mapping[_KT, _VT_co]):
    """A read-only mapping that looks a key up in several mappings, first hit wins.

    The mappings are not copied: changes to them show through. Subclassing is
    forbidden, as in aiohttp.

    Args:
        maps: the mappings, searched in this order.
    """

    __slots__ = ("_maps",)

    def __init__(self, maps: Iterable[Mapping[_KT, _VT_co]]) -> None:
        self._maps: tuple[Mapping[_KT, _VT_co], ...] = tuple(maps)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: _KT) -> _VT_co:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        raise KeyError(key)

    @overload
    def get(self, key: _KT, /) -> _VT_co | None: ...

    @overload
    def get(self, key: _KT, /, default: _VT_co | _T) -> _VT_co | _T: ...

    def get(self, key: _KT, /, default: object = None) -> object:
        """Return the first mapping's value for ``key``, or ``default``."""
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        return default

    def __len__(self) -> int:
        # The number of distinct keys across all mappings.
        return len(set().union(*self._maps))

    def __iter__(self) -> Iterator[_KT]:
        # Every distinct key once; building one dict reuses the keys' stored hashes.
        merged: dict[_KT, object] = {}
        for mapping in reversed(self._maps):
            merged.update(mapping)
        return iter(merged)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        content = ", ".join(map(repr, self._maps))
        return f"ChainMapProxy({content})"
