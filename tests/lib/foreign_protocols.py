"""Protocols that look nothing like the option-driven one: own message types, no threshold
signatures, client-signed data.  They judge the search engine on designs it was not tuned on.

``PairRegister(q)``: a two-phase register over authenticated channels.  A write asks every
server for its datum, waits for ``q`` answers, and stores the client-signed datum <v, ts> above
the highest it saw at every server, done after ``q`` acknowledgements.  A read asks every
server, waits for ``q`` answers and returns the newest client-signed datum among them.  Data are
signed by the writing client, so a Byzantine server can only report genuine data (old or new).
With n=4, f=1 and q=3 any two quorums meet in a correct server: it is correct.  With q=2 two
quorums may meet only in the Byzantine server, which can forget: a read then misses a completed
write, an attack that needs two correct servers cut off at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

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

__all__ = ["Ask", "Keep", "PairRegister", "Said", "Stored"]

INITIAL = ("v0", 0)


@attrs.frozen
class Ask:
    op: OpId


@attrs.frozen
class Said:
    op: OpId
    datum: NodeSigned | None  # the client-signed (value, ts) the server holds; None: initial


@attrs.frozen
class Keep:
    op: OpId
    datum: NodeSigned


@attrs.frozen
class Stored:
    op: OpId


@attrs.frozen
class Holder:
    datum: NodeSigned | None = None


@attrs.frozen
class Client:
    op: OpId | None = None
    operation: Operation | None = None
    phase: str = ""
    heard: tuple[tuple[Any, NodeSigned | None], ...] = ()
    datum: NodeSigned | None = None  # what a write stores


def _ts(datum: NodeSigned | None) -> tuple[int, int]:
    if datum is None:
        return (0, 0)
    return (datum.body[1], datum.signer.index)


class PairRegister:
    message_types: tuple[type, ...] = (Ask, Said, Keep, Stored)

    def __init__(self, q: int) -> None:
        self.q = q
        self.name = f"pair-register-q{q}"

    def init_server(self, ctx: NodeContext) -> Holder:
        return Holder()

    def init_client(self, ctx: NodeContext) -> Client:
        return Client()

    def on_server_message(self, ctx: NodeContext, state: Holder,
                          envelope: Envelope) -> tuple[Any, Sequence[Effect]]:
        msg = envelope.payload
        if isinstance(msg, Ask):
            return state, [Send(envelope.src, Said(msg.op, state.datum))]
        if isinstance(msg, Keep) and msg.datum.signer.is_client:
            if _ts(msg.datum) > _ts(state.datum):
                state = Holder(msg.datum)
            return state, [Send(envelope.src, Stored(msg.op))]
        return state, []

    def on_invoke(self, ctx: NodeContext, state: Client, op: OpId,
                  operation: Operation) -> tuple[Any, Sequence[Effect]]:
        return (Client(op, operation, "ask"), [Broadcast(ctx.config.servers, Ask(op))])

    def on_client_message(self, ctx: NodeContext, state: Client,
                          envelope: Envelope) -> tuple[Any, Sequence[Effect]]:
        msg = envelope.payload
        if state.op is None or getattr(msg, "op", None) != state.op:
            return state, []
        if any(who == envelope.src for who, _ in state.heard):
            return state, []
        if state.phase == "ask" and isinstance(msg, Said):
            if msg.datum is not None and not msg.datum.signer.is_client:
                return state, []
            heard = (*state.heard, (envelope.src, msg.datum))
            if len(heard) < self.q:
                return attrs.evolve(state, heard=heard), []
            newest = max((d for _, d in heard), key=_ts)
            assert state.operation is not None
            if state.operation.kind is OpKind.READ:
                value = INITIAL[0] if newest is None else newest.body[0]
                return Client(), [Complete(state.op, OpResult(value, _ts(newest)))]
            datum = NodeSigned(ctx.node, (state.operation.value, _ts(newest)[0] + 1), state.op)
            return (attrs.evolve(state, phase="keep", heard=(), datum=datum),
                    [Broadcast(ctx.config.servers, Keep(state.op, datum))])
        if state.phase == "keep" and isinstance(msg, Stored):
            heard = (*state.heard, (envelope.src, None))
            if len(heard) < self.q:
                return attrs.evolve(state, heard=heard), []
            assert state.operation is not None
            return Client(), [Complete(state.op, OpResult(state.operation.value,
                                                          _ts(state.datum)))]
        return state, []
