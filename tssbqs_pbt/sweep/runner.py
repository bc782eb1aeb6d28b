"""The sweep loop: hand combinations to the executor, reuse schedules, append every result.

Combinations run in a fixed order; each task carries the library schedules nearest to it
(ranked when it is handed out), so a schedule found on one combination is tried first on its
neighbours.  Every finished combination is appended to ``results.jsonl`` before anything else
happens to it; Ctrl-C (``KeyboardInterrupt``) stops the workers and returns what is done, and
``resume=True`` skips every combination already in the directory.
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
        return len(self.results) == self.total

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.verdict for r in self.results))


def run_sweep(
    spec: SweepSpec,
    directory: str | Path,
    *,
    resume: bool = False,
    executor: Executor | None = None,
    example_db: str | None = None,
    shrink_seconds: float = 20.0,
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
    todo = [i for i, d in enumerate(designs) if combination_key(d) not in finished]
    resumed = len(designs) - len(todo)
    counts = Counter(r.verdict for r in finished.values())
    started = time.perf_counter()
    own_executor = executor is None
    executor = executor or make_executor()
    log = ResultsLog(folder)
    pending: dict[Any, int] = {}
    interrupted = False

    def report(last: CombinationResult | None) -> None:
        if on_progress is not None:
            on_progress(Progress(len(finished), len(designs), len(pending), dict(counts), last))

    def task(index: int, *, closing: bool = False) -> Task:
        design = designs[index]
        return Task(index, design, combination_seed(spec.seed, combination_key(design)),
                    spec.budget,
                    tuple(library.candidates(design, candidates * (2 if closing else 1))),
                    str(folder), example_db, shrink_seconds, reuse_only=closing)

    def run(indices: list[int], *, closing: bool) -> None:
        queue = list(reversed(indices))
        depth = max(2, executor.workers * 2)
        while queue or pending:
            while queue and len(pending) < depth:
                index = queue.pop()
                pending[executor.submit(run_combination, task(index, closing=closing))] = index
            for future in executor.wait_any(set(pending), timeout=0.5):
                pending.pop(future)
                result = executor.result(future)
                if closing and result.verdict != "invalid":
                    continue  # still valid: its line stands
                log.append(result)  # saved before it is reported
                if result.key in finished:
                    counts[finished[result.key].verdict] -= 1
                finished[result.key] = result
                counts[result.verdict] += 1
                _learn(library, result)
                report(result)

    report(None)
    try:
        run(todo, closing=False)
        # closing pass: schedules found late are offered to every combination still valid,
        # so a verdict does not depend on the order in which the workers found things
        run(sorted(r.index for r in finished.values() if r.verdict == "valid"),
            closing=True)
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


def _learn(library: Library, result: CombinationResult) -> None:
    if result.verdict != "invalid" or result.choices is None or result.tactic is None:
        return
    if result.source == "search":
        library.add(LibraryEntry(Tactic(result.tactic), result.choices, result.design,
                                 result.property or ""))
    else:
        library.hit(result.choices)
