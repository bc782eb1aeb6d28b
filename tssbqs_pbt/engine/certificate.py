"""What an exploration returns: its certificate (what it covered) or its first violation, and
the draws of one move (:class:`Moves`, the stand-in for Hypothesis's ``data`` that runs a rule
machine's rule with exactly the explorer's choices)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Certificate", "ExploreResult", "Moves"]


@attrs.frozen
class Certificate:
    """What an exploration covered: states, transitions (moves run), the depth reached, the
    reductions used, and whether the whole scope was explored."""

    scope: Any  # (the Scope explored)
    states: int
    transitions: int
    depth: int
    exhausted: bool
    elapsed_s: float
    reductions: tuple[str, ...] = ("state fingerprints",)  # (see REDUCTIONS)
    cut_by: str | None = None  # the bound that stopped it ("max_states", "seconds")
    # what the explorer keeps of each visited state (its fingerprint and budgets, its parent
    # pointer), in bytes; the frontier's schedules and the handler memo come on top
    bytes_per_state: int = 0
    workers: int = 1

    def backing(self) -> str:
        """What this certificate backs, in one line: "certified within <scope>: N states,
        exhausted", or "NOT exhausted (stopped by <bound> after N states) ...: not a
        certificate"."""
        states = f"{self.states:,} state{'s' if self.states != 1 else ''}"
        if self.exhausted:
            return f"certified within the scope ({self.scope.describe()}): {states}, exhausted"
        return (f"NOT exhausted (stopped by {self.cut_by} after {states}) in the scope "
                f"({self.scope.describe()}): not a certificate")

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope.describe(), "states": self.states,
                "transitions": self.transitions, "depth": self.depth,
                "exhausted": self.exhausted, "reductions": list(self.reductions),
                "cut_by": self.cut_by, "elapsed_s": round(self.elapsed_s, 2),
                "bytes_per_state": self.bytes_per_state, "workers": self.workers}


@attrs.frozen
class ExploreResult:
    certificate: Certificate
    failure: AssertionError | None = None  # the first violation in breadth-first order
    moves: tuple[Mapping[str, Any], ...] = ()  # the schedule that led to it (its draws)
    described: tuple[str, ...] = ()  # each move in words


class Moves:
    """The draws of one move, by label (a stand-in for Hypothesis's ``data``): the machine's
    own rules run with exactly these choices; a draw not given takes its simplest value."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        if label in self.values:
            return self.values[label]
        return False if "write" in (label or "") or label == "new cut" else 0
