"""A third-party candidate protocol written only against the public API.

A naive register: a write is stored at every server and "done" when t servers return a partial
signature over <value, ts>; a read returns the datum a threshold of servers vouch for.  Its own
message types; no code of the option-driven protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from tssbqs_pbt.protocols import FieldRole, ProtocolSpec, declare

from tssbqs_pbt.crypto import PartialSignature
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


def signed_bytes(value: str, stamp: int) -> bytes:
    return f"echo|{value}|{stamp}".encode()


@attrs.frozen
class Put:
    request: NodeSigned
    value: str
    stamp: int


@attrs.frozen
class Get:
    op: OpId


@attrs.frozen
class Vouch:
    op: OpId
    value: str
    stamp: int
    partial: PartialSignature


@attrs.frozen
class Node:
    value: str = "v0"
    stamp: int = 0


@attrs.frozen
class Caller:
    op: OpId | None = None
    vouches: tuple[PartialSignature, ...] = ()


class EchoRegister:
    name = "echo-register"
    message_types: tuple[type, ...] = (Put, Get, Vouch)

    def init_server(self, ctx: NodeContext) -> Node:
        return Node()

    def init_client(self, ctx: NodeContext) -> Caller:
        return Caller()

    def on_server_message(
        self, ctx: NodeContext, state: Node, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        msg = envelope.payload
        if isinstance(msg, Put) and msg.request.signer.is_client and msg.stamp > state.stamp:
            state = Node(msg.value, msg.stamp)
        op = msg.request.op if isinstance(msg, Put) else getattr(msg, "op", None)
        if op is None or ctx.share is None:
            return state, []
        partial = ctx.scheme.partial_sign(ctx.share, signed_bytes(state.value, state.stamp))
        return state, [Send(envelope.src, Vouch(op, state.value, state.stamp, partial))]

    def on_invoke(
        self, ctx: NodeContext, state: Caller, op: OpId, operation: Operation
    ) -> tuple[Any, Sequence[Effect]]:
        if operation.kind is OpKind.WRITE:
            assert operation.value is not None
            stamp = 10 * op.seq + op.client.index
            request = NodeSigned(ctx.node, operation.value, op)
            return Caller(op), [Broadcast(ctx.config.servers, Put(request, operation.value, stamp))]
        return Caller(op), [Broadcast(ctx.config.servers, Get(op))]

    def on_client_message(
        self, ctx: NodeContext, state: Caller, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        msg = envelope.payload
        if not isinstance(msg, Vouch) or msg.op != state.op:
            return state, []
        data = signed_bytes(msg.value, msg.stamp)
        if not ctx.scheme.verify_partial(ctx.verification, msg.partial, data):
            return state, []
        vouches = (*state.vouches, msg.partial)
        same = [p for p in vouches if p.msg == data]
        if len({p.signer for p in same}) >= ctx.public_key.t:
            return Caller(), [Complete(msg.op, OpResult(msg.value, msg.stamp))]
        return attrs.evolve(state, vouches=vouches), []


SPEC = ProtocolSpec(
    name="echo-register",
    build=lambda n, f: EchoRegister(),
    messages=(declare(Put, stamp=FieldRole.TIMESTAMP), declare(Vouch, stamp="timestamp")),
    description="a naive threshold-vouched register (test plug-in)",
)


def spec() -> ProtocolSpec:
    """Entry-point target: a zero-argument callable returning the spec."""
    return SPEC
