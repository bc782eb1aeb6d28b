"""One combination of a sweep: reuse known schedules first, then search (runs in a worker).

:func:`run_combination` is a plain picklable function of a :class:`Task`, so the local process
pool and a Dask cluster run exactly the same code.  It never raises for a problem of the
combination itself: a crash becomes a result with ``verdict="error"`` and the reason.

A worker only *reads* the example database (entries that do not decode as choices are
skipped); the sweep loop saves a schedule found by search there once its result is recorded
(:func:`remember`), so what a task finds in the database never depends on which tasks were cut
off by an interruption.

What a combination leaves on disk: a counterexample found by search is saved by the search
with its report (steps, charts, regression test) in the combination's own folder; one found by
replaying another combination's schedule (most of a sweep) only as its replay file, compressed
(``counterexamples/<index>-<digest>-<property>.json.gz``; ``tssbqs-pbt replay`` and ``render``
read it as it is, and ``render`` writes its report on demand).
"""

from __future__ import annotations

import builtins
import contextlib
import gzip
import hashlib
import json
import os
import tempfile
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    choices_from_bytes,
)

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import (
    COUNTEREXAMPLE_FORMAT,
    Budget,
    Counterexample,
    SearchResult,
    replay_counterexample,
    search,
    transplant_counterexample,
)
from tssbqs_pbt.errors import InvalidArgument, ReplayError, TraceFormatError, TssbqsError
from tssbqs_pbt.kernel import last_servers
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.protocols.options import Design
from tssbqs_pbt.sweep.library import LibraryDatabase, LibraryEntry
from tssbqs_pbt.sweep.space import combination_key

__all__ = ["ITSELF", "CombinationResult", "Task", "counterexample_dir", "crash_detail",
           "free_name", "open_example_db",
           "relative_files", "remember",
           "run_combination", "usable_choices"]

#: ``reused_from`` of a verdict that replayed the combination's own saved counterexample (from
#: an example database shared with an earlier sweep)
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
    #: the explorer's certificate for a combination that survived the random stages (scope,
    #: states, exhausted, ...), or for one it broke, its record of the shortest violation
    explored: dict[str, Any] | None = None
    #: the deep random walks a survivor got after its exploration (how many, how deep, seed),
    #: or for one they broke, the same with the moves of the failing walk
    walked: dict[str, Any] | None = None

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


def usable_choices(values: Iterable[Any]) -> list[bytes]:
    """The entries read back from an example database that are choice sequences Hypothesis
    can replay (a corrupt or foreign entry would make it skip the whole run), in order, once
    each."""
    out: list[bytes] = []
    for value in values:
        if isinstance(value, bytes) and value not in out:
            try:
                decoded = choices_from_bytes(value)
            except Exception:  # (a malformed entry must not end the combination)
                decoded = None
            if decoded is not None:
                out.append(value)
    return out


def remember(database: ExampleDatabase | None, result: CombinationResult) -> None:
    """Save the schedule search found for ``result`` to ``database`` (the sweep loop calls it
    once the result's line is recorded): a later sweep sharing the database replays it first.
    Schedules found by replaying another combination's are not saved: that one is."""
    if (database is None or result.verdict != "invalid" or result.source != "search"
            or result.choices is None or result.tactic is None):
        return
    database.save(_db_key(Tactic(result.tactic), result.design), result.choices)


def counterexample_dir(out: Path, index: int, design: Design) -> Path:
    """The folder of a combination's counterexample files (``<index>-<digest of its key>``)."""
    digest = hashlib.sha256(combination_key(design).encode()).hexdigest()[:8]
    return out / "counterexamples" / f"{index:05d}-{digest}"


def relative_files(files: dict[str, Any], out: Path) -> dict[str, str]:
    """``files`` with each path relative to the sweep directory ``out`` where it lies inside."""
    return {k: str(Path(v).relative_to(out)) if Path(v).is_relative_to(out) else str(v)
            for k, v in files.items()}


def run_combination(task: Task) -> CombinationResult:
    started = time.perf_counter()
    try:
        return _run(task, started)
    except Exception as exc:  # a crash of one combination must not end the sweep
        return CombinationResult(task.index, task.design, "error", task.budget, task.seed,
                                 elapsed_s=time.perf_counter() - started,
                                 error=crash_detail(exc))


def crash_detail(exc: Exception) -> str:
    """What a crash of one combination records: the error, and for an error that is not the
    framework's own, where it happened (the last three frames)."""
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if not isinstance(exc, TssbqsError):
        detail += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
    return detail


def _run(task: Task, started: float) -> CombinationResult:
    design = task.design
    protocol = DesignProtocol(design)
    config = design.config(byzantine=last_servers(design.n, design.f))
    out = Path(task.out_dir)
    save_dir = counterexample_dir(out, task.index, design)  # a search's files (replay file
    # and report); a reused schedule's replay file is save_dir's name + -<property>.json.gz
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
            offered += [(tactic, c, ITSELF)
                        for c in usable_choices(backing.fetch(_db_key(tactic, design)))]
    offered += [(c.tactic, c.choices, combination_key(c.origin)) for c in task.candidates]
    tried: set[tuple[Tactic, bytes]] = set()
    for tactic, schedule, origin in offered:
        if (tactic, schedule) in tried or not usable_choices((schedule,)):
            continue
        tried.add((tactic, schedule))
        db = LibraryDatabase((schedule,))
        result = search(protocol, config, budget=Budget(1, task.budget.steps),
                        seed=task.seed, tactics=(tactic,), database=db, save_dir=None,
                        shrink=False, generate=False)
        runs, steps = runs + result.examples, steps + result.kernel_steps
        if result.found:
            assert result.counterexample is not None
            path = save_reused(result.counterexample, save_dir)
            result = attrs.evolve(
                result, counterexample=attrs.evolve(result.counterexample, path=path))
            return _found(task, result, out, started, runs, steps, source="reuse",
                          reused_from=origin, choices=schedule)

    if task.reuse_only:
        return CombinationResult(task.index, design, "valid", task.budget, task.seed,
                                 examples=runs, kernel_steps=steps,
                                 elapsed_s=time.perf_counter() - started, source="unchanged")

    # 2. search with the budget (its schedule goes to the database once the line is recorded)
    db = LibraryDatabase(())
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
    for first in save_dir.glob("*-first.json"):  # the unshrunk failure, kept while shrinking
        with contextlib.suppress(OSError):
            first.unlink()
    choices = db.last_saved()
    return _found(task, result, out, started, runs, steps, source="search", reused_from=None,
                  choices=choices)


def _transplant(task: Task, protocol: DesignProtocol, out: Path, stem: Path,
                started: float) -> CombinationResult | None:
    """An alias's verdict from its representative's counterexample, re-run against the alias
    step by step (kernel only) and saved as its own file; None when it does not carry over."""
    assert task.replay_from is not None
    source = out / task.replay_from
    try:
        found = transplant_counterexample(source, protocol)
    except (ReplayError, TraceFormatError):
        return None  # the offered schedules are replayed through Hypothesis instead
    found = attrs.evolve(found, path=save_reused(found, stem))
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


def save_reused(found: Counterexample, stem: Path) -> Path:
    """Save a counterexample found by replaying a known schedule: the replay file of
    :func:`~tssbqs_pbt.search.save_counterexample`, gzip-compressed (such traces are not
    shrunk and are most of a sweep's files: compressed, a twentieth of the bytes), as
    ``<stem>-<property>.json.gz`` (``-2``, ``-3``... before the suffix when a file of that
    name holds another counterexample: one is never replaced by another), atomically, with no
    report (``tssbqs-pbt render`` writes it on demand)."""
    data = found.trace.to_document()
    data["format"] = COUNTEREXAMPLE_FORMAT
    data["expect"] = {"property": found.property, "clause": found.clause,
                      "tactic": found.tactic.value, "steps": found.steps, "shrunk": False,
                      "found_by": "reuse"}
    text = json.dumps(data, sort_keys=True, indent=None, separators=(",", ":")) + "\n"
    slug = "".join(c if c.isalnum() else "-" for c in found.property.split()[0].lower())
    stem.parent.mkdir(parents=True, exist_ok=True)
    packed = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    path = free_name(stem.parent, f"{stem.name}-{slug}", ".json.gz", packed)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(packed)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def free_name(folder: Path, base: str, suffix: str, content: bytes) -> Path:
    """``folder/<base><suffix>``, or ``<base>-2<suffix>``, ``-3``...: the first name that is
    free or already holds exactly ``content`` (so rewriting the same file keeps its name, and
    a different counterexample never silently replaces one saved before)."""
    number = 1
    while True:
        path = folder / (f"{base}{suffix}" if number == 1 else f"{base}-{number}{suffix}")
        try:
            if path.read_bytes() == content:
                return path
        except FileNotFoundError:
            return path
        number += 1


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
        files=relative_files(files, out),
        confirmed=confirmed, shrink_cut=result.shrink_cut,
    )
