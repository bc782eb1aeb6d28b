"""The sweep directory: ``sweep.json`` (what is searched) and ``results.jsonl`` (what was found).

Each finished combination is appended to ``results.jsonl`` as one JSON line and flushed to
disk at once, so an interrupted sweep loses nothing it finished.  Every line names the
*phase* of the sweep that produced it (the n-th pass over the combinations), so ``--resume``
(:func:`load_log`) can run the same passes again with each recorded line standing in for its
task (a line cut short by a kill is removed by :func:`repair_log`, atomically, before the sweep
goes on: that task simply runs again), and :func:`load_results` gives each combination's latest
line.  Both files are read as untrusted input: every field is checked for type and shape, and
a problem is a :class:`~tssbqs_pbt.errors.TraceFormatError` (a skipped line, with a warning,
in ``results.jsonl``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import Budget
from tssbqs_pbt.errors import InvalidArgument, TraceFormatError, TssbqsError
from tssbqs_pbt.kernel.jsonfile import parse_json, read_json
from tssbqs_pbt.protocols.options import OPTION_TYPES, parse_design
from tssbqs_pbt.sweep.space import SweepSpec
from tssbqs_pbt.sweep.work import CombinationResult

__all__ = ["ResultsLog", "load_log", "load_results", "read_manifest", "repair_log",
           "result_from_json", "result_to_json", "write_manifest"]

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
        data = read_json(path, "the file")
        if not isinstance(data, dict):
            raise TypeError(f"the document is {type(data).__name__}, not an object")
        version = data.get("version")
        if (data.get("format") != FORMAT or isinstance(version, bool)
                or version not in (1, VERSION)):
            raise ValueError(f"format {data.get('format')!r:.40} version {version!r:.20}")
        spec = SweepSpec.from_json(data["spec"]) if version == VERSION else None
    except (ValueError, KeyError, TypeError, AttributeError, TssbqsError) as exc:
        what = f"no {exc} field" if isinstance(exc, KeyError) else str(exc).split("; ")[0]
        raise TraceFormatError(f"{str(path)!r} is not a readable sweep manifest ({what}); start "
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
        "explored": result.explored,
        "walked": result.walked,
    }


_VERDICTS = ("valid", "invalid", "error")
_TACTICS = frozenset(t.value for t in Tactic)
# field -> (allowed JSON types, may be null): what result_to_json writes
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "key": ((str,), False), "index": ((int,), False), "verdict": ((str,), False),
    "budget": ((dict,), False), "seed": ((int,), False), "searched_examples": ((int,), False),
    "kernel_steps": ((int,), False), "elapsed_s": ((int, float), False),
    "first_failure_s": ((int, float), True), "property": ((str,), True),
    "clause": ((str,), True), "steps": ((int,), True), "source": ((str,), True),
    "reused_from": ((str,), True), "tactic": ((str,), True), "choices": ((str,), True),
    "files": ((dict,), True), "confirmed": ((bool,), True), "shrink_cut": ((bool,), True),
    "error": ((str,), True), "phase": ((int,), True), "explored": ((dict,), True),
    "walked": ((dict,), True),
}
_OPTIONAL = frozenset({"first_failure_s", "property", "clause", "steps", "source", "reused_from",
                       "tactic", "choices", "files", "confirmed", "shrink_cut", "error",
                       "phase", "explored", "walked"})


def _checked(data: Any) -> dict[str, Any]:
    """``data`` if it has every field of a results line with its type; TraceFormatError
    naming the first that does not."""
    if not isinstance(data, dict):
        raise TraceFormatError(f"a results line is an object, not {type(data).__name__}")
    for name, (kinds, nullable) in _FIELDS.items():
        if name not in data:
            if name in _OPTIONAL:
                continue
            raise TraceFormatError(f"the line has no {name!r} field")
        value = data[name]
        if value is None and nullable:
            continue
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise TraceFormatError(f"{name!r} is {type(value).__name__} {value!r:.40}, not "
                                   f"{' or '.join(k.__name__ for k in kinds)}"
                                   + (" or null" if nullable else ""))
    if data["verdict"] not in _VERDICTS:
        raise TraceFormatError(f"'verdict' {data['verdict']!r:.40} is none of {_VERDICTS}")
    if data.get("tactic") is not None and data["tactic"] not in _TACTICS:
        raise TraceFormatError(f"'tactic' {data['tactic']!r:.40} names no tactic")
    files = data.get("files") or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise TraceFormatError("'files' must map names to paths (strings)")
    budget = data["budget"]
    for name in ("examples", "steps"):
        value = budget.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TraceFormatError(f"'budget.{name}' is {value!r:.40}, not a whole number >= 1")
    return data


def result_from_json(data: Any) -> CombinationResult:
    """The result a results line records; every problem is a TraceFormatError naming it."""
    data = _checked(data)
    try:
        design = parse_design(data["key"])
        choices = bytes.fromhex(data["choices"]) if data.get("choices") else None
    except (InvalidArgument, ValueError) as exc:
        raise TraceFormatError(f"'key' or 'choices' is unreadable ({exc})") from None
    budget = data["budget"]
    try:
        elapsed = float(data["elapsed_s"])
    except (OverflowError, TypeError, ValueError):
        raise TraceFormatError(f"'elapsed_s' is not a number of seconds: "
                               f"{str(data['elapsed_s'])[:40]!r}") from None
    return CombinationResult(
        index=data["index"], design=design, verdict=data["verdict"],
        budget=Budget(budget["examples"], budget["steps"]), seed=data["seed"],
        examples=data["searched_examples"], kernel_steps=data["kernel_steps"],
        elapsed_s=elapsed, first_failure_s=data.get("first_failure_s"),
        property=data.get("property"), clause=data.get("clause"), steps=data.get("steps"),
        source=data.get("source"), reused_from=data.get("reused_from"), tactic=data.get("tactic"),
        choices=choices, files=dict(data.get("files") or {}), confirmed=data.get("confirmed"),
        shrink_cut=bool(data.get("shrink_cut", False)), error=data.get("error"),
        phase=data.get("phase"), explored=data.get("explored"),
        walked=data.get("walked"),
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
            lines.append(_read_line(line, path, number))
        except TraceFormatError as exc:
            warnings.append(f"{path}:{number}: unreadable line skipped ({exc}); that "
                            "combination runs again")
    return lines, warnings


def _read_line(line: str, path: Path, number: int) -> CombinationResult:
    return result_from_json(parse_json(line, f"line {number} of {str(path)!r}"))


def repair_log(directory: Path) -> str | None:
    """Remove a last line that a kill cut short (no newline at its end, and unreadable) from
    ``results.jsonl``, atomically (the file is rewritten beside it and moved into place); a
    complete last line that only lacks its newline gets it.  A warning saying what was done,
    or None when the file ends cleanly."""
    path = directory / RESULTS
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data or data.endswith(b"\n"):
        return None
    cut = data.rfind(b"\n") + 1
    tail = data[cut:]
    try:
        _read_line(tail.decode("utf-8"), path, data.count(b"\n") + 1)
    except (TraceFormatError, UnicodeDecodeError):
        kept, said = data[:cut], (f"removed its last line, cut short by an interruption "
                                  f"({len(tail)} bytes): that combination runs again")
    else:
        kept, said = data + b"\n", "ended its complete last line with the newline it lacked"
    tmp = path.with_name(RESULTS + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(kept)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    _sync_directory(directory)
    return f"{path}: {said}"


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                yield line
