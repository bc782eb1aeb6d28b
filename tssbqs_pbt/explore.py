"""The bounded-exhaustive explorer: :func:`explore` within a :class:`Scope`, certificates.

The public face of :mod:`tssbqs_pbt.engine.explore` (the engine's own module; docs/explore.md
says what it does): import from here.
"""

from __future__ import annotations

from tssbqs_pbt.engine.explore import (
    Certificate,
    ExploreResult,
    Moves,
    Scope,
    explore,
    explored_counterexample,
)

__all__ = [
    "Certificate",
    "ExploreResult",
    "Moves",
    "Scope",
    "explore",
    "explored_counterexample",
]
