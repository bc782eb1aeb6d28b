"""A tiny immutable mapping for protocol states (protocol states must be values)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

import attrs

__all__ = ["FMap"]

K = TypeVar("K")
V = TypeVar("V")


@attrs.frozen(cache_hash=True)
class FMap(Generic[K, V]):
    """Insertion-ordered immutable map; ``set``/``remove`` return new maps."""

    items: tuple[tuple[K, V], ...] = ()

    def get(self, key: K) -> V | None:
        for k, v in self.items:
            if k == key:
                return v
        return None

    def set(self, key: K, value: V) -> FMap[K, V]:
        rest = tuple((k, v) for k, v in self.items if k != key)
        return FMap((*rest, (key, value)))

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def keys(self) -> Iterator[K]:
        return (k for k, _ in self.items)

    def values(self) -> Iterator[V]:
        return (v for _, v in self.items)
