"""The three property checkers on hand-written golden histories and traces.

Every history here is written out record by record (``HistoryRecord(step, Invoked(...))`` and
``HistoryRecord(step, Completed(...))``), and every trace is a handful of hand-built
:class:`StepRecord` values, so each expected verdict can be checked by reading the test.
Timestamps are ``(counter, writer)`` pairs as in the reference protocol; ``"v0"`` is the initial
value.
"""

from __future__ import annotations

import attrs
import pytest
from tssbqs_pbt.protocols.encoding import datum_bytes, read_reply_bytes, signed_value
from tssbqs_pbt.protocols.messages import Datum, Store, WriteBody

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel import (
    Absorbed,
    Completed,
    Deliver,
    Delivered,
    Drain,
    Envelope,
    HistoryRecord,
    Invoke,
    Invoked,
    Learned,
    NodeSigned,
    Operation,
    OpId,
    OpResult,
    Sent,
    Settled,
    StepRecord,
    SystemConfig,
    Trace,
    TraceHeader,
    client,
    read,
    server,
    write,
)
from tssbqs_pbt.properties import (
    INITIAL_VALUE,
    Clause,
    ConfidentialityScan,
    ConsistencyLevel,
    Property,
    Status,
    Verdict,
    Violation,
    check_availability,
    check_confidentiality,
    check_consistency,
)

C1, C2, C3 = client(1), client(2), client(3)
S1, S4 = server(1), server(4)


# -- building histories ---------------------------------------------------------------------------
def op(who: int, seq: int = 1) -> OpId:
    return OpId(client(who), seq)


def inv(step: int, o: OpId, operation: Operation) -> HistoryRecord:
    return HistoryRecord(step, Invoked(o, operation))


def done(step: int, o: OpId, value: str | None, ts: tuple[int, int] | None) -> HistoryRecord:
    return HistoryRecord(step, Completed(o, OpResult(value, ts)))


def p1(*records: HistoryRecord) -> Verdict:
    verdict = check_consistency(list(records))
    assert verdict.property is Property.CONSISTENCY
    return verdict


def clauses(verdict: Verdict) -> list[Clause]:
    return [v.clause for v in verdict.violations]


# -- P1: histories that are fine ------------------------------------------------------------------
def test_valid_sequential_history_is_atomic() -> None:
    w1, r1, w2, r2 = op(1, 1), op(2, 1), op(3, 1), op(1, 2)
    verdict = p1(
        inv(1, w1, write("v1")), done(2, w1, "v1", (1, 1)),
        inv(3, r1, read()), done(4, r1, "v1", (1, 1)),
        inv(5, w2, write("v2")), done(6, w2, "v2", (2, 3)),
        inv(7, r2, read()), done(8, r2, "v2", (2, 3)),
    )
    assert verdict.status is Status.HOLDS
    assert verdict.level is ConsistencyLevel.ATOMIC
    assert verdict.checked_ops == 4
    assert verdict.violations == () and verdict.extra == ()


def test_valid_concurrent_history() -> None:
    """Two overlapping writes and reads overlapping them; every read returns an allowed value."""
    w1, w2, r1, r2 = op(1), op(2), op(3), op(2, 2)
    verdict = p1(
        inv(1, w1, write("v1")),
        inv(2, w2, write("v2")),
        inv(3, r1, read()),
        done(5, w2, "v2", (1, 2)),
        done(6, w1, "v1", (1, 1)),
        done(7, r1, "v1", (1, 1)),  # concurrent with both writes
        inv(8, r2, read()),
        done(9, r2, "v2", (1, 2)),  # both writes completed, neither precedes the other
    )
    assert verdict.status is Status.HOLDS, verdict.violations
    assert verdict.level is ConsistencyLevel.ATOMIC
    assert verdict.checked_ops == 4


def test_empty_history_holds_vacuously() -> None:
    verdict = p1()
    assert verdict.status is Status.HOLDS
    assert verdict.checked_ops == 0
    assert verdict.violations == ()


@pytest.mark.parametrize("returned", ["v1", "v2"])
def test_read_concurrent_with_a_write_may_return_either_value(returned: str) -> None:
    w1, w2, r = op(1), op(2), op(3)
    ts = {"v1": (1, 1), "v2": (2, 2)}[returned]
    verdict = p1(
        inv(1, w1, write("v1")), done(2, w1, "v1", (1, 1)),
        inv(3, w2, write("v2")),
        inv(4, r, read()), done(5, r, returned, ts),
        done(6, w2, "v2", (2, 2)),
    )
    assert verdict.status is Status.HOLDS, verdict.violations
    assert verdict.level is ConsistencyLevel.ATOMIC


def test_read_concurrent_with_the_first_write_may_return_the_initial_value() -> None:
    w, r = op(1), op(2)
    verdict = p1(
        inv(1, w, write("v1")),
        inv(2, r, read()), done(3, r, INITIAL_VALUE, (0, 0)),
        done(4, w, "v1", (1, 1)),
    )
    assert verdict.status is Status.HOLDS, verdict.violations


@pytest.mark.parametrize("returned", [("v0", (0, 0)), ("v1", (1, 1))])
def test_never_completed_write_is_still_fine_for_p1(returned: tuple[str, tuple[int, int]]) -> None:
    """A write that never completes is concurrent with everything after its invocation."""
    w, r1, r2 = op(1), op(2), op(2, 2)
    value, ts = returned
    verdict = p1(
        inv(1, w, write("v1")),
        inv(2, r1, read()), done(3, r1, value, ts),
        inv(4, r2, read()), done(5, r2, "v1", (1, 1)),
    )
    assert verdict.status is Status.HOLDS, verdict.violations
    assert verdict.checked_ops == 3


# -- P1: violations -------------------------------------------------------------------------------
def test_integrity_violation_names_the_read_and_the_value() -> None:
    w, r = op(1), op(2)
    verdict = p1(
        inv(1, w, write("v1")), done(2, w, "v1", (1, 1)),
        inv(3, r, read()), done(4, r, "forged", (9, 9)),
    )
    assert verdict.status is Status.VIOLATED
    assert verdict.level is ConsistencyLevel.NONE
    (violation,) = verdict.violations
    assert violation.clause is Clause.INTEGRITY
    assert violation.ops == (r,)
    assert violation.got == "forged"
    assert violation.steps == (3, 4)
    assert set(violation.allowed) == {"v0", "v1"}
    assert verdict.first_step == 4


def test_integrity_violation_for_a_value_written_only_after_the_read() -> None:
    """The value exists in the history, but its write starts after the read returned it."""
    r, w = op(2), op(1)
    verdict = p1(
        inv(1, r, read()), done(2, r, "v1", (1, 1)),
        inv(3, w, write("v1")), done(4, w, "v1", (1, 1)),
    )
    assert clauses(verdict) == [Clause.INTEGRITY]
    assert verdict.violations[0].ops == (r,)
    assert verdict.violations[0].got == "v1"


@pytest.mark.parametrize("ts2", [(1, 2), (2, 1)], ids=["lower", "equal"])
def test_write_order_violation_names_both_writes_and_their_ts(ts2: tuple[int, int]) -> None:
    w1, w2 = op(1), op(2)
    verdict = p1(
        inv(1, w1, write("v1")), done(2, w1, "v1", (2, 1)),
        inv(3, w2, write("v2")), done(4, w2, "v2", ts2),
    )
    assert verdict.status is Status.VIOLATED
    (violation,) = verdict.violations
    assert violation.clause is Clause.WRITE_ORDER
    assert violation.ops == (w1, w2)
    assert violation.got == ts2
    assert violation.allowed == ((2, 1),)
    assert violation.steps == (2, 4)


def test_overlapping_writes_may_take_any_order() -> None:
    w1, w2 = op(1), op(2)
    verdict = p1(
        inv(1, w1, write("v1")), inv(2, w2, write("v2")),
        done(3, w1, "v1", (2, 1)), done(4, w2, "v2", (1, 2)),
    )
    assert verdict.status is Status.HOLDS


def test_regular_violation_superseded_value_after_newer_write_completed() -> None:
    w1, w2, r = op(1, 1), op(1, 2), op(2)
    verdict = p1(
        inv(1, w1, write("v1")), done(2, w1, "v1", (1, 1)),
        inv(3, w2, write("v2")), done(4, w2, "v2", (2, 1)),
        inv(5, r, read()), done(6, r, "v1", (1, 1)),
    )
    assert verdict.status is Status.VIOLATED
    assert verdict.level is ConsistencyLevel.NONE  # no concurrent write: not even safe
    (violation,) = verdict.violations
    assert violation.clause is Clause.REGULAR
    assert violation.ops[0] == r
    assert w2 in violation.ops  # the write whose value the read had to return
    assert violation.got == "v1"
    assert violation.allowed == ("v2",)
    assert violation.steps == (5, 6)


def test_read_returning_the_initial_value_after_a_write_completed_is_a_violation() -> None:
    w, r = op(1), op(2)
    verdict = p1(
        inv(1, w, write("v1")), done(2, w, "v1", (1, 1)),
        inv(3, r, read()), done(4, r, INITIAL_VALUE, (0, 0)),
    )
    assert verdict.status is Status.VIOLATED
    (violation,) = verdict.violations
    assert violation.clause is Clause.REGULAR
    assert violation.got == INITIAL_VALUE
    assert violation.allowed == ("v1",)
    assert violation.ops == (r, w)


def test_superseded_value_during_a_concurrent_write_is_safe_not_regular() -> None:
    """v1 is superseded by v2; v3 is in progress: returning v1 breaks regularity only."""
    w1, w2, w3, r = op(1, 1), op(1, 2), op(2), op(3)
    verdict = p1(
        inv(1, w1, write("v1")), done(2, w1, "v1", (1, 1)),
        inv(3, w2, write("v2")), done(4, w2, "v2", (2, 1)),
        inv(5, w3, write("v3")),
        inv(6, r, read()), done(7, r, "v1", (1, 1)),
    )
    assert clauses(verdict) == [Clause.REGULAR]
    assert verdict.level is ConsistencyLevel.SAFE
    assert set(verdict.violations[0].allowed) == {"v2", "v3"}


def test_new_old_inversion_is_regular_not_atomic() -> None:
    """While v2 is being written, R1 returns v2 and the later R2 returns v1: allowed by
    regular semantics, reported as an atomicity inversion in ``extra``."""
    w1, w2, r1, r2 = op(1, 1), op(1, 2), op(2), op(3)
    verdict = p1(
        inv(1, w1, write("v1")), done(2, w1, "v1", (1, 1)),
        inv(3, w2, write("v2")),
        inv(4, r1, read()), done(5, r1, "v2", (2, 1)),
        inv(6, r2, read()), done(7, r2, "v1", (1, 1)),
        done(10, w2, "v2", (2, 1)),
    )
    assert verdict.status is Status.HOLDS
    assert verdict.violations == ()
    assert verdict.level is ConsistencyLevel.REGULAR
    assert verdict.extra == (
        Violation(Clause.ATOMIC, ops=(r1, r2), steps=(5, 7), got=(1, 1), allowed=((2, 1),)),
    )


# -- P2 / P3: hand-built traces -------------------------------------------------------------------
def header(t: int = 2, byzantine: frozenset[int] = frozenset({4})) -> TraceHeader:
    config = SystemConfig(n=4, f=1, q=3, t=t, byzantine=byzantine)
    return TraceHeader("golden", config, "ideal", "key-0")


def trace(*steps: tuple[object, tuple[object, ...]], t: int = 2,
          byzantine: frozenset[int] = frozenset({4})) -> Trace:
    """Steps numbered from 1: each an (action, events) pair."""
    records = tuple(
        StepRecord(i, action, events)  # type: ignore[arg-type]
        for i, (action, events) in enumerate(steps, start=1)
    )
    return Trace(header(t, byzantine), records)


def invoke(who: int, seq: int, operation: Operation) -> tuple[object, tuple[object, ...]]:
    return Invoke(client(who), operation), (Invoked(op(who, seq), operation),)


def complete(msg_id: int, o: OpId, value: str, ts: tuple[int, int]
             ) -> tuple[object, tuple[object, ...]]:
    return Deliver(msg_id), (Delivered(msg_id), Completed(o, OpResult(value, ts)))


def drain(in_flight: int = 0) -> tuple[object, tuple[object, ...]]:
    return Drain(), (Settled(5, in_flight),)


def test_p2_without_a_drain_step_is_unknown() -> None:
    verdict = check_availability(trace(
        invoke(1, 1, write("v1")), complete(3, op(1), "v1", (1, 1)),
    ))
    assert verdict.property is Property.AVAILABILITY
    assert verdict.status is Status.UNKNOWN


def test_p2_operation_pending_after_the_drain_is_violated() -> None:
    verdict = check_availability(trace(
        invoke(1, 1, write("v1")),
        invoke(2, 1, read()),
        complete(7, op(2), "v0", (0, 0)),
        drain(in_flight=0),
    ))
    assert verdict.status is Status.VIOLATED
    (violation,) = verdict.violations
    assert violation.clause is Clause.INCOMPLETE
    assert violation.ops == (op(1),)  # the read completed; the write did not
    assert violation.steps == (1, 4)  # its invocation and the drain
    assert violation.got == 0  # nothing left in flight: the system is stuck
    assert verdict.checked_ops == 2


def test_p2_all_operations_completed_holds() -> None:
    verdict = check_availability(trace(
        invoke(1, 1, write("v1")),
        invoke(2, 1, read()),
        complete(7, op(2), "v0", (0, 0)),
        complete(9, op(1), "v1", (1, 1)),
        drain(),
    ))
    assert verdict.status is Status.HOLDS
    assert verdict.checked_ops == 2
    assert verdict.violations == ()


def test_p2_completion_inside_the_drain_step_counts() -> None:
    w = op(1)
    verdict = check_availability(trace(
        invoke(1, 1, write("v1")),
        (Drain(), (Delivered(3), Completed(w, OpResult("v1", (1, 1))), Settled(1, 0))),
    ))
    assert verdict.status is Status.HOLDS


def sig(data: bytes) -> Signature:
    return Signature("key-0", data, 12345)


def test_p3_byzantine_shares_reaching_t_is_violated() -> None:
    verdict = check_confidentiality(trace(drain(), t=1), signed_value)
    assert verdict.property is Property.CONFIDENTIALITY
    assert verdict.status is Status.VIOLATED
    (violation,) = verdict.violations
    assert violation.clause is Clause.KEY_SHARES
    assert violation.got == 1 and violation.allowed == (0,)


def test_p3_key_shares_violation_needs_no_decoder() -> None:
    verdict = check_confidentiality(trace(drain(), t=1), None)
    assert verdict.status is Status.VIOLATED
    assert clauses(verdict) == [Clause.KEY_SHARES]


def test_p3_without_decoder_is_unknown() -> None:
    evil = sig(datum_bytes("evil", (9, 4)))
    verdict = check_confidentiality(trace((Drain(), (Learned(evil),))), None)
    assert verdict.status is Status.UNKNOWN
    assert verdict.violations == ()


def test_p3_signature_on_a_value_nobody_wrote_is_a_signing_oracle() -> None:
    evil = sig(datum_bytes("evil", (9, 4)))
    verdict = check_confidentiality(trace(
        invoke(1, 1, write("v1")),
        (Deliver(2), (Delivered(2),)),
        (Deliver(3), (Delivered(3), Learned(evil))),
    ), signed_value)
    assert verdict.status is Status.VIOLATED
    (violation,) = verdict.violations
    assert violation.clause is Clause.SIGNING_ORACLE
    assert violation.steps == (3,)
    assert violation.got == "evil"
    assert violation.messages == ()
    assert set(violation.allowed) == {"v0", "v1"}


def test_p3_signature_on_a_written_value_holds() -> None:
    verdict = check_confidentiality(trace(
        invoke(1, 1, write("v1")),
        (Deliver(3), (Delivered(3), Learned(sig(datum_bytes("v1", (5, 1)))))),
        (Deliver(4), (Delivered(4), Learned(sig(read_reply_bytes(op(2), "v0", (0, 0)))))),
    ), signed_value)
    assert verdict.status is Status.HOLDS
    assert verdict.violations == ()


def test_p3_signature_obtained_before_the_write_was_asked_is_a_signing_oracle() -> None:
    early = sig(datum_bytes("v1", (5, 1)))
    verdict = check_confidentiality(trace(
        (Deliver(3), (Delivered(3), Learned(early))),
        invoke(1, 1, write("v1")),
    ), signed_value)
    assert clauses(verdict) == [Clause.SIGNING_ORACLE]
    assert verdict.violations[0].steps == (1,)


def test_p3_signature_absorbed_inside_a_message_names_the_message() -> None:
    """A correct server sends B a message carrying a signature on an unwritten value."""
    evil = sig(datum_bytes("evil", (9, 4)))
    request = NodeSigned(C1, WriteBody("v1"), op(1))
    payload = Store(request, Datum("evil", (9, 4), evil))
    envelope = Envelope(7, S1, S4, payload)
    verdict = check_confidentiality(trace(
        invoke(1, 1, write("v1")),
        (Deliver(6), (Delivered(6), Sent(envelope), Absorbed(7))),
        (Deliver(8), (Delivered(8), Learned(evil))),  # the same signature again: one report
    ), signed_value)
    assert verdict.status is Status.VIOLATED
    (violation,) = verdict.violations
    assert violation.clause is Clause.SIGNING_ORACLE
    assert violation.steps == (2,)
    assert violation.messages == (7,)
    assert violation.got == "evil"


def test_p3_scan_fed_in_pieces_judges_as_the_whole_trace() -> None:
    """The rule machine feeds P3 the steps since its last check; any split of a trace gives the
    verdict of :func:`check_confidentiality` on all of it (violations, steps, evidence)."""
    evil = sig(datum_bytes("evil", (9, 4)))
    early = sig(datum_bytes("v1", (5, 1)))
    envelope = Envelope(7, S1, S4, Store(NodeSigned(C1, WriteBody("v1"), op(1)),
                                         Datum("evil", (9, 4), evil)))
    whole = trace(
        (Deliver(3), (Delivered(3), Learned(early))),
        invoke(1, 1, write("v1")),
        (Deliver(6), (Delivered(6), Sent(envelope), Absorbed(7))),
        (Deliver(8), (Delivered(8), Learned(evil))),
        (Deliver(9), (Delivered(9), Learned(sig(datum_bytes("v1", (6, 1)))))),
    )
    expected = check_confidentiality(whole, signed_value)
    assert clauses(expected) == [Clause.SIGNING_ORACLE, Clause.SIGNING_ORACLE]
    steps = whole.steps
    for cuts in ((), (1,), (2, 3), (1, 2, 3, 4), (4,)):
        scan = ConfidentialityScan(whole.header.config, signed_value)
        for lo, hi in zip((0, *cuts), (*cuts, len(steps)), strict=True):
            scan.feed(steps[lo:hi])
            assert scan.verdict().violations == check_confidentiality(
                attrs.evolve(whole, steps=steps[:hi]), signed_value).violations
        assert scan.verdict() == expected and scan.fed == len(steps)
