"""How far the bounded-exhaustive explorer gets, and at what cost.

    python benchmarks/bench_explore.py [--json benchmarks/results/explore.json] [--quick]

For each protocol and scope: distinct states, transitions (moves run), depth reached, whether
the scope was exhausted, the violation found (the shortest in the scope) and the seconds it
took, with states per second.  The rows grow one bound at a time (operations, clients, Byzantine
modes) so a user can choose a scope.  Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lib"))

from foreign_protocols import PairRegister  # noqa: E402
from tssbqs_pbt.protocols import (  # noqa: E402
    FAMILY_C_OPTIONS,
    Design,
    DesignProtocol,
    family_j,
)

from tssbqs_pbt.explore import Scope, explore  # noqa: E402
from tssbqs_pbt.kernel import SystemConfig  # noqa: E402


def _targets(quick: bool) -> list[tuple[str, Any, SystemConfig, Scope]]:
    def design(q: int, t: int, **options: str) -> tuple[Any, SystemConfig]:
        d = Design(4, 1, q, t, FAMILY_C_OPTIONS.with_(**options))
        return DesignProtocol(d), d.config(byzantine={4})

    j_design = family_j(4, 1)
    j, j_config = DesignProtocol(j_design), j_design.config(byzantine={4})
    scopes = [Scope(operations=1, clients=1), Scope(operations=2, clients=1),
              Scope(operations=2, clients=1, modes=("honest", "silent")),
              Scope(operations=2, clients=2)]
    if not quick:
        scopes.append(Scope(operations=3, clients=1, seconds=600))
    rows: list[tuple[str, Any, SystemConfig, Scope]] = []
    for scope in scopes:
        rows.append(("family C t=2", *design(3, 2), scope))
        rows.append(("family J", j, j_config, scope))
    pair = PairRegister(3), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    rows.append(("pair register q=3", *pair, Scope(operations=2, clients=2)))
    broken = [("family C q=2", *design(2, 2)), ("pair register q=2", PairRegister(2),
              SystemConfig(n=4, f=1, q=2, t=2, byzantine={4}))]
    rows.extend((name, p, c, Scope(operations=2, clients=1)) for name, p, c in broken)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "explore.json"))
    parser.add_argument("--quick", action="store_true", help="leave out the 3-operation scopes")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'protocol':22} {'scope':70} {'states':>7} {'moves':>7} {'depth':>5} "
          f"{'exh':>4} {'s':>7} {'st/s':>6}  violation")
    for name, protocol, config, scope in _targets(args.quick):
        started = time.perf_counter()
        result = explore(protocol, config, scope)
        elapsed = time.perf_counter() - started
        cert = result.certificate
        found = str(result.failure).split(" after")[0] if result.failure else ""
        rate = cert.states / elapsed if elapsed else 0.0
        print(f"{name:22} {scope.describe():70} {cert.states:7} {cert.transitions:7} "
              f"{cert.depth:5} {'yes' if cert.exhausted else 'no':>4} {elapsed:7.1f} "
              f"{rate:6.0f}  {found}", flush=True)
        rows.append({"protocol": name, **cert.to_json(), "elapsed_s": round(elapsed, 2),
                     "violation": found, "moves": len(result.moves)})
    Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
