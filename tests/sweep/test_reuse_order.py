"""Reuse tries the offered schedules in the library's rank, not in Hypothesis's own order.

Regression: the schedules of one tactic went to Hypothesis as one database, and Hypothesis
replays a database shortest-first, so the nearest, most used schedule was not tried first and a
reuse hit cost a replay per shorter schedule that did not break the combination.
"""

from __future__ import annotations

from pathlib import Path

from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, DesignProtocol
from tssbqs_pbt.protocols.options import Delegates, Design

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import Budget, search
from tssbqs_pbt.sweep.library import LibraryDatabase, LibraryEntry
from tssbqs_pbt.sweep.space import combination_key
from tssbqs_pbt.sweep.work import Task, run_combination


def _schedule(design: Design, seed: int) -> bytes:
    """The choices of the first failing LAG run on ``design`` (as the sweep's library keeps)."""
    db = LibraryDatabase(())
    config = design.config(byzantine=frozenset({4}))
    result = search(DesignProtocol(design), config, budget=Budget(200), seed=seed,
                    tactics=(Tactic.LAG,), database=db, shrink=False)
    assert result.found and db.saved
    return db.saved[0]


def test_reuse_tries_the_offered_schedules_in_rank_order(tmp_path: Path) -> None:
    unavailable = Design(4, 1, 3, 4, FAMILY_C_OPTIONS)  # t=4: no signature forms (P2)
    one_delegate = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(delegates=Delegates.ONE))
    a = LibraryEntry(Tactic.LAG, _schedule(unavailable, 1), unavailable, "P2 data availability")
    b = LibraryEntry(Tactic.LAG, _schedule(one_delegate, 2), one_delegate,
                     "P2 data availability")
    assert a.choices != b.choices
    target = Design(4, 1, 3, 1, FAMILY_C_OPTIONS)  # t=1: B's own share breaks P3 on any run
    for first, second in ((a, b), (b, a)):
        result = run_combination(Task(0, target, 7, Budget(10), (first, second),
                                      out_dir=str(tmp_path / combination_key(first.origin)),
                                      reuse_only=True))
        assert result.verdict == "invalid" and result.source == "reuse", result.error
        assert result.reused_from == combination_key(first.origin)
        assert result.choices == first.choices  # the library credits the schedule it offered
        assert result.examples == 1  # the first offered schedule broke it: one replay
        assert result.confirmed
