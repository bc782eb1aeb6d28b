"""``tssbqs-pbt sweep``: parse the flags, run the sweep with a progress bar, print and save.

Exit status: 0 the sweep finished (whatever it found), 3 it was interrupted (what is done is
saved; ``--resume DIR`` finishes it), 2 bad input.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import attrs
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

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
from tssbqs_pbt.sweep.space import SweepSpec, parse_pins, parse_sweep_budget
from tssbqs_pbt.sweep.store import read_manifest
from tssbqs_pbt.validation import check_writable_dir
from tssbqs_pbt.wording import plural

__all__ = ["run_sweep_command", "spec_from_args"]


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


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    q_values, t_values, options = _parameters(args)
    for flag, value, least in (("--n", args.n, 1), ("--f", args.f, 0)):
        if value < least:
            raise InvalidArgument(f"{flag} {value}: use a whole number >= {least}")
    if args.n < 3 * args.f + 1:
        raise InvalidArgument(
            f"--n {args.n} --f {args.f}: a sweep needs n >= 3f+1 = {3 * args.f + 1} servers (the "
            f"design space and the published families it is compared with assume it; 'search "
            f"--design' tries a single smaller system); raise --n to {3 * args.f + 1} or lower "
            "--f")
    budget_name, budget = parse_sweep_budget(args.budget)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    spec = SweepSpec(n=args.n, f=args.f, qs=q_values, ts=t_values, pins=parse_pins(options),
                     budget=budget, budget_name=budget_name, seed=seed)
    for flag, value in (("--shrink-runs", args.shrink_runs), ("--window", args.window),
                        ("--shrink-plateau", args.shrink_plateau)):
        if value is not None:
            if value < 1:
                raise InvalidArgument(f"{flag} {value}: use a whole number >= 1")
            spec = attrs.evolve(spec, **{flag[2:].replace("-", "_"): value})
    return spec


def run_sweep_command(args: argparse.Namespace) -> int:
    console = Console()
    resume = args.resume is not None
    directory = Path(args.resume if resume else args.out)
    if resume:
        spec = read_manifest(directory)
        _check_resume_flags(args, spec)
    else:
        spec = spec_from_args(args)
    # (before any work: a sweep that cannot save its results must not start)
    check_writable_dir("--resume" if resume else "--out", directory)
    if args.example_db is not None and "://" not in args.example_db:
        check_writable_dir("--example-db", args.example_db)
    executor = make_executor(workers=args.workers, dask_local=args.dask_local,
                             scheduler=args.scheduler)
    total = len(spec.designs())
    console.print(f"tssbqs-pbt sweep: {total} combinations (n={spec.n} f={spec.f}, q in "
                  f"{list(spec.qs)}, t in {list(spec.ts)}), budget {spec.budget_name} = "
                  f"{plural(spec.budget.examples, 'example')} each, seed {spec.seed}, on "
                  f"{executor.description}; results in {directory}/")
    started = time.perf_counter()
    show = not args.no_progress and console.is_terminal
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                        TextColumn("ETA"), TimeRemainingColumn(), console=console,
                        disable=not show, transient=False)
    task_id = progress.add_task("sweep", total=total, counts="")
    last_line = [0.0]

    def on_progress(p: SweepProgress) -> None:
        counts = (f"valid {p.counts.get('valid', 0)} · invalid {p.counts.get('invalid', 0)} · "
                  f"error {p.counts.get('error', 0)} · running {p.running}")
        progress.update(task_id, completed=p.done, counts=counts,
                        description=p.stage or "sweep")
        now = time.perf_counter()
        if not show and now - last_line[0] > 30:
            last_line[0] = now
            print(f"[{now - started:6.0f}s] {p.stage}: {p.done}/{p.total} done: {counts}",
                  flush=True)

    try:
        with progress:
            outcome = run_sweep(spec, directory, resume=resume, executor=executor,
                                example_db=args.example_db,
                                on_progress=on_progress)
    finally:
        executor.shutdown(cancel=False)
    return _finish(console, outcome)


def _check_resume_flags(args: argparse.Namespace, spec: SweepSpec) -> None:
    given = (spec_from_args(args)
             if (args.only or args.q is not None or args.t is not None
                 or args.shrink_runs is not None
                 or args.window is not None or args.shrink_plateau is not None) else None)
    if given is not None and not given.same_search(spec):
        raise InvalidArgument(f"--resume {args.resume}: the flags ask for a different sweep than "
                              "the one in that directory; resume without --q/--t/--only")


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
    console.print(f"report: {report}   results: {outcome.directory / 'results.jsonl'}   "
                  f"counterexamples: {outcome.directory / 'counterexamples'}/")
    if outcome.interrupted or not outcome.complete:
        console.print(f"interrupted after {len(outcome.results)} of {outcome.total} "
                      f"combinations; finish with: tssbqs-pbt sweep --resume {outcome.directory}")
        return 3
    console.print(f"done in {outcome.elapsed_s:.0f} s")
    return 0

