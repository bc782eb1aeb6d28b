"""P1 data consistency, judged from the client-visible history alone.

Required: *integrity* (a read returns the initial value -- the protocol's ``initial_value``, "v0"
by default -- or a value some correct client asked to write), *write order* (if W1 completes
before W2 starts, ts(W2) > ts(W1)) and *regular semantics* (a read returns the value of a write
that precedes it and is not superseded by another preceding write, or of a concurrent write; the
initial value only if no write precedes it).  Reported in addition: *atomicity* (no new/old
inversion: a read that follows another read never returns an older timestamp).  Values written
in one history are assumed distinct.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tssbqs_pbt.kernel import HistoryRecord
from tssbqs_pbt.properties.history import INITIAL_VALUE, OpRecord, operations
from tssbqs_pbt.properties.verdict import (
    Clause,
    ConsistencyLevel,
    Property,
    Status,
    Verdict,
    Violation,
)

__all__ = ["allowed_values", "check_consistency"]


def allowed_values(read: OpRecord, writes: Iterable[OpRecord],
                   initial_value: str = INITIAL_VALUE) -> frozenset[str | None]:
    """The values regular semantics lets ``read`` return."""
    writes = tuple(writes)
    preceding = [w for w in writes if w.precedes(read)]
    latest = [
        w for w in preceding if not any(w.precedes(other) for other in preceding)
    ]
    allowed: set[str | None] = {w.value for w in latest} if preceding else {initial_value}
    assert read.completed is not None
    allowed |= {
        w.value for w in writes if not w.precedes(read) and w.invoked < read.completed
    }
    return frozenset(allowed)


def _has_concurrent_write(read: OpRecord, writes: Iterable[OpRecord]) -> bool:
    assert read.completed is not None
    return any(not w.precedes(read) and w.invoked < read.completed for w in writes)


def _ts_less(a: Any, b: Any) -> bool:
    try:
        return bool(a < b)
    except TypeError:
        return False


def check_consistency(history: Iterable[HistoryRecord],
                      initial_value: str = INITIAL_VALUE) -> Verdict:
    """P1 on a client-visible history; ``initial_value``: the register's value before any
    write (the protocol's ``initial_value``, see :func:`initial_value_of`)."""
    ops = operations(history)
    writes = [o for o in ops if o.is_write]
    reads = [o for o in ops if not o.is_write and o.completed is not None]
    found: list[Violation] = []
    unsafe = False

    for r in reads:
        assert r.completed is not None
        written = {w.value for w in writes if w.invoked <= r.completed}
        if r.value != initial_value and r.value not in written:
            asked = tuple(sorted(written | {initial_value}, key=str))
            found.append(Violation(Clause.INTEGRITY, ops=(r.op,), steps=(r.invoked, r.completed),
                                   got=r.value, allowed=asked))
            unsafe = True
            continue
        allowed = allowed_values(r, writes, initial_value)
        if r.value not in allowed:
            culprits = tuple(w.op for w in writes if w.value in allowed)
            found.append(Violation(Clause.REGULAR, ops=(r.op, *culprits),
                                   steps=(r.invoked, r.completed), got=r.value,
                                   allowed=tuple(sorted(allowed, key=str))))
            unsafe = unsafe or not _has_concurrent_write(r, writes)

    done = [w for w in writes if w.completed is not None and w.ts is not None]
    for w1 in done:
        for w2 in done:
            if w1.precedes(w2) and not _ts_less(w1.ts, w2.ts):
                assert w1.completed is not None and w2.completed is not None
                found.append(Violation(Clause.WRITE_ORDER, ops=(w1.op, w2.op),
                                       steps=(w1.completed, w2.completed), got=w2.ts,
                                       allowed=(w1.ts,)))

    inversions = [
        Violation(Clause.ATOMIC, ops=(r1.op, r2.op), steps=(r1.completed, r2.completed),
                  got=r2.ts, allowed=(r1.ts,))
        for r1 in reads for r2 in reads
        if r1.precedes(r2) and r1.ts is not None and r2.ts is not None
        and _ts_less(r2.ts, r1.ts)
        and r1.completed is not None and r2.completed is not None
    ]
    if not found:
        level = ConsistencyLevel.REGULAR if inversions else ConsistencyLevel.ATOMIC
    else:
        level = ConsistencyLevel.NONE if unsafe else ConsistencyLevel.SAFE
    status = Status.VIOLATED if found else Status.HOLDS
    return Verdict(Property.CONSISTENCY, status, tuple(found), level, len(ops), tuple(inversions))
