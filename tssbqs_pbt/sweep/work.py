"""One combination of a sweep: reuse known schedules first, then search (runs in a worker).

:func:`run_combination` is a plain picklable function of a :class:`Task`, so the local process
pool and a Dask cluster run exactly the same code.  It never raises for a problem of the
combination itself: a crash becomes a result with ``verdict="error"`` and the reason.
"""

from __future__ import annotations

import builtins
import hashlib
import time
import traceback
from pathlib import Path
from typing import Any

import attrs
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from tssbqs_pbt.errors import InvalidArgument, ReplayError, TraceFormatError, TssbqsError
from tssbqs_pbt.machine import Tactic
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.protocols.options import Design
from tssbqs_pbt.report import write_report
from tssbqs_pbt.search import (
    Budget,
    SearchResult,
    replay_counterexample,
    save_counterexample,
    search,
    transplant_counterexample,
)
from tssbqs_pbt.sweep.library import LibraryDatabase, LibraryEntry
from tssbqs_pbt.sweep.space import combination_key

__all__ = ["ITSELF", "CombinationResult", "Task", "open_example_db", "run_combination"]

#: ``reused_from`` of a verdict that replayed the combination's own saved counterexample (an
#: example database shared with an earlier run, or a task cut off after it saved)
ITSELF = "itself (its saved counterexample)"


@attrs.frozen
class Task:
    index: int
    design: Design
    seed: int
    budget: Budget
    candidates: tuple[LibraryEntry, ...] = ()
    out_dir: str = "tssbqs-sweep"
    example_db: str | None = None
    shrink_runs: int = 120  # machine runs of shrinking (a count: the same on any machine)
    shrink_plateau: int | None = None  # ...or runs in a row without a shorter failing run
    reuse_only: bool = False  # the closing pass: only replay the offered schedules
    #: an alias's representative's replay file (relative to ``out_dir``): re-run it first
    replay_from: str | None = None
    replay_origin: str | None = None  # the representative's combination key


@attrs.frozen
class CombinationResult:
    """What one combination came to; one line of ``results.jsonl``."""

    index: int
    design: Design
    verdict: str  # "valid" (nothing found within the budget) | "invalid" | "error"
    budget: Budget
    seed: int
    examples: int = 0
    kernel_steps: int = 0
    elapsed_s: float = 0.0
    first_failure_s: float | None = None
    property: str | None = None
    clause: str | None = None
    steps: int | None = None
    source: str | None = None  # "search" | "reuse"
    reused_from: str | None = None  # the combination whose schedule was reused
    tactic: str | None = None
    choices: bytes | None = None  # the schedule as Hypothesis choices (for reuse)
    files: dict[str, str] = attrs.field(factory=dict)  # relative to the sweep directory
    confirmed: bool | None = None  # replayed from its JSON file to the same violation
    shrink_cut: bool = False  # shrinking stopped at --shrink-seconds (not fully minimal)
    error: str | None = None
    phase: int | None = None  # which pass of the sweep produced this line (for --resume)

    @builtins.property
    def key(self) -> str:
        return combination_key(self.design)


def open_example_db(spec: str | None) -> ExampleDatabase | None:
    """``None``, a directory path, or ``redis://host:port[/db]`` (needs the redis package)."""
    if spec is None:
        return None
    if spec.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # type: ignore[import-not-found,unused-ignore]
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError:
            raise InvalidArgument(
                f"--example-db {spec!r} needs the redis package; pip install 'tssbqs-pbt[redis]' "
                "or use a directory"
            ) from None
        return RedisExampleDatabase(redis.Redis.from_url(spec))
    if "://" in spec:
        raise InvalidArgument(f"--example-db {spec!r}: use a directory path or redis://HOST:PORT")
    return DirectoryBasedExampleDatabase(spec)


def _db_key(tactic: Tactic, design: Design) -> bytes:
    return f"tssbqs-pbt/{tactic.value}/{combination_key(design)}".encode()


def run_combination(task: Task) -> CombinationResult:
    started = time.perf_counter()
    try:
        return _run(task, started)
    except Exception as exc:  # a crash of one combination must not end the sweep
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if not isinstance(exc, TssbqsError):
            detail += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
        return CombinationResult(task.index, task.design, "error", task.budget, task.seed,
                                 elapsed_s=time.perf_counter() - started, error=detail)


def _run(task: Task, started: float) -> CombinationResult:
    design = task.design
    protocol = DesignProtocol(design)
    config = design.config(byzantine=frozenset(range(design.n - design.f + 1, design.n + 1)))
    out = Path(task.out_dir)
    digest = hashlib.sha256(combination_key(design).encode()).hexdigest()[:8]
    save_dir = out / "counterexamples" / f"{task.index:05d}-{digest}"
    if task.replay_from is not None:
        moved = _transplant(task, protocol, out, save_dir, started)
        if moved is not None:
            return moved
    backing = open_example_db(task.example_db)
    runs, steps = 0, 0

    # 1. reuse: this combination's own saved schedules, then neighbours' in the library's
    #    rank (nearest origin first, then most used), one at a time: Hypothesis would try the
    #    schedules of one database in its own order (shortest first), not in ours
    offered: list[tuple[Tactic, bytes, str]] = []
    if backing is not None:
        for tactic in Tactic:
            offered += [(tactic, c, ITSELF) for c in backing.fetch(_db_key(tactic, design))]
    offered += [(c.tactic, c.choices, combination_key(c.origin)) for c in task.candidates]
    tried: set[tuple[Tactic, bytes]] = set()
    for tactic, schedule, origin in offered:
        if (tactic, schedule) in tried:
            continue
        tried.add((tactic, schedule))
        db = LibraryDatabase((schedule,), backing=backing, backing_key=_db_key(tactic, design))
        result = search(protocol, config, budget=Budget(1, task.budget.steps),
                        seed=task.seed, tactics=(tactic,), database=db, save_dir=save_dir,
                        shrink=False, generate=False)
        runs, steps = runs + result.examples, steps + result.kernel_steps
        if result.found:
            return _found(task, result, out, started, runs, steps, source="reuse",
                          reused_from=origin, choices=schedule)

    if task.reuse_only:
        return CombinationResult(task.index, design, "valid", task.budget, task.seed,
                                 examples=runs, kernel_steps=steps,
                                 elapsed_s=time.perf_counter() - started, source="unchanged")

    # 2. search with the budget
    db = LibraryDatabase((), backing=backing, backing_key=b"")
    result = search(protocol, config, budget=task.budget, seed=task.seed, database=db,
                    save_dir=save_dir, shrink=True, shrink_runs=task.shrink_runs,
                    shrink_plateau=task.shrink_plateau)
    runs, steps = runs + result.examples, steps + result.kernel_steps
    if not result.found:
        return CombinationResult(task.index, design, "valid", task.budget, task.seed,
                                 examples=runs, kernel_steps=steps,
                                 elapsed_s=time.perf_counter() - started)
    found = result.counterexample
    assert found is not None
    choices = db.last_saved()
    if backing is not None and choices is not None:
        backing.save(_db_key(found.tactic, design), choices)
    return _found(task, result, out, started, runs, steps, source="search", reused_from=None,
                  choices=choices)


def _transplant(task: Task, protocol: DesignProtocol, out: Path, save_dir: Path,
                started: float) -> CombinationResult | None:
    """An alias's verdict from its representative's counterexample, re-run against the alias
    step by step (kernel only) and saved as its own file; None when it does not carry over."""
    assert task.replay_from is not None
    source = out / task.replay_from
    try:
        found = transplant_counterexample(source, protocol)
    except (ReplayError, TraceFormatError):
        return None  # the offered schedules are replayed through Hypothesis instead
    path = save_counterexample(found, save_dir)
    report = write_report(found.trace, found.verdict, path, save_dir)
    found = attrs.evolve(found, path=path, report=report)
    result = SearchResult(protocol.name, found.trace.header.config, Budget(1, task.budget.steps),
                          task.seed, found, 1, None, time.perf_counter() - started,
                          (found.tactic,), found.steps)
    origin = next((c for c in task.candidates if c.tactic is found.tactic), None)
    # the transplant *is* the confirming replay: the representative's file re-run step by step
    # against this design gave exactly the recorded events and the recorded violation (the
    # file just saved holds that same trace), so it is not replayed a second time
    return _found(task, result, out, started, 1, found.steps, source="reuse",
                  reused_from=task.replay_origin,
                  choices=origin.choices if origin is not None else None, confirmed=True)


def _found(task: Task, result: SearchResult, out: Path, started: float, runs: int, steps: int,
           *, source: str, reused_from: str | None, choices: bytes | None,
           confirmed: bool | None = None) -> CombinationResult:
    """An "invalid" line; ``confirmed`` None: replay the saved file to confirm it."""
    found = result.counterexample
    assert found is not None and found.path is not None
    files: dict[str, Any] = {"replay": found.path}
    if found.report is not None:
        files.update(steps=found.report.steps, mermaid=found.report.mermaid,
                     svg=found.report.svg, test=found.report.test)
    if confirmed is None:
        confirmed = replay_counterexample(found.path).confirmed
    return CombinationResult(
        task.index, task.design, "invalid", task.budget, task.seed, examples=runs,
        kernel_steps=steps, elapsed_s=time.perf_counter() - started,
        first_failure_s=result.first_failure_s, property=found.property, clause=found.clause,
        steps=found.steps, source=source, reused_from=reused_from, tactic=found.tactic.value,
        choices=choices,
        files={k: str(Path(v).relative_to(out)) if Path(v).is_relative_to(out) else str(v)
               for k, v in files.items()},
        confirmed=confirmed, shrink_cut=result.shrink_cut,
    )
