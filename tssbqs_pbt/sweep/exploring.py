"""The sweep's last stage: every combination its random stages left valid, explored and walked.

Random search leaves "valid" meaning "the runs drawn found nothing".  The explorer
(:mod:`tssbqs_pbt.explore`) enumerates every adversary schedule of the sweep's scope, breadth
first, and either breaks the combination with the shortest schedule within the scope or returns
a certificate of what it covered; it goes on the combination's line of ``results.jsonl`` under
``"explored"``, and a violation turns the verdict to "invalid" (``source: "explore"``) with its
replay file and report like any other counterexample.  The scope is bounded by counts only, so a
certificate is the same on any machine and whatever the seed.

Then, with ``walks``, deep random walks go where the scope cannot
(:mod:`tssbqs_pbt.engine.walks`: many operations, chained adversary actions, no bound on
interventions), seeded by the combination's seed; what they covered goes under ``"walked"``
(search, not a certificate), and a violation they find turns the verdict to "invalid"
(``source: "walks"``) the same way.

:func:`explore_combination` is a plain picklable function of an :class:`ExploreTask` (the local
pool and Dask run the same code); it never raises for a problem of the combination: a crash
leaves the line valid with the reason under ``"explored"`` (never a certificate).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.engine.explore import Scope, explore, explored_counterexample
from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import (
    Counterexample,
    replay_counterexample,
    save_counterexample,
)
from tssbqs_pbt.engine.walks import deep_walks, walked_counterexample
from tssbqs_pbt.kernel import SystemConfig, last_servers
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.report import write_report
from tssbqs_pbt.sweep.work import (
    CombinationResult,
    counterexample_dir,
    crash_detail,
    relative_files,
)

__all__ = ["ExploreTask", "certified", "covers", "explore_combination"]


@attrs.frozen
class ExploreTask:
    """Explore one combination that its random stages left valid (``before``: that line),
    then walk it ``walks`` times (deep random walks beyond the scope; 0: none)."""

    before: CombinationResult
    scope: Scope
    out_dir: str
    walks: int = 0


def certified(result: CombinationResult) -> bool:
    """Valid, and the explorer exhausted its scope without finding a violation."""
    explored = result.explored or {}
    return (result.verdict == "valid" and explored.get("exhausted") is True
            and "error" not in explored)


def covers(explored: dict[str, Any] | None, scope: Scope) -> bool:
    """Whether an exploration recorded on a line stands for ``scope``: the same scope, and
    exhausted, or cut at the same ``max_states`` (a scope's description leaves its bound out:
    a certificate cut at 20,000 states does not stand for a bound of 60,000)."""
    if explored is None or "error" in explored or explored.get("scope") != scope.describe():
        return False
    return explored.get("exhausted") is True or (
        explored.get("cut_by") == "max_states" and explored.get("max_states") == scope.max_states)


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
    if before.verdict == "valid" and covers(before.explored, task.scope):
        # explored in this scope already (a resume that changed only the walks): the
        # explorer is deterministic, so its certificate stands and only the walks are new
        return _walked(task, protocol, config, dict(before.explored or {}), started)
    result = explore(protocol, config, task.scope)
    record: dict[str, Any] = {**result.certificate.to_json(), "max_states": task.scope.max_states}
    if result.failure is not None:
        found = explored_counterexample(result, protocol, config)  # (fewer steps)
        record.update(shortest_within=task.scope.describe(), moves=list(result.described))
        return _broken(task, found, "explore", record, None, started)
    return _walked(task, protocol, config, record, started)


def _walked(task: ExploreTask, protocol: DesignProtocol, config: SystemConfig,
            record: dict[str, Any], started: float) -> CombinationResult:
    """The survivor's line after its walks (none with ``walks=0``), or what a walk broke."""
    before = task.before
    if not task.walks:
        return attrs.evolve(before, explored=record, walked=None,
                            elapsed_s=before.elapsed_s + time.perf_counter() - started)
    walked = deep_walks(protocol, config, walks=task.walks, seed=before.seed)
    walk_record = walked.walked.to_json()
    if walked.failure is None:
        return attrs.evolve(before, explored=record, walked=walk_record,
                            elapsed_s=before.elapsed_s + time.perf_counter() - started)
    # (its "walks" are those taken, the last one failing, of the "of" asked for)
    walk_record.update(of=task.walks, failing_walk=list(walked.described))
    return _broken(task, walked_counterexample(walked, protocol, config), "walks", record,
                   walk_record, started)


def _broken(task: ExploreTask, found: Counterexample, source: str, record: dict[str, Any],
            walk_record: dict[str, Any] | None, started: float) -> CombinationResult:
    """The combination's "invalid" line: the violation the explorer (the shortest within the
    scope) or a deep walk (cut to its needed moves) found, saved with its report in the
    combination's folder and confirmed by replaying the file."""
    before = task.before
    out = Path(task.out_dir)
    folder = counterexample_dir(out, before.index, before.design)
    path = save_counterexample(found, folder)
    report = write_report(found.trace, found.verdict, path, folder)
    files = {"replay": path, "steps": report.steps, "mermaid": report.mermaid,
             "svg": report.svg, "test": report.test}
    return attrs.evolve(
        before, verdict="invalid", property=found.property, clause=found.clause,
        steps=found.steps, source=source, reused_from=None, tactic=Tactic.SPLIT.value,
        choices=None, files=relative_files(dict(files), out),
        confirmed=replay_counterexample(path).confirmed, shrink_cut=False,
        explored=record, walked=walk_record,
        elapsed_s=before.elapsed_s + time.perf_counter() - started)
