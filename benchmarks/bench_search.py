"""Search benchmark: time to first violation and to a shrunk counterexample per combination,
no false alarm on the valid families under a large budget, steps per second on a valid family,
and the ratio to a trivial Hypothesis state machine.

    python benchmarks/bench_search.py [--seeds 20] [--budget 2000] [--valid-budget 2000]
        [--shrink-runs 10] [--minimize-runs 1000] [--jobs 2] [--json PATH] [--only NAME]

Seeds are fresh (random.randrange unless --seed-base is given); no example database.  Each
search runs on one core (``--jobs`` runs that many searches side by side: the per-search times
are still one core's).  Hypothesis's shrinking is bounded by ``--shrink-runs`` (a count of
machine runs, 10 by default: 50 and 350 gave no shorter counterexamples once the trace pass
follows, in 5-seed runs; 0: unbounded), then the trace pass shrinks the result on its kernel
actions (``--minimize-runs`` replays; 0: none).  All figures come from one run on this
machine; quote medians and ratios, not single numbers.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import inspect
import json
import multiprocessing
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, family_c, family_j

from tssbqs_pbt.engine.minimize import minimize_trace
from tssbqs_pbt.engine.search import (
    Budget,
    SearchResult,
    replay_counterexample,
    save_counterexample,
    search,
)
from tssbqs_pbt.kernel import Trace
from tssbqs_pbt.properties import check_all
from tssbqs_pbt.sweep.space import SweepSpec


def c_with(t: int = 2, n: int = 4, f: int = 1, q: int = 3, **changes: str) -> Design:
    return Design(n, f, q, t, FAMILY_C_OPTIONS.with_(**changes))


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
import attacks  # noqa: E402  (the hand-written schedules of tests/scenarios)
from scenario import Attack  # noqa: E402

# the hand-written schedules for each combination (tests/scenarios/test_attacks.py): a search
# counterexample is measured against the shortest one that violates the same clause (the same
# attack), else against the shortest of them all
SCRIPTS = {
    "t=1": [(attacks.forge_alone, 4)],
    "t=4": [(attacks.silent_byzantine, 4)],
    "DELEGATES=1": [(attacks.silent_later_delegate, 4)],  # B = S4, as in every search
    "SIGN_GUARD=NONE": [(attacks.withheld_high_datum, 4)],
    "TS_SOURCE=SERVER_LOCAL t=2": [(attacks.lagging_signer, 4)],
    "SIGN_GUARD=LOCAL t=2": [(attacks.withheld_high_datum, 4)],
    "ACK_MODE=PIGGYBACK t=2": [(attacks.done_after_one_store, 4)],
    "READ_GUARD=LOCAL t=2": [(attacks.lagging_read_signer, 4)],
    "STORE_FORM=UNSIGNED": [(attacks.fabricated_report, 4),
                            (attacks.unsigned_store_above_all, 4)],
}


@attrs.frozen
class HandWritten:
    script: str
    steps: int  # kernel steps of the schedule, up to the drain included
    shortest: int  # steps left after the trace pass the search runs on its counterexamples
    clauses: frozenset[str]  # what the shortened trace violates


def hand_written(name: str, design: Design) -> list[HandWritten]:
    """The hand-written schedules (they deliver one message per step, where the search may
    settle many in one step), each shortened by the same trace pass the search runs on its
    counterexamples, once per property it violates: the like-for-like references."""
    out = []
    for script, byzantine in SCRIPTS.get(name, []):
        attack = Attack(design, byzantine=byzantine)
        script(attack)
        attack.drain()
        trace = Trace.of(attack.world)
        signed = attack.protocol.signed_value
        for v in check_all(trace, signed_value=signed):
            if v.violated:
                m = minimize_trace(trace, attack.protocol, property=v.property,
                                   signed_value=signed, max_runs=5_000)
                clauses = m.verdict.violations if m.verdict else ()
                out.append(HandWritten(script.__name__, len(trace.steps), len(m.trace.steps),
                                       frozenset(c.clause.value for c in clauses)))
    return out


def reference(hand: list[HandWritten], clause: str | None) -> HandWritten | None:
    """The shortest hand-written schedule of the same attack (same clause), else the
    shortest."""
    same = [h for h in hand if clause in h.clauses]
    return min(same or hand, key=lambda h: h.shortest, default=None)


COMBINATIONS = {
    "t=1": c_with(t=1),
    "t=4": c_with(t=4),
    "DELEGATES=1": c_with(delegates="ONE"),
    "SIGN_GUARD=NONE": c_with(sign_guard="NONE"),
    "TS_SOURCE=SERVER_LOCAL t=2": c_with(ts_source="SERVER_LOCAL"),
    "SIGN_GUARD=LOCAL t=2": c_with(sign_guard="LOCAL"),
    "ACK_MODE=PIGGYBACK t=2": c_with(ack_mode="PIGGYBACK"),
    "READ_GUARD=LOCAL t=2": c_with(read_guard="LOCAL"),
    "STORE_FORM=UNSIGNED": c_with(store_form="UNSIGNED"),
}
VALID = {"family C t=2": family_c(4, 1, 2), "family C t=3": family_c(4, 1, 3),
         "family J": family_j(4, 1)}
# n=7, f=2 (q=5): the issue asks for at least these two, and family C under a bounded budget
N7 = {"n=7 SIGN_GUARD=NONE t=3": c_with(t=3, n=7, f=2, q=5, sign_guard="NONE"),
      "n=7 t=f=2": c_with(t=2, n=7, f=2, q=5)}
N7_VALID = {"n=7 family C t=3": family_c(7, 2, 3)}


class Trivial(RuleBasedStateMachine):
    """Hypothesis's own overhead: two rules that add integers."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    @rule(x=st.integers(0, 10))
    def add(self, x: int) -> None:
        self.total += x

    @rule()
    def reset(self) -> None:
        self.total = 0


def examples_per_second(machine: type[RuleBasedStateMachine], examples: int, steps: int) -> float:
    start = time.perf_counter()
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), phases=[Phase.generate]))
    return examples / (time.perf_counter() - start)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _byzantine(design: Design) -> frozenset[int]:
    return frozenset(range(design.n - design.f + 1, design.n + 1))  # the last f servers


def run_one(job: tuple[str, Design, int, int, int | None, int]) -> dict[str, Any]:
    """One search (in a worker process): what the tables need, nothing unpicklable."""
    name, design, seed, examples, shrink_runs, minimize_runs = job
    config = design.config(byzantine=_byzantine(design))
    result: SearchResult = search(DesignProtocol(design), config, budget=Budget(examples),
                                  seed=seed, shrink_runs=shrink_runs,
                                  minimize_runs=minimize_runs)
    found = result.counterexample
    replays = None
    if found is not None:  # (after the timed search) its replay file re-runs to the violation
        with tempfile.TemporaryDirectory() as folder:
            outcome = replay_counterexample(save_counterexample(found, folder))
            replays = outcome.confirmed and outcome.trace is not None \
                and len(outcome.trace.steps) == found.steps
    return {
        "name": name, "seed": seed, "found": found is not None,
        "first_s": result.first_failure_s, "elapsed_s": result.elapsed_s,
        "steps": found.steps if found else None, "shrink_cut": result.shrink_cut,
        "property": found.property if found else None,
        "clause": found.clause if found else None,
        "tactic": found.tactic.value if found else None, "replays": replays,
        "examples": result.examples, "kernel_steps": result.kernel_steps,
        "minimize_runs": result.minimize_runs, "minimize_cut": result.minimize_cut,
    }


def attack_row(name: str, design: Design, runs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [r for r in runs if r["found"]]
    hand = hand_written(name, design)
    steps = median([float(r["steps"]) for r in found])
    refs = [reference(hand, r["clause"]) for r in found]
    ratios = [r["steps"] / max(1, ref.shortest) for r, ref in zip(found, refs, strict=True)
              if ref is not None]
    return {
        "combination": name, "n": design.n, "f": design.f, "q": design.q, "t": design.t,
        "found": len(found), "seeds": len(runs),
        "replayed": sum(1 for r in found if r.get("replays")),
        "first_violation_s": median([r["first_s"] for r in found if r["first_s"] is not None]),
        "shrunk_counterexample_s": median([r["elapsed_s"] for r in found]),
        "shrunk_steps": steps,
        "hand_written": [attrs.asdict(h, value_serializer=_plain) for h in hand],
        "hand_written_steps": median([float(ref.steps) for ref in refs if ref]),
        "hand_written_min_steps": median([float(ref.shortest) for ref in refs if ref]),
        "references": sorted({ref.script for ref in refs if ref}),
        "ratio_to_hand_written_min": median(ratios),
        "shrink_cut": sum(1 for r in found if r["shrink_cut"]),
        "minimize_runs": median([float(r["minimize_runs"]) for r in found]),
        "minimize_cut": sum(1 for r in found if r["minimize_cut"]),
        "properties": sorted({r["property"] for r in found}),
        "clauses": sorted({r["clause"] for r in found}),
        "tactics": sorted({r["tactic"] for r in found}),
    }


def _plain(_inst: Any, _field: Any, value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset) else value


def valid_row(name: str, design: Design, runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sum(r["elapsed_s"] for r in runs)
    examples = sum(r["examples"] for r in runs)
    return {
        "family": name, "n": design.n, "t": design.t, "seeds": [r["seed"] for r in runs],
        "violations": sum(1 for r in runs if r["found"]),
        "examples": examples, "examples_per_run": [r["examples"] for r in runs],
        "seconds": seconds, "steps_per_s": sum(r["kernel_steps"] for r in runs) / seconds,
        "examples_per_s": examples / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=2000,
                        help="examples per search (the `search` command's default, thorough; "
                        "a search stops at its first violation)")
    parser.add_argument("--valid-budget", type=int, default=2000,
                        help="examples per search of the valid families (no false alarm)")
    parser.add_argument("--valid-seeds", type=int, default=2)
    parser.add_argument("--n7-seeds", type=int, default=5)
    parser.add_argument("--seed-base", type=int, default=None)
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--jobs", type=int, default=1, help="searches run side by side")
    parser.add_argument("--json", default="benchmarks/results/search.json")
    parser.add_argument("--shrink-runs", type=int, default=10,
                        help="bound Hypothesis's shrinking in machine runs (0: none; the "
                        f"sweep's bound is {attrs.fields(SweepSpec).shrink_runs.default}: it "
                        "reuses the shrunk choices on neighbours)")
    parser.add_argument("--minimize-runs", type=int,
                        default=inspect.signature(search).parameters["minimize_runs"].default,
                        help="kernel replays of the trace pass after Hypothesis (0: none)")
    args = parser.parse_args()
    for flag in ("jobs", "seeds", "budget", "valid_budget"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: use a whole "
                         "number >= 1")
    for flag in ("valid_seeds", "n7_seeds", "shrink_runs", "minimize_runs"):
        if getattr(args, flag) < 0:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: use a whole "
                         "number >= 0 (0: none)")
    shrink_runs = args.shrink_runs or None
    rng = random.Random(args.seed_base)
    seeds = [rng.randrange(2**32) for _ in range(args.seeds)]
    groups = [("attack", COMBINATIONS, seeds, args.budget),
              ("attack", N7, seeds[:args.n7_seeds], args.budget),
              ("valid", VALID, seeds[:args.valid_seeds], args.valid_budget),
              ("valid", N7_VALID, seeds[:1], args.budget)]
    jobs = [(kind, name, design, seed, examples)
            for kind, table, chosen, examples in groups
            for name, design in table.items() if not args.only or name in args.only
            for seed in chosen]
    started = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {}
    with cf.ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_one, (name, design, seed, examples, shrink_runs,
                                         args.minimize_runs)): name
                   for _kind, name, design, seed, examples in jobs}
        for future in cf.as_completed(futures):
            one = future.result()
            results.setdefault(one["name"], []).append(one)
            print(f"  {one['name']:28} seed {one['seed']:>10} found={one['found']} "
                  f"{one['elapsed_s']:6.1f}s", flush=True)
    wall = time.perf_counter() - started
    designs = {name: design for _k, name, design, _s, _e in jobs}
    kinds = {name: kind for kind, name, _d, _s, _e in jobs}
    rows = [attack_row(name, designs[name], results[name]) for name in designs
            if kinds[name] == "attack"]
    valid_rows = [valid_row(name, designs[name], results[name]) for name in designs
                  if kinds[name] == "valid"]
    print()
    for row in rows:
        print(_line(row))
    for v in valid_rows:
        print(f"{v['family']:28} violations {v['violations']}/{len(v['seeds'])} searches, "
              f"{v['examples']} examples, {v['steps_per_s']:7.0f} kernel steps/s "
              f"{v['examples_per_s']:6.1f} examples/s")
    trivial = examples_per_second(Trivial, 400, 30)
    ours = [v["examples_per_s"] for v in valid_rows if v["n"] == 4]
    print(f"trivial Hypothesis state machine: {trivial:.0f} examples/s of 30 steps; "
          f"ours (valid families at n=4, median): {median(ours) or 0:.1f} examples/s; ratio "
          f"{(median(ours) or 0) / trivial:.3f}")
    print(f"wall {wall:.0f} s on {args.jobs} process(es)")
    out = {
        "machine": platform.processor() or platform.machine(), "python": sys.version.split()[0],
        "budget_examples": args.budget, "valid_budget_examples": args.valid_budget,
        "steps_per_example": Budget().steps, "seeds": seeds, "shrink_runs": shrink_runs,
        "minimize_runs": args.minimize_runs,
        "jobs": args.jobs, "wall_s": wall,
        "combinations": rows, "valid": valid_rows, "trivial_examples_per_s": trivial,
        "runs": [r for name in designs for r in results[name]],
    }
    _write(args.json, out)
    return 0


def _write(path: str, data: dict) -> None:  # type: ignore[type-arg]
    """The run's figures, every search seed by seed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def _line(row: dict) -> str:  # type: ignore[type-arg]
    def f(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.2f}"

    return (f"{row['combination']:28} found {row['found']:2}/{row['seeds']:<2} first "
            f"{f(row['first_violation_s'])}s shrunk {f(row['shrunk_counterexample_s'])}s "
            f"steps {f(row['shrunk_steps'])} (hand-written {f(row['hand_written_steps'])}"
            f", same attack after the trace pass {f(row['hand_written_min_steps'])}; ratio "
            f"{f(row['ratio_to_hand_written_min'])}) {','.join(p[:2] for p in row['properties'])}"
            f" replayed {row['replayed']}/{row['found']}")


if __name__ == "__main__":
    sys.exit(main())
