"""Property-based fuzzing of everything tssbqs-pbt reads back from disk.

Valid files (counterexamples, a sweep manifest, results lines, example-database entries) are
mutated — a value replaced by one of another JSON type, a key or element deleted, nesting made
very deep, numbers made huge, a key duplicated, the text cut short, the file compressed — and
reading them must either succeed or raise the project's format error
(:class:`~tssbqs_pbt.errors.TraceFormatError`), never anything else.  A replay of a mutated
counterexample may also fail to reproduce or meet an impossible action, but only ever with a
:class:`~tssbqs_pbt.errors.TssbqsError` (the CLI's exit status 1 or 2, no traceback).
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import choices_from_bytes, choices_to_bytes
from tssbqs_pbt.protocols.options import parse_design
from tssbqs_pbt.protocols.registry import protocol_named

from tssbqs_pbt.counterexample_file import read_counterexample
from tssbqs_pbt.engine.search import COUNTEREXAMPLE_FORMAT, Budget, replay_counterexample
from tssbqs_pbt.errors import InvalidArgument, TraceFormatError, TssbqsError
from tssbqs_pbt.kernel import TRACE_FORMAT, Trace, registry_for
from tssbqs_pbt.sweep.space import SweepSpec, parse_pins
from tssbqs_pbt.sweep.store import (
    load_log,
    read_manifest,
    repair_log,
    result_from_json,
    result_to_json,
    write_manifest,
)
from tssbqs_pbt.sweep.work import CombinationResult, usable_choices

FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck))

# -- mutations of a JSON document ---------------------------------------------------------------
Path_ = tuple[Any, ...]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from(["S1", "C1", "S9", "C0", "S", "OpKind.WRITE", "Phase.DRAIN", "ideal",
                     "Invoke", "StepRecord", "TraceHeader", "ab12", "zz"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["$", "$node", "$set", "$enum", "$bytes", "client", "value", "index",
                         "events", "action"]) | st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
# raw JSON text put in place of a value: deep nesting, huge or non-finite numbers
RAW = st.sampled_from([
    "[" * 99 + "]" * 99, "[" * 101 + "]" * 101, '{"a":' * 150 + "1" + "}" * 150,
    "[" * 100_000 + "]" * 100_000, "1" + "0" * 4299, "1" + "0" * 4400, "-" + "9" * 30,
    "1e999", "-1e999", "NaN", "Infinity", "1.5", "0.0", "true", '"\\ud800"',
])


def _paths(doc: Any) -> list[Path_]:
    out: list[Path_] = []
    todo: list[tuple[Path_, Any]] = [((), doc)]
    while todo:
        path, node = todo.pop()
        out.append(path)
        if isinstance(node, dict):
            todo += [((*path, k), v) for k, v in node.items()]
        elif isinstance(node, list):
            todo += [((*path, i), v) for i, v in enumerate(node)]
    return sorted(out, key=lambda p: (len(p), str(p)))


def _get(doc: Any, path: Path_) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _swap(value: Any) -> Any:
    """The same content as another JSON type."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return [value] if not value.isdigit() else int(value)
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return "null"


@st.composite
def mutated_text(draw: st.DrawFn, doc: Any, paths: list[Path_]) -> str:
    """``doc`` with one to three mutations, as JSON text."""
    doc = copy.deepcopy(doc)
    raw: dict[str, str] = {}  # placeholder -> raw text
    for _ in range(draw(st.integers(1, 3))):
        path = paths[draw(st.integers(0, len(paths) - 1))]
        kind = draw(st.sampled_from(["replace", "swap", "delete", "raw", "duplicate"]))
        try:
            node = _get(doc, path)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed it
        if kind == "duplicate" and isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            mark = f"@@dup{len(raw)}@@"
            node[mark] = draw(st.one_of(st.just(node[key]), VALUES))
            raw[json.dumps(mark)] = json.dumps(key)
            continue
        if not path:
            continue  # the root itself: only its children are changed
        parent, key = _get(doc, path[:-1]), path[-1]
        if kind == "delete":
            del parent[key]
        elif kind == "raw":
            mark = f"@@raw{len(raw)}@@"
            parent[key] = mark
            raw[json.dumps(mark)] = draw(RAW)
        elif kind == "swap":
            parent[key] = _swap(node)
        else:
            parent[key] = draw(VALUES)
    text = json.dumps(doc)
    for mark, replacement in raw.items():
        text = text.replace(mark, replacement)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]  # cut short
    return text


def _write(path: Path, text: str, compressed: bool) -> Path:
    data = text.encode("utf-8", "surrogatepass")
    path.write_bytes(gzip.compress(data) if compressed else data)
    return path


# -- counterexample files ----------------------------------------------------------------------
_CACHE: dict[Path, tuple[Any, list[Path_]]] = {}


def _document(path: Path) -> tuple[Any, list[Path_]]:
    if path not in _CACHE:
        doc = json.loads(path.read_text(encoding="utf-8"))
        _CACHE[path] = (doc, _paths(doc))
    return _CACHE[path]


def _decode(path: Path, registry: Any) -> Trace:
    """A counterexample file to its trace, as ``replay`` and ``render`` decode it."""
    raw, _expected, _name, _config = read_counterexample(path, COUNTEREXAMPLE_FORMAT)
    raw["format"] = TRACE_FORMAT
    return Trace.from_document(raw, registry, source=str(path))


@pytest.mark.parametrize("which", ["p1", "p2"])
def test_a_mutated_counterexample_decodes_or_raises_the_format_error(
        which: str, replay_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = replay_files[which]
    doc, paths = _document(source)
    header = doc["header"]
    registry = registry_for(protocol_named(header["protocol"], header["config"]["n"],
                                           header["config"]["f"]))
    folder = tmp_path_factory.mktemp("mutants")

    @FUZZ
    @given(text=mutated_text(doc, paths), compressed=st.booleans())
    def check(text: str, compressed: bool) -> None:
        path = _write(folder / "mutant.json", text, compressed)
        with contextlib.suppress(TraceFormatError):
            _decode(path, registry)

    check()


@pytest.mark.parametrize("which", ["p1", "p2"])
def test_a_mutated_counterexample_replays_or_raises_a_framework_error(
        which: str, replay_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    doc, paths = _document(replay_files[which])
    folder = tmp_path_factory.mktemp("mutants")

    @FUZZ
    @given(text=mutated_text(doc, paths))
    def check(text: str) -> None:
        path = _write(folder / "mutant.json", text, False)
        with contextlib.suppress(TssbqsError):
            replay_counterexample(path)

    check()


def test_the_fuzzed_decoder_reads_the_valid_files(replay_files: dict[str, Path]) -> None:
    """(The property is not vacuous: the unmutated files decode, plain and compressed.)"""
    for path in replay_files.values():
        doc, _ = _document(path)
        registry = registry_for(protocol_named(doc["header"]["protocol"], 4, 1))
        assert len(_decode(path, registry).steps) == len(doc["steps"])
        packed = _write(path.with_name("packed.json.gz"), path.read_text(encoding="utf-8"),
                        True)
        assert replay_counterexample(packed).confirmed


# -- sweep.json --------------------------------------------------------------------------------
def test_a_mutated_sweep_manifest_reads_or_raises_the_format_error(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("manifest")
    spec = SweepSpec(qs=(2, 3), ts=(1, 2), pins=parse_pins(["DELEGATES=ONE"]), seed=9,
                     shrink_runs=40, shrink_plateau=12, window=8, budget=Budget(250, 20),
                     budget_name="250")
    write_manifest(folder, spec)
    assert read_manifest(folder) == spec
    doc = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    paths = _paths(doc)

    @FUZZ
    @given(text=mutated_text(doc, paths))
    def check(text: str) -> None:
        _write(folder / "sweep.json", text, False)
        try:
            read_manifest(folder)
        except TraceFormatError:
            pass
        except InvalidArgument as exc:  # (a version-1 manifest: a sweep of an older release)
            assert "older tssbqs-pbt" in str(exc)

    check()


# -- results.jsonl -----------------------------------------------------------------------------
def _results() -> list[dict[str, Any]]:
    """One line of each kind: found by search (with its files), reused, valid, an error."""
    design = parse_design("n=4 f=1 q=3 t=2 SIGN_GUARD=NONE")
    base = CombinationResult(7, design, "valid", Budget(100), 123, examples=100,
                             kernel_steps=4000, elapsed_s=1.5, phase=0)
    found = CombinationResult(
        8, parse_design("n=4 f=1 q=3 t=1"), "invalid", Budget(6), 9, examples=3,
        kernel_steps=40, elapsed_s=0.2, first_failure_s=0.1,
        property="P3 confidentiality of the private key", clause="adversary holds t key shares",
        steps=0, source="search", tactic="lag", choices=choices_to_bytes((1, True, 2.5, "x")),
        files={"replay": "counterexamples/00008-ab/counterexample-p3-12.json",
               "steps": "counterexamples/00008-ab/counterexample_p3_12.steps.md"},
        confirmed=True, shrink_cut=True, phase=0)
    reused = CombinationResult(
        9, parse_design("n=4 f=1 q=3 t=1 DELEGATES=ONE"), "invalid", Budget(6), 10,
        property="P3 confidentiality of the private key", clause="adversary holds t key shares",
        steps=0, source="reuse", reused_from=found.key, tactic="lag", choices=found.choices,
        files={"replay": "counterexamples/00009-cd-p3.json.gz"}, confirmed=True, phase=1)
    error = CombinationResult(10, design, "error", Budget(6), 11, error="ValueError: x",
                              phase=2)
    return [result_to_json(r) for r in (base, found, reused, error)]


def test_a_mutated_results_line_reads_or_raises_the_format_error() -> None:
    lines = _results()
    for line in lines:
        assert result_to_json(result_from_json(line)) == line
    doc = {"lines": lines}  # (one document, so a mutation may pick any line's field)
    paths = [p for p in _paths(doc) if len(p) >= 2]

    @FUZZ
    @given(text=mutated_text(doc, paths))
    def check(text: str) -> None:
        try:
            mutant = json.loads(text)["lines"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return  # (not a document of lines: the file test below covers such text)
        for line in mutant if isinstance(mutant, list) else [mutant]:
            with contextlib.suppress(TraceFormatError):
                result_from_json(line)

    check()


def test_a_mutated_results_file_is_read_and_repaired_without_error(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("results")
    lines = _results()
    doc = {"lines": lines}
    paths = [p for p in _paths(doc) if len(p) >= 2]

    @FUZZ
    @given(text=mutated_text(doc, paths), torn=st.integers(0, 400))
    def check(text: str, torn: int) -> None:
        try:
            mutant = json.loads(text)["lines"]
            rows = [json.dumps(x) for x in mutant] if isinstance(mutant, list) else [text]
        except (ValueError, KeyError, TypeError, RecursionError):
            rows = [text]
        body = "\n".join(rows) + "\n"
        if torn:  # a kill cut the last line short
            body += json.dumps(lines[1])[:torn]
        (folder / "results.jsonl").write_text(body, encoding="utf-8", errors="surrogatepass")
        repair_log(folder)
        assert (folder / "results.jsonl").read_bytes()[-1:] in (b"", b"\n")
        read, _warnings = load_log(folder)
        assert len(read) <= len(rows) + 1

    check()


# -- example-database entries ----------------------------------------------------------------
CHOICES = st.lists(st.one_of(st.integers(-(2**70), 2**70), st.booleans(),
                             st.floats(allow_nan=False), st.text(max_size=5),
                             st.binary(max_size=5)), max_size=12)


@FUZZ
@given(choices=CHOICES, edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255),
                                                 st.sampled_from(["set", "cut", "insert"])),
                                       max_size=4))
def test_example_database_entries_are_kept_only_when_they_decode(
        choices: list[Any], edits: list[tuple[int, int, str]]) -> None:
    entry = bytearray(choices_to_bytes(tuple(choices)))
    assert usable_choices([bytes(entry)]) == [bytes(entry)]
    for position, value, kind in edits:
        at = position % (len(entry) + 1)
        if kind == "set" and at < len(entry):
            entry[at] = value
        elif kind == "cut":
            del entry[at:]
        else:
            entry.insert(at, value)
    kept = usable_choices([bytes(entry), "not bytes", None, bytes(entry)])
    assert len(kept) <= 1
    for value in kept:
        assert choices_from_bytes(value) is not None


def test_garbage_in_the_example_database_does_not_break_a_combination(tmp_path: Path) -> None:
    """A corrupt entry under a combination's key is skipped: the combination is still searched
    (before, Hypothesis skipped the whole run and the combination ended as an error)."""
    from hypothesis.database import DirectoryBasedExampleDatabase

    from tssbqs_pbt.engine.machine import Tactic
    from tssbqs_pbt.sweep.work import Task, _db_key, run_combination

    design = parse_design("n=4 f=1 q=3 t=1")
    db = DirectoryBasedExampleDatabase(str(tmp_path / "db"))
    for tactic in Tactic:
        for garbage in (b"\xff" * 40, bytes(range(256)), b"\x00\x01"):
            db.save(_db_key(tactic, design), garbage)
    result = run_combination(Task(0, design, 5, Budget(20), out_dir=str(tmp_path / "out"),
                                  example_db=str(tmp_path / "db")))
    assert result.verdict == "invalid", result.error
    assert result.property == "P3 confidentiality of the private key"




@pytest.mark.parametrize("elapsed", [10**400, "soon", None])
def test_a_results_line_with_an_unreadable_time_is_the_format_error(elapsed: object) -> None:
    # regression (found by the fuzz test above): a huge integer made float() overflow
    line = dict(_results()[0], elapsed_s=elapsed)
    with pytest.raises(TraceFormatError):
        result_from_json(line)
