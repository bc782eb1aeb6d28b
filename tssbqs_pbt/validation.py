"""Small validators shared by attrs classes across layers (lowest layer beside errors)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["check_system_size", "check_writable_dir", "int_at_least", "require"]


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


def check_writable_dir(flag: str, path: str | Path) -> Path:
    """Raise :class:`InvalidArgument` unless ``path`` is a directory this process can write
    into, or one it can create (nothing is created: the nearest existing ancestor is probed
    with a temporary file); the message names ``flag`` and the fix."""
    folder = Path(path)
    fix = "choose a directory you can write to (it is created if missing)"
    target = folder
    try:
        while not target.exists() and target.parent != target:
            target = target.parent
        if not target.is_dir():
            what = ("is an existing file" if target == folder
                    else f"lies under the file {str(target)!r}")
            raise InvalidArgument(f"{flag} {str(folder)!r} {what}, not a directory; {fix}")
        fd, probe = tempfile.mkstemp(dir=target, prefix=".tssbqs-pbt-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        where = "" if target == folder else f" (no file can be created in {str(target)!r})"
        raise InvalidArgument(f"{flag} {str(folder)!r} cannot be written{where}: "
                              f"{exc.strerror or exc}; {fix}") from None
    return folder
