"""A correct client: it sends each request to its delegates and accepts the first reply that
verifies under the service public key.

With TS_SOURCE=CLIENT_BASIS a write first reads (same delegates, same operation id) and sends the
signed read reply as the basis of its write request.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import attrs
from tssbqs_pbt.protocols.encoding import read_reply_bytes
from tssbqs_pbt.protocols.messages import Basis, ReadBody, ReadReply, Request, WriteBody, WriteReply
from tssbqs_pbt.protocols.options import TsSource
from tssbqs_pbt.protocols.rules import Rules, delegates_for

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
)

__all__ = ["ClientPhase", "ClientState", "on_client_message", "on_invoke"]


class ClientPhase(enum.Enum):
    IDLE = "idle"
    BASIS = "basis"  # reading the basis of a write (CLIENT_BASIS)
    WRITE = "write"
    READ = "read"


@attrs.frozen(cache_hash=True)
class ClientState:
    phase: ClientPhase = ClientPhase.IDLE
    op: OpId | None = None
    value: str | None = None  # the value being written


Result = tuple[ClientState, Sequence[Effect]]


def _send(ctx: NodeContext, rules: Rules, op: OpId, body: object) -> Broadcast:
    delegates = delegates_for(ctx, op, rules.design.delegate_count)
    return Broadcast(delegates, Request(NodeSigned(ctx.node, body, op)))  # type: ignore[arg-type]


def on_invoke(ctx: NodeContext, rules: Rules, state: ClientState, op: OpId,
              operation: Operation) -> Result:
    if operation.kind is OpKind.READ:
        return ClientState(ClientPhase.READ, op), [_send(ctx, rules, op, ReadBody())]
    if rules.design.options.ts_source is TsSource.CLIENT_BASIS:
        state = ClientState(ClientPhase.BASIS, op, operation.value)
        return state, [_send(ctx, rules, op, ReadBody())]
    assert operation.value is not None
    state = ClientState(ClientPhase.WRITE, op, operation.value)
    return state, [_send(ctx, rules, op, WriteBody(operation.value))]


def on_client_message(ctx: NodeContext, rules: Rules, state: ClientState,
                      env: Envelope) -> Result:
    msg = env.payload
    if state.op is None or getattr(msg, "op", None) != state.op:
        return state, []
    op = state.op
    if isinstance(msg, ReadReply) and state.phase in (ClientPhase.READ, ClientPhase.BASIS):
        data = read_reply_bytes(op, msg.value, msg.ts)
        if msg.sig.msg != data or not ctx.scheme.verify(ctx.public_key, data, msg.sig):
            return state, [Log(f"rejected a read reply from {env.src}: bad signature")]
        if state.phase is ClientPhase.READ:
            return ClientState(), [Complete(op, OpResult(msg.value, msg.ts))]
        assert state.value is not None
        basis = Basis(op, msg.value, msg.ts, msg.sig)
        write = WriteBody(state.value, basis)
        return attrs.evolve(state, phase=ClientPhase.WRITE), [_send(ctx, rules, op, write)]
    if isinstance(msg, WriteReply) and state.phase is ClientPhase.WRITE:
        data = rules.ack.client_bytes(op, msg.value, msg.ts)
        if (msg.value != state.value or msg.sig.msg != data
                or not ctx.scheme.verify(ctx.public_key, data, msg.sig)):
            return state, [Log(f"rejected a write reply from {env.src}")]
        return ClientState(), [Complete(op, OpResult(msg.value, msg.ts))]
    return state, []
