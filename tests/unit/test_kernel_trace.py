"""Traces are canonical JSON, replay byte-identically, and reject bad files clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from schedules import random_run
from toy_protocols import ToyRegister

from tssbqs_pbt.errors import ReplayError, TraceFormatError
from tssbqs_pbt.kernel import SystemConfig, Trace, load_trace, registry_for, replay

CONFIG = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
LIB = Path(__file__).resolve().parents[1] / "lib"


def trace_json(seed: int) -> str:
    return Trace.of(random_run(ToyRegister(), CONFIG, seed)).to_json()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_same_seed_gives_byte_identical_trace(seed: int) -> None:
    assert trace_json(seed) == trace_json(seed)


def test_trace_bytes_do_not_depend_on_hash_seed(tmp_path: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from schedules import random_run\nfrom toy_protocols import ToyRegister\n"
        "from tssbqs_pbt.kernel import SystemConfig, Trace\n"
        "w = random_run(ToyRegister(), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4}), 5)\n"
        "sys.stdout.write(Trace.of(w).to_json())\n"
    )
    outputs = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code, str(LIB)], env=env, capture_output=True, text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs == {trace_json(5)}


def test_trace_round_trips_and_replays_to_the_same_bytes(tmp_path: Path) -> None:
    text = trace_json(11)
    path = tmp_path / "run.json"
    path.write_text(text)
    loaded = load_trace(path, ToyRegister())
    assert loaded.to_json() == text
    again = replay(loaded, ToyRegister())
    assert Trace.of(again).to_json() == text


def test_replay_detects_divergence() -> None:
    trace = Trace.from_json(trace_json(3), registry_for(ToyRegister()))
    steps = list(trace.steps)
    victim = next(i for i, s in enumerate(steps) if len(s.events) > 1)
    events = steps[victim].events
    steps[victim] = type(steps[victim])(steps[victim].index, steps[victim].action, events[:-1])
    tampered = Trace(trace.header, tuple(steps))
    with pytest.raises(ReplayError, match=f"step {victim + 1} diverged"):
        replay(tampered, ToyRegister())


def test_replay_with_another_protocol_is_refused() -> None:
    class Renamed(ToyRegister):
        name = "renamed"

    trace = Trace.from_json(trace_json(3), registry_for(ToyRegister()))
    with pytest.raises(ReplayError, match="recorded with protocol 'toy-register'"):
        replay(trace, Renamed())


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda t: t[: len(t) // 2], "not valid JSON"),
        (lambda t: "[1, 2]", "not a tssbqs-pbt trace"),
        (lambda t: t.replace('"version":1', '"version":99'), "version 99, but this tssbqs-pbt "
         "reads version 1"),
        (lambda t: t.replace('"$":"Store"', '"$":"Stroe"'), "unknown type 'Stroe'"),
        (lambda t: t.replace('"msg_id":', '"msg_idx":', 1), "malformed value at"),
        (lambda t: json.dumps({"format": "tssbqs-pbt-trace", "version": 1}), "lacks its 'header'"),
    ],
)
def test_corrupt_trace_files_give_clear_errors(tmp_path: Path, mutate, fragment: str) -> None:
    path = _write(tmp_path, mutate(trace_json(2)))
    with pytest.raises(TraceFormatError, match=fragment.replace("(", r"\(")):
        load_trace(path, ToyRegister())


def test_missing_trace_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TraceFormatError, match="does not exist"):
        load_trace(tmp_path / "nope.json", ToyRegister())


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [('"$":"Store"', '"$":"Stroe"', r"unknown type 'Stroe' at \$\.steps\[\d+\]\."),
     ('"msg_id":', '"msg_idx":', r"malformed value at \$\.steps\[\d+\]\.")],
)
def test_a_corrupt_value_is_named_by_its_json_path(tmp_path: Path, old: str, new: str,
                                                  fragment: str) -> None:
    # the decoder's fast pass builds no paths; on a problem it decodes again to name the place
    path = _write(tmp_path, trace_json(2).replace(old, new, 1))
    with pytest.raises(TraceFormatError, match=fragment):
        load_trace(path, ToyRegister())


def test_node_names_parse_the_same_the_second_time_and_bad_ones_never() -> None:
    # parse_node keeps the nodes it parsed (a trace file names a few nodes thousands of times)
    from tssbqs_pbt.errors import InvalidArgument
    from tssbqs_pbt.kernel.ids import NodeId, parse_node

    assert parse_node("S3") == parse_node("S3") == NodeId("S", 3)
    assert parse_node("C12") == NodeId("C", 12)
    for bad in ("S0", "S01", "X1", "s1", 3, "S1 "):
        for _ in range(2):
            with pytest.raises(InvalidArgument, match="is not a node name"):
                parse_node(bad)  # type: ignore[arg-type]
