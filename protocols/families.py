"""The two published valid families (docs/families.md) as presets of the option-driven protocol.

Family C (COCA/CODEX): EVIDENCE guards everywhere, client basis, separate acknowledgement round,
two-phase reads, f+1 delegates, any t in [f+1, n-f] (COCA uses f+1).

Family J (Jing et al.): t = n-f, LOCAL guards with promises, quorum-max timestamps, request
de-duplication, piggybacked acknowledgements, write-back (LOCAL-guarded) two-phase reads.
"""

from __future__ import annotations

from tssbqs_pbt.protocols.api import canonical_quorum
from tssbqs_pbt.protocols.options import (
    AckMode,
    Delegates,
    Design,
    DesignOptions,
    ReadGuard,
    ReadShape,
    RequestDedup,
    SignGuard,
    StoreForm,
    TsSource,
)

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["FAMILY_C_OPTIONS", "FAMILY_J_OPTIONS", "canonical_quorum", "family_c", "family_j"]

FAMILY_C_OPTIONS = DesignOptions(
    store_form=StoreForm.SIGNED,
    ts_source=TsSource.CLIENT_BASIS,
    sign_guard=SignGuard.EVIDENCE,
    ack_mode=AckMode.EVIDENCE,
    read_guard=ReadGuard.EVIDENCE,
    read_shape=ReadShape.TWO_PHASE,
    delegates=Delegates.F_PLUS_ONE,
    request_dedup=RequestDedup.OFF,
)

FAMILY_J_OPTIONS = DesignOptions(
    store_form=StoreForm.SIGNED,
    ts_source=TsSource.QUORUM_MAX,
    sign_guard=SignGuard.LOCAL,
    ack_mode=AckMode.PIGGYBACK,
    read_guard=ReadGuard.LOCAL,
    read_shape=ReadShape.TWO_PHASE,
    delegates=Delegates.F_PLUS_ONE,
    request_dedup=RequestDedup.STORED,
)


def _check_nf(n: int, f: int) -> None:
    if not isinstance(n, int) or not isinstance(f, int) or f < 0 or n < 1:
        raise InvalidArgument(f"n={n!r}, f={f!r}: need whole numbers n >= 1, f >= 0")
    if n < 3 * f + 1:
        raise InvalidArgument(
            f"n={n} < 3f+1={3 * f + 1}: the families need n >= 3f+1 servers; raise n or lower f"
        )


def family_c(n: int = 4, f: int = 1, t: int | None = None) -> Design:
    """COCA/CODEX: ``t`` defaults to f+1 and must lie in [f+1, n-f]."""
    _check_nf(n, f)
    t = f + 1 if t is None else t
    if not f + 1 <= t <= n - f:
        raise InvalidArgument(
            f"family C needs f+1 <= t <= n-f, i.e. t in [{f + 1}, {n - f}], got t={t}"
        )
    return Design(n, f, canonical_quorum(n, f), t, FAMILY_C_OPTIONS)


def family_j(n: int = 4, f: int = 1) -> Design:
    """Jing et al.: t = n - f."""
    _check_nf(n, f)
    return Design(n, f, canonical_quorum(n, f), n - f, FAMILY_J_OPTIONS)
