"""TS_SOURCE: who fixes the timestamp of a new datum, and what justifies it.

Each rule answers, for the delegate, how the first proposal is made (possibly after collecting
reports from a quorum) and how it reacts to a refusal; for a signer, which timestamp it signs;
and, for the EVIDENCE sign guard, whether the proposal's evidence pins its timestamp.
"""

from __future__ import annotations

from typing import Protocol

from tssbqs_pbt.protocols.encoding import basis_is_signed
from tssbqs_pbt.protocols.messages import Datum, Report, Ts, WriteBody, next_ts
from tssbqs_pbt.protocols.options import TsSource
from tssbqs_pbt.protocols.store_forms import StoreFormRule

from tssbqs_pbt.kernel import NodeContext, NodeSigned

__all__ = ["TS_SOURCES", "TsSourceRule", "newest_reported"]

Evidence = tuple[NodeSigned | Datum, ...]


def newest_reported(reports: tuple[NodeSigned, ...]) -> Datum:
    """The reported datum with the highest timestamp (reports are NodeSigned(server, Report))."""
    data = [r.body.datum for r in reports if isinstance(r.body, Report)]
    return max(data, key=lambda d: d.ts)


def reports_pin(
    ctx: NodeContext, store: StoreFormRule, evidence: Evidence, op: object
) -> Datum | None:
    """The newest datum among >= q distinct valid server reports for ``op``, else None."""
    seen: dict[object, NodeSigned] = {}
    for item in evidence:
        if (
            isinstance(item, NodeSigned)
            and item.signer.is_server
            and isinstance(item.body, Report)
            and item.body.op == op
            and store.acceptable(ctx, item.body.datum)
        ):
            seen.setdefault(item.signer, item)
    if len(seen) < ctx.config.q:
        return None
    return newest_reported(tuple(seen.values()))


class TsSourceRule(Protocol):
    collects: bool  # does the delegate read a quorum before proposing?

    def propose(
        self, own: Datum, body: WriteBody, writer: int, reports: tuple[NodeSigned, ...]
    ) -> tuple[Ts | None, Evidence]: ...

    def retry(self, ts: Ts, promise: Ts, writer: int) -> Ts | None: ...

    def signer_ts(self, proposed: Ts | None, own_high: Ts, writer: int) -> Ts | None: ...

    def justified(
        self, ctx: NodeContext, store: StoreFormRule, request: NodeSigned, ts: Ts,
        evidence: Evidence,
    ) -> bool: ...


class ClientBasis:
    """The request carries a signed basis; ts = next(basis.ts). A replay rebuilds the same datum."""

    collects = False

    def propose(self, own: Datum, body: WriteBody, writer: int,
                reports: tuple[NodeSigned, ...]) -> tuple[Ts | None, Evidence]:
        basis_ts = body.basis.ts if body.basis is not None else (0, 0)
        return next_ts(basis_ts, writer), ()

    def retry(self, ts: Ts, promise: Ts, writer: int) -> Ts | None:
        return None  # the timestamp is a function of the request: nothing to retry with

    def signer_ts(self, proposed: Ts | None, own_high: Ts, writer: int) -> Ts | None:
        return proposed

    def justified(self, ctx: NodeContext, store: StoreFormRule, request: NodeSigned, ts: Ts,
                  evidence: Evidence) -> bool:
        body = request.body
        assert isinstance(body, WriteBody) and request.op is not None
        if body.basis is None or not basis_is_signed(ctx, body.basis):
            return False
        return ts == next_ts(body.basis.ts, request.op.client.index)


class QuorumMax:
    """The delegate reads a quorum; ts = max + 1, justified by q server-signed reports."""

    collects = True

    def propose(self, own: Datum, body: WriteBody, writer: int,
                reports: tuple[NodeSigned, ...]) -> tuple[Ts | None, Evidence]:
        return next_ts(newest_reported(reports).ts, writer), reports

    def retry(self, ts: Ts, promise: Ts, writer: int) -> Ts | None:
        return next_ts(max(ts, promise), writer)

    def signer_ts(self, proposed: Ts | None, own_high: Ts, writer: int) -> Ts | None:
        return proposed

    def justified(self, ctx: NodeContext, store: StoreFormRule, request: NodeSigned, ts: Ts,
                  evidence: Evidence) -> bool:
        assert request.op is not None
        newest = reports_pin(ctx, store, evidence, request.op)
        return newest is not None and ts == next_ts(newest.ts, request.op.client.index)


class ServerLocal:
    """Every signer signs at its own latest timestamp + 1; there is nothing to justify."""

    collects = False

    def propose(self, own: Datum, body: WriteBody, writer: int,
                reports: tuple[NodeSigned, ...]) -> tuple[Ts | None, Evidence]:
        return None, ()

    def retry(self, ts: Ts, promise: Ts, writer: int) -> Ts | None:
        return None

    def signer_ts(self, proposed: Ts | None, own_high: Ts, writer: int) -> Ts | None:
        return next_ts(own_high, writer)

    def justified(self, ctx: NodeContext, store: StoreFormRule, request: NodeSigned, ts: Ts,
                  evidence: Evidence) -> bool:
        return True


class DelegateFree:
    """The delegate's own datum is the basis; ts = next(its ts), justified by that datum."""

    collects = False

    def propose(self, own: Datum, body: WriteBody, writer: int,
                reports: tuple[NodeSigned, ...]) -> tuple[Ts | None, Evidence]:
        return next_ts(own.ts, writer), (own,)

    def retry(self, ts: Ts, promise: Ts, writer: int) -> Ts | None:
        return next_ts(max(ts, promise), writer)

    def signer_ts(self, proposed: Ts | None, own_high: Ts, writer: int) -> Ts | None:
        return proposed

    def justified(self, ctx: NodeContext, store: StoreFormRule, request: NodeSigned, ts: Ts,
                  evidence: Evidence) -> bool:
        assert request.op is not None
        bases = [d for d in evidence if isinstance(d, Datum) and store.acceptable(ctx, d)]
        return len(bases) == 1 and ts == next_ts(bases[0].ts, request.op.client.index)


TS_SOURCES: dict[TsSource, TsSourceRule] = {
    TsSource.CLIENT_BASIS: ClientBasis(),
    TsSource.QUORUM_MAX: QuorumMax(),
    TsSource.SERVER_LOCAL: ServerLocal(),
    TsSource.DELEGATE_FREE: DelegateFree(),
}
