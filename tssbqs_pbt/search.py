"""Searching a protocol for a violation: :func:`search`, budgets, counterexamples, replay.

The public face of :mod:`tssbqs_pbt.engine.search` (the engine's own module): import from here.
"""

from __future__ import annotations

from tssbqs_pbt.engine.search import (
    BUDGETS,
    COUNTEREXAMPLE_FORMAT,
    MAX_EXAMPLES,
    SHARES,
    TACTICS,
    Budget,
    Counterexample,
    ReplayOutcome,
    SearchResult,
    counterexample_of,
    parse_budget,
    replay_counterexample,
    save_counterexample,
    search,
    trace_pass,
    transplant_counterexample,
)

__all__ = [
    "BUDGETS",
    "COUNTEREXAMPLE_FORMAT",
    "MAX_EXAMPLES",
    "SHARES",
    "TACTICS",
    "Budget",
    "Counterexample",
    "ReplayOutcome",
    "SearchResult",
    "counterexample_of",
    "parse_budget",
    "replay_counterexample",
    "save_counterexample",
    "search",
    "trace_pass",
    "transplant_counterexample",
]
