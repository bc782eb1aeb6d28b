"""A threshold-signed register written as an outside user would write one: its own message
types, names and state shapes, nothing borrowed from the option-driven protocol.

``Notary()``: a write probes every server and waits for q reports, goes one above the newest
stamp, asks every server to endorse <value, stamp> with a client-signed order that binds
both, combines t endorsements into the service seal and deposits the sealed record, done after
q receipts.  A read probes q servers, writes the newest sealed record back and returns it.
With n=4, f=1, q=3, t=2 it is correct.

Two subtle bugs, each a constructor flag, of the kind a review misses:

- ``receipts_short=True``: a write is done after q - 1 receipts (an off-by-one in the
  acknowledgement check), so a write can be stored at too few correct servers;
- ``keeps_promise=False``: a server that stores a deposit overwrites what it held, forgetting
  the promise its earlier receipt made (never to go back below a record it acknowledged);
- ``binds_stamp=False``: a server checks the order's value but not its stamp, so whoever
  holds a client's order can have its value endorsed at any stamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from tssbqs_pbt.protocols import ProtocolSpec, declare

from tssbqs_pbt.crypto import PartialSignature, Signature
from tssbqs_pbt.kernel import (
    Broadcast,
    Complete,
    Effect,
    Envelope,
    NodeContext,
    NodeSigned,
    Operation,
    OpId,
    OpKind,
    OpResult,
    Send,
)

__all__ = ["NOTARY", "NOTARY_FORGETS", "NOTARY_SHORT", "NOTARY_UNBOUND", "Notary", "notary_spec"]


def sealed_bytes(value: str, stamp: tuple[int, int]) -> bytes:
    return f"notary:{value}:{stamp[0]}:{stamp[1]}".encode()


def sealed_value(msg: bytes) -> str | None:
    text = msg.decode(errors="replace")
    return text.split(":")[1] if text.startswith("notary:") else None


@attrs.frozen
class Record:
    value: str
    stamp: tuple[int, int]
    seal: Signature | None = None  # None only for the initial record


BLANK = Record("v0", (0, 0))


@attrs.frozen
class Probe:
    op: OpId


@attrs.frozen
class Report:
    op: OpId
    record: Record


@attrs.frozen
class Endorse:
    order: NodeSigned  # signed by the writing client: body = (value, stamp)
    value: str
    stamp: tuple[int, int]


@attrs.frozen
class Seal:
    op: OpId
    value: str
    stamp: tuple[int, int]
    part: PartialSignature


@attrs.frozen
class Deposit:
    op: OpId
    record: Record


@attrs.frozen
class Receipt:
    op: OpId


@attrs.frozen
class Desk:
    """A client's one operation in progress."""

    op: OpId | None = None
    kind: OpKind | None = None
    value: str = ""
    stage: str = "idle"  # probe -> endorse (writes) -> deposit
    reports: tuple[tuple[int, Record], ...] = ()
    record: Record = BLANK
    parts: tuple[PartialSignature, ...] = ()
    receipts: tuple[int, ...] = ()


class Notary:
    message_types: tuple[type, ...] = (Record, Probe, Report, Endorse, Seal, Deposit, Receipt)

    def __init__(self, *, receipts_short: bool = False, keeps_promise: bool = True,
                 binds_stamp: bool = True) -> None:
        self.receipts_short = receipts_short
        self.keeps_promise = keeps_promise
        self.binds_stamp = binds_stamp
        self.name = "notary" + ("-short" if receipts_short else "") + (
            "" if keeps_promise else "-forgets") + ("" if binds_stamp else "-unbound")

    @staticmethod
    def signed_value(msg: bytes) -> str | None:
        return sealed_value(msg)

    def init_server(self, ctx: NodeContext) -> Record:
        return BLANK

    def init_client(self, ctx: NodeContext) -> Desk:
        return Desk()

    def on_server_message(self, ctx: NodeContext, state: Record,
                          envelope: Envelope) -> tuple[Any, Sequence[Effect]]:
        msg, src = envelope.payload, envelope.src
        if isinstance(msg, Probe):
            return state, [Send(src, Report(msg.op, state))]
        if isinstance(msg, Endorse) and ctx.share is not None:
            order = msg.order
            bound = (msg.value, msg.stamp) if self.binds_stamp else (msg.value, order.body[1])
            if not order.signer.is_client or order.body != bound:
                return state, []
            assert order.op is not None
            part = ctx.scheme.partial_sign(ctx.share, sealed_bytes(msg.value, msg.stamp))
            return state, [Send(src, Seal(order.op, msg.value, msg.stamp, part))]
        if isinstance(msg, Deposit) and _sealed(ctx, msg.record):
            if self.keeps_promise and msg.record.stamp <= state.stamp:
                return state, [Send(src, Receipt(msg.op))]
            return msg.record, [Send(src, Receipt(msg.op))]
        return state, []

    def on_invoke(self, ctx: NodeContext, state: Desk, op: OpId,
                  operation: Operation) -> tuple[Any, Sequence[Effect]]:
        desk = Desk(op, operation.kind, operation.value or "", stage="probe")
        return desk, [Broadcast(ctx.config.servers, Probe(op))]

    def on_client_message(self, ctx: NodeContext, state: Desk,
                          envelope: Envelope) -> tuple[Any, Sequence[Effect]]:
        msg, server = envelope.payload, envelope.src.index
        if state.op is None or getattr(msg, "op", None) != state.op:
            return state, []
        if isinstance(msg, Report) and state.stage == "probe":
            return self._reported(ctx, state, server, msg.record)
        if isinstance(msg, Seal) and state.stage == "endorse":
            return self._sealed(ctx, state, msg.part)
        if isinstance(msg, Receipt) and state.stage == "deposit" and server not in state.receipts:
            receipts = (*state.receipts, server)
            needed = ctx.config.q - (1 if self.receipts_short else 0)
            if len(receipts) < needed:
                return attrs.evolve(state, receipts=receipts), []
            return Desk(), [Complete(state.op, OpResult(state.record.value, state.record.stamp))]
        return state, []

    def _reported(self, ctx: NodeContext, state: Desk, server: int,
                  record: Record) -> tuple[Any, Sequence[Effect]]:
        if not _sealed(ctx, record) or any(i == server for i, _ in state.reports):
            return state, []
        reports = (*state.reports, (server, record))
        if len(reports) < ctx.config.q:
            return attrs.evolve(state, reports=reports), []
        newest = max((r for _, r in reports), key=lambda r: r.stamp)
        if state.kind is OpKind.READ:
            return _deposit(ctx, attrs.evolve(state, reports=reports), newest)
        stamp = (newest.stamp[0] + 1, ctx.node.index)
        assert state.op is not None
        order = NodeSigned(ctx.node, (state.value, stamp), state.op)
        endorsing = attrs.evolve(state, reports=reports, stage="endorse",
                                 record=Record(state.value, stamp))
        return endorsing, [Broadcast(ctx.config.servers, Endorse(order, state.value, stamp))]

    def _sealed(self, ctx: NodeContext, state: Desk,
                part: PartialSignature) -> tuple[Any, Sequence[Effect]]:
        data = sealed_bytes(state.record.value, state.record.stamp)
        if part.msg != data or any(p.signer == part.signer for p in state.parts):
            return state, []
        if not ctx.scheme.verify_partial(ctx.verification, part, data):
            return state, []
        parts = (*state.parts, part)
        if len(parts) < ctx.public_key.t:
            return attrs.evolve(state, parts=parts), []
        seal = ctx.scheme.combine(ctx.public_key, ctx.verification, data, parts)
        return _deposit(ctx, state, attrs.evolve(state.record, seal=seal))


def _sealed(ctx: NodeContext, record: Record) -> bool:
    if record.seal is None:
        return record == BLANK
    return ctx.scheme.verify(ctx.public_key, sealed_bytes(record.value, record.stamp),
                             record.seal)


def _deposit(ctx: NodeContext, state: Desk, record: Record) -> tuple[Any, Sequence[Effect]]:
    assert state.op is not None
    depositing = attrs.evolve(state, stage="deposit", record=record, receipts=())
    return depositing, [Broadcast(ctx.config.servers, Deposit(state.op, record))]


def notary_spec(name: str, **flags: bool) -> ProtocolSpec:
    """The register as a user registers it (``flags``: the constructor's bug flags)."""
    return ProtocolSpec(
        name=name,
        build=lambda n, f: Notary(**flags),
        messages=(
            declare(Record, signs={"seal": lambda r: sealed_bytes(r.value, r.stamp)}),
            declare(Seal, signs={"part": lambda m: sealed_bytes(m.value, m.stamp)}),
        ),
        description="a threshold-sealed register with its own message types",
    )


NOTARY = notary_spec("notary")
NOTARY_SHORT = notary_spec("notary-short", receipts_short=True)
NOTARY_FORGETS = notary_spec("notary-forgets", keeps_promise=False)
NOTARY_UNBOUND = notary_spec("notary-unbound", binds_stamp=False)
