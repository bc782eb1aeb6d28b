"""The sweep directory: ``sweep.json`` (what is searched) and ``results.jsonl`` (what was found).

Each finished combination is appended to ``results.jsonl`` as one JSON line and flushed to
disk at once, so an interrupted sweep loses nothing it finished.  Every line names the
*phase* of the sweep that produced it (the n-th pass over the combinations), so ``--resume``
(:func:`load_log`) can run the same passes again with each recorded line standing in for its
task (a line cut short by a kill is reported and skipped: that task simply runs again), and
:func:`load_results` gives each combination's latest line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tssbqs_pbt.errors import InvalidArgument, TraceFormatError
from tssbqs_pbt.protocols.options import OPTION_TYPES, parse_design
from tssbqs_pbt.search import Budget
from tssbqs_pbt.sweep.space import SweepSpec
from tssbqs_pbt.sweep.work import CombinationResult

__all__ = ["ResultsLog", "load_log", "load_results", "read_manifest", "result_from_json",
           "result_to_json", "write_manifest"]

MANIFEST = "sweep.json"
RESULTS = "results.jsonl"
FORMAT = "tssbqs-pbt-sweep"
VERSION = 2  # 2: lines name their phase; the spec holds shrink_runs


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
        version = data.get("version")
        if data.get("format") != FORMAT or version not in (1, VERSION):
            raise ValueError(f"format {data.get('format')!r} version {version!r}")
        spec = SweepSpec.from_json(data["spec"]) if version == VERSION else None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TraceFormatError(f"{str(path)!r} is not a readable sweep manifest ({exc}); start "
                               "a new sweep in a fresh directory") from None
    if spec is None:
        raise InvalidArgument(
            f"--resume {str(directory)!r}: that sweep was written by an older tssbqs-pbt (sweep "
            "format 1, whose results cannot be continued deterministically); start a new "
            "sweep in a fresh directory"
        )
    return spec


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
        "phase": result.phase,
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
        phase=int(data["phase"]) if data.get("phase") is not None else None,
    )


class ResultsLog:
    """Append-only ``results.jsonl``: a line per finished combination, flushed and synced."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / RESULTS
        self._file: IO[str] | None = None

    def append(self, result: CombinationResult) -> None:
        if self._file is None:
            cut = self.path.exists() and self.path.stat().st_size > 0 and not _ends_a_line(
                self.path)
            self._file = self.path.open("a", encoding="utf-8")
            if cut:  # a kill cut the last line short: end it, or the next line joins it
                self._file.write("\n")
        self._file.write(json.dumps(result_to_json(result), sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def load_log(directory: Path) -> tuple[list[CombinationResult], list[str]]:
    """Every readable line of ``results.jsonl`` in order, and warnings about the others."""
    path = directory / RESULTS
    lines: list[CombinationResult] = []
    warnings: list[str] = []
    if not path.exists():
        return lines, warnings
    for number, line in enumerate(_lines(path), start=1):
        try:
            lines.append(result_from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            warnings.append(f"{path}:{number}: unreadable line skipped ({exc}); that "
                            "combination runs again")
    return lines, warnings


def load_results(directory: Path) -> tuple[list[CombinationResult], list[str]]:
    """Each combination's latest line (a later phase supersedes) and the warnings."""
    lines, warnings = load_log(directory)
    latest = {r.key: r for r in lines}
    return list(latest.values()), warnings


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line
