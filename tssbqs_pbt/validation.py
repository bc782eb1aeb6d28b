"""Small validators shared by attrs classes across layers (lowest layer beside errors)."""

from __future__ import annotations

from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["check_system_size", "int_at_least", "require"]


def require(condition: bool, message: str) -> None:
    """Raise :class:`InvalidArgument` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InvalidArgument(message)


def int_at_least(minimum: int) -> Any:
    """An attrs validator: the field is an ``int`` (not bool) and at least ``minimum``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        name = f"{type(instance).__name__}.{attribute.name}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{name}={value!r} must be an int; pass a whole number")
        if value < minimum:
            raise InvalidArgument(f"{name}={value!r} must be at least {minimum}")

    return check


def check_system_size(n: int, t: int) -> None:
    """Validate a threshold setting: 1 <= t <= n, n >= 1 (unsafe but possible values pass)."""
    for name, value in (("n", n), ("t", t)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{name}={value!r} must be an int; pass a whole number")
    require(n >= 1, f"n={n} servers is impossible; use n >= 1")
    require(1 <= t <= n, f"t={t} is outside 1..n={n}; pick a threshold between 1 and n")
