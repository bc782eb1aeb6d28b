"""``search`` and ``explore`` at the command line, as a person meets them: what runs is said
first (the protocol, the budget or the scope), a live progress line follows (updated in place
on a terminal, as the sweep's; off one, a plain line every 30 s), and Ctrl-C or SIGTERM ends
with what was done so far (exit status 3, as an interrupted sweep's) instead of a traceback.

Exit codes: 0 no violation found, 1 a counterexample, 2 bad input, 3 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs
from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn
from rich.progress import Task as RichTask
from rich.text import Text

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.validation import check_writable_dir
from tssbqs_pbt.wording import plural, searched

if TYPE_CHECKING:
    from tssbqs_pbt.engine.explore import Scope
    from tssbqs_pbt.preflight import Conformance

__all__ = ["INTERRUPTED", "StatusLine", "explore_line", "interruptible", "run_explore",
           "run_search", "search_line", "workers_of"]

#: the exit status of a run stopped by Ctrl-C or SIGTERM (the sweep's too)
INTERRUPTED = 3
NOT_EXHAUSTED = 4  # no violation, but a bound cut the exploration short: not a certificate
NOT_A_CERTIFICATE = "no violation found so far — this is not a certificate"


def duration(seconds: float) -> str:
    """``42s``, ``3m07s``, ``2h05m``."""
    s = round(seconds)
    if s < 3600:
        return f"{s}s" if s < 60 else f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _rate(count: int, elapsed: float, unit: str = "") -> str:
    per = count / elapsed if elapsed > 0 else 0.0
    return (f"{per:.0f}" if per >= 10 else f"{per:.1f}") + f"{unit}/s"


def search_line(state: Mapping[str, Any] | None, elapsed: float, budget: int) -> str:
    """``[12s] 1234/10000 examples · lag tactic · 103/s`` (and ``· shrinking a violation``)."""
    if state is None:
        return f"[{duration(elapsed)}] starting"
    runs = int(state["examples"])
    line = (f"[{duration(elapsed)}] {runs}/{budget} examples · {state['tactic']} tactic · "
            f"{_rate(runs, float(state['elapsed_s']))}")
    return line + (" · shrinking a violation" if state.get("found") else "")


def explore_line(state: Mapping[str, Any] | None, elapsed: float) -> str:
    """``[12s] level 3 · 12345 states · 45678 transitions · frontier 800 · 1030 states/s``
    (the frontier: the states of the level before, being expanded)."""
    if state is None:
        return f"[{duration(elapsed)}] level 1 · starting"
    states = int(state["states"])
    return (f"[{duration(elapsed)}] level {state['level']} · {plural(states, 'state')} · "
            f"{plural(state['transitions'], 'transition')} · frontier {state['frontier']} · "
            f"{_rate(states, float(state['elapsed_s']), ' states')}")


class _Column(ProgressColumn):
    def __init__(self, owner: StatusLine) -> None:
        super().__init__()
        self.owner = owner

    def render(self, task: RichTask) -> Text:
        return Text(self.owner.text(), no_wrap=True, overflow="ellipsis")


class StatusLine:
    """One progress line: on a terminal a live one redrawn in place (a rich Progress, as the
    sweep's display); off one, a plain line on ``stream`` at most every ``every`` seconds.
    ``describe(state, elapsed)`` words the last state told to :meth:`update`."""

    def __init__(self, describe: Callable[[Mapping[str, Any] | None, float], str], *,
                 live: bool, console: Console | None = None, stream: TextIO | None = None,
                 every: float = 30.0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.describe, self.live, self.every, self.clock = describe, live, every, clock
        self.stream = stream
        self.started = clock()
        self.state: Mapping[str, Any] | None = None
        self.printed = self.started
        self.bar = Progress(SpinnerColumn(), _Column(self), console=console or Console(),
                            disable=not live, transient=True)
        self.bar.add_task("run", total=None)

    def text(self) -> str:
        return self.describe(self.state, self.clock() - self.started)

    def update(self, state: Mapping[str, Any]) -> None:
        self.state = state
        if not self.live:
            now = self.clock()
            if now - self.printed >= self.every:
                self.printed = now
                print(self.text(), file=self.stream or sys.stdout, flush=True)

    def __enter__(self) -> StatusLine:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


@contextlib.contextmanager
def interruptible(*, at_once: bool = True) -> Iterator[threading.Event]:
    """Ctrl-C and SIGTERM set the event yielded and raise KeyboardInterrupt in this process
    only (a forked explorer worker, which inherits the handler, leaves it to its parent, which
    ends the pool; on leaving, no child process is left behind).  With ``at_once`` False the
    first one only sets the event, for :func:`_telling` to raise at the next progress report:
    a search runs code where Python ignores an exception and prints it (Hypothesis's gc
    callback); a second one raises at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # (signal handlers belong to the main thread)
        return
    owner = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() != owner:  # a worker: Ctrl-C reached the whole process group
            if signum == signal.SIGTERM:  # (its pool ending it)
                os._exit(1)
            return
        again = stop.is_set()
        stop.set()
        if at_once or again:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for child in multiprocessing.active_children():
            child.terminate()
            child.join(5)
        for which, handler in previous.items():
            signal.signal(which, handler)


def _telling(status: StatusLine, stop: threading.Event
             ) -> Callable[[Mapping[str, Any]], None]:
    """The engine's progress callback: the status line told, and an interrupt that was
    swallowed raised again."""

    def told(state: Mapping[str, Any]) -> None:
        status.update(state)
        if stop.is_set():
            raise KeyboardInterrupt

    return told


def _status(console: Console, describe: Callable[[Mapping[str, Any] | None, float], str],
            no_progress: bool) -> StatusLine:
    return StatusLine(describe, live=console.is_terminal and not no_progress, console=console)


def run_search(args: argparse.Namespace, ready: Conformance) -> int:
    from tssbqs_pbt.engine.search import search
    from tssbqs_pbt.search import parse_budget

    protocol = ready.protocol
    name, budget = parse_budget(args.budget)
    config = ready.config if args.byzantine is None else attrs.evolve(
        ready.config, byzantine=frozenset({args.byzantine}) if args.byzantine else frozenset())
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    check_writable_dir("--out", args.out)  # before the search: it saves as soon as it finds
    console = Console(soft_wrap=True)
    print(f"protocol {protocol.name}")
    print(f"budget {name} = {plural(budget.examples, 'example')} of at most "
          f"{plural(budget.steps, 'rule')}, seed {seed}", flush=True)
    status = _status(console, lambda s, e: search_line(s, e, budget.examples),
                     args.no_progress)
    try:
        with interruptible(at_once=False) as stop, status:
            result = search(protocol, config, declarations=ready.declarations, budget=budget,
                            seed=seed, save_dir=args.out, progress=_telling(status, stop))
    except KeyboardInterrupt:
        return _search_interrupted(status, Path(args.out))
    found = result.counterexample
    print(f"searched {searched(result.examples, result.search_runs, budget.examples)} in "
          f"{result.elapsed_s:.1f}s (seed {seed}, "
          f"tactics {', '.join(t.value for t in result.tactics)})")
    if found is None:
        print("no violation found within the budget")
        return 0
    _drop_first(Path(args.out), status.started)
    print(f"VIOLATED: {found.property} ({found.clause}); found by the {found.tactic.value} "
          f"tactic; shrunk to {plural(found.steps, 'step')}")
    print(f"replay file: {found.path}  (tssbqs-pbt replay {found.path})")
    if found.report is not None:
        print(f"steps and chart: {found.report.steps}")
        print(f"chart (SVG): {found.report.svg}")
        print(f"regression test: {found.report.test}")
    return 1


def _firsts(out: Path, since: float) -> list[Path]:
    """The ``-first.json`` files (a failing run as first found, saved before shrinking) this
    run wrote to ``out`` (``since``: its start on the perf_counter clock)."""
    began = time.time() - (time.perf_counter() - since)
    return sorted((p for p in out.glob("counterexample-*-first.json")
                   if p.stat().st_mtime >= began - 1), key=lambda p: p.stat().st_mtime)


def _drop_first(out: Path, since: float) -> None:
    """The shrunk counterexample is saved: the unshrunk one kept meanwhile goes."""
    for first in _firsts(out, since):
        with contextlib.suppress(OSError):
            first.unlink()


def _search_interrupted(status: StatusLine, out: Path) -> int:
    state = status.state or {}
    runs = int(state.get("examples", 0))
    elapsed = status.clock() - status.started
    if state.get("found"):
        firsts = _firsts(out, status.started)
        where = (f": {firsts[-1]}  (tssbqs-pbt replay {firsts[-1]})" if firsts else "")
        print(f"interrupted after {plural(runs, 'example')} in {elapsed:.1f}s, while shrinking "
              f"a violation; the run as first found, unshrunk{where}")
        return INTERRUPTED
    print(f"interrupted after {plural(runs, 'example')} in {elapsed:.1f}s; {NOT_A_CERTIFICATE}")
    return INTERRUPTED


def workers_of(args: argparse.Namespace) -> int:
    """``explore``'s ``--workers`` (default: every local core; 1 on a Dask cluster, whose
    workers expand the levels), checked with ``--dask-local``."""
    on_dask = args.dask_local is not None or args.scheduler is not None
    if on_dask and args.workers is not None:
        raise InvalidArgument(f"--workers {args.workers} with --dask-local/--scheduler: the "
                              "cluster's workers expand the levels; give one or the other")
    if on_dask:
        from tssbqs_pbt.sweep.executors import check_dask_local

        check_dask_local(args.dask_local)
        return 1
    if args.workers is None:
        return os.cpu_count() or 1
    if args.workers < 1:
        raise InvalidArgument(f"--workers {args.workers}: use a whole number >= 1 (the result "
                              "is the same at any count; leave it out for every local core)")
    return int(args.workers)


def _cluster(args: argparse.Namespace) -> Any:
    """The Dask cluster ``--dask-local``/``--scheduler`` ask for (None: this machine's
    forks)."""
    if args.dask_local is None and args.scheduler is None:
        return None
    from tssbqs_pbt.sweep.executors import make_executor

    return make_executor(dask_local=args.dask_local, scheduler=args.scheduler)


def run_explore(args: argparse.Namespace, ready: Conformance, scope: Scope) -> int:
    from tssbqs_pbt.engine.explore import explore, explored_counterexample
    from tssbqs_pbt.engine.search import save_counterexample
    from tssbqs_pbt.report import write_report

    protocol, config = ready.protocol, ready.config
    workers = workers_of(args)
    check_writable_dir("--out", args.out)
    print(f"protocol {protocol.name}")
    print(f"scope: {scope.describe()}")
    cluster = _cluster(args)
    where = (cluster.description if cluster is not None
             else plural(workers, 'worker process', 'worker processes'))
    print(f"on {where}", flush=True)
    status = _status(Console(soft_wrap=True), explore_line, args.no_progress)
    try:
        with interruptible() as stop, status:
            result = explore(protocol, config, scope, declarations=ready.declarations,
                             workers=workers, progress=_telling(status, stop),
                             client=None if cluster is None else cluster.client)
    except KeyboardInterrupt:
        state = status.state or {}
        print(f"interrupted after {plural(state.get('states', 0), 'state')}, "
              f"{plural(state.get('transitions', 0), 'transition')} (level "
              f"{state.get('level', 1)}) in {status.clock() - status.started:.1f}s; "
              f"{NOT_A_CERTIFICATE}")
        return INTERRUPTED
    finally:
        if cluster is not None:
            cluster.shutdown(cancel=True)
    cert = result.certificate
    print(f"explored {cert.states} states, {cert.transitions} transitions, depth {cert.depth} "
          f"in {cert.elapsed_s:.1f}s (reductions: {', '.join(cert.reductions)})")
    if result.failure is None:
        print(f"no violation found: {cert.backing()}")
        return 0 if cert.exhausted else NOT_EXHAUSTED
    found = explored_counterexample(result, protocol, config)
    path = save_counterexample(found, args.out)
    report = write_report(found.trace, found.verdict, path, args.out)
    print(f"VIOLATED: {found.property} ({found.clause}); the shortest schedule within the "
          f"scope: {len(result.moves)} moves, {found.steps} kernel steps")
    for number, move in enumerate(result.described, 1):
        print(f"  move {number}: {move}")
    print("  then: a read while the network is still cut, a fair drain, a final read")
    print(f"replay file: {path}  (tssbqs-pbt replay {path})")
    print(f"steps and chart: {report.steps}")
    print(f"regression test: {report.test}")
    return 1
