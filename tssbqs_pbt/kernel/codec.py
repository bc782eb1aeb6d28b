"""Canonical JSON encoding of simulation values, and a walk over nested values.

Values are frozen attrs instances, enums, node ids, tuples, frozensets, bytes and JSON scalars.
The encoding is canonical (sorted keys, sets in a sorted order) so that one run always yields the
same bytes.  Decoding needs a :class:`TypeRegistry` that knows every class by name, checks every
decoded field against its class's type annotation (a file edited by hand gives a
:class:`~tssbqs_pbt.errors.TraceFormatError` naming the field, not a crash later in a replay) and
bounds nesting at :data:`~tssbqs_pbt.kernel.jsonfile.MAX_DEPTH` levels.
"""

from __future__ import annotations

import collections.abc
import enum
import json
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidProtocol, TraceFormatError
from tssbqs_pbt.kernel.ids import NodeId, parse_node
from tssbqs_pbt.kernel.jsonfile import MAX_DEPTH, too_deep

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


_NESTED: dict[tuple[Any, type], tuple[Any, ...]] = {}
_NESTED_MAX = 50_000


def nested_of(value: Any, cls: type) -> tuple[Any, ...]:
    """Every value of exactly class ``cls`` nested in ``value`` (itself included), in
    :func:`walk` order.  Values are frozen, so the answer is remembered for a hashable one."""
    try:
        found = _NESTED.get((value, cls))
    except TypeError:  # (unhashable: walked every time)
        return tuple(v for v in walk(value) if type(v) is cls)
    if found is None:
        found = tuple(v for v in walk(value) if type(v) is cls)
        if len(_NESTED) >= _NESTED_MAX:
            _NESTED.clear()
        _NESTED[(value, cls)] = found
    return found


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
        self._checks: dict[type, tuple[_FieldCheck, ...]] = {}
        # only the kernel's own classes have their fields checked: a protocol's messages may
        # carry anything a Byzantine server put there (a lie is not a corrupt file), and a
        # trace must read back whatever the kernel let happen
        self._checked: set[type] = set()
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
            if owner == "the kernel":
                self._checked.add(cls)

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

    def checks(self, cls: type) -> tuple[_FieldCheck, ...]:
        """Each field of ``cls`` with a test of its annotated type (none for fields annotated
        ``Any``, or whose annotations cannot be resolved)."""
        found = self._checks.get(cls)
        if found is None:
            found = self._checks[cls] = _field_checks(cls) if cls in self._checked else ()
        return found

    def check(self, value: Any, where: str) -> None:
        """Raise :class:`TraceFormatError` unless every field of ``value`` (a decoded attrs
        instance) has its annotated type."""
        cls = type(value)
        for name, test, expected in self.checks(cls):
            got = getattr(value, name)
            if not test(got):
                raise TraceFormatError(
                    f"malformed value at {where}.{name}: {cls.__name__}.{name} must be "
                    f"{expected}, not {_shown(got)}; the file was edited or is corrupt"
                    + _HINTS.get(expected, "")
                )


_FieldCheck = tuple[str, Callable[[Any], bool], str]
_HINTS = {"NodeId": ' (a node is written {"$node": "S1"} or {"$node": "C1"})'}


def _shown(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"the {type(value).__name__} {text}"


def _field_checks(cls: type) -> tuple[_FieldCheck, ...]:
    if not attrs.has(cls):
        return ()
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a plugin's annotation that does not resolve here: no checks
        return ()
    out = []
    for name in attrs_fields(cls):
        hint = hints.get(name, Any)
        test = _test(hint)
        if test is not None:
            out.append((name, test, _describe(hint)))
    return tuple(out)


def _test(hint: Any) -> Callable[[Any], bool] | None:
    """A test that a decoded value has type ``hint``; None when anything goes."""
    if hint is Any or isinstance(hint, typing.TypeVar):
        return None
    if hint is None or hint is type(None):
        return lambda v: v is None
    if hint is bool:
        return lambda v: v is True or v is False
    if hint is int:
        return lambda v: type(v) is int or (isinstance(v, int) and not isinstance(v, bool))
    if hint is float:
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        tests = [_test(a) for a in args]
        if any(t is None for t in tests):
            return None
        alternatives = tuple(t for t in tests if t is not None)
        return lambda v: any(t(v) for t in alternatives)
    if origin is typing.Literal:
        return lambda v: v in args
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            each = _test(args[0])
            return lambda v: isinstance(v, tuple) and (each is None or all(each(x) for x in v))
        if not args:
            return lambda v: isinstance(v, tuple)
        parts = [_test(a) for a in args]
        return lambda v: (isinstance(v, tuple) and len(v) == len(parts)
                          and all(t is None or t(x) for t, x in zip(parts, v, strict=True)))
    if origin in (frozenset, collections.abc.Set):
        each = _test(args[0]) if args else None
        return lambda v: isinstance(v, frozenset) and (each is None or all(each(x) for x in v))
    if origin is None and isinstance(hint, type):
        return lambda v: isinstance(v, hint)
    return None  # another generic (a mapping, a callable...): not something a trace holds


def _describe(hint: Any) -> str:
    if hint is None or hint is type(None):
        return "null"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list of {len(args)} ({', '.join(_describe(a) for a in args)})"
    if origin in (frozenset, collections.abc.Set):
        return f"a set of {_describe(args[0]) if args else 'values'}"
    if isinstance(hint, type):
        return {"int": "an integer", "str": "a string", "bool": "true or false",
                "bytes": "bytes"}.get(hint.__name__, hint.__name__)
    return str(hint)


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
    """The value that :func:`encode` turned into ``data``; errors name the JSON path.

    Every problem is a :class:`TraceFormatError`: an unknown type, a field of the wrong type
    (checked against the class's annotations), nesting deeper than ``MAX_DEPTH``."""
    try:
        return _decode_fast(data, registry, 0)
    except Exception:  # decode again, naming paths, to say where (and what) is wrong
        return _decode(data, registry, where, 0)


def _decode_fast(data: Any, registry: TypeRegistry, depth: int) -> Any:
    """:func:`decode` without building a JSON path per value (a replay decodes a whole trace);
    any problem raises, and :func:`decode` then finds and names it."""
    if data is None or isinstance(data, (str, bool, int)):
        return data
    depth += 1
    if depth > MAX_DEPTH:
        raise too_deep("the document")
    if isinstance(data, list):
        return tuple([_decode_fast(v, registry, depth) for v in data])
    if "$node" in data:  # (the same order of tests as the path-naming decoder)
        return parse_node(data["$node"])
    if "$bytes" in data:
        return bytes.fromhex(data["$bytes"])
    if "$set" in data:
        if not isinstance(data["$set"], list):
            raise TypeError
        return frozenset([_decode_fast(v, registry, depth) for v in data["$set"]])
    if "$enum" in data:
        cls_name, _, member = data["$enum"].partition(".")
        found = registry.lookup(cls_name, "")
        if not issubclass(found, enum.Enum):
            raise TypeError
        return found[member]
    cls = registry.lookup(data["$"], "")
    if issubclass(cls, enum.Enum):
        raise TypeError
    value = cls(**{k: _decode_fast(v, registry, depth) for k, v in data.items() if k != "$"})
    registry.check(value, "")
    return value


def _decode(data: Any, registry: TypeRegistry, where: str, depth: int) -> Any:
    if data is None or isinstance(data, (str, bool, int)):
        return data
    depth += 1
    if depth > MAX_DEPTH:
        raise too_deep(f"the value at {where}")
    if isinstance(data, list):
        return tuple(_decode(v, registry, f"{where}[{i}]", depth) for i, v in enumerate(data))
    if not isinstance(data, dict):
        raise TraceFormatError(f"unexpected JSON value {_shown(data)} at {where}; the file was "
                               "edited or is corrupt")
    try:
        if "$node" in data:
            return parse_node(data["$node"])
        if "$bytes" in data:
            return bytes.fromhex(_string(data["$bytes"], f"{where}.$bytes"))
        if "$set" in data:
            items = data["$set"]
            if not isinstance(items, list):
                raise TraceFormatError(f"malformed value at {where}.$set: a set is written as a "
                                       f"list, not {_shown(items)}")
            return frozenset(_decode(v, registry, f"{where}.$set[{i}]", depth)
                             for i, v in enumerate(items))
        if "$enum" in data:
            cls_name, _, member = _string(data["$enum"], f"{where}.$enum").partition(".")
            found = registry.lookup(cls_name, where)
            if not issubclass(found, enum.Enum) or member not in found.__members__:
                raise TraceFormatError(f"malformed value at {where}.$enum: {cls_name!r} has no "
                                       f"member {member!r}")
            return found[member]
        if "$" not in data:
            raise TraceFormatError(f"malformed value at {where}: an object names its type under "
                                   f'"$" (or is a "$node", "$bytes", "$set" or "$enum"); this '
                                   f"one has keys {sorted(data)[:6]}")
        cls = registry.lookup(_string(data["$"], f"{where}.$"), where)
        if issubclass(cls, enum.Enum):
            raise TraceFormatError(f"malformed value at {where}: {cls.__name__} is an enum, "
                                   'written {"$enum": "' + cls.__name__ + '.MEMBER"}')
        kwargs = {
            k: _decode(v, registry, f"{where}.{k}", depth) for k, v in data.items() if k != "$"
        }
        value = cls(**kwargs)
    except TraceFormatError:
        raise
    except Exception as exc:  # a malformed record: say where and what
        raise TraceFormatError(f"malformed value at {where}: {exc}; the file was edited or is "
                               "corrupt") from None
    registry.check(value, where)
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TraceFormatError(f"malformed value at {where}: a string was expected, not "
                               f"{_shown(value)}")
    return value


def canonical_json(data: Any) -> str:
    """Compact, key-sorted JSON text of already-encoded ``data``."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
