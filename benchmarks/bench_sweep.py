"""Sweep benchmark: wall time, combinations per minute and per core, scaling 1 -> N workers.

    python benchmarks/bench_sweep.py [--budget 100] [--workers 1 2] [--q 3] [--t 1,2,3,4]
                                     [--only OPTION=VALUE ...] [--json PATH]

Runs the same slice of the design space (same seed) once per worker count, each in a fresh
directory, and prints a table; the JSON (default benchmarks/results/sweep.json) keeps every
figure plus the verdict counts, so a run whose matrix differs between worker counts shows it.
One run on one machine: quote the ratios, they are what carries over.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from tssbqs_pbt.engine.search import Budget
from tssbqs_pbt.sweep.executors import make_executor
from tssbqs_pbt.sweep.runner import run_sweep
from tssbqs_pbt.sweep.space import SweepSpec, parse_pins

DEFAULT_PINS = ["STORE_FORM=SIGNED", "READ_SHAPE=TWO_PHASE", "DELEGATES=F_PLUS_ONE"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--q", default="3")
    parser.add_argument("--t", default="1,2,3,4")
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "sweep.json"))
    args = parser.parse_args()
    pins = parse_pins(args.only if args.only is not None else DEFAULT_PINS)
    spec = SweepSpec(qs=tuple(int(x) for x in args.q.split(",")),
                     ts=tuple(int(x) for x in args.t.split(",")), pins=pins,
                     budget=Budget(args.budget), budget_name=str(args.budget), seed=args.seed)
    combos = len(spec.designs())
    rows = []
    for workers in args.workers:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-sweep-{workers}-"))
        executor = make_executor(workers=workers)
        started = time.perf_counter()
        try:
            outcome = run_sweep(spec, folder, executor=executor)
        finally:
            executor.shutdown(cancel=False)
        wall = time.perf_counter() - started
        verdicts = Counter(r.verdict for r in outcome.results)
        sources = Counter(r.source for r in outcome.results if r.verdict == "invalid")
        rows.append({
            "workers": workers, "wall_s": round(wall, 2), "combinations": combos,
            "per_minute": round(combos / wall * 60, 1),
            "per_minute_per_core": round(combos / wall * 60 / workers, 1),
            "verdicts": dict(verdicts), "invalid_by": dict(sources),
            "matrix": {r.key: r.verdict for r in outcome.results},
            # what decides a verdict: the same for any worker count (the sweep is a
            # function of its seed); timings and which task reused what are not compared
            "findings": {r.key: [r.verdict, r.property, r.clause, r.steps]
                         for r in outcome.results},
        })
        shutil.rmtree(folder, ignore_errors=True)
    base = rows[0]["wall_s"]
    print(f"sweep of {combos} combinations (q={args.q} t={args.t} "
          f"{' '.join(args.only or DEFAULT_PINS)}), budget {args.budget}, seed {args.seed}")
    print(f"{'workers':>7} {'wall s':>8} {'comb/min':>9} {'/min/core':>10} {'speed-up':>9} "
          f"{'valid':>6} {'invalid':>8} {'search':>7} {'reuse':>6}")
    for row in rows:
        print(f"{row['workers']:>7} {row['wall_s']:>8.1f} {row['per_minute']:>9.1f} "
              f"{row['per_minute_per_core']:>10.1f} {base / row['wall_s']:>9.2f} "
              f"{row['verdicts'].get('valid', 0):>6} {row['verdicts'].get('invalid', 0):>8} "
              f"{row['invalid_by'].get('search', 0):>7} {row['invalid_by'].get('reuse', 0):>6}")
    same = all(r["matrix"] == rows[0]["matrix"] for r in rows)
    same_findings = all(r["findings"] == rows[0]["findings"] for r in rows)
    for row in rows[1:]:  # kept once: the others are compared above and flagged
        row["same_findings_as_first"] = row.pop("findings") == rows[0]["findings"]
        row["same_matrix_as_first"] = row.pop("matrix") == rows[0]["matrix"]
    print(f"same matrix for every worker count: {same}; same property, clause and "
          f"counterexample length for every combination: {same_findings}")
    out = {"machine": platform.platform(), "python": platform.python_version(),
           "spec": spec.to_json(), "combinations": combos, "runs": rows,
           "speedup": {str(r["workers"]): round(base / r["wall_s"], 2) for r in rows},
           "same_matrix": same, "same_findings": same_findings}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
