"""The sweep loop: hand combinations to the executor, reuse schedules, append every result.

The budget is spent in passes ("phases") over the combinations: every combination first gets
a sixteenth of it; schedules found meanwhile are replayed on every combination still valid;
only those are searched up to a quarter; reuse again; then the rest; one more reuse pass; then
the designs that behave like another one take its verdict; last, every combination still valid
is explored within the sweep's scope (:mod:`tssbqs_pbt.sweep.exploring`).  Each task of a
pass carries the library schedules nearest to it, so a schedule found on one combination is
tried first on its neighbours.

**The matrix is a function of the seed.**  Task *p* of a pass is offered the library as it
stood after the results of tasks ``< p - window`` of that pass (and every earlier pass) were
learned, in task order, whatever order the workers return them in; a task is not handed out
before those are in, shrinking is bounded by a count of runs, and every task has its own seed.
So one worker, two, or a Dask cluster give the same verdicts, and so does a sweep that was
killed and resumed: ``resume=True`` runs the same passes again with each line already in
``results.jsonl`` standing in for its task (nothing finished runs again; only the closing
reuse passes, whose "still valid" answers are not written, are repeated).  Every result is
appended to ``results.jsonl`` before anything else happens to it, and only then is a schedule
that search found saved to the example database (workers only read it): so a task never finds
there what a task cut off by a kill (``kill -9``, a crash, a lost machine) had found, and a
sweep killed at any point and resumed gives the verdicts of one never interrupted.  Ctrl-C
(``KeyboardInterrupt``) stops the workers and returns what is done.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import Budget
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.sweep.executors import Executor, make_executor
from tssbqs_pbt.sweep.exploring import ExploreTask, covers, explore_combination
from tssbqs_pbt.sweep.library import Library, LibraryEntry
from tssbqs_pbt.sweep.space import SweepSpec, combination_key, combination_seed
from tssbqs_pbt.sweep.store import (
    ResultsLog,
    load_log,
    read_manifest,
    repair_log,
    write_manifest,
)
from tssbqs_pbt.sweep.work import (
    ITSELF,
    CombinationResult,
    Task,
    open_example_db,
    remember,
    run_combination,
)
from tssbqs_pbt.wording import plural

__all__ = ["Progress", "SweepOutcome", "run_sweep"]


@attrs.frozen
class Progress:
    """``done``: combinations with their final verdict, those an earlier run finished (and
    a resumed run takes from ``results.jsonl``) counted from the first report; ``explored``
    counts, likewise, the survivors whose exploration an earlier run recorded."""

    done: int
    total: int
    running: int
    counts: dict[str, int]  # verdict -> how many (this run and resumed)
    last: CombinationResult | None
    stage: str = ""
    explored: tuple[int, int] | None = None  # in the explore stage: survivors done, of how many


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
        """Every combination has its final verdict (and, with exploration, every valid one
        its exploration)."""
        return (not self.interrupted and len(self.results) == self.total
                and all(_final(r, self.spec.budget.examples) for r in self.results)
                and (self.spec.explore is None
                     or all(r.explored is not None for r in self.results
                            if r.verdict == "valid")))

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.verdict for r in self.results))


def run_sweep(
    spec: SweepSpec,
    directory: str | Path,
    *,
    resume: bool = False,
    executor: Executor | None = None,
    example_db: str | None = None,
    candidates: int = 6,
    on_progress: Callable[[Progress], None] | None = None,
) -> SweepOutcome:
    """Search every combination of ``spec``; results go to ``directory`` as they finish."""
    folder = Path(directory)
    warnings: list[str] = []
    recorded: dict[tuple[int | None, str], CombinationResult] = {}
    if resume:
        earlier = read_manifest(folder)
        if not earlier.same_search(spec, scope=False):
            raise InvalidArgument(
                f"--resume {str(folder)!r}: that sweep searched {earlier.to_json()}, not "
                f"{spec.to_json()}; resume with the same flags (or none) or use a new directory"
            )
        if spec.explore is None and earlier.explore is not None:
            raise InvalidArgument(
                f"--resume {str(folder)!r}: that sweep explores its survivors, and a verdict "
                "found by exploring is never dropped; resume it with a scope (or its own)")
        if (spec.explore, spec.walks) != (earlier.explore, earlier.walks):
            # its survivors are explored in the new scope, walked the new number of times
            write_manifest(folder, attrs.evolve(earlier, explore=spec.explore,
                                                walks=spec.walks))
        spec = attrs.evolve(earlier, explore=spec.explore, walks=spec.walks)
        repaired = repair_log(folder)  # a line cut short by a kill: gone before anything reads
        lines, warnings = load_log(folder)
        warnings = ([repaired] if repaired else []) + warnings
        recorded = {(r.phase, r.key): r for r in lines}
    else:
        if (folder / "results.jsonl").exists():
            raise InvalidArgument(
                f"{str(folder)!r} already holds a sweep's results; pass --resume {folder} to "
                "finish it, or choose another --out directory"
            )
        write_manifest(folder, spec)
    if example_db is None:
        example_db = str(folder / "hypothesis-db")
    database = open_example_db(example_db)  # a bad --example-db fails here, before any work

    designs = spec.designs()
    full = spec.budget.examples
    plan = _stages(full)
    latest = {key: r for (_, key), r in recorded.items()}
    resumed = sum(1 for r in latest.values() if _final(r, full))
    # (finished by an earlier run, not yet taken from the log again: counted done already)
    ahead = {key for key, r in latest.items() if _final(r, full)}
    ahead_explored: set[str] = set()
    finished: dict[str, CombinationResult] = {}  # each combination's latest result so far
    library = Library()
    keys = {combination_key(d) for d in designs}
    # a design that behaves exactly like another one of the space is decided by it (below)
    aliases = [i for i, d in enumerate(designs) if d.representative() != d
               and combination_key(d.representative()) in keys]
    alias_set = set(aliases)
    todo = [i for i in range(len(designs)) if i not in alias_set]
    done = [0]  # final verdicts so far (kept as results arrive: the count is per result)
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    own_executor = executor is None
    executor = executor or make_executor()
    log = ResultsLog(folder)
    pending: dict[Any, int] = {}
    interrupted = False
    stage = [""]
    phase = [-1]

    exploring: list[int] = []  # in the explore stage: survivors done, of how many

    def report(last: CombinationResult | None) -> None:
        if on_progress is not None:
            explored = ((exploring[0] + len(ahead_explored), exploring[1]) if exploring
                        else None)
            on_progress(Progress(done[0] + len(ahead), len(designs), len(pending),
                                 dict(counts), last, stage[0], explored))

    extra: dict[int, tuple[LibraryEntry, ...]] = {}
    replay_from: dict[int, tuple[str, str]] = {}  # alias -> its representative's replay file

    def task(index: int, examples: int, mode: str, stage_no: int, before: int) -> Task:
        design = designs[index]
        seed = combination_seed(spec.seed + stage_no, combination_key(design))
        limit = candidates * (2 if mode == "reuse" else 1)
        offered = extra.get(index, ()) + tuple(library.candidates(design, limit, before=before))
        moved, origin = replay_from.get(index, (None, None))
        return Task(index, design, seed, Budget(max(1, examples), spec.budget.steps),
                    offered, str(folder), example_db, spec.shrink_runs,
                    reuse_only=mode == "reuse", replay_from=moved, replay_origin=origin,
                    shrink_plateau=spec.shrink_plateau)

    def accept(result: CombinationResult, mode: str) -> CombinationResult | None:
        """Record a task's result (a recorded line as it stands); None: nothing to record."""
        if result.phase is None:  # just computed
            if mode == "reuse" and result.verdict != "invalid":
                return None  # still valid: its line stands
            before = finished.get(result.key)
            if before is not None and mode != "explore":  # (explored lines carry it already)
                result = _carry(before, result)
            result = attrs.evolve(result, phase=phase[0])
            log.append(result)  # saved before it is reported
        remember(database, result)  # only once its line is recorded: see the docstring
        settle(result)
        return result

    def settle(result: CombinationResult) -> None:
        before = finished.get(result.key)
        if exploring and result.explored is not None:
            exploring[0] += 1
            ahead_explored.discard(result.key)
        if before is not None:
            counts[before.verdict] -= 1
            done[0] -= _final(before, full)
        finished[result.key] = result
        counts[result.verdict] += 1
        done[0] += _final(result, full)
        if _final(result, full):
            ahead.discard(result.key)
        report(result)

    def run(indices: list[int], examples: int, mode: str, label: str, stage_no: int = 0,
            upto: int | None = None) -> None:
        phase[0] += 1
        stage[0] = label
        report(None)
        indices = _spread(indices)
        marks = [library.clock]  # the library's clock once the first k tasks are learned
        arrived: dict[int, CombinationResult | None] = {}
        learned = handed = 0
        depth = max(2, executor.workers * 2)
        while learned < len(indices):
            while (handed < len(indices) and len(pending) < depth
                   and handed - spec.window <= learned):
                index = indices[handed]
                key = combination_key(designs[index])
                if _stands(recorded.get((phase[0], key)), mode, spec):
                    arrived[handed] = accept(recorded[(phase[0], key)], mode)
                else:
                    more = examples
                    if upto is not None:  # a later stage: each continues from what it has had
                        more = upto - finished[key].budget.examples
                    before = marks[max(0, handed - spec.window)]
                    if mode == "explore":
                        assert spec.explore is not None
                        line = attrs.evolve(finished[key], phase=None)  # (a new line)
                        earlier = recorded.get((phase[0], key))
                        if earlier is not None and earlier.verdict == "valid":
                            # (its certificate stands if the scope is the same: only the
                            # walks are then run again)
                            line = attrs.evolve(line, explored=earlier.explored)
                        job: Any = ExploreTask(line, spec.explore, str(folder), spec.walks)
                        pending[executor.submit(explore_combination, job)] = handed
                    else:
                        job = task(index, more, mode, stage_no, before)
                        pending[executor.submit(run_combination, job)] = handed
                handed += 1
            while learned in arrived:  # the library learns in task order
                _learn(library, arrived.pop(learned))
                library.tick()
                learned += 1
                marks.append(library.clock)
            if learned < len(indices) and pending:
                for future in executor.wait_any(set(pending), timeout=0.5):
                    arrived[pending.pop(future)] = accept(executor.result(future), mode)

    def still_valid(*, provisional: bool) -> list[int]:
        return sorted(r.index for r in finished.values() if r.verdict == "valid"
                      and r.source != "alias" and (not provisional or r.budget.examples < full))

    def settle_aliases() -> None:
        replays, fallback = [], []
        mine = phase[0] + 1  # "valid" lines belong to the phase of the replays that follow
        for index in aliases:
            key = combination_key(designs[index])
            rep = finished.get(combination_key(designs[index].representative()))
            if rep is None or not _final(rep, full) or rep.verdict == "error":
                fallback.append(index)
            elif rep.verdict == "valid":
                alias = recorded.get((mine, key))
                if alias is None:
                    alias = attrs.evolve(rep, index=index, design=designs[index],
                                         source="alias", reused_from=rep.key, files={},
                                         elapsed_s=0.0, phase=mine)
                    log.append(alias)
                settle(alias)
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
        run(todo, plan[0], "search", f"search ({plural(plan[0], 'example')})")
        # 2. schedules found late are offered to every combination still valid, then the next
        #    share of the budget for those still valid; a reuse pass closes
        for stage_no, target in enumerate(plan[1:], start=1):
            run(still_valid(provisional=False), 0, "reuse", "reuse pass")
            behind = [i for i in still_valid(provisional=True)
                      if finished[combination_key(designs[i])].budget.examples < target]
            run(behind, 0, "search", f"search (up to {plural(target, 'example')})", stage_no,
                upto=target)
        run(still_valid(provisional=False), 0, "reuse", "final reuse pass")
        # 3. designs that behave exactly like another one take its verdict: a counterexample
        #    is replayed into their own file; "valid" is stated as searched on the other one
        settle_aliases()
        # 4. every combination still valid is explored within the sweep's scope: a
        #    certificate on its line, or the shortest violation within the scope
        if spec.explore is not None:
            survivors = sorted(r.index for r in finished.values() if r.verdict == "valid")
            exploring[:] = [0, len(survivors)]
            keys_of = [combination_key(designs[i]) for i in survivors]
            ahead_explored.update(k for k in keys_of if _stands(
                recorded.get((phase[0] + 1, k)), "explore", spec)
                and (phase[0] + 1, k) in recorded)
            run(survivors, 0, "explore", f"explore ({plural(len(survivors), 'survivor')})")
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


def _stands(line: CombinationResult | None, mode: str, spec: SweepSpec) -> bool:
    """Whether a line an earlier run recorded stands for its task: any line finished before an
    interruption does, except an exploration in another scope, or with another number of
    walks, that found nothing (the survivor is explored and walked again as this run says; a
    violation found by exploring or walking stands)."""
    if line is None:
        return False
    if mode != "explore" or line.verdict != "valid" or spec.explore is None:
        return True
    walks = (line.walked or {}).get("walks", 0)
    return covers(line.explored, spec.explore) and walks == spec.walks


def _spread(indices: list[int]) -> list[int]:
    """``indices`` in van der Corput order of their positions (0, 1/2, 1/4, 3/4, ...): the
    first tasks of a pass sample the whole space, and neighbours in the space (near in index)
    come far apart, so a task's neighbours are mostly learned before the window reaches it."""
    bits = max(1, (len(indices) - 1).bit_length())
    order = sorted(range(len(indices)),
                   key=lambda i: int(format(i, f"0{bits}b")[::-1], 2))
    return [indices[i] for i in order]


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


def _learn(library: Library, result: CombinationResult | None) -> None:
    if (result is None or result.verdict != "invalid" or result.choices is None
            or result.tactic is None):
        return
    if result.source == "search" or result.reused_from == ITSELF:
        library.add(LibraryEntry(Tactic(result.tactic), result.choices, result.design,
                                 result.property or ""))
    else:
        library.hit(result.choices)
