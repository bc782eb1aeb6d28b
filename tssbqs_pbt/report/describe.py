"""Short, protocol-neutral descriptions of the values a trace holds.

Protocol messages are arbitrary frozen attrs classes; they are described only by attrs
introspection (class name and fields), never by importing the protocol.  The values every
protocol shares get a word of their own: a :class:`~tssbqs_pbt.kernel.NodeSigned` statement is
"signed by S1: ...", a partial signature is "partial of S2", a service signature is "service
signature", an operation id is "C1#2", bytes become short text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import PartialSignature, Signature
from tssbqs_pbt.kernel import NodeId, NodeSigned, Operation, OpId, OpResult

__all__ = [
    "RESTARTED",
    "clip",
    "describe_bytes",
    "describe_payload",
    "describe_result",
    "describe_ts",
    "describe_value",
    "message_name",
    "wrap",
]

#: what a Byzantine server's restart did, in the steps and the charts ("S4 restarted (...)")
RESTARTED = "restarted (lost its state: it follows the protocol again from its initial state)"

_MAX_DEPTH = 8  # nesting shown before "{…}": deep enough for the data inside evidence


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks the cut)."""
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return one_line
    return one_line[: max(0, limit - 1)] + "…"


def wrap(text: str, width: float, measure: Callable[[str], float] = len) -> tuple[str, ...]:
    """``text`` broken at spaces into lines at most ``width`` wide (by ``measure``; characters by
    default).  Nothing is cut: a word wider than ``width`` stands whole on a line of its own."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and measure(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current or not lines:
        lines.append(current)
    return tuple(lines)


def message_name(payload: Any) -> str:
    """The class name of a message (what a chart labels an arrow with)."""
    return type(payload).__name__


def describe_bytes(data: bytes) -> str:
    """Printable ASCII bytes as text (``datum|v1|1000.3``), anything else in hex; never cut
    (the signed bytes may hold the very value that proves a violation)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if data and text.isprintable():
        return text
    return f"0x{data.hex()}"


def describe_ts(ts: Any) -> str:
    """A timestamp as the protocol wrote it: ``(1000, 3)``, ``12``, or ``none``."""
    if ts is None:
        return "none"
    if isinstance(ts, tuple):
        return "(" + ", ".join(describe_value(t, 1) for t in ts) + ")"
    return describe_value(ts, 1)


def describe_result(result: OpResult) -> str:
    """``v1 (ts (1, 3))`` — what a client accepted."""
    value = "nothing" if result.value is None else result.value
    return value if result.ts is None else f"{value} (ts {describe_ts(result.ts)})"


def describe_value(value: Any, depth: int = 0) -> str:
    """A compact description of any trace value; ``depth`` is how deep it is nested."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):  # whole, however long: it may be the decisive value
        return value if value and value.isprintable() else repr(value)
    if isinstance(value, bytes):
        return describe_bytes(value)
    if isinstance(value, (NodeId, OpId)):
        return str(value)
    if isinstance(value, enum.Enum):
        return str(value.value) if isinstance(value.value, (str, int)) else value.name
    if isinstance(value, Operation):
        return str(value)
    if isinstance(value, PartialSignature):
        return f"partial of S{value.signer}"
    if isinstance(value, Signature):
        return "service signature"
    if isinstance(value, NodeSigned):
        return _describe_signed(value, depth)
    if isinstance(value, tuple):
        return _describe_items(value, depth, "(", ")")
    if isinstance(value, frozenset):
        return _describe_items(tuple(sorted(value, key=str)), depth, "{", "}")
    if attrs.has(type(value)):
        return _describe_attrs(value, depth)
    return " ".join(repr(value).split())


def describe_payload(payload: Any, limit: int | None = None) -> str:
    """A message as ``ClassName{field: value, ...}``.  The reports never pass ``limit`` (they
    wrap long text instead of cutting it); it stays for callers that want a one-line gist."""
    text = describe_value(payload)
    return text if limit is None else clip(text, limit)


def _describe_signed(signed: NodeSigned, depth: int) -> str:
    by = f"signed by {signed.signer}"
    if signed.op is not None:
        by += f" ({signed.op})"
    if depth >= _MAX_DEPTH:
        return by
    return f"{by}: {describe_value(signed.body, depth + 1)}"


def _describe_items(items: tuple[Any, ...], depth: int, opening: str, closing: str) -> str:
    if not items:
        return opening + closing
    if all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in items):
        return opening + ", ".join(str(i) for i in items) + closing  # a timestamp or a vector
    if depth >= _MAX_DEPTH:
        return f"{len(items)} items"
    # every item, evidence or not: a statement or a partial left out may be the decisive one
    return opening + ", ".join(describe_value(i, depth + 1) for i in items) + closing


def _describe_attrs(value: Any, depth: int) -> str:
    name = type(value).__name__
    fields = [
        (a.name, getattr(value, a.name))
        for a in attrs.fields(type(value))
        if getattr(value, a.name) is not None and getattr(value, a.name) != ()
    ]
    if not fields:
        return name
    if depth >= _MAX_DEPTH:
        return name + "{…}"
    inner = ", ".join(f"{key}: {describe_value(item, depth + 1)}" for key, item in fields)
    return f"{name}{{{inner}}}"
