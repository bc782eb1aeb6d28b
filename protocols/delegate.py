"""A correct server as a delegate: it drives one client request through its rounds.

Write: [collect q reports] -> sign the new datum (t partials) -> store -> [acks / reply round]
-> reply.  Read: collect q reports -> sign the reply over the newest (t partials) -> reply; or,
one-phase, every server signs over its own datum and t matching partials make the reply.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from tssbqs_pbt.protocols.encoding import (
    datum_bytes,
    partial_ok,
    read_reply_bytes,
    write_reply_bytes,
)
from tssbqs_pbt.protocols.messages import (
    AlreadyStored,
    Datum,
    DatumPartial,
    Query,
    QueryReply,
    ReadBody,
    ReadOwn,
    ReadOwnReply,
    ReadPartial,
    ReadReply,
    Refuse,
    Report,
    Request,
    SignDatum,
    SignRead,
    SignWriteReply,
    StaleRead,
    Store,
    StoreAck,
    WriteBody,
    WriteReply,
    WriteReplyPartial,
)
from tssbqs_pbt.protocols.rules import Rules
from tssbqs_pbt.protocols.server import ServerState
from tssbqs_pbt.protocols.tasks import ReadTask, Stage, WriteTask
from tssbqs_pbt.protocols.ts_sources import newest_reported

from tssbqs_pbt.crypto.api import PartialSignature, Signature
from tssbqs_pbt.kernel import (
    Broadcast,
    Effect,
    Envelope,
    Log,
    NodeContext,
    NodeSigned,
    OpId,
    ReplyToClient,
)

__all__ = ["DELEGATE_HANDLERS"]

Result = tuple[ServerState, Sequence[Effect]]


def _add(partials: tuple[PartialSignature, ...],
         new: PartialSignature) -> tuple[PartialSignature, ...]:
    if any(p.signer == new.signer and p.msg == new.msg for p in partials):
        return partials
    return (*partials, new)


def _combined(ctx: NodeContext, data: bytes,
              partials: tuple[PartialSignature, ...]) -> Signature | None:
    on_data = [p for p in partials if p.msg == data]
    if len(on_data) < ctx.public_key.t:
        return None
    return ctx.scheme.combine(ctx.public_key, ctx.verification, data, on_data)


def _gather(ctx: NodeContext, data: bytes, partials: tuple[PartialSignature, ...],
            new: PartialSignature) -> tuple[tuple[PartialSignature, ...], Signature | None]:
    """Add a verified partial on ``data``; the combined signature once t of them are in."""
    gathered = _add(partials, new)
    return gathered, _combined(ctx, data, gathered)


def _put_write(state: ServerState, task: WriteTask) -> ServerState:
    assert task.request.op is not None
    return attrs.evolve(state, writes=state.writes.set(task.request.op, task))


def _put_read(state: ServerState, task: ReadTask) -> ServerState:
    assert task.request.op is not None
    return attrs.evolve(state, reads=state.reads.set(task.request.op, task))


def _body(task: WriteTask) -> tuple[OpId, WriteBody]:
    assert task.request.op is not None and isinstance(task.request.body, WriteBody)
    return task.request.op, task.request.body


# -- starting ---------------------------------------------------------------------------------
def on_request(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
               msg: Request) -> Result:
    request = msg.request
    if not (isinstance(request, NodeSigned) and request.signer.is_client
            and request.op is not None and request.op.client == request.signer):
        return state, [Log("ignoring a request that no client signed")]
    servers = ctx.config.servers
    op = request.op
    if isinstance(request.body, WriteBody) and op not in state.writes:
        if rules.source.collects:
            task = WriteTask(request, Stage.COLLECT)
            return _put_write(state, task), [Broadcast(servers, Query(op, 0))]
        return _propose(ctx, rules, state, WriteTask(request, Stage.SIGN), ())
    if isinstance(request.body, ReadBody) and op not in state.reads:
        task_r = ReadTask(request, Stage.COLLECT)
        first: object = Query(op, 0) if rules.shape.collects else ReadOwn(op)
        return _put_read(state, task_r), [Broadcast(servers, first)]
    return state, [Log(f"already delegate for {op}")]


def _propose(ctx: NodeContext, rules: Rules, state: ServerState, task: WriteTask,
             reports: tuple[NodeSigned, ...]) -> Result:
    op, body = _body(task)
    ts, evidence = rules.source.propose(state.datum, body, op.client.index, reports)
    task = attrs.evolve(task, stage=Stage.SIGN, ts=ts, evidence=evidence, partials=())
    msg = SignDatum(task.request, ts, evidence)
    return _put_write(state, task), [Broadcast(ctx.config.servers, msg)]


# -- collecting -------------------------------------------------------------------------------
def on_query_reply(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                   msg: QueryReply) -> Result:
    report = msg.report
    if not (isinstance(report, NodeSigned) and report.signer.is_server
            and isinstance(report.body, Report)
            and rules.store.acceptable(ctx, report.body.datum)):
        return state, [Log("ignoring an invalid report")]
    op, attempt = report.body.op, report.body.attempt
    write = state.writes.get(op)
    if write is not None and write.stage is Stage.COLLECT and write.attempt == attempt:
        reports = _with_report(write.reports, report)
        if len(reports) < ctx.config.q:
            return _put_write(state, attrs.evolve(write, reports=reports)), []
        return _propose(ctx, rules, state, attrs.evolve(write, reports=reports), reports)
    read = state.reads.get(op)
    if read is not None and read.stage is Stage.COLLECT and read.attempt == attempt:
        reports = _with_report(read.reports, report)
        if len(reports) < ctx.config.q:
            return _put_read(state, attrs.evolve(read, reports=reports)), []
        newest = newest_reported(reports)
        read = attrs.evolve(read, stage=Stage.SIGN, reports=reports, datum=newest, partials=())
        sign = SignRead(op, attempt, newest, reports)
        return _put_read(state, read), [Broadcast(ctx.config.servers, sign)]
    return state, []


def _with_report(reports: tuple[NodeSigned, ...], new: NodeSigned) -> tuple[NodeSigned, ...]:
    if any(r.signer == new.signer for r in reports):
        return reports
    return (*reports, new)


# -- signing the new datum --------------------------------------------------------------------
def on_datum_partial(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                     msg: DatumPartial) -> Result:
    task = state.writes.get(msg.op)
    if task is None or task.stage is not Stage.SIGN:
        return state, []
    op, body = _body(task)
    data = datum_bytes(body.value, msg.ts)
    if msg.value != body.value or (task.ts is not None and msg.ts != task.ts) or not partial_ok(
        ctx, msg.partial, data
    ):
        return state, [Log(f"ignoring a partial for {op} on another datum")]
    gathered, sig = _gather(ctx, data, task.partials, msg.partial)
    task = attrs.evolve(task, partials=gathered)
    if sig is None:
        return _put_write(state, task), []
    return _signed(ctx, rules, state, task, Datum(body.value, msg.ts, sig))


def _signed(ctx: NodeContext, rules: Rules, state: ServerState, task: WriteTask,
            datum: Datum) -> Result:
    """The new datum is signed (or a server showed the one it stored): store it."""
    op, _ = _body(task)
    store = Broadcast(ctx.config.servers, Store(task.request, datum))
    if rules.ack.replies_at_once and datum.sig is not None:
        task = attrs.evolve(task, stage=Stage.DONE, datum=datum)
        reply = ReplyToClient(op.client, WriteReply(op, datum.value, datum.ts, datum.sig))
        return _put_write(state, task), [store, reply]
    task = attrs.evolve(task, stage=Stage.STORE, datum=datum)
    return _put_write(state, task), [store]


def on_already_stored(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                      msg: AlreadyStored) -> Result:
    task = state.writes.get(msg.op)
    if task is None or task.stage is not Stage.SIGN:
        return state, []
    _, body = _body(task)
    if msg.datum.value != body.value or not rules.store.acceptable(ctx, msg.datum):
        return state, [Log(f"ignoring a stored datum for {msg.op} that does not check")]
    return _signed(ctx, rules, state, task, msg.datum)


def on_refuse(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
              msg: Refuse) -> Result:
    task = state.writes.get(msg.op)
    if task is None or task.stage is not Stage.SIGN or task.ts is None or msg.promise < task.ts:
        return state, []
    op, _ = _body(task)
    ts = rules.source.retry(task.ts, msg.promise, op.client.index)
    if ts is None:
        return state, [Log(f"{op}: refused at {task.ts}; this design cannot retry")]
    task = attrs.evolve(task, ts=ts, partials=(), attempt=task.attempt + 1)
    sign = SignDatum(task.request, ts, task.evidence)
    return _put_write(state, task), [Broadcast(ctx.config.servers, sign)]


# -- acknowledgements and the write reply -------------------------------------------------------
def _write_waiting(state: ServerState, op: OpId, stage: Stage, value: str,
                   ts: object) -> WriteTask | None:
    """The write task for ``op`` if it is at ``stage`` with the datum <value, ts>."""
    task = state.writes.get(op)
    if task is None or task.stage is not stage or task.datum is None:
        return None
    return task if (value, ts) == (task.datum.value, task.datum.ts) else None


def on_store_ack(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                 msg: StoreAck) -> Result:
    task = _write_waiting(state, msg.op, Stage.STORE, msg.value, msg.ts)
    if task is None:
        return state, []
    value = rules.ack.ack_value(ctx, msg, env.src)
    if isinstance(value, PartialSignature):
        return _reply_partial(ctx, state, task, value)
    if isinstance(value, NodeSigned):
        acks = _with_report(task.acks, value)
        task = attrs.evolve(task, acks=acks)
        if len(acks) < ctx.config.q:
            return _put_write(state, task), []
        task = attrs.evolve(task, stage=Stage.REPLY)
        sign = SignWriteReply(msg.op, msg.value, msg.ts, acks)
        return _put_write(state, task), [Broadcast(ctx.config.servers, sign)]
    return state, [Log("ignoring an invalid store acknowledgement")]


def on_write_reply_partial(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                           msg: WriteReplyPartial) -> Result:
    task = _write_waiting(state, msg.op, Stage.REPLY, msg.value, msg.ts)
    if task is None:
        return state, []
    return _reply_partial(ctx, state, task, msg.partial)


def _reply_partial(ctx: NodeContext, state: ServerState, task: WriteTask,
                   partial: PartialSignature) -> Result:
    op, _ = _body(task)
    datum = task.datum
    assert datum is not None
    data = write_reply_bytes(op, datum.value, datum.ts)
    if not partial_ok(ctx, partial, data):
        return state, []
    gathered, sig = _gather(ctx, data, task.reply_partials, partial)
    task = attrs.evolve(task, reply_partials=gathered)
    if sig is None:
        return _put_write(state, task), []
    task = attrs.evolve(task, stage=Stage.DONE)
    reply = WriteReply(op, datum.value, datum.ts, sig)
    return _put_write(state, task), [ReplyToClient(op.client, reply)]


# -- reads --------------------------------------------------------------------------------------
def on_read_partial(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                    msg: ReadPartial) -> Result:
    task = state.reads.get(msg.op)
    if task is None or task.stage is not Stage.SIGN or task.datum is None:
        return state, []
    if (msg.value, msg.ts) != (task.datum.value, task.datum.ts):
        return state, []
    return _read_partial(ctx, state, task, task.datum, msg.partial)


def on_read_own_reply(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                      msg: ReadOwnReply) -> Result:
    task = state.reads.get(msg.op)
    if task is None or task.stage is not Stage.COLLECT or rules.shape.collects:
        return state, []
    if not rules.store.acceptable(ctx, msg.datum):
        return state, []
    return _read_partial(ctx, state, task, msg.datum, msg.partial)


def _read_partial(ctx: NodeContext, state: ServerState, task: ReadTask, datum: Datum,
                  partial: PartialSignature) -> Result:
    assert task.request.op is not None
    op = task.request.op
    data = read_reply_bytes(op, datum.value, datum.ts)
    if not partial_ok(ctx, partial, data):
        return state, []
    gathered, sig = _gather(ctx, data, task.partials, partial)
    task = attrs.evolve(task, partials=gathered)
    if sig is None:
        return _put_read(state, task), []
    task = attrs.evolve(task, stage=Stage.DONE, datum=datum)
    reply = ReadReply(op, datum.value, datum.ts, sig)
    return _put_read(state, task), [ReplyToClient(op.client, reply)]


def on_stale_read(ctx: NodeContext, rules: Rules, state: ServerState, env: Envelope,
                  msg: StaleRead) -> Result:
    task = state.reads.get(msg.op)
    if task is None or task.stage is not Stage.SIGN or task.attempt != msg.attempt:
        return state, []
    attempt = task.attempt + 1
    task = attrs.evolve(task, stage=Stage.COLLECT, attempt=attempt, reports=(), datum=None,
                        partials=())
    return _put_read(state, task), [Broadcast(ctx.config.servers, Query(msg.op, attempt))]


DELEGATE_HANDLERS = {
    Request: on_request,
    QueryReply: on_query_reply,
    DatumPartial: on_datum_partial,
    Refuse: on_refuse,
    AlreadyStored: on_already_stored,
    StoreAck: on_store_ack,
    WriteReplyPartial: on_write_reply_partial,
    ReadPartial: on_read_partial,
    ReadOwnReply: on_read_own_reply,
    StaleRead: on_stale_read,
}
