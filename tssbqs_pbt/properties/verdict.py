"""Verdicts and evidence: what a property checker returns.

Evidence is data (which operations, which steps, which messages, which values), never prose;
turning it into text or a chart is the report layer's job.
"""

from __future__ import annotations

import builtins
import enum

import attrs

from tssbqs_pbt.kernel import OpId

__all__ = ["Clause", "ConsistencyLevel", "Property", "Status", "Verdict", "Violation"]


class Property(enum.Enum):
    CONSISTENCY = "P1 data consistency"
    AVAILABILITY = "P2 data availability"
    CONFIDENTIALITY = "P3 confidentiality of the private key"


class Status(enum.Enum):
    HOLDS = "holds"
    VIOLATED = "violated"
    UNKNOWN = "unknown"  # the trace cannot decide (no drain yet, no decoder for signatures)


class Clause(enum.Enum):
    INTEGRITY = "integrity"  # a read returned a value nobody wrote
    WRITE_ORDER = "write order"  # W1 completed before W2 started but ts(W2) <= ts(W1)
    REGULAR = "regular semantics"  # a read returned a superseded value
    ATOMIC = "atomicity"  # new/old inversion between two reads (reported, not required)
    INCOMPLETE = "operation never completed"  # availability
    KEY_SHARES = "adversary holds t key shares"  # P3 (a)
    SIGNING_ORACLE = "adversary holds a signature on a value nobody wrote"  # P3 (b)


class ConsistencyLevel(enum.Enum):
    NONE = "none"
    SAFE = "safe"
    REGULAR = "regular"
    ATOMIC = "atomic"


@attrs.frozen
class Violation:
    """One piece of evidence: the clause broken, the operations and steps involved, and the
    values that make it a violation (``got`` against ``allowed``)."""

    clause: Clause
    ops: tuple[OpId, ...] = ()
    steps: tuple[int, ...] = ()
    messages: tuple[int, ...] = ()
    got: object = None
    allowed: tuple[object, ...] = ()


@attrs.frozen
class Verdict:
    property: Property
    status: Status
    violations: tuple[Violation, ...] = ()
    level: ConsistencyLevel | None = None  # P1 only: the strongest level the history achieves
    checked_ops: int = 0
    extra: tuple[Violation, ...] = ()  # reported, not required (P1: atomicity inversions)

    @builtins.property
    def violated(self) -> bool:
        return self.status is Status.VIOLATED

    @builtins.property
    def first_step(self) -> int | None:
        """The earliest step any evidence points at (where the violation became visible)."""
        steps = [max(v.steps) for v in self.violations if v.steps]
        return min(steps) if steps else None
