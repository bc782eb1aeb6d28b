"""The three BFT properties as pure checkers over a trace and its client-visible history.

Each returns a :class:`Verdict` (holds / violated / unknown) with :class:`Violation` evidence.
They never look at protocol state, so they judge any plugged-in protocol.
"""

from __future__ import annotations

from tssbqs_pbt.kernel import Trace
from tssbqs_pbt.properties.availability import check_availability
from tssbqs_pbt.properties.confidentiality import (
    ConfidentialityScan,
    SignedValue,
    check_confidentiality,
)
from tssbqs_pbt.properties.consistency import allowed_values, check_consistency
from tssbqs_pbt.properties.history import (
    INITIAL_VALUE,
    OpRecord,
    initial_value_of,
    operations,
)
from tssbqs_pbt.properties.verdict import (
    Clause,
    ConsistencyLevel,
    Property,
    Status,
    Verdict,
    Violation,
)

__all__ = [
    "INITIAL_VALUE",
    "Clause",
    "ConfidentialityScan",
    "ConsistencyLevel",
    "OpRecord",
    "Property",
    "SignedValue",
    "Status",
    "Verdict",
    "Violation",
    "allowed_values",
    "check_all",
    "check_availability",
    "check_confidentiality",
    "check_consistency",
    "initial_value_of",
    "operations",
]


def check_all(trace: Trace, *, signed_value: SignedValue | None = None,
              initial_value: str = INITIAL_VALUE) -> tuple[Verdict, ...]:
    """P1, P2 and P3 for ``trace``, in that order (``initial_value``: the protocol's, see
    :func:`initial_value_of`)."""
    return (
        check_consistency(trace.history(), initial_value),
        check_availability(trace),
        check_confidentiality(trace, signed_value, initial_value),
    )
