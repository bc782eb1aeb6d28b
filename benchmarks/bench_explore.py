"""How far the bounded-exhaustive explorer gets, at what cost, and what its reductions save.

    python benchmarks/bench_explore.py [--json benchmarks/results/explore.json] [--quick]

For each protocol and scope: distinct states, transitions (moves run), depth reached, whether
the scope was exhausted, the violation found (the shortest in the scope) and the seconds it
took.  The rows grow one bound at a time (operations, clients, adversary actions,
interventions; one client first, then any one of them as in the sweep's scope) so a user can
choose a scope; the default scope is measured on both valid
families and on designs it breaks, and without the cuts that leave no quorum reachable
(``blocking_cuts=False``) on the families and on ACK_MODE=PIGGYBACK, whose attack needs one;
the sweep's scope and the same with a third intervention on a design only the latter breaks.
Last, each reduction with and without it where it can be switched off (client symmetry:
``Scope(symmetry=False)``).  Prints a table and writes JSON.
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

import attrs  # noqa: E402
from foreign_protocols import PairRegister  # noqa: E402
from tssbqs_pbt.protocols import (  # noqa: E402
    FAMILY_C_OPTIONS,
    Design,
    DesignProtocol,
    family_j,
)

from tssbqs_pbt.engine.explore import Scope, explore  # noqa: E402
from tssbqs_pbt.kernel import SystemConfig  # noqa: E402
from tssbqs_pbt.sweep.space import SWEEP_SCOPE  # noqa: E402


class SymmetricPairRegister(PairRegister):
    """The pair register declared client-symmetric, to measure what the reduction saves.  (It
    is not quite: ties between equal timestamps are broken by the client's index.)"""

    symmetric_clients = True


def _targets(quick: bool) -> list[tuple[str, Any, SystemConfig, Scope]]:
    def design(q: int, t: int, **options: str) -> tuple[Any, SystemConfig]:
        d = Design(4, 1, q, t, FAMILY_C_OPTIONS.with_(**options))
        return DesignProtocol(d), d.config(byzantine={4})

    j_design = family_j(4, 1)
    j, j_config = DesignProtocol(j_design), j_design.config(byzantine={4})
    scopes = [Scope(operations=1, clients=1, actions=0),
              Scope(operations=2, clients=1, actions=0),
              Scope(operations=2, clients=1, interventions=2),
              SWEEP_SCOPE,  # (the same with any one client acting)
              Scope(operations=2, clients=2, actions=0),
              Scope()]
    if not quick:
        scopes += [Scope(clients=1, interventions=3),
                   attrs.evolve(SWEEP_SCOPE, interventions=3, max_states=60_000)]
    rows: list[tuple[str, Any, SystemConfig, Scope]] = []
    for scope in scopes:
        rows.append(("family C t=2", *design(3, 2), scope))
        rows.append(("family J", j, j_config, scope))
    rows.append(("family C t=3", *design(3, 3), Scope()))
    # what cuts that leave no quorum reachable cost (C, J) and bring (PIGGYBACK's attack)
    narrow = Scope(blocking_cuts=False)
    rows.append(("family C t=2", *design(3, 2), narrow))
    rows.append(("family J", j, j_config, narrow))
    for scope in (Scope(properties=("P1",)), Scope(blocking_cuts=False, properties=("P1",))):
        rows.append(("C ACK_MODE=PIGGYBACK", *design(3, 2, ack_mode="PIGGYBACK"), scope))
    broken = [("C q=2", *design(2, 2)), ("C SIGN_GUARD=NONE", *design(3, 2, sign_guard="NONE")),
              ("C ACK_MODE=NONE", *design(3, 2, ack_mode="NONE")),
              ("C STORE_FORM=UNSIGNED", *design(3, 2, store_form="UNSIGNED"))]
    rows.extend((name, p, c, Scope()) for name, p, c in broken)
    # a design the sweep's scope certifies and a third intervention breaks (P1)
    replayed = ("C TS_SOURCE=QUORUM_MAX REQUEST_DEDUP=STORED",
                *design(3, 2, ts_source="QUORUM_MAX", request_dedup="STORED"))
    rows += [(*replayed, attrs.evolve(SWEEP_SCOPE, properties=("P1",))),
             (*replayed, attrs.evolve(SWEEP_SCOPE, interventions=3, max_states=60_000,
                                      properties=("P1",)))]
    pair = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    for symmetry in (False, True):
        rows.append((f"pair q=3 declared symmetric, symmetry {'on' if symmetry else 'off'}",
                     SymmetricPairRegister(3), pair, Scope(actions=0, symmetry=symmetry)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "explore.json"))
    parser.add_argument("--quick", action="store_true",
                        help="leave out the scope with three interventions")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'protocol':44} {'states':>7} {'moves':>7} {'depth':>5} {'exh':>4} {'s':>7}  "
          f"violation / scope")
    for name, protocol, config, scope in _targets(args.quick):
        started = time.perf_counter()
        result = explore(protocol, config, scope)
        elapsed = time.perf_counter() - started
        cert = result.certificate
        found = str(result.failure).split(" after")[0] if result.failure else ""
        print(f"{name:44} {cert.states:7} {cert.transitions:7} {cert.depth:5} "
              f"{'yes' if cert.exhausted else 'no':>4} {elapsed:7.1f}  {found or '-'} / "
              f"{scope.describe()}", flush=True)
        rows.append({"protocol": name, **cert.to_json(), "elapsed_s": round(elapsed, 2),
                     "violation": found, "moves": len(result.moves)})
    Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
