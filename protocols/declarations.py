"""What the generic adversary needs to know about the option-driven protocol's messages: which
bytes each signature or partial field covers (field roles are inferred from annotations)."""

from __future__ import annotations

import functools

from tssbqs_pbt.protocols.acks import AckRule
from tssbqs_pbt.protocols.api import MessageDecl, declare
from tssbqs_pbt.protocols.encoding import datum_bytes, read_reply_bytes, write_reply_bytes
from tssbqs_pbt.protocols.messages import (
    MESSAGE_TYPES,
    Basis,
    Datum,
    DatumPartial,
    ReadOwnReply,
    ReadPartial,
    ReadReply,
    StoreAck,
    WriteReply,
    WriteReplyPartial,
)

__all__ = ["design_declarations"]


def design_declarations(ack: AckRule) -> tuple[MessageDecl, ...]:
    """Cached per acknowledgement rule: a sweep builds thousands of protocols."""
    return _declarations(ack)  # type: ignore[arg-type]


@functools.cache
def _declarations(ack: AckRule) -> tuple[MessageDecl, ...]:
    special = {
        Datum: declare(Datum, signs={"sig": lambda d: datum_bytes(d.value, d.ts)}),
        Basis: declare(Basis, signs={"sig": lambda b: read_reply_bytes(b.op, b.value, b.ts)}),
        DatumPartial: declare(
            DatumPartial, signs={"partial": lambda m: datum_bytes(m.value, m.ts)}
        ),
        StoreAck: declare(
            StoreAck, signs={"partial": lambda m: write_reply_bytes(m.op, m.value, m.ts)}
        ),
        WriteReplyPartial: declare(
            WriteReplyPartial, signs={"partial": lambda m: write_reply_bytes(m.op, m.value, m.ts)}
        ),
        ReadPartial: declare(
            ReadPartial, signs={"partial": lambda m: read_reply_bytes(m.op, m.value, m.ts)}
        ),
        ReadOwnReply: declare(
            ReadOwnReply,
            signs={"partial": lambda m: read_reply_bytes(m.op, m.datum.value, m.datum.ts)},
        ),
        WriteReply: declare(
            WriteReply, signs={"sig": lambda m: ack.client_bytes(m.op, m.value, m.ts)}
        ),
        ReadReply: declare(
            ReadReply, signs={"sig": lambda m: read_reply_bytes(m.op, m.value, m.ts)}
        ),
    }
    return tuple(special.get(cls) or declare(cls) for cls in MESSAGE_TYPES)
