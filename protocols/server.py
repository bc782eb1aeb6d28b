"""A correct server as a participant: it answers queries, signs under its guards, stores."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from tssbqs_pbt.protocols.encoding import (
    datum_bytes,
    read_reply_bytes,
    write_reply_bytes,
    write_request,
)
from tssbqs_pbt.protocols.fmap import FMap
from tssbqs_pbt.protocols.messages import (
    INITIAL,
    AlreadyStored,
    Datum,
    DatumPartial,
    Query,
    QueryReply,
    ReadOwn,
    ReadOwnReply,
    ReadPartial,
    Refuse,
    Report,
    SignDatum,
    SignRead,
    SignWriteReply,
    StaleRead,
    Store,
    Ts,
    WriteReplyPartial,
)
from tssbqs_pbt.protocols.rules import Rules
from tssbqs_pbt.protocols.tasks import ReadTask, WriteTask

from tssbqs_pbt.crypto.api import PartialSignature
from tssbqs_pbt.kernel import Effect, Envelope, Log, NodeContext, NodeSigned, OpId, Send

__all__ = ["PARTICIPANT_HANDLERS", "ServerState"]

Result = tuple["ServerState", Sequence[Effect]]


@attrs.frozen(cache_hash=True)
class ServerState:
    datum: Datum = INITIAL
    promise: Ts = (0, 0)  # SIGN_GUARD=LOCAL: the highest timestamp this server signed for
    stored: FMap[OpId, Datum] = attrs.field(factory=FMap)  # the datum stored for each request
    writes: FMap[OpId, WriteTask] = attrs.field(factory=FMap)  # requests it is a delegate for
    reads: FMap[OpId, ReadTask] = attrs.field(factory=FMap)


def _sign(ctx: NodeContext, data: bytes) -> PartialSignature:
    assert ctx.share is not None, "only servers sign"
    return ctx.scheme.partial_sign(ctx.share, data)


def on_query(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
             msg: Query) -> Result:
    report = NodeSigned(ctx.node, Report(msg.op, msg.attempt, rules.store.kept(state.datum)))
    return state, [Send(env.src, QueryReply(report))]


def on_sign_datum(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                  msg: SignDatum) -> Result:
    parsed = write_request(msg.request)
    if parsed is None:
        return state, [Log("sign request without a valid client write request")]
    request, body = parsed
    assert request.op is not None
    if rules.dedup.blocks(state.stored, request.op):
        done = state.stored.get(request.op)
        assert done is not None
        return state, [Send(env.src, AlreadyStored(request.op, done))]
    admission = rules.guard.admit(ctx, rules.store, rules.source, state.datum, state.promise,
                                  request, msg.ts, msg.evidence)
    state = attrs.evolve(state, promise=admission.promise)
    if admission.ts is None:
        if admission.refusal is not None:
            return state, [Send(env.src, Refuse(request.op, admission.refusal))]
        return state, [Log(f"guard refused to sign for {request.op}")]
    partial = _sign(ctx, datum_bytes(body.value, admission.ts))
    return state, [Send(env.src, DatumPartial(request.op, body.value, admission.ts, partial))]


def on_store(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
             msg: Store) -> Result:
    parsed = write_request(msg.request)
    datum = msg.datum
    if parsed is None or datum.value != parsed[1].value or not rules.store.acceptable(ctx, datum):
        return state, [Log("store refused: not a datum for a valid client write request")]
    op = parsed[0].op
    assert op is not None
    if datum.ts > state.datum.ts:
        state = attrs.evolve(state, datum=rules.store.kept(datum))
    state = attrs.evolve(state, stored=state.stored.set(op, rules.store.kept(datum)))
    reply = rules.ack.server_reply(ctx, op, datum)
    return state, ([Send(env.src, reply)] if reply is not None else [])


def on_sign_write_reply(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                        msg: SignWriteReply) -> Result:
    if not rules.ack.signs_reply(ctx, msg):
        return state, [Log(f"not signing the write reply for {msg.op}: acks do not show a quorum")]
    partial = _sign(ctx, write_reply_bytes(msg.op, msg.value, msg.ts))
    return state, [Send(env.src, WriteReplyPartial(msg.op, msg.value, msg.ts, partial))]


def on_sign_read(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                 msg: SignRead) -> Result:
    if not rules.shape.collects:
        return state, [Log("one-phase reads: ignoring a two-phase sign request")]
    admission = rules.read_guard.admit(ctx, rules.store, state.datum, msg)
    state = attrs.evolve(state, datum=admission.stored)
    if admission.sign:
        data = read_reply_bytes(msg.op, msg.datum.value, msg.datum.ts)
        partial = _sign(ctx, data)
        return state, [Send(env.src, ReadPartial(msg.op, msg.datum.value, msg.datum.ts, partial))]
    if admission.refusal is not None:
        return state, [Send(env.src, StaleRead(msg.op, msg.attempt, admission.refusal))]
    return state, [Log(f"read guard refused to sign for {msg.op}")]


def on_read_own(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                msg: ReadOwn) -> Result:
    if rules.shape.collects:
        return state, [Log("two-phase reads: ignoring a one-phase read")]
    own = rules.store.kept(state.datum)
    data = read_reply_bytes(msg.op, own.value, own.ts)
    partial = _sign(ctx, data)
    return state, [Send(env.src, ReadOwnReply(msg.op, own, partial))]


PARTICIPANT_HANDLERS = {
    Query: on_query,
    SignDatum: on_sign_datum,
    Store: on_store,
    SignWriteReply: on_sign_write_reply,
    SignRead: on_sign_read,
    ReadOwn: on_read_own,
}
