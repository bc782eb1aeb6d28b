"""ACK_MODE: how a write reply proves that a quorum stored the datum.

Server side: what a server answers to a ``Store`` and whether it signs a write reply.  Delegate
side: what the delegate does once the datum is signed, and what a store acknowledgement is
worth.  Client side: which bytes the client's accepted signature covers.
"""

from __future__ import annotations

from typing import Protocol

from tssbqs_pbt.protocols.encoding import datum_bytes, partial_ok, write_reply_bytes
from tssbqs_pbt.protocols.messages import Ack, Datum, SignWriteReply, StoreAck, Ts
from tssbqs_pbt.protocols.options import AckMode

from tssbqs_pbt.crypto.api import PartialSignature
from tssbqs_pbt.kernel import NodeContext, NodeSigned, OpId

__all__ = ["ACK_MODES", "AckRule"]


class AckRule(Protocol):
    replies_at_once: bool  # the signed datum itself is the reply (no store round awaited)
    separate_round: bool  # q signed acks, then a round that signs the reply

    def server_reply(self, ctx: NodeContext, op: OpId, datum: Datum) -> StoreAck | None: ...

    def signs_reply(self, ctx: NodeContext, msg: SignWriteReply) -> bool: ...

    def ack_value(
        self, ctx: NodeContext, msg: StoreAck, src: object
    ) -> PartialSignature | NodeSigned | None: ...

    def client_bytes(self, op: OpId, value: str, ts: Ts) -> bytes: ...


def _acks_pin(ctx: NodeContext, msg: SignWriteReply) -> bool:
    signers = {
        a.signer
        for a in msg.acks
        if isinstance(a, NodeSigned)
        and a.signer.is_server
        and a.body == Ack(msg.op, msg.value, msg.ts)
    }
    return len(signers) >= ctx.config.q


class NoAck:
    """"Done" as soon as the datum is signed: the delegate stores it and replies at once."""

    replies_at_once = True
    separate_round = False

    def server_reply(self, ctx: NodeContext, op: OpId, datum: Datum) -> StoreAck | None:
        return None

    def signs_reply(self, ctx: NodeContext, msg: SignWriteReply) -> bool:
        return False

    def ack_value(self, ctx: NodeContext, msg: StoreAck,
                  src: object) -> PartialSignature | NodeSigned | None:
        return None

    def client_bytes(self, op: OpId, value: str, ts: Ts) -> bytes:
        return datum_bytes(value, ts)


class PiggybackAck:
    """Each store acknowledgement carries the server's partial on the write reply."""

    replies_at_once = False
    separate_round = False

    def server_reply(self, ctx: NodeContext, op: OpId, datum: Datum) -> StoreAck | None:
        assert ctx.share is not None
        partial = ctx.scheme.partial_sign(ctx.share, write_reply_bytes(op, datum.value, datum.ts))
        return StoreAck(op, datum.value, datum.ts, partial=partial)

    def signs_reply(self, ctx: NodeContext, msg: SignWriteReply) -> bool:
        return False

    def ack_value(self, ctx: NodeContext, msg: StoreAck,
                  src: object) -> PartialSignature | NodeSigned | None:
        data = write_reply_bytes(msg.op, msg.value, msg.ts)
        if msg.partial is not None and partial_ok(ctx, msg.partial, data):
            return msg.partial
        return None

    def client_bytes(self, op: OpId, value: str, ts: Ts) -> bytes:
        return write_reply_bytes(op, value, ts)


class EvidenceAck:
    """Servers return signed acks; a separate round signs the reply once q acks are shown."""

    replies_at_once = False
    separate_round = True

    def server_reply(self, ctx: NodeContext, op: OpId, datum: Datum) -> StoreAck | None:
        ack = NodeSigned(ctx.node, Ack(op, datum.value, datum.ts))
        return StoreAck(op, datum.value, datum.ts, ack=ack)

    def signs_reply(self, ctx: NodeContext, msg: SignWriteReply) -> bool:
        return _acks_pin(ctx, msg)

    def ack_value(self, ctx: NodeContext, msg: StoreAck,
                  src: object) -> PartialSignature | NodeSigned | None:
        ack = msg.ack
        if (
            isinstance(ack, NodeSigned)
            and ack.signer == src
            and ack.body == Ack(msg.op, msg.value, msg.ts)
        ):
            return ack
        return None

    def client_bytes(self, op: OpId, value: str, ts: Ts) -> bytes:
        return write_reply_bytes(op, value, ts)


ACK_MODES: dict[AckMode, AckRule] = {
    AckMode.NONE: NoAck(),
    AckMode.PIGGYBACK: PiggybackAck(),
    AckMode.EVIDENCE: EvidenceAck(),
}
