"""P2 data availability: once the adversary stops scheduling (the drain phase), every operation
a correct client invoked completes within the drain's step bound."""

from __future__ import annotations

from tssbqs_pbt.kernel import Drain, Settled, Trace
from tssbqs_pbt.properties.history import operations
from tssbqs_pbt.properties.verdict import Clause, Property, Status, Verdict, Violation

__all__ = ["check_availability"]


def check_availability(trace: Trace) -> Verdict:
    drains = [s for s in trace.steps if isinstance(s.action, Drain)]
    if not drains:
        return Verdict(Property.AVAILABILITY, Status.UNKNOWN)
    drain = drains[-1]
    ops = [o for o in operations(trace.history()) if o.invoked <= drain.index]
    pending = [o for o in ops if o.completed is None]
    if not pending:
        return Verdict(Property.AVAILABILITY, Status.HOLDS, checked_ops=len(ops))
    settled = [e for e in drain.events if isinstance(e, Settled)]
    in_flight = settled[-1].in_flight if settled else None
    evidence = Violation(
        Clause.INCOMPLETE,
        ops=tuple(o.op for o in pending),
        steps=(*(o.invoked for o in pending), drain.index),
        got=in_flight,  # messages still in flight when the drain ended (0: the system is stuck)
        allowed=(drain.action.max_deliveries,),  # type: ignore[union-attr]
    )
    return Verdict(Property.AVAILABILITY, Status.VIOLATED, (evidence,), checked_ops=len(ops))
