"""Search benchmark: time to first violation and to a shrunk counterexample per combination,
steps per second on a valid family, and the ratio to a trivial Hypothesis state machine.

    python benchmarks/bench_search.py [--seeds 20] [--budget 400] [--json PATH] [--only NAME]

Seeds are fresh (random.randrange unless --seed-base is given); no example database.  All
figures come from one run on this machine; quote medians and ratios, not single numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, family_c, family_j

from tssbqs_pbt.search import Budget, search


def c_with(t: int = 2, **changes: str) -> Design:
    return Design(4, 1, 3, t, FAMILY_C_OPTIONS.with_(**changes))


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
import attacks  # noqa: E402  (the hand-written schedules of tests/scenarios)
from scenario import Attack  # noqa: E402

# the hand-written schedule for each combination (tests/scenarios/test_attacks.py)
SCRIPTS = {
    "t=1": (attacks.forge_alone, 4),
    "t=4": (attacks.silent_byzantine, 4),
    "DELEGATES=1": (attacks.silent_byzantine, 1),
    "SIGN_GUARD=NONE": (attacks.withheld_high_datum, 4),
    "TS_SOURCE=SERVER_LOCAL t=2": (attacks.lagging_signer, 4),
    "SIGN_GUARD=LOCAL t=2": (attacks.withheld_high_datum, 4),
    "ACK_MODE=PIGGYBACK t=2": (attacks.done_after_one_store, 4),
    "READ_GUARD=LOCAL t=2": (attacks.lagging_read_signer, 4),
    "STORE_FORM=UNSIGNED": (attacks.fabricated_report, 4),
}


def hand_written_steps(name: str, design: Design) -> int:
    """Kernel steps of the hand-written schedule (it delivers one message per step, where the
    search may settle many in one step), up to the drain included."""
    script, byzantine = SCRIPTS[name]
    attack = Attack(design, byzantine=byzantine)
    script(attack)
    attack.drain()
    return len(attack.world.steps)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--seed-base", type=int, default=None)
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--json", default="benchmarks/results/search.json")
    parser.add_argument("--shrink-seconds", type=float, default=None,
                        help="bound each shrink (default: none, shrinking runs to its end)")
    args = parser.parse_args()
    rng = random.Random(args.seed_base)
    seeds = [rng.randrange(2**32) for _ in range(args.seeds)]
    budget = Budget(args.budget)
    rows = []
    for name, design in COMBINATIONS.items():
        if args.only and name not in args.only:
            continue
        protocol = DesignProtocol(design)
        runs = [search(protocol, design.config(byzantine={4}), budget=budget, seed=s,
                       shrink_seconds=args.shrink_seconds) for s in seeds]
        found = [r for r in runs if r.found]
        row = {
            "combination": name,
            "found": len(found),
            "seeds": len(runs),
            "first_violation_s": median([r.first_failure_s for r in found
                                         if r.first_failure_s is not None]),
            "shrunk_counterexample_s": median([r.elapsed_s for r in found]),
            "shrunk_steps": median([float(r.counterexample.steps) for r in found
                                    if r.counterexample]),
            "hand_written_steps": hand_written_steps(name, design),
            "shrink_cut": sum(1 for r in found if r.shrink_cut),
            "properties": sorted({r.counterexample.property for r in found
                                  if r.counterexample}),
            "tactics": sorted({r.counterexample.tactic.value for r in found
                               if r.counterexample}),
        }
        rows.append(row)
        print(_line(row), flush=True)
        _write(args.json, {"partial": True, "seeds": seeds, "combinations": rows})
    valid_rows = []
    for name, design in VALID.items():
        if args.only and name not in args.only:
            continue
        protocol = DesignProtocol(design)
        result = search(protocol, design.config(byzantine={4}), budget=budget, seed=seeds[0])
        valid_rows.append({
            "family": name, "violation": result.found, "examples": result.examples,
            "seconds": result.elapsed_s, "steps_per_s": result.kernel_steps / result.elapsed_s,
            "examples_per_s": result.examples / result.elapsed_s,
        })
        print(f"{name:28} violation={result.found} examples={result.examples} "
              f"{result.kernel_steps / result.elapsed_s:7.0f} kernel steps/s "
              f"{result.examples / result.elapsed_s:6.1f} examples/s", flush=True)
    trivial = examples_per_second(Trivial, 400, budget.steps)
    ours = [r["examples_per_s"] for r in valid_rows]
    print(f"trivial Hypothesis state machine: {trivial:.0f} examples/s of {budget.steps} steps; "
          f"ours (valid families, median): {median(ours) or 0:.1f} examples/s; ratio "
          f"{(median(ours) or 0) / trivial:.3f}")
    out = {
        "machine": platform.processor() or platform.machine(), "python": sys.version.split()[0],
        "budget_examples": budget.examples, "steps_per_example": budget.steps, "seeds": seeds,
        "shrink_seconds": args.shrink_seconds,
        "combinations": rows, "valid": valid_rows, "trivial_examples_per_s": trivial,
    }
    _write(args.json, out)
    return 0


def _write(path: str, data: dict) -> None:  # type: ignore[type-arg]
    """Written after every row, so an interrupted run keeps what it measured."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def _line(row: dict) -> str:  # type: ignore[type-arg]
    def f(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.2f}"

    return (f"{row['combination']:28} found {row['found']:2}/{row['seeds']:<2} first "
            f"{f(row['first_violation_s'])}s shrunk {f(row['shrunk_counterexample_s'])}s "
            f"steps {f(row['shrunk_steps'])} (hand-written {row['hand_written_steps']:3}) "
            f"{','.join(p[:2] for p in row['properties'])}")


if __name__ == "__main__":
    sys.exit(main())
