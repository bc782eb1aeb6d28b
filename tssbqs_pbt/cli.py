"""The ``tssbqs-pbt`` command line. Thin: parse, call the library, print.

Exit codes: 0 success (no violation found / violation confirmed by replay), 1 the answer is a
problem (a counterexample was found / a replay no longer shows its violation), 2 bad input,
3 interrupted (Ctrl-C or SIGTERM: a sweep, search or explore ends with what it did so far).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tssbqs_pbt import __version__
from tssbqs_pbt.errors import InvalidArgument, ReplayError, TraceFormatError, TssbqsError
from tssbqs_pbt.validation import check_writable_dir

if TYPE_CHECKING:
    from tssbqs_pbt.preflight import Conformance

__all__ = ["main"]

_PLUGIN_HELP = ("load a protocol from MODULE (importable, or a .py file; the current directory "
                "is searched first): its ATTR, else its only ProtocolSpec; no entry point needed")
_MAX_FILE_HELP = ("largest JSON file read, in MiB (default 16; also $TSSBQS_PBT_MAX_FILE_MB): a "
                  "bigger file is refused before it is parsed; see docs/limits.md")

_NO_PROGRESS = ("no live progress line: a plain line every 30 s instead (as when the output "
                "is not a terminal)")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` after an option's help unless the help already says its default
    (or there is none to show: None, False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS) or (
                not action.option_strings):
            return text
        return super()._get_help_string(action)


#: help shared by ``explore``'s scope flags and the sweep's ``--explore-*`` ones
_WHICH_CLIENTS = ("which clients may act: C1..Ck (first), or any k of the configuration's, "
                  "which decides whom rotating delegates serve")
_PAUSES = ("an operation may pause once the Byzantine servers have answered its k-th message "
           "to them (k up to K), for one adversary action before the network runs on")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tssbqs-pbt", formatter_class=_HelpFormatter,
        description="Property-based testing of Byzantine quorum storage protocols with "
        "threshold signatures: search adversary schedules for a violation of data consistency "
        "(P1), availability (P2) or key confidentiality (P3). The model: docs/model.md; the "
        "design options: 'tssbqs-pbt options' or docs/options.md.",
    )
    parser.add_argument("--version", action="version", version=f"tssbqs-pbt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sweep = sub.add_parser(
        "sweep", help="search every design-option combination and print the validity matrix",
        formatter_class=_HelpFormatter,
        description="Search every combination of the design options ('tssbqs-pbt options') "
        "with every q and t (or those pinned), print the validity matrix and the families of "
        "the valid set, and write report.md, results.jsonl and every counterexample to --out. "
        "A full sweep at n=4 is long (measured times: docs/sweep.md); pin options with --only "
        "and q/t to see a result sooner.")
    # (--n, --f, --budget, --seed and --out default to None, so that a flag given with
    # --resume is seen and refused; spec_from_args and run_sweep_command fill in the defaults)
    sweep.add_argument("--n", type=int, default=None, help="servers (default 4)")
    sweep.add_argument("--f", type=int, default=None, help="Byzantine bound (default 1)")
    sweep.add_argument("--q", default=None, help="quorum sizes, e.g. 3 or 2,3 (default 1..n)")
    sweep.add_argument("--t", default=None, help="thresholds, e.g. 2,3 (default 1..n)")
    sweep.add_argument("--only", action="append", default=[], metavar="OPTION=VALUE",
                       help="pin an option (repeatable), e.g. --only SIGN_GUARD=LOCAL; "
                       "q=.. and t=.. pin the parameters")
    sweep.add_argument("--budget", default=None,
                       help="quick | standard | thorough | examples per combination (default "
                       "standard)")
    sweep.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    sweep.add_argument("--out", default=None, help="report directory (default tssbqs-sweep; "
                       "checked to be writable before the sweep starts)")
    sweep.add_argument("--resume", default=None, metavar="DIR",
                       help="finish the sweep in DIR, skipping its finished combinations, "
                       "with the parameters, budget and seed DIR records (--n, --f, --budget, "
                       "--seed and --out are refused); with --explore-* flags, its survivors "
                       "are explored again in that scope (built on the sweep's own) and "
                       "nothing else runs again")
    sweep.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: one per core)")
    sweep.add_argument("--dask-local", type=int, default=None, metavar="N",
                       help="run on a Dask LocalCluster of N worker processes")
    sweep.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run on a Dask distributed cluster")
    sweep.add_argument("--example-db", default=None, metavar="DIR|redis://HOST:PORT",
                       help="Hypothesis example database: the schedules search found, saved as "
                       "each result is recorded and replayed first by a later sweep sharing it "
                       "(default: the --out directory's hypothesis-db)")
    sweep.add_argument("--shrink-runs", type=int, default=None, metavar="N",
                       help="bound on shrinking one counterexample, in machine runs (default "
                       "120, ~3 s at n=4; a count, so a seed gives the same sweep on any "
                       "machine; the result records when the bound cut shrinking short)")
    sweep.add_argument("--shrink-plateau", type=int, default=None, metavar="N",
                       help="also end shrinking once N runs in a row found no failing run "
                       "with fewer steps (a count too)")
    sweep.add_argument("--window", type=int, default=None, metavar="N",
                       help="task p is offered the schedules learned from tasks before p - N "
                       "(default 32; the verdicts depend on it, not on the workers; at most "
                       "about N tasks run at once, so raise it for a cluster of many workers)")
    sweep.add_argument("--no-explore", action="store_true",
                       help="do not explore the survivors: a valid verdict then rests on the "
                       "random search alone")
    sweep.add_argument("--explore-operations", type=int, default=None, metavar="N",
                       help="operations in an explored schedule (default 2)")
    sweep.add_argument("--explore-clients", type=int, default=None, metavar="N",
                       help="clients that may act in an explored schedule (default 1)")
    sweep.add_argument("--explore-which-clients", choices=("first", "any"), default=None,
                       help=f"{_WHICH_CLIENTS} (default any)")
    sweep.add_argument("--explore-pauses", type=int, default=None, metavar="K",
                       help=f"{_PAUSES} (default 3)")
    sweep.add_argument("--explore-interventions", type=int, default=None, metavar="N",
                       help="adversary interventions in an explored schedule: cuts, Byzantine "
                       "servers not honest during an operation, actions (default 2)")
    sweep.add_argument("--explore-max-states", type=int, default=None, metavar="N",
                       help="distinct states explored per survivor before its certificate says "
                       "'not exhausted' (default 20000; a count, so a certificate is the same "
                       "on any machine)")
    sweep.add_argument("--explore-field-width", type=int, default=None, metavar="N",
                       help="candidates tried per field of a message the adversary makes up "
                       "(default 1: its first, simplest candidate)")
    sweep.add_argument("--walks", type=int, default=None, metavar="N",
                       help="deep random walks of each survivor after its exploration: six "
                       "operations by any three clients, eight chained adversary actions, no "
                       "bound on interventions (search beyond the scope, not a certificate; "
                       "default 64, 0 for none)")
    sweep.add_argument("--no-progress", action="store_true",
                       help="no live progress bar: a plain line every 30 s instead (as when "
                       "the output is not a terminal)")
    sub.add_parser("protocols", help="list the registered protocols",
                   description="List the protocols registered by name (the built-in presets "
                   "and installed plug-ins), each with its one-line description.")
    options = sub.add_parser(
        "options", help="list the design options, their values and what each means",
        description="List the parameters n, f, q, t and every design option with its values "
        "and a one-line meaning of each (the same text as docs/options.md).")
    options.add_argument("--markdown", action="store_true",
                         help="print docs/options.md (Markdown) instead of plain text")
    search = sub.add_parser(
        "search", help="search one protocol for a property violation",
        formatter_class=_HelpFormatter,
        description="Search one protocol (a registered one, a design, or a plug-in's) for a "
        "schedule of the adversary that violates P1, P2 or P3. Stops at the first violation, "
        "shrinks it, saves it as a replay file and writes its steps, charts and a regression "
        "test to --out (exit 1); exit 0 when the budget finds nothing. How to read the "
        "result: docs/reading-counterexamples.md.")
    _add_protocol_choice(search)
    search.add_argument("--byzantine", type=int, default=None,
                        help="index of the one Byzantine server (default: the last f servers, "
                        "as explore and check() take them; 0 for none)")
    search.add_argument("--budget", default="thorough",
                        help="quick | standard | thorough | a number of examples (default "
                        "thorough: a search stops at its first violation, so the budget "
                        "costs time only when nothing is found)")
    search.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    search.add_argument("--out", default="tssbqs-report", help="where counterexamples go")
    search.add_argument("--no-progress", action="store_true", help=_NO_PROGRESS)
    explore = sub.add_parser(
        "explore", help="explore every adversary schedule within a scope, breadth first",
        formatter_class=_HelpFormatter,
        description="Enumerate, breadth first, every schedule of the adversary's strategic "
        "moves within a scope (which client starts which operation, which correct servers are "
        "cut off during it, what each Byzantine server does), deduplicating states. Prints the "
        "shortest violation within the scope (saved like a search's) or a certificate of what "
        "was covered: states, transitions, depth, exhausted or not.")
    _add_protocol_choice(explore)
    # (left out, a bound takes the explorer's default, Scope(); the help states it, and a test
    # checks that the two agree)
    explore.add_argument("--operations", type=int, default=None,
                         help="client operations in a schedule (default 2)")
    explore.add_argument("--clients", type=int, default=None,
                         help="clients that may act (default 2)")
    explore.add_argument("--which-clients", choices=("first", "any"), default=None,
                         help=f"{_WHICH_CLIENTS} (default first)")
    explore.add_argument("--max-cut", type=int, default=None,
                         help="at most this many correct servers cut off at once (default any)")
    explore.add_argument("--blocking-cuts", action=argparse.BooleanOptionalAction, default=None,
                         help="also cuts that leave fewer than q servers reachable, an "
                         "operation then waiting for what the network holds (default yes); "
                         "with --no-blocking-cuts a cut holds at most max(1, n - q) correct "
                         "servers")
    explore.add_argument("--pauses", type=int, default=None, metavar="K",
                         help=f"{_PAUSES}; 0: never (default 3)")
    explore.add_argument("--modes", default=None,
                         help="what a Byzantine server may do in an operation (default "
                         "honest,silent,restart,keep)")
    explore.add_argument("--actions", type=int, default=None,
                         help="adversary actions besides operations in a schedule: releasing "
                         "held messages, answering a client as its delegate, giving back a "
                         "kept message, synthesising a request (default 1)")
    explore.add_argument("--interventions", type=int, default=None,
                         help="what the adversary may do in all: each new cut, each Byzantine "
                         "server not honest during an operation, each action counts one "
                         "(default 3)")
    explore.add_argument("--powers", default=None,
                         help="which kinds of action (default release,answer,give_back,"
                         "synthesise)")
    explore.add_argument("--width", type=int, default=None, metavar="N",
                         help="a synthesised message's first field (its datum, else its "
                         "request) among the first N candidates (default 2)")
    explore.add_argument("--field-width", type=int, default=None, metavar="N",
                         help="each other field of a synthesised message among the first N "
                         "candidates, a value beside a signed request the request's own value "
                         "first (default 1)")
    explore.add_argument("--targets", choices=("all", "each"), default=None,
                         help="a synthesised message goes to every correct server at once "
                         "(all), or also to any single one (each) (default all)")
    explore.add_argument("--properties", default=None,
                         help="the properties judged (default P1,P2,P3)")
    explore.add_argument("--max-states", type=int, default=None,
                         help="stop after this many distinct states (default 150000)")
    explore.add_argument("--seconds", type=float, default=None,
                         help="stop after this long (default: no time bound)")
    explore.add_argument("--out", default="tssbqs-report",
                         help="where a counterexample goes (default tssbqs-report)")
    explore.add_argument("--workers", type=int, default=None, metavar="N",
                         help="worker processes expanding each level (default: every local "
                         "core); the result (states, transitions, the violation found) is the "
                         "same at any count")
    explore.add_argument("--dask-local", type=int, default=None, metavar="N",
                         help="expand each level on a Dask LocalCluster of N worker processes "
                         "instead (the same result)")
    explore.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                         help="expand each level on a Dask distributed cluster (every worker "
                         "running this version of tssbqs-pbt; the same result)")
    explore.add_argument("--no-progress", action="store_true", help=_NO_PROGRESS)
    replay = sub.add_parser(
        "replay", help="re-run a saved counterexample (or every one of a sweep) and confirm it",
        formatter_class=_HelpFormatter,
        description="Re-run a saved counterexample deterministically and say whether it still "
        "shows its violation (exit 0) or not (exit 1); given a sweep's directory or "
        "results.jsonl, replay every invalid combination.")
    replay.add_argument("file", help="a counterexample JSON file, or a sweep's results.jsonl "
                        "or directory (replays every invalid combination)")
    replay.add_argument("--max-file-mb", default=None, metavar="MiB", help=_MAX_FILE_HELP)
    replay.add_argument("--plugin", metavar="MODULE[:ATTR]", help=_PLUGIN_HELP)
    render = sub.add_parser("render", help="write steps, charts and a regression test for a "
                            "saved counterexample",
                            formatter_class=_HelpFormatter,
                            description="Write the numbered steps (Markdown with a Mermaid "
                            "chart), a Mermaid file, an SVG chart and a regression test for a "
                            "saved counterexample. A sweep renders those its search found; "
                            "render a reused one's file on demand.")
    render.add_argument("file", help="a counterexample JSON file")
    render.add_argument("--out", default=None, help="directory (default: next to the file)")
    render.add_argument("--max-file-mb", default=None, metavar="MiB", help=_MAX_FILE_HELP)
    render.add_argument("--plugin", metavar="MODULE[:ATTR]", help=_PLUGIN_HELP)
    return parser


def _add_protocol_choice(parser: argparse.ArgumentParser) -> None:
    """--protocol | --design | --plugin, with --n and --f (search and explore)."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--protocol", help="a registered protocol name (see 'protocols')")
    which.add_argument("--design", help="a design: 'n=4 f=1 q=3 t=2 SIGN_GUARD=LOCAL ...'")
    which.add_argument("--plugin", metavar="MODULE[:ATTR]", help=_PLUGIN_HELP)
    parser.add_argument("--n", type=int, default=4, help="servers (with --protocol)")
    parser.add_argument("--f", type=int, default=1, help="Byzantine bound (with --protocol)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "max_file_mb", None) is not None:
            from tssbqs_pbt.kernel.jsonfile import set_max_mb

            set_max_mb(args.max_file_mb)
        if getattr(args, "plugin", None) is not None:
            from tssbqs_pbt.cli_plugin import load_plugin

            args.protocol = load_plugin(args.plugin)
        if args.command == "sweep":
            from tssbqs_pbt.sweep.command import run_sweep_command

            return run_sweep_command(args)
        if args.command == "protocols":
            return _protocols()
        if args.command == "options":
            return _options(markdown=args.markdown)
        if args.command == "search":
            return _search(args)
        if args.command == "explore":
            return _explore(args)
        if args.command == "replay":
            return _replay(args.file, plugin=args.plugin)
        if args.command == "render":
            return _render(args.file, args.out, plugin=args.plugin)
        parser.print_usage(sys.stderr)
        print("tssbqs-pbt: error: a command is required (tssbqs-pbt --help lists them)",
              file=sys.stderr)
        return 2
    except ReplayError as exc:
        print(f"tssbqs-pbt: not reproduced: {exc}", file=sys.stderr)
        return 1
    except TssbqsError as exc:
        print(f"tssbqs-pbt: error: {exc}", file=sys.stderr)
        return 2


def _protocols() -> int:
    from tssbqs_pbt import protocols

    for name in protocols.available():
        print(f"{name:20} {protocols.get(name).description}")
    return 0


def _options(*, markdown: bool) -> int:
    from tssbqs_pbt.protocols.options import options_markdown, options_text

    print(options_markdown() if markdown else options_text(), end="")
    return 0


def _protocol_of(args: argparse.Namespace) -> Conformance:
    """The protocol ``--design``, ``--protocol`` or ``--plugin`` names, checked by the same
    conformance preflight as ``check()`` (declarations, determinism, the honest no-fault
    schedule): a malformed plug-in is refused with its :class:`InvalidProtocol` paragraph. Its
    configuration has the last f servers Byzantine, as every entry point's."""
    from tssbqs_pbt.preflight import as_spec, preflight
    from tssbqs_pbt.protocols import DesignProtocol, parse_design

    if args.design is not None:
        design = parse_design(args.design)
        return preflight(as_spec(DesignProtocol(design)), design.n, design.f)
    return preflight(as_spec(args.protocol), args.n, args.f)


def _search(args: argparse.Namespace) -> int:
    from tssbqs_pbt.cli_progress import run_search

    return run_search(args, _protocol_of(args))


def scope_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The Scope bounds given on the command line (the others keep Scope's defaults)."""
    given: dict[str, Any] = {}
    for name in ("operations", "clients", "which_clients", "max_cut", "blocking_cuts",
                 "pauses", "actions", "interventions", "width", "field_width", "targets",
                 "max_states", "seconds"):
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    for name in ("modes", "powers", "properties"):
        text = getattr(args, name)
        if text is not None:
            given[name] = tuple(w.strip() for w in text.split(",") if w.strip())
    return given


def _explore(args: argparse.Namespace) -> int:
    from tssbqs_pbt.cli_progress import run_explore, workers_of
    from tssbqs_pbt.engine.explore import Scope

    workers_of(args)  # (a bad --workers is refused before the preflight runs)
    ready = _protocol_of(args)
    if args.seconds is not None and not 0 < args.seconds < math.inf:
        raise InvalidArgument(f"--seconds {args.seconds:g}: give a positive number of seconds "
                              "(e.g. --seconds 60), or leave it out for no time bound")
    return run_explore(args, ready, Scope(**scope_arguments(args)))


def _replay(path: str, *, plugin: str | None = None) -> int:
    from tssbqs_pbt.cli_plugin import check_registered
    from tssbqs_pbt.engine.search import replay_counterexample

    target = Path(path)
    if target.is_dir() or target.name == "results.jsonl":
        return _replay_sweep(target if target.is_dir() else target.parent)
    check_registered(path, plugin, "replay")
    outcome = replay_counterexample(path)
    print(outcome.summary())
    return 0 if outcome.confirmed else 1


def _replay_sweep(directory: Path) -> int:
    from tssbqs_pbt.engine.search import replay_counterexample
    from tssbqs_pbt.sweep.store import load_results

    results, warnings = load_results(directory)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    invalid = [r for r in results if r.verdict == "invalid"]
    if not results:
        raise TraceFormatError(f"{str(directory)!r} holds no sweep results (results.jsonl); "
                               "pass a directory written by 'tssbqs-pbt sweep'")
    failed = 0
    for result in invalid:
        outcome = replay_counterexample(directory / result.files["replay"])
        same = outcome.confirmed and outcome.expected.get("property") == result.property
        if not same:
            failed += 1
            print(f"NOT reproduced: {result.key}: {outcome.summary()}")
    print(f"{len(invalid) - failed} of {len(invalid)} invalid combinations replayed to their "
          f"recorded violation ({len(results) - len(invalid)} others not invalid)")
    return 0 if failed == 0 else 1


def _render(path: str, out: str | None, *, plugin: str | None = None) -> int:
    from tssbqs_pbt.cli_plugin import check_registered
    from tssbqs_pbt.engine.search import replay_counterexample
    from tssbqs_pbt.report import write_report

    check_writable_dir("--out" if out is not None else "the directory of FILE",
                       out if out is not None else Path(path).parent)
    check_registered(path, plugin, "render")
    outcome = replay_counterexample(path)
    assert outcome.trace is not None
    verdict = next((v for v in outcome.verdicts if v.violated), None)
    files = write_report(outcome.trace, verdict, path, out or Path(path).parent)
    print(outcome.summary())
    for kind, written in (("steps", files.steps), ("mermaid", files.mermaid),
                          ("svg", files.svg), ("test", files.test)):
        print(f"{kind:8} {written}")
    return 0 if outcome.confirmed else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
