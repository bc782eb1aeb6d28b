"""A toy threshold-signed register used to test the kernel (not BFT-safe on purpose).

write(v): the client stamps ts = 10*seq + client index, sends Store to every server, and returns
once it can combine t partial signatures on <v, ts>.  read(): the client sends Query to every
server; each answers with its datum and a partial on it; the client returns the first datum with
t valid partials.  Servers answer whoever asked (so a Byzantine server can query them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import PartialSignature
from tssbqs_pbt.kernel import (
    Broadcast,
    Complete,
    Effect,
    Envelope,
    Log,
    NodeContext,
    NodeSigned,
    Operation,
    OpId,
    OpKind,
    OpResult,
    Send,
)


def datum_bytes(value: str, ts: int) -> bytes:
    return f"datum|{value}|{ts}".encode()


@attrs.frozen
class Store:
    request: NodeSigned  # signed by the client: body = (value, ts)
    value: str
    ts: int


@attrs.frozen
class Query:
    op: OpId | None


@attrs.frozen
class Answer:
    op: OpId | None
    value: str
    ts: int
    partial: PartialSignature


@attrs.frozen
class ServerState:
    value: str = "v0"
    ts: int = 0


@attrs.frozen
class ClientState:
    op: OpId | None = None
    kind: OpKind | None = None
    partials: tuple[tuple[bytes, tuple[PartialSignature, ...]], ...] = ()


class ToyRegister:
    name = "toy-register"
    message_types: tuple[type, ...] = (Store, Query, Answer)

    def init_server(self, ctx: NodeContext) -> ServerState:
        return ServerState()

    def init_client(self, ctx: NodeContext) -> ClientState:
        return ClientState()

    def on_server_message(
        self, ctx: NodeContext, state: ServerState, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        msg = envelope.payload
        assert ctx.share is not None
        if isinstance(msg, Store):
            if msg.request.signer.is_client and msg.ts > state.ts:
                state = ServerState(msg.value, msg.ts)
            op = msg.request.op
        elif isinstance(msg, Query):
            op = msg.op
        else:
            return state, [Log(f"ignored {type(msg).__name__}")]
        partial = ctx.scheme.partial_sign(ctx.share, datum_bytes(state.value, state.ts))
        return state, [Send(envelope.src, Answer(op, state.value, state.ts, partial))]

    def on_invoke(
        self, ctx: NodeContext, state: ClientState, op: OpId, operation: Operation
    ) -> tuple[Any, Sequence[Effect]]:
        servers = ctx.config.servers
        if operation.kind is OpKind.WRITE:
            assert operation.value is not None
            ts = 10 * op.seq + ctx.node.index
            request = NodeSigned(ctx.node, (operation.value, ts), op)
            msg: Any = Store(request, operation.value, ts)
        else:
            msg = Query(op)
        return ClientState(op, operation.kind), [Broadcast(servers, msg)]

    def on_client_message(
        self, ctx: NodeContext, state: ClientState, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        msg = envelope.payload
        if not isinstance(msg, Answer) or state.op is None or msg.op != state.op:
            return state, []
        data = datum_bytes(msg.value, msg.ts)
        if not ctx.scheme.verify_partial(ctx.verification, msg.partial, data):
            return state, [Log(f"bad partial from {envelope.src}")]
        if state.kind is OpKind.WRITE and msg.partial.msg != data:
            return state, []
        table = dict(state.partials)
        mine = table.get(data, ())
        if any(p.signer == msg.partial.signer for p in mine):
            return state, []
        table[data] = (*mine, msg.partial)
        if len(table[data]) >= ctx.public_key.t:
            ctx.scheme.combine(ctx.public_key, ctx.verification, data, table[data])
            return ClientState(), [Complete(state.op, OpResult(msg.value, msg.ts))]
        return attrs.evolve(state, partials=tuple(sorted(table.items()))), []


class RaisingRegister(ToyRegister):
    """Like ToyRegister, but every server crashes on Query."""

    name = "raising-register"

    def on_server_message(
        self, ctx: NodeContext, state: ServerState, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        if isinstance(envelope.payload, Query):
            raise RuntimeError("boom")
        return super().on_server_message(ctx, state, envelope)
