"""``tssbqs-pbt sweep``: parse the flags, run the sweep with a progress bar, print and save.

Exit status: 0 the sweep finished (whatever it found), 3 it was interrupted by Ctrl-C or
SIGTERM (what is done is saved; ``--resume DIR`` finishes it), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import attrs
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task
from rich.text import Text

from tssbqs_pbt.engine.explore import Scope
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.sweep.executors import make_executor
from tssbqs_pbt.sweep.render import (
    Findings,
    families_lines,
    matrix_table,
    valid_table,
    write_markdown,
)
from tssbqs_pbt.sweep.runner import Progress as SweepProgress
from tssbqs_pbt.sweep.runner import SweepOutcome, run_sweep
from tssbqs_pbt.sweep.space import (
    SWEEP_SCOPE,
    SWEEP_WALKS,
    SweepSpec,
    parse_pins,
    parse_sweep_budget,
)
from tssbqs_pbt.sweep.store import read_manifest
from tssbqs_pbt.validation import check_writable_dir
from tssbqs_pbt.wording import plural

__all__ = ["Eta", "ProgressDisplay", "header_lines", "progress_line", "run_sweep_command",
           "spec_from_args"]


def _ints(flag: str, text: str | None) -> tuple[int, ...]:
    if text is None:
        return ()
    try:
        values = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise InvalidArgument(f"{flag} {text!r}: give whole numbers separated by commas, "
                              "e.g. 2,3") from None
    if not values:
        name = flag.strip("-").split()[-1].rstrip("=")
        shown = f"{flag}{text!r}" if flag.endswith("=") else f"{flag} {text!r}"
        raise InvalidArgument(f"{shown} gives no {name} value; give at least one (e.g. --{name} 3 "
                              f"or --{name} 2,3), or leave it out to sweep every {name} in 1..n")
    return values


def _parameters(args: argparse.Namespace) -> tuple[tuple[int, ...], tuple[int, ...], list[str]]:
    """q and t values from --q/--t and --only q=/t= (each given one way only), and the option
    pins."""
    given: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, text in (("q", args.q), ("t", args.t)):
        if text is not None:
            given[name] = (f"--{name} {text}", _ints(f"--{name}", text))
    options = []
    for word in args.only:
        name, _, value = word.partition("=")
        key = name.strip().lower()
        if key in ("q", "t"):
            values = _ints(f"--only {key}=", value)
            if key in given:
                raise InvalidArgument(
                    f"{key} is given twice ({given[key][0]} and --only {word}); the sweep would "
                    f"search their union: give the {key} values once, e.g. --{key} 2,3")
            given[key] = (f"--only {word}", values)
        else:
            options.append(word)
    return (given.get("q", ("", ()))[1], given.get("t", ("", ()))[1], options)


#: what ``--n``, ``--f``, ``--budget`` and ``--out`` mean when left out (their argparse default
#: is None, so that one given with ``--resume`` is seen)
DEFAULTS = {"n": 4, "f": 1, "budget": "standard", "out": "tssbqs-sweep"}


def _given(args: argparse.Namespace, name: str) -> Any:
    value = getattr(args, name, None)
    return DEFAULTS[name] if value is None else value


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    q_values, t_values, options = _parameters(args)
    n, f = _given(args, "n"), _given(args, "f")
    for flag, value, least in (("--n", n, 1), ("--f", f, 0)):
        if value < least:
            raise InvalidArgument(f"{flag} {value}: use a whole number >= {least}")
    if n < 3 * f + 1:
        raise InvalidArgument(
            f"--n {n} --f {f}: a sweep needs n >= 3f+1 = {3 * f + 1} servers (the "
            f"design space and the published families it is compared with assume it; 'search "
            f"--design' tries a single smaller system); raise --n to {3 * f + 1} or lower "
            "--f")
    budget_name, budget = parse_sweep_budget(_given(args, "budget"))
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    spec = SweepSpec(n=n, f=f, qs=q_values, ts=t_values, pins=parse_pins(options),
                     budget=budget, budget_name=budget_name, seed=seed)
    for flag, value in (("--shrink-runs", args.shrink_runs), ("--window", args.window),
                        ("--shrink-plateau", args.shrink_plateau)):
        if value is not None:
            if value < 1:
                raise InvalidArgument(f"{flag} {value}: use a whole number >= 1")
            spec = attrs.evolve(spec, **{flag[2:].replace("-", "_"): value})
    return attrs.evolve(spec, explore=_scope_from_args(args), walks=_walks_from_args(args))


def _walks_from_args(args: argparse.Namespace) -> int:
    """The deep walks per survivor the flags ask for (default SWEEP_WALKS)."""
    walks = getattr(args, "walks", None)
    if walks is None:
        return 0 if args.no_explore else SWEEP_WALKS
    if walks < 0:
        raise InvalidArgument(f"--walks {walks}: use a whole number >= 0 (0: no walks)")
    if args.no_explore and walks:
        raise InvalidArgument(f"--no-explore with --walks {walks}: the walks run in the "
                              "explore stage; drop one of them")
    return int(walks)


def _scope_bounds(args: argparse.Namespace) -> dict[str, Any]:
    """The scope bounds given by flags (None: not given)."""
    return {"operations": args.explore_operations, "clients": args.explore_clients,
            "interventions": args.explore_interventions, "max_states": args.explore_max_states,
            "which_clients": args.explore_which_clients, "pauses": args.explore_pauses,
            "field_width": args.explore_field_width}


def _scope_from_args(args: argparse.Namespace) -> Scope | None:
    """The exploration scope the flags ask for (None with --no-explore)."""
    bounds = _scope_bounds(args)
    if args.no_explore:
        given = [f"--explore-{k.replace('_', '-')}" for k, v in bounds.items() if v is not None]
        if given:
            raise InvalidArgument(f"--no-explore with {given[0]}: the scope is for exploring; "
                                  "drop one of them")
        return None
    for name, value in bounds.items():
        least = 0 if name in ("interventions", "pauses") else 1
        if isinstance(value, int) and value < least:
            raise InvalidArgument(f"--explore-{name.replace('_', '-')} {value}: use a whole "
                                  f"number >= {least}")
    return attrs.evolve(SWEEP_SCOPE, **{k: v for k, v in bounds.items() if v is not None})


def run_sweep_command(args: argparse.Namespace) -> int:
    console = Console()
    console.soft_wrap = not console.is_terminal  # piped: whole lines (a path, a command)
    resume = args.resume is not None
    directory = Path(args.resume if resume else _given(args, "out"))
    if resume:
        spec = read_manifest(directory)
        spec = _check_resume_flags(args, spec)
    else:
        spec = spec_from_args(args)
    # (before any work: a sweep that cannot save its results must not start)
    check_writable_dir("--resume" if resume else "--out", directory)
    if args.example_db is not None and "://" not in args.example_db:
        check_writable_dir("--example-db", args.example_db)
    executor = make_executor(workers=args.workers, dask_local=args.dask_local,
                             scheduler=args.scheduler)
    total = len(spec.designs())
    for line in header_lines(spec, total, executor.description, directory):
        console.print(escape(line), overflow=None if console.soft_wrap else "fold")
    display = ProgressDisplay(live=not args.no_progress and console.is_terminal,
                              console=console)
    try:
        with display, _terminate_as_interrupt():
            outcome = run_sweep(spec, directory, resume=resume, executor=executor,
                                example_db=args.example_db, on_progress=display.update)
    finally:
        executor.shutdown(cancel=False)
    return _finish(console, outcome)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill PID``, a scheduler's time limit) stops the sweep as Ctrl-C does: what is
    done is saved and the summary and the resume hint print (the default would end the process
    with neither)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # (signal handlers belong to the main thread)
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Eta:
    """Time left, from this run's own work: what is left at the mean rate of combinations
    finished per second since the first update (whose count, what an earlier run finished,
    is not this run's work), shown once ``least`` of what was left then is done.  The mean
    over the whole run moves little with each verdict, and the estimate is a continuous
    function of time between verdicts (it grows while nothing finishes), so it does not
    jump."""

    def __init__(self, least: float = 0.05) -> None:
        self.least = least
        self.start: tuple[float, int] | None = None  # (time, done) at the first update
        self.state: tuple[int, int] = (0, 0)  # (done, total) at the last update

    def update(self, now: float, done: int, total: int) -> float | None:
        """Seconds left at ``now`` with ``done`` of ``total`` finished (None: too early)."""
        if self.start is None:
            self.start = (now, done)
        self.state = (done, total)
        return self.left(now)

    def left(self, now: float) -> float | None:
        """Seconds left at ``now`` (between updates too), None before ``least`` is done."""
        if self.start is None:
            return None
        (began, done0), (done, total) = self.start, self.state
        work, elapsed = done - done0, now - began
        if done >= total:
            return 0.0
        if work < max(1.0, self.least * (total - done0)) or elapsed <= 0:
            return None
        return (total - done) * elapsed / work


def _duration(seconds: float) -> str:
    """``42s``, ``12m``, ``2h05m``: short enough for an 80-column line."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{round(s / 60)}m" if s >= 600 else f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _stage(label: str) -> str:
    """A stage label in a few characters: ``search (25 examples)`` -> ``search 25 ex``."""
    label = re.sub(r"\(up to (\d+) examples?\)", r"<=\1 ex", label)
    label = re.sub(r"\((\d+) examples?\)", r"\1 ex", label)
    label = label.replace("replaying their representative's counterexample", "replay")
    return label or "sweep"


def progress_line(p: SweepProgress, elapsed: float, eta: float | None, width: int = 80) -> str:
    """One plain progress line of at most ``width`` characters, e.g. ``[152s] search 25 ex:
    4987/27648 decided · 4987 invalid · 1 valid so far (provisional) · ETA 12m`` (less
    important parts dropped first).  *Decided*: combinations with their final verdict (a
    violation, or none in the whole budget); *valid so far*: every combination with no
    violation yet, those still to be searched further or explored included."""
    head = f"[{_duration(elapsed)}] {_stage(p.stage)}: {p.done}/{p.total} decided"
    if p.explored is not None:  # (the explore stage: survivors explored so far)
        head = f"[{_duration(elapsed)}] explore: {p.explored[0]}/{p.explored[1]} explored"
    valid = f"{p.counts.get('valid', 0)} valid so far"
    parts = [  # (priority: lowest dropped first, text)
        (9, head),
        (6, f"{p.counts.get('invalid', 0)} invalid"),
        (7, f"{valid} (provisional)" if p.explored is None else valid),
        (4, f"{p.counts['error']} error") if p.counts.get("error") else (0, ""),
        (2, f"{p.running} running") if p.running else (0, ""),
        (8, f"ETA {_duration(eta)}") if eta is not None else (0, ""),
    ]
    parts = [part for part in parts if part[1]]
    while True:
        line = " · ".join(text for _, text in parts)
        if len(line) <= width or len(parts) == 1:
            return line[:width]
        if "(provisional)" in line and min(k for k, _ in parts) >= 5:  # (then the short form)
            parts = [(k, text.replace(" (provisional)", "")) for k, text in parts]
            continue
        parts.remove(min(parts, key=lambda part: part[0]))


class _StatusColumn(ProgressColumn):
    def __init__(self, display: ProgressDisplay) -> None:
        super().__init__()
        self.display = display

    def render(self, task: Task) -> Text:
        return Text(self.display.line(self.display.width - _BAR - 1))


_BAR = 10  # the live bar's width; the status text takes the rest of the line


class ProgressDisplay:
    """The sweep's progress: a live line (bar and status) on a terminal, else a plain line every
    ``every`` seconds on ``stream``; either fits ``width`` columns (the console's, at most 80 when
    not live)."""

    def __init__(self, *, live: bool, console: Console | None = None,
                 stream: TextIO | None = None, every: float = 30.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.live, self.every, self.clock = live, every, clock
        self.stream = stream
        self.console = console or Console()
        self.width = min(self.console.width, 200) if live else 80
        self.started = clock()
        self.eta = Eta()
        self.explore_eta = Eta()  # (the exploration stage: survivors explored, of how many)
        self.last: SweepProgress | None = None
        self.printed: float | None = None
        self.bar = Progress(BarColumn(bar_width=_BAR), _StatusColumn(self),
                            console=self.console, disable=not live, transient=False)
        self.task = self.bar.add_task("sweep", total=None)

    def line(self, width: int) -> str:
        now = self.clock()
        if self.last is None:
            return f"[{_duration(now - self.started)}] starting"[:width]
        eta = self.eta if self.last.explored is None else self.explore_eta
        return progress_line(self.last, now - self.started, eta.left(now), width)

    def update(self, p: SweepProgress) -> None:
        now = self.clock()
        self.last = p
        self.eta.update(now, p.done, p.total)
        if p.explored is not None:
            self.explore_eta.update(now, *p.explored)
        self.bar.update(self.task, completed=p.done, total=p.total)
        if not self.live and (self.printed is None or now - self.printed >= self.every):
            self.printed = now
            print(self.line(self.width), file=self.stream or sys.stdout, flush=True)

    def __enter__(self) -> ProgressDisplay:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


def header_lines(spec: SweepSpec, total: int, executor: str, directory: Path) -> list[str]:
    """What the sweep is about to do, in lines of at most 80 columns (a long path or a
    cluster address excepted)."""
    walks = (f", then walked: {plural(spec.walks, 'deep random walk')}" if spec.walks else
             ", not walked (--walks 0)")
    explore = (f"then every survivor explored: {spec.explore.describe()}{walks}"
               if spec.explore is not None else "survivors not explored (--no-explore)")
    lines = [f"tssbqs-pbt sweep: {plural(total, 'combination')}, n={spec.n} f={spec.f}, "
             f"q in {_join(spec.qs)}, t in {_join(spec.ts)}",
             f"budget {spec.budget_name} = {plural(spec.budget.examples, 'example')} each, "
             f"seed {spec.seed}",
             explore,
             f"on {executor}; results in {directory}/"]
    return [part for line in lines for part in _fit(line, 80)]


def _join(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def _fit(line: str, width: int) -> list[str]:
    """``line`` broken between words into lines of at most ``width`` columns (a single longer
    word stays whole); continuation lines are indented."""
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > width:
            out.append(current)
            current = "  " + word
        else:
            current = candidate
    return [*out, current]


def _check_resume_flags(args: argparse.Namespace, spec: SweepSpec) -> SweepSpec:
    """The spec a resumed sweep goes on with: the one in its directory; flags that change what
    the random stages search are refused, exploration flags give the survivors a new scope."""
    recorded = {"n": spec.n, "f": spec.f, "budget": spec.budget_name, "seed": spec.seed}
    for name in ("n", "f", "budget", "seed", "out"):
        value = getattr(args, name)
        if value is not None:
            what = (f"writes to {args.resume} itself" if name == "out" else
                    f"keeps the {name} its sweep.json records ({recorded[name]})")
            raise InvalidArgument(f"--resume {args.resume} with --{name} {value}: a resumed "
                                  f"sweep {what}; drop --{name} (or leave out --resume to "
                                  "start another sweep)")
    searched = (args.only or args.q is not None or args.t is not None
                or args.shrink_runs is not None or args.window is not None
                or args.shrink_plateau is not None)
    if searched and not spec_from_args(argparse.Namespace(
            **{**vars(args), **recorded})).same_search(spec, scope=False):
        raise InvalidArgument(f"--resume {args.resume}: the flags ask for a different sweep than "
                              "the one in that directory; resume without --q/--t/--only")
    bounds = _scope_bounds(args)
    if getattr(args, "walks", None) is not None:
        spec = attrs.evolve(spec, walks=_walks_from_args(args))
    if args.no_explore:
        _scope_from_args(args)  # (--no-explore with a bound is an error of its own)
        if spec.explore is not None:
            raise InvalidArgument(f"--resume {args.resume} with --no-explore: that sweep explores "
                                  "its survivors, and a verdict found by exploring is never "
                                  "dropped; resume without --no-explore")
        return spec
    if not any(v is not None for v in bounds.values()):
        if spec.explore is None and spec.walks:
            raise InvalidArgument(
                f"--resume {args.resume} with --walks {spec.walks}: that sweep does not explore "
                "its survivors (--no-explore) and the walks run in the explore stage; add an "
                "--explore-* flag (e.g. --explore-max-states 20000) to explore and walk them")
        return spec
    _scope_from_args(args)  # (each bound checked)
    base = spec.explore if spec.explore is not None else SWEEP_SCOPE
    return attrs.evolve(spec, explore=attrs.evolve(
        base, **{k: v for k, v in bounds.items() if v is not None}))


def _finish(console: Console, outcome: SweepOutcome) -> int:
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    found = Findings(outcome)
    console.print(matrix_table(outcome))
    if found.valid:
        console.print(valid_table(found))
    for line in families_lines(found):
        console.print(escape(line))
    report = write_markdown(found, outcome.directory / "report.md")
    console.print(f"[bold]{escape(found.comparison.summary())}[/]")
    console.print(escape(found.certified_summary()))
    console.print(f"report: {report}   results: {outcome.directory / 'results.jsonl'}   "
                  f"counterexamples: {outcome.directory / 'counterexamples'}/")
    if outcome.interrupted or not outcome.complete:
        console.print(f"interrupted after {len(outcome.results)} of {outcome.total} "
                      f"combinations; finish with: tssbqs-pbt sweep --resume {outcome.directory}")
        return 3
    console.print(f"done in {outcome.elapsed_s:.0f} s")
    return 0

