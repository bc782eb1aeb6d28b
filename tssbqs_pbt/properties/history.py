"""Operations as a client sees them, rebuilt from a trace's client-visible history."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from tssbqs_pbt.kernel import Completed, HistoryRecord, Invoked, OpId, OpKind, Timestamp

__all__ = ["INITIAL_VALUE", "OpRecord", "initial_value_of", "operations"]

INITIAL_VALUE = "v0"  # the register's value before any write, unless the protocol says otherwise


def initial_value_of(protocol: object) -> str:
    """The value a read may return before any write: the protocol's ``initial_value``
    attribute when it has one (a string), else ``"v0"``."""
    value = getattr(protocol, "initial_value", None)
    return value if isinstance(value, str) else INITIAL_VALUE


@attrs.frozen
class OpRecord:
    op: OpId
    kind: OpKind
    value: str | None  # the value written, or the value a completed read returned
    invoked: int  # step of the invocation
    completed: int | None = None  # step of the completion
    ts: Timestamp | None = None  # the timestamp the client accepted

    @property
    def is_write(self) -> bool:
        return self.kind is OpKind.WRITE

    def precedes(self, other: OpRecord) -> bool:
        """Real-time order: this completed before ``other`` was invoked."""
        return self.completed is not None and self.completed < other.invoked


def operations(history: Iterable[HistoryRecord]) -> tuple[OpRecord, ...]:
    """Every invoked operation with its completion, in invocation order."""
    ops: dict[OpId, OpRecord] = {}
    for record in history:
        event = record.event
        if isinstance(event, Invoked):
            ops[event.op] = OpRecord(
                event.op, event.operation.kind, event.operation.value, record.step
            )
        elif isinstance(event, Completed) and event.op in ops:
            known = ops[event.op]
            value = known.value if known.is_write else event.result.value
            ops[event.op] = attrs.evolve(
                known, value=value, completed=record.step, ts=event.result.ts
            )
    return tuple(ops.values())
