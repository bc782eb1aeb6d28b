"""The sweep loop: hand combinations to the executor, reuse schedules, append every result.

Combinations run in a fixed order; each task carries the library schedules nearest to it
(ranked when it is handed out), so a schedule found on one combination is tried first on its
neighbours.  The budget is spent in stages: every combination first gets a sixteenth of it,
schedules found meanwhile are replayed on every combination still valid, only those are
searched up to a quarter, reuse again, then the rest (then one more reuse pass).  Every
result is appended to ``results.jsonl`` before anything else happens to it (a later stage's
line supersedes a provisional "valid" one);
Ctrl-C (``KeyboardInterrupt``) stops the workers and returns what is done, and ``resume=True``
skips every combination already finished, continuing provisional ones where they stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.machine import Tactic
from tssbqs_pbt.search import Budget
from tssbqs_pbt.sweep.executors import Executor, make_executor
from tssbqs_pbt.sweep.library import Library, LibraryEntry
from tssbqs_pbt.sweep.space import SweepSpec, combination_key, combination_seed
from tssbqs_pbt.sweep.store import (
    ResultsLog,
    library_entries,
    load_results,
    read_manifest,
    write_manifest,
)
from tssbqs_pbt.sweep.work import CombinationResult, Task, open_example_db, run_combination

__all__ = ["Progress", "SweepOutcome", "run_sweep"]


@attrs.frozen
class Progress:
    done: int
    total: int
    running: int
    counts: dict[str, int]  # verdict -> how many (this run and resumed)
    last: CombinationResult | None
    stage: str = ""


@attrs.frozen
class SweepOutcome:
    spec: SweepSpec
    directory: Path
    results: tuple[CombinationResult, ...]  # every finished combination, in index order
    total: int
    interrupted: bool
    elapsed_s: float
    resumed: int  # finished in an earlier run, skipped now
    executor: str
    workers: int
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return (not self.interrupted and len(self.results) == self.total
                and all(_final(r, self.spec.budget.examples) for r in self.results))

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.verdict for r in self.results))


def run_sweep(
    spec: SweepSpec,
    directory: str | Path,
    *,
    resume: bool = False,
    executor: Executor | None = None,
    example_db: str | None = None,
    shrink_seconds: float = 5.0,
    candidates: int = 6,
    on_progress: Callable[[Progress], None] | None = None,
) -> SweepOutcome:
    """Search every combination of ``spec``; results go to ``directory`` as they finish."""
    folder = Path(directory)
    warnings: list[str] = []
    finished: dict[str, CombinationResult] = {}
    if resume:
        recorded = read_manifest(folder)
        if not recorded.same_search(spec):
            raise InvalidArgument(
                f"--resume {str(folder)!r}: that sweep searched {recorded.to_json()}, not "
                f"{spec.to_json()}; resume with the same flags (or none) or use a new directory"
            )
        spec = recorded
        earlier, warnings = load_results(folder)
        finished = {r.key: r for r in earlier}
    else:
        if (folder / "results.jsonl").exists():
            raise InvalidArgument(
                f"{str(folder)!r} already holds a sweep's results; pass --resume {folder} to "
                "finish it, or choose another --out directory"
            )
        write_manifest(folder, spec)
    if example_db is None:
        example_db = str(folder / "hypothesis-db")
    open_example_db(example_db)  # a bad --example-db fails here, before any work

    designs = spec.designs()
    library = Library()
    for entry in library_entries(list(finished.values())):
        library.add(entry)
    for earlier_result in finished.values():
        if earlier_result.source != "search" and earlier_result.choices is not None:
            library.hit(earlier_result.choices)
    full = spec.budget.examples
    plan = _stages(full)
    todo = [i for i, d in enumerate(designs) if combination_key(d) not in finished]
    keys = {combination_key(d) for d in designs}
    # a design that behaves exactly like another one of the space is decided by it (below)
    aliases = [i for i in todo if designs[i].representative() != designs[i]
               and combination_key(designs[i].representative()) in keys]
    alias_set = set(aliases)
    todo = [i for i in todo if i not in alias_set]
    resumed = sum(1 for r in finished.values() if _final(r, full))
    done = [resumed]  # final verdicts so far (kept as results arrive: the count is per result)
    counts = Counter(r.verdict for r in finished.values())
    started = time.perf_counter()
    own_executor = executor is None
    executor = executor or make_executor()
    log = ResultsLog(folder)
    pending: dict[Any, int] = {}
    interrupted = False
    stage = [""]

    def report(last: CombinationResult | None) -> None:
        if on_progress is not None:
            on_progress(Progress(done[0], len(designs), len(pending), dict(counts), last,
                                 stage[0]))

    extra: dict[int, tuple[LibraryEntry, ...]] = {}
    replay_from: dict[int, tuple[str, str]] = {}  # alias -> its representative's replay file

    def task(index: int, examples: int, mode: str, stage_no: int = 0) -> Task:
        design = designs[index]
        seed = combination_seed(spec.seed + stage_no, combination_key(design))
        limit = candidates * (2 if mode == "reuse" else 1)
        offered = extra.get(index, ()) + tuple(library.candidates(design, limit))
        moved, origin = replay_from.get(index, (None, None))
        return Task(index, design, seed, Budget(max(1, examples), spec.budget.steps),
                    offered, str(folder), example_db, shrink_seconds,
                    reuse_only=mode == "reuse", replay_from=moved, replay_origin=origin)

    def run(indices: list[int], examples: int, mode: str, label: str, stage_no: int = 0,
            upto: int | None = None) -> None:
        stage[0] = label
        report(None)
        queue = list(reversed(indices))
        depth = max(2, executor.workers * 2)
        while queue or pending:
            while queue and len(pending) < depth:
                index = queue.pop()
                more = examples
                if upto is not None:  # a later stage: each continues from what it has had
                    more = upto - finished[combination_key(designs[index])].budget.examples
                pending[executor.submit(run_combination,
                                        task(index, more, mode, stage_no))] = index
            for future in executor.wait_any(set(pending), timeout=0.5):
                pending.pop(future)
                result = executor.result(future)
                before = finished.get(result.key)
                if mode == "reuse" and result.verdict != "invalid":
                    continue  # still valid: its line stands
                if before is not None:
                    result = _carry(before, result)
                    counts[before.verdict] -= 1
                    done[0] -= _final(before, full)
                log.append(result)  # saved before it is reported
                finished[result.key] = result
                counts[result.verdict] += 1
                done[0] += _final(result, full)
                _learn(library, result)
                report(result)

    def still_valid(*, provisional: bool) -> list[int]:
        return sorted(r.index for r in finished.values() if r.verdict == "valid"
                      and r.source != "alias" and (not provisional or r.budget.examples < full))

    def settle_aliases() -> None:
        replays, fallback = [], []
        for index in aliases:
            key = combination_key(designs[index])
            if key in finished and _final(finished[key], full):
                continue
            rep = finished.get(combination_key(designs[index].representative()))
            if rep is None or not _final(rep, full) or rep.verdict == "error":
                fallback.append(index)
            elif rep.verdict == "valid":
                alias = attrs.evolve(rep, index=index, design=designs[index], source="alias",
                                     reused_from=rep.key, files={}, elapsed_s=0.0)
                log.append(alias)
                finished[key] = alias
                counts["valid"] += 1
                done[0] += 1
                report(alias)
            else:
                if rep.choices is not None and rep.tactic is not None:
                    extra[index] = (LibraryEntry(Tactic(rep.tactic), rep.choices, rep.design,
                                                 rep.property or ""),)
                if "replay" in rep.files:
                    replay_from[index] = (rep.files["replay"], rep.key)
                replays.append(index)
        run(replays, 0, "reuse", "aliases: replaying their representative's counterexample")
        fallback += [i for i in replays if combination_key(designs[i]) not in finished]
        run(sorted(fallback), full, "search", "aliases: search")

    try:
        # 1. every combination with a first share of the budget: cheap violations are found
        #    early and their schedules spread to the neighbours by reuse
        run(todo, plan[0], "search", f"search ({plan[0]} examples)")
        # 2. schedules found late are offered to every combination still valid (this narrows,
        #    but does not remove, the dependence of verdicts on the order in which results
        #    arrive), then the next share of the budget for those still valid; a reuse pass
        #    closes
        for stage_no, target in enumerate(plan[1:], start=1):
            run(still_valid(provisional=False), 0, "reuse", "reuse pass")
            behind = [i for i in still_valid(provisional=True)
                      if finished[combination_key(designs[i])].budget.examples < target]
            run(behind, 0, "search", f"search (up to {target} examples)", stage_no,
                upto=target)
        run(still_valid(provisional=False), 0, "reuse", "final reuse pass")
        # 4. designs that behave exactly like another one take its verdict: a counterexample
        #    is replayed into their own file; "valid" is stated as searched on the other one
        settle_aliases()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        log.close()
        if own_executor or interrupted:
            executor.shutdown(cancel=interrupted)
    ordered = sorted(finished.values(), key=lambda r: r.index)
    return SweepOutcome(spec, folder, tuple(ordered), len(designs), interrupted,
                        time.perf_counter() - started, resumed, executor.description,
                        executor.workers, tuple(warnings))


def _stages(examples: int) -> list[int]:
    """How many examples a combination has had after each stage: a sixteenth, a quarter, all
    of it (all at once for small budgets).  Most violations show within the first few dozen
    examples, and a schedule found meanwhile breaks most neighbours for the price of a replay,
    so a combination is searched further only while nothing known breaks it."""
    if examples < 100:
        return [examples]
    return [examples // 16, examples // 4, examples]


def _final(result: CombinationResult, full: int) -> bool:
    return result.verdict != "valid" or result.budget.examples >= full


def _carry(before: CombinationResult, after: CombinationResult) -> CombinationResult:
    """A later stage's result of a combination, counting what the earlier stages searched."""
    if after.verdict == "valid" and after.source == "unchanged":
        return before
    return attrs.evolve(
        after,
        budget=Budget(before.budget.examples + after.budget.examples, after.budget.steps),
        examples=before.examples + after.examples,
        kernel_steps=before.kernel_steps + after.kernel_steps,
        elapsed_s=before.elapsed_s + after.elapsed_s,
    )


def _learn(library: Library, result: CombinationResult) -> None:
    if result.verdict != "invalid" or result.choices is None or result.tactic is None:
        return
    if result.source == "search":
        library.add(LibraryEntry(Tactic(result.tactic), result.choices, result.design,
                                 result.property or ""))
    else:
        library.hit(result.choices)
