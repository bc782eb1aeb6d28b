"""quorum-register: a candidate storage protocol plugged into tssbqs-pbt.

write(v): ask every server for its datum and wait for a quorum of answers; take the highest
timestamp and go one above it; have the servers partially sign <v, ts> (each checks the
client's signed request) and combine t partials into the service signature; store the signed
datum and wait for acknowledgements.  read(): collect a quorum of data, keep the newest
correctly signed one, write it back, return it.
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


def datum_bytes(value: str, ts: tuple[int, int]) -> bytes:
    """What the service signature on a datum covers."""
    return f"qreg|{value}|{ts[0]}|{ts[1]}".encode()


def signed_value(msg: bytes) -> str | None:
    """The written value a signed byte string vouches for (for the P3 signing-oracle check)."""
    text = msg.decode(errors="replace")
    return text.split("|")[1] if text.startswith("qreg|") else None


# -- messages: frozen attrs classes; field roles come from the annotations --------------------
@attrs.frozen
class Datum:
    value: str
    ts: tuple[int, int]
    sig: Signature | None = None  # None only for the initial datum


INITIAL = Datum("v0", (0, 0))


@attrs.frozen
class Query:
    op: OpId


@attrs.frozen
class Reply:
    op: OpId
    datum: Datum


@attrs.frozen
class SignRequest:
    request: NodeSigned  # signed by the client: body = (value, ts)
    value: str
    ts: tuple[int, int]


@attrs.frozen
class Vouch:
    op: OpId
    value: str
    ts: tuple[int, int]
    partial: PartialSignature


@attrs.frozen
class Commit:
    op: OpId
    datum: Datum


@attrs.frozen
class Ack:
    op: OpId


# -- node states ------------------------------------------------------------------------------
@attrs.frozen
class Caller:
    op: OpId | None = None
    kind: OpKind | None = None
    value: str = ""
    phase: str = "idle"  # query -> sign (writes only) -> commit
    heard: tuple[tuple[int, Datum], ...] = ()  # (server index, datum) answers
    datum: Datum = INITIAL
    partials: tuple[PartialSignature, ...] = ()
    acks: tuple[int, ...] = ()


class QuorumRegister:
    name = "quorum-register"
    message_types: tuple[type, ...] = (Datum, Query, Reply, SignRequest, Vouch, Commit, Ack)

    @staticmethod
    def signed_value(msg: bytes) -> str | None:
        return signed_value(msg)

    def init_server(self, ctx: NodeContext) -> Datum:
        return INITIAL

    def init_client(self, ctx: NodeContext) -> Caller:
        return Caller()

    def on_server_message(
        self, ctx: NodeContext, state: Datum, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        msg, src = envelope.payload, envelope.src
        if isinstance(msg, Query):
            return state, [Send(src, Reply(msg.op, state))]
        if isinstance(msg, SignRequest) and ctx.share is not None:
            request = msg.request
            if not request.signer.is_client or request.body != (msg.value, msg.ts):
                return state, []  # not what a client asked for: refuse to sign
            assert request.op is not None
            partial = ctx.scheme.partial_sign(ctx.share, datum_bytes(msg.value, msg.ts))
            return state, [Send(src, Vouch(request.op, msg.value, msg.ts, partial))]
        if isinstance(msg, Commit) and _valid(ctx, msg.datum):
            newer = msg.datum if msg.datum.ts > state.ts else state
            return newer, [Send(src, Ack(msg.op))]
        return state, []

    def on_invoke(
        self, ctx: NodeContext, state: Caller, op: OpId, operation: Operation
    ) -> tuple[Any, Sequence[Effect]]:
        caller = Caller(op, operation.kind, operation.value or "", phase="query")
        return caller, [Broadcast(ctx.config.servers, Query(op))]

    def on_client_message(
        self, ctx: NodeContext, state: Caller, envelope: Envelope
    ) -> tuple[Any, Sequence[Effect]]:
        msg, server = envelope.payload, envelope.src.index
        if state.op is None or getattr(msg, "op", None) != state.op:
            return state, []
        if isinstance(msg, Reply) and state.phase == "query" and _valid(ctx, msg.datum):
            if any(index == server for index, _ in state.heard):
                return state, []
            heard = (*state.heard, (server, msg.datum))
            needed = 1  # BUG: trusts the first answer; must wait for a quorum (ctx.config.q)
            if len(heard) < needed:
                return attrs.evolve(state, heard=heard), []
            newest = max((datum for _, datum in heard), key=lambda d: d.ts)
            if state.kind is OpKind.READ:  # write the newest datum back before returning it
                return _commit(ctx, attrs.evolve(state, heard=heard), newest)
            ts = (newest.ts[0] + 1, ctx.node.index)
            request = NodeSigned(ctx.node, (state.value, ts), state.op)
            asked = SignRequest(request, state.value, ts)
            signing = attrs.evolve(state, heard=heard, phase="sign", datum=Datum(state.value, ts))
            return signing, [Broadcast(ctx.config.servers, asked)]
        if isinstance(msg, Vouch) and state.phase == "sign":
            data = datum_bytes(state.datum.value, state.datum.ts)
            partial = msg.partial
            if partial.msg != data or any(p.signer == partial.signer for p in state.partials):
                return state, []
            if not ctx.scheme.verify_partial(ctx.verification, partial, data):
                return state, []
            partials = (*state.partials, partial)
            if len(partials) < ctx.public_key.t:
                return attrs.evolve(state, partials=partials), []
            sig = ctx.scheme.combine(ctx.public_key, ctx.verification, data, partials)
            return _commit(ctx, state, attrs.evolve(state.datum, sig=sig))
        if isinstance(msg, Ack) and state.phase == "commit" and server not in state.acks:
            acks = (*state.acks, server)
            if len(acks) < ctx.config.q:
                return attrs.evolve(state, acks=acks), []
            result = OpResult(state.datum.value, state.datum.ts)
            return Caller(), [Complete(state.op, result)]
        return state, []


def _valid(ctx: NodeContext, datum: Datum) -> bool:
    if datum.sig is None:
        return datum == INITIAL
    return ctx.scheme.verify(ctx.public_key, datum_bytes(datum.value, datum.ts), datum.sig)


def _commit(ctx: NodeContext, state: Caller, datum: Datum) -> tuple[Any, Sequence[Effect]]:
    assert state.op is not None
    committing = attrs.evolve(state, phase="commit", datum=datum)
    return committing, [Broadcast(ctx.config.servers, Commit(state.op, datum))]


SPEC = ProtocolSpec(
    name="quorum-register",
    build=lambda n, f: QuorumRegister(),
    messages=(
        declare(Datum, signs={"sig": lambda d: datum_bytes(d.value, d.ts)}),
        declare(Vouch, signs={"partial": lambda m: datum_bytes(m.value, m.ts)}),
    ),
    description="tutorial: a quorum register with threshold-signed data",
)
