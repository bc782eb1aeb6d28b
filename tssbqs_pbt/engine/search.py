"""Search one protocol under one configuration for a property violation.

A portfolio of tactics (:class:`~tssbqs_pbt.engine.machine.Tactic`) shares the example budget; the
first counterexample found is shrunk by Hypothesis, **saved as a versioned JSON replay file
before it is reported**, and returned with the property, the clause, the tactic that found it
and the timings.  :func:`replay_counterexample` re-runs such a file deterministically (kernel
only, no Hypothesis) and confirms the same violation.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from hypothesis import HealthCheck, Phase, settings
from hypothesis import core as _core
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import Unsatisfiable
from hypothesis.reporting import with_reporter
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    run_state_machine_as_test,
)

from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.engine.budget import BUDGETS, MAX_EXAMPLES, Budget, parse_budget
from tssbqs_pbt.engine.limits import seed_only, shrink_limit
from tssbqs_pbt.engine.machine import (
    FaultFound,
    PropertyViolated,
    SearchSetup,
    Tactic,
    make_machine,
)
from tssbqs_pbt.engine.minimize import minimize_trace
from tssbqs_pbt.errors import (
    InvalidArgument,
    ProtocolFault,
    ReplayError,
    TraceFormatError,
    TssbqsError,
)
from tssbqs_pbt.kernel import (
    TRACE_FORMAT,
    SystemConfig,
    Trace,
    World,
    registry_for,
    replay,
)
from tssbqs_pbt.kernel.memo import HandlerMemo
from tssbqs_pbt.properties import Property, SignedValue, Verdict, check_all, initial_value_of
from tssbqs_pbt.protocols.api import MessageDecl, ProtocolSpec, StorageProtocol
from tssbqs_pbt.protocols.registry import protocol_named
from tssbqs_pbt.report import ReportFiles, write_report

if TYPE_CHECKING:
    from tssbqs_pbt.engine.explore import Certificate

__all__ = [
    "BUDGETS",
    "COUNTEREXAMPLE_FORMAT",
    "MAX_EXAMPLES",
    "SHARES",
    "TACTICS",
    "Budget",
    "Counterexample",
    "ReplayOutcome",
    "SearchResult",
    "counterexample_of",
    "parse_budget",
    "replay_counterexample",
    "save_counterexample",
    "search",
    "trace_pass",
    "transplant_counterexample",
]

COUNTEREXAMPLE_FORMAT = "tssbqs-pbt-counterexample"

#: each tactic's weight in the example budget (measured: ``lag`` finds most violations first
#: and keeps the 60% it had before ``split`` came; ``split``, the model's whole network
#: adversary with every Byzantine server, takes its share from ``fine`` and ``coarse``, which
#: found 2 of 97 searched verdicts in a default sweep, against 84 for ``lag``)
SHARES = {Tactic.LAG: 6, Tactic.SPLIT: 2, Tactic.FINE: 1, Tactic.COARSE: 1}
#: the tactics of a search, in the order they run (a search stops at its first violation)
TACTICS = (Tactic.LAG, Tactic.SPLIT, Tactic.FINE, Tactic.COARSE)


@attrs.frozen
class Counterexample:
    """A shrunk failing run: what broke, which tactic found it, and the full trace."""

    property: str  # e.g. "P1 data consistency", or "protocol fault"
    clause: str
    tactic: Tactic
    trace: Trace
    verdict: Verdict | None = None
    path: Path | None = None  # where the replay file was saved
    report: ReportFiles | None = None  # steps, charts and regression test next to it
    seed: int | None = None  # the random search's seed, when a search found it
    scope: str | None = None  # the explorer's scope (described), when the explorer found it
    walks: str | None = None  # the deep walks (described), when a deep random walk found it

    @builtins.property
    def steps(self) -> int:
        return len(self.trace.steps)


@attrs.frozen
class SearchResult:
    protocol: str
    config: SystemConfig
    budget: Budget
    seed: int
    counterexample: Counterexample | None
    examples: int  # runs executed, shrinking included
    first_failure_s: float | None
    elapsed_s: float
    tactics: tuple[Tactic, ...]
    kernel_steps: int = 0  # kernel steps executed over all runs
    shrink_cut: bool = False  # shrinking stopped at the time bound (the best shrink is kept)
    minimize_runs: int = 0  # kernel replays of the trace pass after Hypothesis's shrinking
    minimize_cut: bool = False  # the trace pass stopped at its bound
    searched: int | None = None  # runs up to the first failing one (None: ``examples``)
    #: the explorer's certificate when ``check(explore=...)`` ran it after the search (its
    #: violation, if any, is ``counterexample``)
    explored: Certificate | None = None
    walked: Any = None  # what the deep walks after it covered (engine.walks.Walked), if run

    @property
    def search_runs(self) -> int:
        """Runs spent looking: ``examples`` without the shrinking runs after the first
        failure."""
        return self.examples if self.searched is None else self.searched

    @property
    def found(self) -> bool:
        return self.counterexample is not None


def search(
    protocol: StorageProtocol,
    config: SystemConfig,
    *,
    declarations: Mapping[type, MessageDecl] | None = None,
    budget: Budget | None = None,
    seed: int = 0,
    tactics: Sequence[Tactic] = TACTICS,
    scheme: ThresholdScheme | None = None,
    save_dir: str | Path | None = None,
    database: ExampleDatabase | str | Path | None = None,
    shrink: bool = True,
    generate: bool = True,
    shrink_seconds: float | None = None,
    properties: frozenset[Property] | None = None,
    shares: Sequence[int] | None = None,
    max_shrinks: int | None = None,
    shrink_runs: int | None = None,
    shrink_plateau: int | None = None,
    minimize_runs: int = 1_000,
    progress: Callable[[Mapping[str, Any]], None] | None = None,
) -> SearchResult:
    """Look for a violation of P1, P2 or P3 (or a protocol crash) within ``budget``.

    The tactics run in order, each with its share of ``budget.examples`` (``shares``: one
    weight per tactic; by default :data:`SHARES`).  ``properties`` restricts the search to
    some properties (protocol crashes always count); ``generate=False`` only replays what
    ``database`` offers (no new examples).  Shrinking is bounded by ``shrink_seconds`` (time:
    the best shrink so far is kept; the unshrunk failure is on disk already), by
    ``max_shrinks`` (a count of successful shrinks) or by ``shrink_runs`` (a count of machine
    runs while shrinking, which tracks time but, unlike ``shrink_seconds``, leaves the same seed
    the same trace on any machine: the sweep's bound); with ``shrink_runs``, ``shrink_plateau``
    also ends shrinking once that many runs in a row found no failing run with fewer kernel
    steps (Hypothesis's later passes mostly try smaller values in a schedule of the same
    length).  After Hypothesis, the counterexample's own actions are shrunk by
    :func:`tssbqs_pbt.engine.minimize.minimize_trace` (kernel replays only, at most
    ``minimize_runs`` of them; 0 turns it off), which drops the kernel steps a needed rule
    takes but the violation does not need.  ``progress`` is called after every machine run
    with a mapping {examples, tactic, found (a failing run was seen: shrinking), elapsed_s}.
    """
    if isinstance(minimize_runs, bool) or not isinstance(minimize_runs, int) or minimize_runs < 0:
        raise InvalidArgument(f"minimize_runs={minimize_runs!r} must be a whole number >= 0 "
                              "(0: no trace pass after Hypothesis's shrinking)")
    if shrink_runs is not None and shrink_seconds is not None:
        raise InvalidArgument(f"shrink_seconds={shrink_seconds!r} and shrink_runs="
                              f"{shrink_runs!r}: bound shrinking by time or by runs, not both")
    if shrink_plateau is not None and (isinstance(shrink_plateau, bool)
                                       or not isinstance(shrink_plateau, int)
                                       or shrink_plateau < 1):
        raise InvalidArgument(f"shrink_plateau={shrink_plateau!r} must be a whole number >= 1 "
                              "(or None: no bound)")
    if shrink_plateau is not None and shrink_runs is None:
        raise InvalidArgument(f"shrink_plateau={shrink_plateau!r} counts machine runs: give "
                              "shrink_runs too (e.g. shrink_runs=120)")
    budget = budget or Budget()
    if declarations is None:
        declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
            protocol
        )
    if isinstance(database, (str, Path)):
        database = DirectoryBasedExampleDatabase(str(database))
    signed_value = getattr(protocol, "signed_value", None)
    started = time.perf_counter()
    first: list[float] = []
    examples = [0, 0]  # runs, kernel steps
    searched: list[int] = []  # runs up to the first failing one
    last: list[object] = [None]  # the last counted run's final step

    def count(world: World) -> None:
        examples[0] += 1
        examples[1] += len(world.steps)
        last[0] = world.steps[-1] if world.steps else None
        if progress is not None:
            progress({"examples": examples[0], "tactic": tried[-1].value, "found": bool(first),
                      "elapsed_s": time.perf_counter() - started})

    notes: list[object] = []  # Hypothesis's own messages: the result says what matters
    weights = list(shares) if shares is not None else [SHARES.get(t, 1) for t in tactics]
    if len(weights) != len(tactics) or any(w < 1 for w in weights):
        raise InvalidArgument(f"shares {weights!r} must give a weight >= 1 to each tactic")
    tried: list[Tactic] = []
    shortest, improved = [sys.maxsize], [0]  # the shortest failing run so far; run count then
    # each tactic's shortest failing run: the result if Hypothesis ends without re-raising one
    seen: dict[Tactic, tuple[int, AssertionError | None]] = {
        t: (sys.maxsize, None) for t in tactics}

    def shrink_clock() -> int:
        """Runs so far, for the shrink bound; past it once ``shrink_plateau`` runs in a row
        found no failing run with fewer steps (a count too: the same on any machine)."""
        if shrink_plateau is not None and examples[0] - improved[0] >= shrink_plateau:
            return examples[0] + sys.maxsize // 2
        return examples[0]

    for tactic, weight in zip(tactics, weights, strict=True):
        tried.append(tactic)
        share = max(1, budget.examples * weight // sum(weights))

        def failed(failure: AssertionError, tactic: Tactic = tactic) -> None:
            size = len(failure.trace.steps) if isinstance(failure, (PropertyViolated, FaultFound)) \
                else sys.maxsize
            if size < shortest[0]:  # a shorter failing run: shrinking is making progress
                shortest[0], improved[0] = size, examples[0]
            if size < seen[tactic][0]:  # kept whatever Hypothesis does next (never lost)
                seen[tactic] = (size, failure)
            # the first failing run is written at once, before Hypothesis starts shrinking:
            # an interrupted or endless shrink never loses what was found
            if first:
                return
            first.append(time.perf_counter() - started)
            steps = failure.trace.steps if isinstance(failure, (PropertyViolated, FaultFound)) \
                else ()
            # a failure in teardown comes after its run was counted, one before it did not
            counted = len(steps) > 0 and steps[-1] is last[0]
            searched.append(examples[0] + (0 if counted else 1))
            if save_dir is not None and shrink:  # (unshrunk, the result itself is saved next)
                save_counterexample(attrs.evolve(_counterexample(failure, tactic), seed=seed),
                                    save_dir, unshrunk=True)
            if not shrink:
                # without shrinking this run is the result: Hypothesis would only run it again
                raise _FirstFailure(failure)

        setup = SearchSetup(
            protocol, config, declarations, scheme=scheme, signed_value=signed_value,
            tactic=tactic, on_failure=failed, on_example=count, properties=properties,
            memo=HandlerMemo(),  # (handler results shared by the tactic's examples)
        )
        machine = hypothesis_seed(seed)(make_machine(setup))
        failure: AssertionError | None = None
        try:
            with shrink_limit(shrink_seconds, max_shrinks, shrink_runs,
                               shrink_clock), seed_only(), \
                    with_reporter(notes.append):
                _run_machine(machine, _database_key(protocol, config, tactic), settings(
                    max_examples=share, stateful_step_count=budget.steps, deadline=None,
                    database=database, report_multiple_bugs=False, print_blob=False,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse]
                    + ([Phase.generate] if generate else [])
                    + ([Phase.shrink] if shrink else []),
                ))
        except Unsatisfiable:
            if generate:
                raise
        except (PropertyViolated, FaultFound, _FirstFailure) as caught:
            failure = caught.failure if isinstance(caught, _FirstFailure) else caught
        except Exception:
            # Hypothesis gave up on a failure it saw (flaky replay, a health check, an error
            # group): the failing run it saw is still the result; with none, the error stands
            if seen[tactic][1] is None:
                raise
        if failure is None:
            # shrinking may end without re-raising (a replay that no longer fails, a limit):
            # a failing run seen in this tactic is a counterexample all the same
            failure = seen[tactic][1]
        if failure is not None:
            found = attrs.evolve(_counterexample(failure, tactic), seed=seed)
            minimized = None
            if shrink and minimize_runs:
                minimized = _minimize(found, protocol, config, scheme, signed_value,
                                      minimize_runs)
                found = minimized.counterexample
            if save_dir is not None:
                path = save_counterexample(found, save_dir)  # saved first, then rendered
                report = write_report(found.trace, found.verdict, path, save_dir)
                found = attrs.evolve(found, path=path, report=report)
            return SearchResult(protocol.name, config, budget, seed, found, examples[0],
                                first[0] if first else None, time.perf_counter() - started,
                                tuple(tried), examples[1] + (minimized.kernel_steps if minimized
                                                             else 0),
                                any("stopped because" in str(note) for note in notes),
                                minimized.runs if minimized else 0,
                                minimized.cut if minimized else False,
                                searched[0] if searched else None)
    return SearchResult(protocol.name, config, budget, seed, None, examples[0], None,
                        time.perf_counter() - started, tuple(tried), examples[1])


class _FirstFailure(BaseException):
    """Ends a search that does not shrink at its first failing run.

    A ``BaseException``: Hypothesis does not take it for a test failure (which it would run
    again to report), it saves the run's choices to the database and lets it through."""

    def __init__(self, failure: AssertionError) -> None:
        super().__init__(str(failure))
        self.failure = failure


def _database_key(protocol: StorageProtocol, config: SystemConfig, tactic: Tactic) -> bytes:
    """The example-database key of one machine: stable across edits of our source code."""
    text = f"tssbqs-pbt machine|{protocol.name}|{config!r}|{tactic.value}"
    return hashlib.sha384(text.encode()).digest()


def _run_machine(machine: type[RuleBasedStateMachine], key: bytes, config: settings) -> None:
    """``run_state_machine_as_test`` with our own database key.

    Hypothesis derives a machine's key from its source text (``inspect.getsource``, ~20 ms a
    run, most of a replayed example's cost); the generated machine class gets a module name
    with no source, and the test gets the key of :func:`_database_key`.
    """
    machine.__module__ = "tssbqs_pbt.engine.machine.generated"
    try:
        test = get_state_machine_test(machine, settings=config)
    except TypeError:  # another Hypothesis version: the public runner still works
        run_state_machine_as_test(machine, settings=config)
        return
    if getattr(_core, "global_force_seed", None) is None:
        # (a seed forced with --hypothesis-seed turns the database off, as Hypothesis does)
        test._hypothesis_internal_database_key = key  # type: ignore[attr-defined]
    test()


def trace_pass(found: Counterexample, protocol: StorageProtocol, config: SystemConfig, *,
               scheme: ThresholdScheme | None = None, runs: int = 1_000) -> Counterexample:
    """``found`` shrunk on its kernel actions (at most ``runs`` replays), showing the same
    property: what a search does after Hypothesis's shrinking, for a counterexample found
    otherwise (the explorer's, whose schedule is shortest in moves, not in kernel steps)."""
    signed_value = getattr(protocol, "signed_value", None)
    return _minimize(found, protocol, config, scheme, signed_value, runs).counterexample


def _minimize(found: Counterexample, protocol: StorageProtocol, config: SystemConfig,
              scheme: ThresholdScheme | None, signed_value: SignedValue | None,
              runs: int) -> _Minimized:
    """Hypothesis's counterexample shrunk further on its kernel actions; Hypothesis's own when
    the pass cannot re-run it (a found counterexample is never lost to the pass)."""
    target = None if found.verdict is None else found.verdict.property
    try:
        done = minimize_trace(found.trace, protocol, property=target, signed_value=signed_value,
                              world=lambda: World(protocol, config, scheme=scheme),
                              max_runs=runs)
    except TssbqsError:
        return _Minimized(found, 0, 0, False)
    if done.verdict is not None:
        clause = done.verdict.violations[0].clause.value if done.verdict.violations else "?"
        better = attrs.evolve(found, trace=done.trace, verdict=done.verdict, clause=clause)
    else:
        better = attrs.evolve(found, trace=done.trace, clause=done.fault or found.clause)
    return _Minimized(better, done.runs, done.kernel_steps, done.cut)


@attrs.frozen
class _Minimized:
    counterexample: Counterexample
    runs: int
    kernel_steps: int
    cut: bool


def counterexample_of(failure: AssertionError, tactic: Tactic) -> Counterexample:
    """The counterexample a failing run of ``tactic`` shows (its verdict, clause and trace)."""
    return _counterexample(failure, tactic)


def _counterexample(failure: AssertionError, tactic: Tactic) -> Counterexample:
    if isinstance(failure, PropertyViolated):
        verdict = failure.verdict
        clause = verdict.violations[0].clause.value if verdict.violations else "?"
        return Counterexample(verdict.property.value, clause, tactic, failure.trace, verdict)
    assert isinstance(failure, FaultFound)
    return Counterexample("protocol fault", str(failure.fault), tactic, failure.trace)


def save_counterexample(
    found: Counterexample, directory: str | Path, *, unshrunk: bool = False
) -> Path:
    """Write the replay file (trace + what it shows) atomically; return its path.

    ``unshrunk`` marks the first failing run, saved before shrinking (``...-first.json``)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data = found.trace.to_document()
    data["format"] = COUNTEREXAMPLE_FORMAT
    data["expect"] = {"property": found.property, "clause": found.clause,
                      "tactic": found.tactic.value, "steps": found.steps,
                      "shrunk": not unshrunk, **_found_by(found)}
    text = json.dumps(data, sort_keys=True, indent=None, separators=(",", ":")) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    slug = "".join(c if c.isalnum() else "-" for c in found.property.split()[0].lower())
    path = folder / f"counterexample-{slug}-{digest}{'-first' if unshrunk else ''}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _found_by(found: Counterexample) -> dict[str, Any]:
    """Where ``found`` came from, for the file's ``expect`` section (what its regression test
    says): the explorer and its scope, or the random search and its seed."""
    if found.scope is not None:
        return {"found_by": "explorer", "scope": found.scope}
    if found.walks is not None:
        return {"found_by": "walks", "walks": found.walks}
    if found.seed is not None:
        return {"found_by": "search", "seed": found.seed}
    return {}


@attrs.frozen
class ReplayOutcome:
    path: Path
    protocol: str
    expected: Mapping[str, Any]
    verdicts: tuple[Verdict, ...]
    confirmed: bool
    trace: Trace | None = None

    def summary(self) -> str:
        state = "confirmed" if self.confirmed else "NOT reproduced"
        return (f"{self.path}: {self.expected.get('property')} ({self.expected.get('clause')}) "
                f"{state} by a deterministic replay of {self.expected.get('steps')} steps of "
                f"protocol {self.protocol!r}")


def replay_counterexample(path: str | Path) -> ReplayOutcome:
    """Re-run a saved counterexample and check it still shows the recorded violation."""
    file = Path(path)
    raw, expected, name, config = _load(file)
    protocol = protocol_named(name, int(config.get("n", 0)), int(config.get("f", 0)))
    trace = _trace(raw, protocol, file)
    try:
        world = replay(trace, protocol)
    except ProtocolFault as fault:
        if expected.get("property") == "protocol fault":
            return ReplayOutcome(file, name, expected, (), confirmed=True, trace=trace)
        raise ReplayError(f"the replay crashed the protocol ({fault}), which the file does not "
                          "record") from fault
    verdicts = check_all(Trace.of(world), signed_value=getattr(protocol, "signed_value", None),
                         initial_value=initial_value_of(protocol))
    confirmed = any(v.violated and v.property.value == expected.get("property") for v in verdicts)
    return ReplayOutcome(file, name, expected, verdicts, confirmed, Trace.of(world))


def transplant_counterexample(path: str | Path, protocol: StorageProtocol) -> Counterexample:
    """The counterexample saved at ``path`` re-run against another ``protocol`` of the same
    configuration, which must answer every step with exactly the recorded events and show the
    same violation (a design that behaves like the one that failed); ReplayError otherwise."""
    file = Path(path)
    raw, expected, _name, _config = _load(file)
    raw["header"] = {**raw.get("header", {}), "protocol": protocol.name}
    trace = _trace(raw, protocol, file)
    try:
        world = replay(trace, protocol)
    except ProtocolFault as fault:
        raise ReplayError(f"{protocol.name!r} crashed on {str(file)!r}: {fault}") from fault
    moved = Trace.of(world)
    verdicts = check_all(moved, signed_value=getattr(protocol, "signed_value", None),
                         initial_value=initial_value_of(protocol))
    try:
        tactic = Tactic(str(expected.get("tactic")))
    except ValueError:
        raise TraceFormatError(f"{str(file)!r} names no known tactic "
                               f"({expected.get('tactic')!r}); the file is corrupt") from None
    for verdict in verdicts:
        if verdict.violated and verdict.property.value == expected.get("property"):
            clause = verdict.violations[0].clause.value if verdict.violations else "?"
            return Counterexample(verdict.property.value, clause, tactic, moved, verdict)
    raise ReplayError(f"{protocol.name!r} does not show the violation of {str(file)!r} "
                      f"({expected.get('property')})")


def _trace(raw: dict[str, Any], protocol: StorageProtocol, file: Path) -> Trace:
    raw["format"] = TRACE_FORMAT  # a counterexample file is a trace document with more in it
    return Trace.from_document(raw, registry_for(protocol), source=f"counterexample {str(file)!r}")


def _load(file: Path) -> tuple[dict[str, Any], dict[str, Any], str, dict[str, Any]]:
    """A counterexample file's document, its 'expect' section, protocol name and config, each
    checked for type and shape (a :class:`TraceFormatError` names what is wrong)."""
    from tssbqs_pbt.counterexample_file import read_counterexample

    return read_counterexample(file, COUNTEREXAMPLE_FORMAT)
