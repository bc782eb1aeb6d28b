"""Verdicts in plain words: which property, which clause, and what the evidence names.

A :class:`~tssbqs_pbt.properties.Violation` is data (operations, steps, messages, the value got
and the values allowed); what ``got`` and ``allowed`` mean depends on the clause, so each clause
has its own sentence.  Unknown clauses fall back to a neutral listing of the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable

from tssbqs_pbt.kernel import OpId, OpKind
from tssbqs_pbt.properties import Clause, Status, Violation
from tssbqs_pbt.report.describe import describe_payload, describe_ts, describe_value
from tssbqs_pbt.report.timeline import Timeline
from tssbqs_pbt.wording import plural

__all__ = ["explain_violation", "fault_lines", "headline", "verdict_lines"]


def headline(timeline: Timeline) -> str:
    """One line: what went wrong (the violation or the protocol fault), or that nothing did."""
    verdict = timeline.verdict
    if verdict is None or not verdict.violated:
        if timeline.faults:
            step, fault = timeline.faults[0]
            return f"protocol fault at step {step}: {fault.node} {fault.detail}"
        if verdict is None:
            return "no verdict"
        return f"{verdict.property.value}: {verdict.status.value}"
    first = verdict.violations[0] if verdict.violations else None
    clause = f" ({first.clause.value})" if first is not None else ""
    detail = f": {explain_violation(first, timeline)}" if first is not None else ""
    return f"{verdict.property.value} violated{clause}{detail}"


def verdict_lines(timeline: Timeline) -> list[str]:
    """The verdict section of the step report, as Markdown lines."""
    verdict = timeline.verdict
    if verdict is None:
        return fault_lines(timeline)
    lines = [f"**{verdict.property.value}: {verdict.status.value}**"]
    if timeline.faults and not verdict.violated:
        lines.extend(["", *fault_lines(timeline)])
    if verdict.status is Status.UNKNOWN:
        lines.append("")
        lines.append("The trace cannot decide this property (no drain phase yet, or no decoder "
                     "for signed values).")
    if verdict.violations:
        lines.append("")
        for v in verdict.violations:
            lines.append(f"- *{v.clause.value}*: {explain_violation(v, timeline)}")
            lines.extend(f"  - {m}" for m in _message_lines(v.messages, timeline))
    if verdict.level is not None:
        lines.append("")
        lines.append(f"Strongest consistency level the history achieves: {verdict.level.value}.")
    if verdict.extra:
        lines.append("")
        lines.append("Also reported (not required by the property):")
        lines.extend(f"- *{v.clause.value}*: {explain_violation(v, timeline)}"
                     for v in verdict.extra)
    return lines


def fault_lines(timeline: Timeline) -> list[str]:
    if not timeline.faults:
        return ["No verdict was given and no step faulted."]
    lines = ["**Protocol fault** (no property verdict: a protocol handler failed)", ""]
    for step, fault in timeline.faults:
        lines.append(f"- step {step}: {fault.node} {fault.detail}")
    return lines


def explain_violation(v: Violation, timeline: Timeline) -> str:
    """One sentence for one piece of evidence."""
    c = v.clause
    if c is Clause.REGULAR and v.ops:
        read = v.ops[0]
        writers = _by(v.ops[1:], timeline)
        return (f"read {_op_when(read, v.got, timeline)}, but regular semantics allows only "
                f"{_alternatives(v.allowed)}{writers}")
    if c is Clause.INTEGRITY and v.ops:
        return (f"read {_op_when(v.ops[0], v.got, timeline)}, a value no client asked to "
                f"write (possible: {_alternatives(v.allowed)})")
    if c is Clause.WRITE_ORDER and len(v.ops) >= 2:
        w1, w2 = v.ops[0], v.ops[1]
        before = _ts(v.allowed[0]) if v.allowed else "?"
        return (f"write {w1} ({_written(w1, timeline)}) completed at step "
                f"{_completed_step(w1, timeline)} with ts {before} before write {w2} "
                f"({_written(w2, timeline)}) started, yet {w2} completed at step "
                f"{_completed_step(w2, timeline)} with ts {_ts(v.got)}, which is not above it")
    if c is Clause.ATOMIC and len(v.ops) >= 2:
        r1, r2 = v.ops[0], v.ops[1]
        newer = _ts(v.allowed[0]) if v.allowed else "?"
        return (f"read {r1} returned ts {newer} at step {_completed_step(r1, timeline)}, "
                f"then the later read {r2} returned the older ts {_ts(v.got)} at step "
                f"{_completed_step(r2, timeline)} (new/old inversion)")
    if c is Clause.INCOMPLETE:
        ops = ", ".join(f"{_kind(o, timeline)} {o} (invoked at step "
                        f"{timeline.invoked_at.get(o, '?')})" for o in v.ops)
        drain = max(v.steps) if v.steps else "?"
        bound = v.allowed[0] if v.allowed else "?"
        stuck = ("nothing was left in flight: the system is stuck" if v.got == 0
                 else f"{plural(v.got, 'message')} were still in flight after the bound of {bound} "
                 "deliveries")
        return (f"{ops} never completed, although the adversary stopped at step {drain} "
                f"(fair delivery, Byzantine servers silent); {stuck}")
    if c is Clause.KEY_SHARES:
        limit = v.allowed[0] if v.allowed else "?"
        return (f"the adversary holds {v.got} key shares from the start, but at most {limit} "
                "are allowed: it can sign on its own")
    if c is Clause.SIGNING_ORACLE:
        where = f"at step {v.steps[0]}" if v.steps else "at some step"
        return (f"{where} the adversary holds a service signature on the value "
                f"{_val(v.got)}, which no correct client asked to write (asked: "
                f"{_alternatives(v.allowed, 'and')})")
    return _generic(v)


def _generic(v: Violation) -> str:
    parts = [f"{v.clause.value}"]
    if v.ops:
        parts.append("operations " + ", ".join(str(o) for o in v.ops))
    if v.steps:
        parts.append("steps " + ", ".join(str(s) for s in v.steps))
    if v.got is not None:
        parts.append(f"got {_val(v.got)}")
    if v.allowed:
        parts.append(f"allowed {_alternatives(v.allowed)}")
    return "; ".join(parts)


def _message_lines(ids: Iterable[int], timeline: Timeline) -> list[str]:
    out = []
    for i in ids:
        envelope = timeline.envelopes.get(i)
        if envelope is None:
            out.append(f"message #{i}")
            continue
        fate, at = timeline.fate(i)
        when = f", {fate.value} at step {at}" if at is not None else f", {fate.value}"
        out.append(f"message #{i}: {envelope.src} → {envelope.dst} "
                   f"{describe_payload(envelope.payload)} (sent at step "
                   f"{timeline.sent_at.get(i, '?')}{when})")
    return out


def _op_when(op: OpId, got: object, timeline: Timeline) -> str:
    """``C2#1 (invoked at step 31) returned v0 at step 89``."""
    invoked = timeline.invoked_at.get(op)
    done = _completed_step(op, timeline)
    span = f" (invoked at step {invoked})" if invoked is not None else ""
    at = f" at step {done}" if done != "?" else ""
    return f"{op}{span} returned {_val(got)}{at}"


def _completed_step(op: OpId, timeline: Timeline) -> str:
    found = timeline.completed.get(op)
    return str(found[0]) if found is not None else "?"


def _kind(op: OpId, timeline: Timeline) -> str:
    operation = timeline.operations.get(op)
    if operation is None:
        return "operation"
    return "write" if operation.kind is OpKind.WRITE else "read"


def _written(op: OpId, timeline: Timeline) -> str:
    operation = timeline.operations.get(op)
    return str(operation) if operation is not None else "?"


def _by(writes: tuple[OpId, ...], timeline: Timeline) -> str:
    if not writes:
        return ""
    named = [f"{w}, {_written(w, timeline)}" for w in writes]
    return " (written by " + "; ".join(named) + ")"


def _alternatives(values: tuple[object, ...], joiner: str = "or") -> str:
    shown = [_val(a) for a in values]
    if not shown:
        return "nothing"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + f" {joiner} {shown[-1]}"


def _val(value: object) -> str:
    return describe_value(value)


def _ts(value: object) -> str:
    return describe_ts(value)
