"""The sweep directory: ``sweep.json`` (what is searched) and ``results.jsonl`` (what was found).

Each finished combination is appended to ``results.jsonl`` as one JSON line and flushed to
disk at once, so an interrupted sweep loses nothing it finished; :func:`load_results` reads
them back for ``--resume`` (a line cut short by a kill is reported and skipped: that
combination simply runs again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tssbqs_pbt.errors import InvalidArgument, TraceFormatError
from tssbqs_pbt.machine import Tactic
from tssbqs_pbt.protocols.options import OPTION_TYPES, parse_design
from tssbqs_pbt.search import Budget
from tssbqs_pbt.sweep.library import LibraryEntry
from tssbqs_pbt.sweep.space import SweepSpec
from tssbqs_pbt.sweep.work import CombinationResult

__all__ = ["ResultsLog", "library_entries", "load_results", "read_manifest", "result_from_json",
           "result_to_json", "write_manifest"]

MANIFEST = "sweep.json"
RESULTS = "results.jsonl"
FORMAT = "tssbqs-pbt-sweep"
VERSION = 1


def write_manifest(directory: Path, spec: SweepSpec) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "version": VERSION, "spec": spec.to_json()}
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(directory / MANIFEST)


def read_manifest(directory: Path) -> SweepSpec:
    path = directory / MANIFEST
    if not path.exists():
        raise InvalidArgument(
            f"--resume {str(directory)!r}: no {MANIFEST} there; pass the directory a sweep wrote "
            "(its --out), or start a new sweep without --resume"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"format {data.get('format')!r} version {data.get('version')!r}")
        return SweepSpec.from_json(data["spec"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TraceFormatError(f"{str(path)!r} is not a readable sweep manifest ({exc}); start "
                               "a new sweep in a fresh directory") from None


def result_to_json(result: CombinationResult) -> dict[str, Any]:
    return {
        "key": result.key,
        "index": result.index,
        "n": result.design.n, "f": result.design.f, "q": result.design.q, "t": result.design.t,
        "options": {name.upper(): getattr(result.design.options, name).name
                    for name in sorted(OPTION_TYPES)},
        "verdict": result.verdict,
        "property": result.property,
        "clause": result.clause,
        "steps": result.steps,
        "source": result.source,
        "reused_from": result.reused_from,
        "tactic": result.tactic,
        "choices": result.choices.hex() if result.choices is not None else None,
        "files": dict(sorted(result.files.items())),
        "confirmed": result.confirmed,
        "shrink_cut": result.shrink_cut,
        "budget": {"examples": result.budget.examples, "steps": result.budget.steps},
        "searched_examples": result.examples,
        "kernel_steps": result.kernel_steps,
        "seed": result.seed,
        "elapsed_s": round(result.elapsed_s, 4),
        "first_failure_s": (round(result.first_failure_s, 4)
                            if result.first_failure_s is not None else None),
        "error": result.error,
    }


def result_from_json(data: dict[str, Any]) -> CombinationResult:
    design = parse_design(data["key"])
    budget = data["budget"]
    return CombinationResult(
        index=int(data["index"]), design=design, verdict=str(data["verdict"]),
        budget=Budget(int(budget["examples"]), int(budget["steps"])), seed=int(data["seed"]),
        examples=int(data["searched_examples"]), kernel_steps=int(data["kernel_steps"]),
        elapsed_s=float(data["elapsed_s"]), first_failure_s=data.get("first_failure_s"),
        property=data.get("property"), clause=data.get("clause"), steps=data.get("steps"),
        source=data.get("source"), reused_from=data.get("reused_from"), tactic=data.get("tactic"),
        choices=bytes.fromhex(data["choices"]) if data.get("choices") else None,
        files=dict(data.get("files") or {}), confirmed=data.get("confirmed"),
        shrink_cut=bool(data.get("shrink_cut", False)),
        error=data.get("error"),
    )


class ResultsLog:
    """Append-only ``results.jsonl``: a line per finished combination, flushed and synced."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / RESULTS
        self._file: IO[str] | None = None

    def append(self, result: CombinationResult) -> None:
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(result_to_json(result), sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def load_results(directory: Path) -> tuple[list[CombinationResult], list[str]]:
    """The finished combinations in ``directory`` and warnings about unreadable lines."""
    path = directory / RESULTS
    results: list[CombinationResult] = []
    warnings: list[str] = []
    if not path.exists():
        return results, warnings
    latest: dict[str, CombinationResult] = {}
    for number, line in enumerate(_lines(path), start=1):
        try:
            result = result_from_json(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            warnings.append(f"{path}:{number}: unreadable line skipped ({exc}); that "
                            "combination runs again")
            continue
        latest[result.key] = result  # a later line (the closing reuse pass) supersedes
    results.extend(latest.values())
    return results, warnings


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def library_entries(results: list[CombinationResult]) -> list[LibraryEntry]:
    """Schedules found by search in earlier results (for a resumed sweep's reuse): the library
    an uninterrupted sweep would hold at that point (reused verdicts count as hits of these)."""
    out = []
    for r in results:
        if (r.verdict == "invalid" and r.source == "search" and r.choices is not None
                and r.tactic is not None):
            out.append(LibraryEntry(Tactic(r.tactic), r.choices, r.design, r.property or ""))
    return out


