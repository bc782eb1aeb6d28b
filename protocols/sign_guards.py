"""SIGN_GUARD: what a correct server checks before partially signing a new datum."""

from __future__ import annotations

from typing import Protocol

import attrs
from tssbqs_pbt.protocols.messages import Datum, Ts
from tssbqs_pbt.protocols.options import SignGuard
from tssbqs_pbt.protocols.store_forms import StoreFormRule
from tssbqs_pbt.protocols.ts_sources import Evidence, TsSourceRule

from tssbqs_pbt.kernel import NodeContext, NodeSigned

__all__ = ["SIGN_GUARDS", "Admission", "SignGuardRule"]


@attrs.frozen
class Admission:
    """The guard's answer: sign at ``ts`` (None: do not sign), the new promise, and whether to
    tell the delegate about a promise it has to beat."""

    ts: Ts | None
    promise: Ts
    refusal: Ts | None = None


class SignGuardRule(Protocol):
    def admit(
        self, ctx: NodeContext, store: StoreFormRule, source: TsSourceRule, stored: Datum,
        promise: Ts, request: NodeSigned, proposed: Ts | None, evidence: Evidence,
    ) -> Admission: ...


def _writer(request: NodeSigned) -> int:
    assert request.op is not None
    return request.op.client.index


class NoGuard:
    """Sign whatever is proposed for a valid client request."""

    def admit(self, ctx: NodeContext, store: StoreFormRule, source: TsSourceRule, stored: Datum,
              promise: Ts, request: NodeSigned, proposed: Ts | None,
              evidence: Evidence) -> Admission:
        return Admission(source.signer_ts(proposed, stored.ts, _writer(request)), promise)


class LocalGuard:
    """Sign only above everything stored or promised here, then promise that timestamp."""

    def admit(self, ctx: NodeContext, store: StoreFormRule, source: TsSourceRule, stored: Datum,
              promise: Ts, request: NodeSigned, proposed: Ts | None,
              evidence: Evidence) -> Admission:
        high = max(stored.ts, promise)
        ts = source.signer_ts(proposed, high, _writer(request))
        if ts is not None and ts > high:
            return Admission(ts, ts)
        return Admission(None, promise, refusal=high)


class EvidenceGuard:
    """Sign only if the proposal's evidence pins its timestamp (see TS_SOURCE rules)."""

    def admit(self, ctx: NodeContext, store: StoreFormRule, source: TsSourceRule, stored: Datum,
              promise: Ts, request: NodeSigned, proposed: Ts | None,
              evidence: Evidence) -> Admission:
        ts = source.signer_ts(proposed, stored.ts, _writer(request))
        if ts is not None and source.justified(ctx, store, request, ts, evidence):
            return Admission(ts, promise)
        return Admission(None, promise)


SIGN_GUARDS: dict[SignGuard, SignGuardRule] = {
    SignGuard.NONE: NoGuard(),
    SignGuard.LOCAL: LocalGuard(),
    SignGuard.EVIDENCE: EvidenceGuard(),
}
