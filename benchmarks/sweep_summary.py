"""Summarise a finished (or interrupted) sweep directory: where its time went.

    python benchmarks/sweep_summary.py SWEEP_DIR [--wall SECONDS] [--json PATH]

Reads ``results.jsonl`` (the last line of each combination counts) and prints, per (q, t), how
many combinations are invalid or valid, how the invalid verdicts were reached (search, reuse of
a neighbour's schedule, alias of an equivalent design), the medians and totals of the worker
time, and whether every invalid line was confirmed by replaying its file.  ``--wall`` (the
sweep's wall time, which the results do not hold) adds combinations per minute and per core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def load(folder: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    with (folder / "results.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interrupt
            rows[row["key"]] = row
    return rows


def summarise(rows: dict[str, dict[str, Any]], wall: float | None,
              workers: int) -> dict[str, Any]:
    invalid = [r for r in rows.values() if r["verdict"] == "invalid"]
    valid = [r for r in rows.values() if r["verdict"] == "valid"]
    by_source: dict[str, list[float]] = defaultdict(list)
    for r in invalid:
        by_source[r["source"] or "?"].append(r["elapsed_s"])
    blocks: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows.values():
        blocks[f"q={r['q']} t={r['t']}"][r["verdict"]] += 1
    out: dict[str, Any] = {
        "combinations": len(rows),
        "invalid": len(invalid),
        "valid": len(valid),
        "errors": sum(1 for r in rows.values() if r["verdict"] == "error"),
        "invalid_confirmed_by_replay": sum(1 for r in invalid if r.get("confirmed")),
        "invalid_by_source": {
            s: {"count": len(t), "median_s": statistics.median(t), "total_core_s": sum(t)}
            for s, t in sorted(by_source.items())
        },
        "valid_budgets": dict(Counter(str(r["budget"]["examples"]) for r in valid)),
        "valid_total_core_s": sum(r["elapsed_s"] for r in valid),
        "properties": dict(Counter(r["property"] for r in invalid)),
        "per_q_t": {k: dict(v) for k, v in sorted(blocks.items())},
    }
    if wall:
        out["wall_s"] = wall
        out["combinations_per_minute"] = 60 * len(rows) / wall
        out["combinations_per_minute_per_core"] = out["combinations_per_minute"] / workers
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--wall", type=float, default=None, help="the sweep's wall time (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (args.directory / "results.jsonl").is_file():
        print(f"{args.directory}: no results.jsonl here; pass a sweep's --out directory",
              file=sys.stderr)
        return 2
    summary = summarise(load(args.directory), args.wall, args.workers)
    print(f"{summary['combinations']} combinations: {summary['invalid']} invalid "
          f"({summary['invalid_confirmed_by_replay']} confirmed by replay), "
          f"{summary['valid']} valid, {summary['errors']} errors")
    for source, figures in summary["invalid_by_source"].items():
        print(f"  invalid by {source:7}: {figures['count']:6}  median {figures['median_s']:6.3f} s"
              f"  total {figures['total_core_s']:8.0f} core-s")
    print(f"  valid: budgets {summary['valid_budgets']}, total "
          f"{summary['valid_total_core_s']:.0f} core-s")
    for block, counts in summary["per_q_t"].items():
        print(f"  {block}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if "wall_s" in summary:
        print(f"  wall {summary['wall_s']:.0f} s: {summary['combinations_per_minute']:.0f} "
              f"combinations/min, {summary['combinations_per_minute_per_core']:.0f} per core")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
