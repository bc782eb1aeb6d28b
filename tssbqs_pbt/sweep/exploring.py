"""The sweep's last stage: every combination its random stages left valid, explored.

Random search leaves "valid" meaning "the runs drawn found nothing".  The explorer
(:mod:`tssbqs_pbt.explore`) enumerates every adversary schedule of the sweep's scope, breadth
first, and either breaks the combination with the shortest schedule within the scope or returns
a certificate of what it covered.  Both go on the combination's line of ``results.jsonl`` under
``"explored"``; a violation also turns the verdict to "invalid" (``source: "explore"``) with its
replay file and report like any other counterexample.  The scope is bounded by counts only, so a
certificate is the same on any machine and whatever the seed.

:func:`explore_combination` is a plain picklable function of an :class:`ExploreTask` (the local
pool and Dask run the same code); it never raises for a problem of the combination: a crash
leaves the line valid with the reason under ``"explored"`` (never a certificate).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.engine.explore import ExploreResult, Scope, explore, explored_counterexample
from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import (
    replay_counterexample,
    save_counterexample,
)
from tssbqs_pbt.kernel import last_servers
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.report import write_report
from tssbqs_pbt.sweep.work import (
    CombinationResult,
    counterexample_dir,
    crash_detail,
    relative_files,
)

__all__ = ["ExploreTask", "certified", "explore_combination"]


@attrs.frozen
class ExploreTask:
    """Explore one combination that its random stages left valid (``before``: that line)."""

    before: CombinationResult
    scope: Scope
    out_dir: str


def certified(result: CombinationResult) -> bool:
    """Valid, and the explorer exhausted its scope without finding a violation."""
    explored = result.explored or {}
    return (result.verdict == "valid" and explored.get("exhausted") is True
            and "error" not in explored)


def explore_combination(task: ExploreTask) -> CombinationResult:
    started = time.perf_counter()
    before = task.before
    try:
        return _explore(task, started)
    except Exception as exc:  # a crash of one combination must not end the sweep
        return attrs.evolve(before, explored={"scope": task.scope.describe(), "exhausted": False,
                                              "error": crash_detail(exc)},
                            elapsed_s=before.elapsed_s + time.perf_counter() - started)


def _explore(task: ExploreTask, started: float) -> CombinationResult:
    before = task.before
    design = before.design
    protocol = DesignProtocol(design)
    config = design.config(byzantine=last_servers(design.n, design.f))
    result = explore(protocol, config, task.scope)
    record: dict[str, Any] = result.certificate.to_json()
    elapsed = before.elapsed_s + time.perf_counter() - started
    if result.failure is None:
        return attrs.evolve(before, explored=record, elapsed_s=elapsed)
    return _broken(task, result, record, elapsed)


def _broken(task: ExploreTask, result: ExploreResult, record: dict[str, Any],
            elapsed: float) -> CombinationResult:
    """The combination's "invalid" line: the shortest violation within the scope, saved with
    its report in the combination's folder and confirmed by replaying the file."""
    assert result.failure is not None
    before = task.before
    out = Path(task.out_dir)
    folder = counterexample_dir(out, before.index, before.design)
    design = before.design
    config = design.config(byzantine=last_servers(design.n, design.f))
    found = explored_counterexample(result, DesignProtocol(design), config)  # (fewer steps)
    path = save_counterexample(found, folder)
    report = write_report(found.trace, found.verdict, path, folder)
    files = {"replay": path, "steps": report.steps, "mermaid": report.mermaid,
             "svg": report.svg, "test": report.test}
    record.update(shortest_within=task.scope.describe(), moves=list(result.described))
    return attrs.evolve(
        before, verdict="invalid", property=found.property, clause=found.clause,
        steps=found.steps, source="explore", reused_from=None, tactic=Tactic.SPLIT.value,
        choices=None, files=relative_files(dict(files), out),
        confirmed=replay_counterexample(path).confirmed, shrink_cut=False,
        explored=record, elapsed_s=elapsed)
