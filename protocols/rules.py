"""A design's behaviour pieces, resolved once from its options."""

from __future__ import annotations

import attrs
from tssbqs_pbt.protocols.acks import ACK_MODES, AckRule
from tssbqs_pbt.protocols.dedup import DEDUP_RULES, DedupRule
from tssbqs_pbt.protocols.options import Design
from tssbqs_pbt.protocols.reads import READ_GUARDS, READ_SHAPES, ReadGuardRule, ReadShapeRule
from tssbqs_pbt.protocols.sign_guards import SIGN_GUARDS, SignGuardRule
from tssbqs_pbt.protocols.store_forms import STORE_FORMS, StoreFormRule
from tssbqs_pbt.protocols.ts_sources import TS_SOURCES, TsSourceRule

from tssbqs_pbt.kernel import NodeContext, OpId

__all__ = ["Rules", "delegates_for"]


@attrs.frozen
class Rules:
    design: Design
    store: StoreFormRule
    source: TsSourceRule
    guard: SignGuardRule
    ack: AckRule
    read_guard: ReadGuardRule
    shape: ReadShapeRule
    dedup: DedupRule

    @classmethod
    def of(cls, design: Design) -> Rules:
        o = design.options
        return cls(
            design,
            STORE_FORMS[o.store_form],
            TS_SOURCES[o.ts_source],
            SIGN_GUARDS[o.sign_guard],
            ACK_MODES[o.ack_mode],
            READ_GUARDS[o.read_guard],
            READ_SHAPES[o.read_shape],
            DEDUP_RULES[o.request_dedup],
        )


def delegates_for(ctx: NodeContext, op: OpId, count: int) -> tuple[object, ...]:
    """The servers a client sends operation ``op`` to: ``count`` consecutive servers, starting
    at a position that rotates with the client and the operation number."""
    servers = ctx.config.servers
    start = (op.client.index + op.seq - 2) % len(servers)
    return tuple(servers[(start + i) % len(servers)] for i in range(count))
