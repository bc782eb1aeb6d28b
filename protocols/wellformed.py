"""Is a received message well-typed?  Correct servers drop anything that is not.

A Byzantine sender can put anything in any field; a correct implementation must not crash on
it.  The check follows the attrs field annotations recursively (unions, ``tuple[X, ...]``,
fixed-length tuples, nested attrs classes); ``Any`` accepts anything well-formed.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs

__all__ = ["well_formed"]

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def well_formed(value: Any, annotation: Any = Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return not attrs.has(type(value)) or _fields_ok(value, depth)
    if origin in (typing.Union, types.UnionType):
        return any(well_formed(value, a, depth) for a in typing.get_args(annotation))
    if annotation is None or annotation is type(None):
        return value is None
    if origin is tuple:
        args = typing.get_args(annotation)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(well_formed(v, args[0], depth + 1) for v in value)
        return len(value) == len(args) and all(
            well_formed(v, a, depth + 1) for v, a in zip(value, args, strict=True)
        )
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation) and (
            not attrs.has(annotation) or _fields_ok(value, depth)
        )
    return True


def _fields_ok(value: Any, depth: int) -> bool:
    hints = _hints(type(value))
    return all(
        well_formed(getattr(value, a.name), hints.get(a.name, Any), depth + 1)
        for a in attrs.fields(type(value))
    )
