"""A 64-bit fingerprint of a value that every process computes alike.

Python's ``hash`` is not that: strings and bytes hash by a per-process seed
(``PYTHONHASHSEED``), and ``None``, classes and plain objects by their address (``None``
until Python 3.12).  Forked workers inherit their parent's, a Dask worker does not, so two
processes would file one explored state under two fingerprints.  :func:`stable_hash` hashes
the value's structure instead, as TLC fingerprints a canonical encoding of a state: equal
values (as ``==`` compares the frozen values a state is made of) give equal fingerprints in
every process, and two different values one fingerprint with odds of about 2⁻⁶⁴.

Known shapes: ``None``, booleans, integers, floats, strings, bytes, tuples (named ones too),
frozensets, enum members and attrs or dataclass instances (by class name and fields).  Any
other value falls back to its own ``hash``: still correct within one process.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from typing import Any

import attrs

__all__ = ["stable_hash"]

#: a value's fingerprint by identity (values are frozen; the entry keeps the object alive,
#: so its id is not reused meanwhile): a server state shared by thousands of explored states
#: is walked once
_SEEN: dict[int, tuple[Any, int]] = {}
_SEEN_MAX = 1 << 17
#: each class's tag and field names
_CLASSES: dict[type, tuple[int, tuple[str, ...]]] = {}
_TEXT: dict[str | bytes, int] = {}
_TEXT_MAX = 1 << 16

_NONE, _TUPLE, _SET, _OBJECT, _ENUM, _FLOAT = 1, 2, 3, 4, 5, 6


def _text(value: str | bytes) -> int:
    found = _TEXT.get(value)
    if found is None:
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        tag = b"s" if isinstance(value, str) else b"b"
        found = int.from_bytes(hashlib.blake2b(tag + data, digest_size=8).digest(), "little",
                               signed=True)
        if len(_TEXT) >= _TEXT_MAX:
            _TEXT.clear()
        _TEXT[value] = found
    return found


def _fields(cls: type) -> tuple[int, tuple[str, ...]]:
    found = _CLASSES.get(cls)
    if found is None:
        if attrs.has(cls):
            names = tuple(a.name for a in attrs.fields(cls))
        else:
            names = tuple(f.name for f in dataclasses.fields(cls))
        found = _CLASSES[cls] = (_text(f"{cls.__module__}.{cls.__qualname__}"), names)
    return found


def stable_hash(value: Any) -> int:
    """``value``'s fingerprint: the same in every process for equal values."""
    cls = type(value)
    if cls is int or cls is bool:
        return hash(value)  # (an int's hash is its value, modulo 2**61 - 1, everywhere)
    if cls is str or cls is bytes:
        return _text(value)
    if value is None:
        return _NONE
    known = _SEEN.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    found = _structural(value, cls)
    if len(_SEEN) >= _SEEN_MAX:
        _SEEN.clear()
    _SEEN[id(value)] = (value, found)
    return found


def _structural(value: Any, cls: type) -> int:
    if isinstance(value, enum.Enum):
        return hash((_ENUM, _text(f"{cls.__module__}.{cls.__qualname__}"),
                     stable_hash(value.value)))
    if isinstance(value, tuple):
        return hash((_TUPLE, *map(stable_hash, value)))
    if isinstance(value, frozenset):
        return hash((_SET, *sorted(map(stable_hash, value))))
    if cls is float:
        return hash(value) if value == value else hash((_FLOAT, 0))
    if attrs.has(cls) or dataclasses.is_dataclass(cls):
        tag, names = _fields(cls)
        return hash((_OBJECT, tag, *(stable_hash(getattr(value, n)) for n in names)))
    if isinstance(value, (int, str, bytes)):  # (subclasses: as their base value compares)
        return stable_hash(cls.__mro__[-2](value))
    return hash(value)
