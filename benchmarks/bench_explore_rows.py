"""The explorer against the random search on the nine benchmark rows: time to the shortest
counterexample within a scope, next to the search's median time to its shrunk one.

    python benchmarks/bench_explore_rows.py [--search-json results/search-budget2000-session20.json]
        [--json results/explore-rows.json] [--scope sweep|default] [--only NAME]

The explorer is deterministic: one run per row and scope (no seeds).  ``--search-json`` is a
``bench_search.py`` result of the same code, whose medians fill the search columns.  All figures
come from one run on this machine; quote ratios, not single numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from tssbqs_pbt.protocols import DesignProtocol

from tssbqs_pbt.engine.explore import Scope, explore
from tssbqs_pbt.sweep.space import SWEEP_SCOPE

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import COMBINATIONS

SCOPES = {"sweep": SWEEP_SCOPE, "default": Scope()}


def _row(name: str, scope: Scope) -> dict[str, Any]:
    design = COMBINATIONS[name]
    protocol = DesignProtocol(design)
    config = design.config(byzantine=frozenset(range(design.n - design.f + 1, design.n + 1)))
    started = time.perf_counter()
    result = explore(protocol, config, scope)
    elapsed = time.perf_counter() - started
    failure = result.failure
    verdict = getattr(failure, "verdict", None)
    trace = getattr(failure, "trace", None)
    cert = result.certificate
    return {"combination": name, "found": failure is not None,
            "property": verdict.property.value if verdict is not None else None,
            "moves": len(result.moves), "steps": len(trace.steps) if trace is not None else None,
            "states": cert.states, "transitions": cert.transitions, "elapsed_s": elapsed,
            "exhausted": cert.exhausted, "cut_by": cert.cut_by}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search-json", default=None)
    parser.add_argument("--json", default="benchmarks/results/explore-rows.json")
    parser.add_argument("--scope", choices=sorted(SCOPES), action="append", default=None)
    parser.add_argument("--only", default=None)
    args = parser.parse_args(argv)
    searched: dict[str, dict[str, Any]] = {}
    if args.search_json:
        data = json.loads(Path(args.search_json).read_text())
        searched = {row["combination"]: row for row in data["combinations"]}
    names = [n for n in COMBINATIONS if args.only is None or args.only == n]
    rows = []
    for scope_name in args.scope or ["sweep"]:
        scope = SCOPES[scope_name]
        print(f"scope {scope_name}: {scope.describe()}")
        print(f"{'row':28} {'explorer':>9} {'states':>7} {'moves':>5} {'steps':>5}  "
              f"{'search (median shrunk)':>22} {'steps':>5}  property")
        for name in names:
            row = {"scope": scope_name, **_row(name, scope)}
            rows.append(row)
            other = searched.get(name, {})
            found = f"{row['elapsed_s']:8.1f}s" if row["found"] else "  missed"
            shrunk = other.get("shrunk_counterexample_s")
            print(f"{name:28} {found:>9} {row['states']:7d} {row['moves']:5d} "
                  f"{row['steps'] if row['steps'] is not None else '-':>5}  "
                  f"{f'{shrunk:.2f}s' if shrunk is not None else '-':>22} "
                  f"{other.get('shrunk_steps', '-'):>5}  {row['property'] or '-'}", flush=True)
    out = {"machine": platform.machine(), "python": platform.python_version(),
           "scopes": {k: SCOPES[k].describe() for k in args.scope or ["sweep"]},
           "search_json": args.search_json, "rows": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
