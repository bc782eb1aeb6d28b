"""READ_GUARD (what a server checks before signing a read reply) and READ_SHAPE."""

from __future__ import annotations

from typing import Protocol

import attrs
from tssbqs_pbt.protocols.messages import Datum, SignRead, Ts
from tssbqs_pbt.protocols.options import ReadGuard, ReadShape
from tssbqs_pbt.protocols.store_forms import StoreFormRule
from tssbqs_pbt.protocols.ts_sources import reports_pin

from tssbqs_pbt.kernel import NodeContext

__all__ = ["READ_GUARDS", "READ_SHAPES", "ReadAdmission", "ReadGuardRule", "ReadShapeRule"]


@attrs.frozen
class ReadAdmission:
    stored: Datum  # the server's datum afterwards (write-back may change it)
    sign: bool
    refusal: Ts | None = None


class ReadGuardRule(Protocol):
    def admit(
        self, ctx: NodeContext, store: StoreFormRule, stored: Datum, msg: SignRead
    ) -> ReadAdmission: ...


class NoReadGuard:
    def admit(self, ctx: NodeContext, store: StoreFormRule, stored: Datum,
              msg: SignRead) -> ReadAdmission:
        return ReadAdmission(stored, sign=True)


class LocalReadGuard:
    """Write back first, then sign only if the datum is not older than the server's own."""

    def admit(self, ctx: NodeContext, store: StoreFormRule, stored: Datum,
              msg: SignRead) -> ReadAdmission:
        if not store.acceptable(ctx, msg.datum):
            return ReadAdmission(stored, sign=False)
        if msg.datum.ts > stored.ts:
            stored = store.kept(msg.datum)
        if msg.datum.ts >= stored.ts:
            return ReadAdmission(stored, sign=True)
        return ReadAdmission(stored, sign=False, refusal=stored.ts)


class EvidenceReadGuard:
    """Sign only if q server-signed reports for this read show the datum is the newest."""

    def admit(self, ctx: NodeContext, store: StoreFormRule, stored: Datum,
              msg: SignRead) -> ReadAdmission:
        newest = reports_pin(ctx, store, msg.evidence, msg.op)
        ok = (
            newest is not None
            and (newest.value, newest.ts) == (msg.datum.value, msg.datum.ts)
            and store.acceptable(ctx, msg.datum)
        )
        return ReadAdmission(stored, sign=ok)


READ_GUARDS: dict[ReadGuard, ReadGuardRule] = {
    ReadGuard.NONE: NoReadGuard(),
    ReadGuard.LOCAL: LocalReadGuard(),
    ReadGuard.EVIDENCE: EvidenceReadGuard(),
}


class ReadShapeRule(Protocol):
    collects: bool  # two-phase: collect reports, then ask servers to sign the chosen datum


class TwoPhase:
    collects = True


class OnePhase:
    """Every server signs a reply over its own datum; the guard has nothing to check."""

    collects = False


READ_SHAPES: dict[ReadShape, ReadShapeRule] = {
    ReadShape.TWO_PHASE: TwoPhase(),
    ReadShape.ONE_PHASE: OnePhase(),
}
