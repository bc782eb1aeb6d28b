"""What the deep random walks cost and find, per design and seed.

    python benchmarks/bench_walks.py [--walks 64] [--seeds 4] [--json benchmarks/results/walks.json]

For each design (the two valid families, and designs broken only by attacks outside the
sweep's explore scope: a third intervention, or an adversary action that scope does not
allow), ``deep_walks`` with the sweep's default number of walks at seeds 0, 1, ...: whether
a walk found a violation, after how many walks, how many moves the cut-down walk kept, and
the seconds it took on one core.  Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, family_j
from tssbqs_pbt.protocols.options import parse_option

from tssbqs_pbt.engine.walks import deep_walks
from tssbqs_pbt.kernel import last_servers
from tssbqs_pbt.sweep.space import SWEEP_WALKS


def _c(t: int, **options: str) -> Design:
    parsed = {k: parse_option(k.upper(), v) for k, v in options.items()}
    return Design(4, 1, 3, t, FAMILY_C_OPTIONS.with_(**parsed))


ROWS: list[tuple[str, Design]] = [
    ("family C t=2 (valid)", _c(2)),
    ("family J (valid)", family_j(4, 1)),
    ("QUORUM_MAX STORED t=2 (a third intervention)", _c(2, ts_source="QUORUM_MAX",
                                                        request_dedup="STORED")),
    ("SIGN_GUARD=LOCAL t=2 (an action)", _c(2, sign_guard="LOCAL")),
    ("ACK_MODE=PIGGYBACK t=2", _c(2, ack_mode="PIGGYBACK")),
    ("READ_GUARD=LOCAL t=2", _c(2, read_guard="LOCAL")),
]


def measure(walks: int, seeds: int) -> list[dict[str, Any]]:
    out = []
    for label, design in ROWS:
        protocol = DesignProtocol(design)
        config = design.config(byzantine=last_servers(design.n, design.f))
        for seed in range(seeds):
            started = time.perf_counter()
            result = deep_walks(protocol, config, walks=walks, seed=seed)
            out.append({"design": label, "key": design.describe(), "seed": seed,
                        "walks": walks, "taken": result.walked.walks,
                        "found": None if result.failure is None
                        else str(result.failure).split("\n", 1)[0],
                        "moves": len(result.described) if result.failure else None,
                        "seconds": round(time.perf_counter() - started, 2)})
            print(f"{label:<48} seed {seed}: "
                  + (f"found after {result.walked.walks} walks, {len(result.described)} moves"
                     if result.failure else f"nothing in {walks} walks")
                  + f"  {out[-1]['seconds']:.1f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walks", type=int, default=SWEEP_WALKS)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = measure(args.walks, args.seeds)
    print(f"\n{'design':<48} {'found':>6} {'median s':>9}")
    for label, _ in ROWS:
        mine = [r for r in rows if r["design"] == label]
        found = sum(r["found"] is not None for r in mine)
        median = statistics.median(r["seconds"] for r in mine)
        print(f"{label:<48} {found:>3}/{len(mine):<2} {median:>9.1f}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
