"""Explore a finished sweep's valid designs again, in a scope of your choice (larger than the
sweep's), and print what each gives: broken (with the property), certified, or cut by the state
bound.  Writes the rows as JSON.

    python benchmarks/explore_survivors.py tssbqs-sweep --jobs 2 \
        --json benchmarks/results/survivors-default-scope.json      # the explorer's default scope
    python benchmarks/explore_survivors.py tssbqs-sweep --clients 1 --interventions 3 --limit 5
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs
from tssbqs_pbt.protocols import DesignProtocol, parse_design

from tssbqs_pbt.engine.explore import Scope, explore
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.sweep.store import load_results


def explore_one(job: tuple[str, Scope]) -> dict[str, Any]:
    key, scope = job
    design = parse_design(key)
    started = time.perf_counter()
    result = explore(DesignProtocol(design), design.config(
        byzantine=frozenset(range(design.n - design.f + 1, design.n + 1))), scope)
    cert = result.certificate
    return {"design": key, "broken": str(result.failure) if result.failure else None,
            "moves": list(result.described) if result.failure else None,
            "states": cert.states, "exhausted": cert.exhausted, "cut_by": cert.cut_by,
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="a sweep's output directory")
    for name in ("operations", "clients", "interventions", "actions", "max_states"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None,
                            help=f"Scope's {name} (default: the explorer's default)")
    parser.add_argument("--which-clients", choices=("first", "any"), default=None)
    parser.add_argument("--blocking-cuts", action="store_true", default=None,
                        help="also cuts that leave fewer than q servers reachable")
    parser.add_argument("--jobs", type=int, default=1, help="explorations side by side")
    parser.add_argument("--limit", type=int, default=None, help="only the first N designs")
    parser.add_argument("--designs", type=Path, default=None,
                        help="a file of design keys, one per line: explore those of the "
                        "sweep's valid designs, in that order")
    parser.add_argument("--json", default=None, help="where to write the rows")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: use a whole number >= 1")
    if not (args.sweep / "results.jsonl").is_file():
        parser.error(f"{args.sweep}: no results.jsonl there; give a sweep's output directory "
                     "(tssbqs-pbt sweep --out DIR)")
    given = {k: getattr(args, k) for k in ("operations", "clients", "interventions", "actions",
                                           "max_states", "which_clients", "blocking_cuts")
             if getattr(args, k) is not None}
    try:
        scope = attrs.evolve(Scope(), **given)
    except InvalidArgument as exc:
        parser.error(str(exc))
    results, _ = load_results(args.sweep)
    keys = sorted(r.key for r in results if r.verdict == "valid")
    if args.designs is not None:
        try:
            wanted = [w.strip() for w in args.designs.read_text().splitlines() if w.strip()]
        except OSError as exc:
            parser.error(f"--designs {args.designs}: {exc.strerror}")
        unknown = [k for k in wanted if k not in set(keys)]
        if unknown:
            parser.error(f"--designs {args.designs}: {unknown[0]!r:.200} is not a valid design "
                         f"of {args.sweep} ({len(unknown)} such lines); give keys as "
                         "results.jsonl writes them")
        keys = wanted
    keys = keys[:args.limit]
    print(f"{len(keys)} valid designs in {args.sweep}; scope: {scope.describe()}")
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for row in pool.map(explore_one, [(k, scope) for k in keys]):
            rows.append(row)
            verdict = (f"BROKEN {row['broken'][:40]}" if row["broken"] else
                       "certified" if row["exhausted"] else f"cut by {row['cut_by']}")
            print(f"{verdict:<50} {row['states']:>7} states {row['seconds']:>7.1f} s  "
                  f"{row['design']}", flush=True)
    broken = sum(1 for r in rows if r["broken"])
    certified = sum(1 for r in rows if not r["broken"] and r["exhausted"])
    print(f"broken {broken}, certified {certified}, cut {len(rows) - broken - certified} "
          f"of {len(rows)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"sweep": str(args.sweep),
                                               "scope": attrs.asdict(scope), "rows": rows},
                                              indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
