"""The explorer side by side with an earlier commit, in one run: states, states/s, memory, wall.

    git worktree add /tmp/base f0d2eb4 && python3 -m venv /tmp/base/.venv && \\
        /tmp/base/.venv/bin/pip install -q -e /tmp/base
    python benchmarks/bench_explore_ab.py --base /tmp/base [--rows quick|default|all] \\
        [--json benchmarks/results/explore-ab.json]

Each row is one exploration run in a fresh process of each tree (the base's own virtual
environment, ``BASE/.venv/bin/python``, and this one's ``sys.executable``); the base's and
this tree's one-worker runs of a row go at once, one per core, so both see the same machine;
this tree's two-worker run follows alone.  Memory is the process's peak resident set less
what it held before exploring, over the states visited (for two workers, the coordinator's
own); this tree's certificate also says what its visited set keeps per state.  Prints a
table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

RUNNER = r"""
import json, resource, sys, time
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, family_j
from tssbqs_pbt.engine.explore import Scope, explore
spec = json.loads(sys.argv[1])
if spec["protocol"] == "J":
    design = family_j(4, 1)
else:
    design = Design(4, 1, spec["q"], spec["t"], FAMILY_C_OPTIONS.with_(**spec["options"]))
protocol, config = DesignProtocol(design), design.config(byzantine={4})
scope = Scope(**spec["scope"])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
kwargs = {"workers": spec["workers"]} if spec["workers"] > 1 else {}
result = explore(protocol, config, scope, **kwargs)
wall = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cert = result.certificate
print(json.dumps({"states": cert.states, "transitions": cert.transitions, "depth": cert.depth,
                  "exhausted": cert.exhausted, "cut_by": cert.cut_by, "wall_s": round(wall, 2),
                  "peak_rss_mb": round(peak / 1024, 1),
                  "rss_bytes_per_state": round((peak - before) * 1024 / max(cert.states, 1)),
                  "kept_bytes_per_state": getattr(cert, "bytes_per_state", None),
                  "violation": None if result.failure is None
                  else str(result.failure).split(chr(10))[0][:100],
                  "moves": len(result.moves)}))
"""

ROWS: dict[str, list[dict[str, Any]]] = {
    "quick": [
        {"name": "family C t=2", "protocol": "C", "q": 3, "t": 2, "options": {},
         "scope": {"clients": 1, "interventions": 2, "pauses": 0}},
        {"name": "family J", "protocol": "J", "q": 0, "t": 0, "options": {},
         "scope": {"clients": 1, "interventions": 2, "pauses": 0}},
        {"name": "C SIGN_GUARD=NONE", "protocol": "C", "q": 3, "t": 2,
         "options": {"sign_guard": "NONE"}, "scope": {"clients": 1, "interventions": 2}},
    ],
    "default": [
        {"name": "family C t=2", "protocol": "C", "q": 3, "t": 2, "options": {}, "scope": {}},
        {"name": "family J", "protocol": "J", "q": 0, "t": 0, "options": {}, "scope": {}},
    ],
}
ROWS["all"] = ROWS["quick"] + ROWS["default"]


def _run(python: str, cwd: Path, spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([python, "-c", RUNNER, json.dumps(spec)], cwd=cwd,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def _scope_text(scope: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in scope.items()) or "Scope()"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, type=Path,
                        help="a worktree of the earlier commit, with its own .venv")
    parser.add_argument("--rows", default="quick", choices=sorted(ROWS))
    parser.add_argument("--workers", type=int, default=2, help="this tree's parallel run")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    base_python = str(args.base / ".venv" / "bin" / "python")
    if not Path(base_python).exists():
        parser.error(f"--base {args.base}: no .venv/bin/python there; make one (see above)")
    commit = subprocess.run(["git", "-C", str(args.base), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    out: list[dict[str, Any]] = []
    print(f"{'row':<22} {'scope':<38} {'tree':<10} {'states':>7} {'st/s':>7} {'wall s':>7} "
          f"{'B/state':>8} {'kept B':>7}  verdict")
    for spec in ROWS[args.rows]:
        with ThreadPoolExecutor(2) as pool:
            base = pool.submit(_run, base_python, args.base, {**spec, "workers": 1})
            new = pool.submit(_run, sys.executable, ROOT, {**spec, "workers": 1})
            runs = {f"base {commit}": base.result(), "new, 1": new.result()}
        runs[f"new, {args.workers}"] = _run(sys.executable, ROOT,
                                            {**spec, "workers": args.workers})
        for tree, r in runs.items():
            out.append({"row": spec["name"], "scope": spec["scope"], "tree": tree, **r})
            if "error" in r:
                print(f"{spec['name']:<22} {tree:<10} error: {r['error']}")
                continue
            rate = r["states"] / max(r["wall_s"], 1e-9)
            verdict = r["violation"] or ("exhausted" if r["exhausted"] else f"cut: {r['cut_by']}")
            print(f"{spec['name']:<22} {_scope_text(spec['scope'])[:38]:<38} {tree:<10} "
                  f"{r['states']:>7} {rate:>7.0f} {r['wall_s']:>7.1f} "
                  f"{r['rss_bytes_per_state']:>8} {r['kept_bytes_per_state'] or '-':>7}  "
                  f"{verdict[:40]}", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps({"base": commit, "rows": out}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
