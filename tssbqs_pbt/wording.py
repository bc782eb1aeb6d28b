"""Small wording helpers shared by every output (reports, CLI, sweep lines)."""

from __future__ import annotations

__all__ = ["plural", "searched"]


def plural(count: object, word: str, many: str | None = None) -> str:
    """``plural(1, "step")`` -> ``"1 step"``; ``plural(3, "step")`` -> ``"3 steps"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def searched(runs: int, search_runs: int, budget: int) -> str:
    """How many examples a search ran, never above ``budget`` unexplained: ``searched(337, 100,
    100)`` -> ``"100 examples (+237 shrinking runs)"``.  ``runs`` counts every run,
    ``search_runs`` those up to the first failing one; runs past the budget before it are the
    ones Hypothesis does not count toward ``max_examples`` (invalid or overrun draws)."""
    shown = min(search_runs, budget)
    notes = []
    if search_runs > shown:
        notes.append(f"+{plural(search_runs - shown, 'run')} not counted toward the budget")
    if runs > search_runs:
        notes.append(f"+{plural(runs - search_runs, 'shrinking run')}")
    return plural(shown, "example") + (f" ({', '.join(notes)})" if notes else "")
