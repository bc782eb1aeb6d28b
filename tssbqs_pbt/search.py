"""Searching a protocol for a violation: :func:`search`, budgets, counterexamples, replay.

The public face of :mod:`tssbqs_pbt.engine.search` (the engine's own module): import from here.
Beside it, :func:`parse_budget`: a budget as the command line and the pytest options give it.
"""

from __future__ import annotations

from tssbqs_pbt.engine.search import (
    BUDGETS,
    COUNTEREXAMPLE_FORMAT,
    SHARES,
    TACTICS,
    Budget,
    Counterexample,
    ReplayOutcome,
    SearchResult,
    counterexample_of,
    replay_counterexample,
    save_counterexample,
    search,
    trace_pass,
    transplant_counterexample,
)
from tssbqs_pbt.errors import InvalidArgument

#: the most examples a budget may ask for (a search of that many takes days on one core)
MAX_EXAMPLES = 10**7


def parse_budget(text: str, flag: str = "--budget") -> tuple[str, Budget]:
    """``quick | standard | thorough`` or a number of examples from 1 to :data:`MAX_EXAMPLES`,
    as ``(its name, the budget)``; a bad one is refused naming ``flag``."""
    word = str(text).strip()
    if word.lstrip("+-").isdigit():
        examples = int(word)
        if not 1 <= examples <= MAX_EXAMPLES:
            raise InvalidArgument(
                f"{flag} {word}: a number of examples must be from 1 to {MAX_EXAMPLES:,} "
                f"({MAX_EXAMPLES:,} already takes days); give e.g. {flag} 2000, or one of "
                f"{', '.join(BUDGETS)}")
        return str(examples), Budget(examples)
    if word not in BUDGETS:
        raise InvalidArgument(f"{flag}: unknown budget {word!r}; use one of "
                              f"{', '.join(BUDGETS)} or a number of examples, e.g. {flag} 2000")
    return word, Budget.named(word)

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
