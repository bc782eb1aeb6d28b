"""Canonical JSON encoding of simulation values, and a walk over nested values.

Values are frozen attrs instances, enums, node ids, tuples, frozensets, bytes and JSON scalars.
The encoding is canonical (sorted keys, sets in a sorted order) so that one run always yields the
same bytes.  Decoding needs a :class:`TypeRegistry` that knows every class by name.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidProtocol, TraceFormatError
from tssbqs_pbt.kernel.ids import NodeId, parse_node

__all__ = [
    "TypeRegistry", "attrs_fields", "canonical_json", "children", "decode", "encode", "walk"
]

_LEAVES = (str, int, bool, type(None), bytes, NodeId, enum.Enum)


_FIELDS: dict[type, tuple[str, ...]] = {}


def attrs_fields(cls: type) -> tuple[str, ...]:
    """Field names of an attrs class, cached (the walk is on the kernel's hot path)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(a.name for a in attrs.fields(cls))
    return names


def walk(value: Any) -> Iterator[Any]:
    """Every value nested in ``value`` (itself first), depth first, in a deterministic order."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        yield item
        parts = children(item)
        if parts:
            extend(reversed(parts))


def children(value: Any) -> tuple[Any, ...] | list[Any]:
    """The values directly nested in ``value``, in :func:`walk` order."""
    if isinstance(value, _LEAVES):
        return ()
    if isinstance(value, tuple):
        return value
    if isinstance(value, frozenset):
        return sorted(value, key=lambda v: canonical_json(encode(v)))
    cls = type(value)
    if attrs.has(cls):
        return [getattr(value, name) for name in attrs_fields(cls)]
    return ()


class TypeRegistry:
    """Classes known to the codec by name (attrs classes and enums)."""

    def __init__(self, classes: Iterable[type] = ()) -> None:
        self._by_name: dict[str, type] = {}
        self.add(classes)

    def add(self, classes: Iterable[type], *, owner: str = "the kernel") -> None:
        for cls in classes:
            if not (attrs.has(cls) or (isinstance(cls, type) and issubclass(cls, enum.Enum))):
                raise InvalidProtocol(
                    f"{owner}: message type {cls!r} is neither an attrs class nor an Enum; "
                    "declare messages as @attrs.frozen classes"
                )
            known = self._by_name.get(cls.__name__)
            if known is not None and known is not cls:
                raise InvalidProtocol(
                    f"{owner}: two message types are both called {cls.__name__!r} "
                    f"({known.__module__} and {cls.__module__}); rename one"
                )
            self._by_name[cls.__name__] = cls

    def __contains__(self, cls: type) -> bool:
        return self._by_name.get(cls.__name__) is cls

    def lookup(self, name: str, where: str) -> type:
        try:
            return self._by_name[name]
        except KeyError:
            raise TraceFormatError(
                f"unknown type {name!r} at {where}; the trace was written by a protocol whose "
                "message types are not registered here (wrong protocol, or a renamed class)"
            ) from None


def encode(value: Any) -> Any:
    """A JSON-ready form of ``value``."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, NodeId):
        return {"$node": str(value)}
    if isinstance(value, enum.Enum):
        return {"$enum": f"{type(value).__name__}.{value.name}"}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    if isinstance(value, frozenset):
        items = [encode(v) for v in value]
        return {"$set": sorted(items, key=canonical_json)}
    if attrs.has(type(value)):
        out = {"$": type(value).__name__}
        for name in attrs_fields(type(value)):
            out[name] = encode(getattr(value, name))
        return out
    raise TypeError(
        f"cannot encode {type(value).__name__} value {value!r}: simulation values must be "
        "frozen attrs classes, enums, tuples, frozensets, bytes, str, int, bool or None"
    )


def decode(data: Any, registry: TypeRegistry, where: str = "$") -> Any:
    """The value that :func:`encode` turned into ``data``; errors name the JSON path."""
    try:
        return _decode_fast(data, registry)
    except Exception:  # decode again, naming paths, to say where (and what) is wrong
        return _decode(data, registry, where)


def _decode_fast(data: Any, registry: TypeRegistry) -> Any:
    """:func:`decode` without building a JSON path per value (a replay decodes a whole trace);
    any problem raises, and :func:`decode` then finds and names it."""
    if data is None or isinstance(data, (str, bool, int)):
        return data
    if isinstance(data, list):
        return tuple([_decode_fast(v, registry) for v in data])
    if "$node" in data:  # (the same order of tests as the path-naming decoder)
        return parse_node(data["$node"])
    if "$bytes" in data:
        return bytes.fromhex(data["$bytes"])
    if "$set" in data:
        return frozenset([_decode_fast(v, registry) for v in data["$set"]])
    if "$enum" in data:
        cls_name, _, member = data["$enum"].partition(".")
        return registry.lookup(cls_name, "")[member]  # type: ignore[index]
    cls = registry.lookup(data["$"], "")
    return cls(**{k: _decode_fast(v, registry) for k, v in data.items() if k != "$"})


def _decode(data: Any, registry: TypeRegistry, where: str) -> Any:
    if data is None or isinstance(data, (str, bool, int)):
        return data
    if isinstance(data, list):
        return tuple(_decode(v, registry, f"{where}[{i}]") for i, v in enumerate(data))
    if not isinstance(data, dict):
        raise TraceFormatError(f"unexpected JSON value {data!r} at {where}")
    try:
        if "$node" in data:
            return parse_node(data["$node"])
        if "$bytes" in data:
            return bytes.fromhex(data["$bytes"])
        if "$set" in data:
            return frozenset(_decode(v, registry, f"{where}.$set") for v in data["$set"])
        if "$enum" in data:
            cls_name, _, member = str(data["$enum"]).partition(".")
            return registry.lookup(cls_name, where)[member]  # type: ignore[index]
        cls = registry.lookup(str(data["$"]), where)
        kwargs = {
            k: _decode(v, registry, f"{where}.{k}") for k, v in data.items() if k != "$"
        }
        return cls(**kwargs)
    except TraceFormatError:
        raise
    except Exception as exc:  # a malformed record: say where and what
        raise TraceFormatError(f"malformed value at {where}: {exc}") from None


def canonical_json(data: Any) -> str:
    """Compact, key-sorted JSON text of already-encoded ``data``."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
