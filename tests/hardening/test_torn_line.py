"""A results.jsonl whose last line a crash cut short: ``--resume`` rewrites it away
(atomically), so later readers (``replay``) see a clean file and warn no more."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tssbqs_pbt.engine.search import Budget
from tssbqs_pbt.sweep.executors import make_executor
from tssbqs_pbt.sweep.runner import run_sweep
from tssbqs_pbt.sweep.space import SweepSpec, parse_pins
from tssbqs_pbt.sweep.store import load_log, repair_log

pytestmark = [pytest.mark.sweep]

PINS = ["STORE_FORM=SIGNED", "TS_SOURCE=CLIENT_BASIS", "SIGN_GUARD=EVIDENCE", "ACK_MODE=EVIDENCE",
        "READ_GUARD=EVIDENCE", "READ_SHAPE=TWO_PHASE", "REQUEST_DEDUP=OFF"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tssbqs_pbt.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_resume_rewrites_a_torn_last_line_away(tmp_path: Path) -> None:
    spec = SweepSpec(qs=(3,), ts=(1,), pins=parse_pins(PINS), budget=Budget(20),
                     budget_name="20", seed=4)
    outcome = run_sweep(spec, tmp_path, executor=make_executor(workers=1))
    assert outcome.complete
    results = tmp_path / "results.jsonl"
    clean = results.read_bytes()
    first = json.loads(clean.splitlines()[0])
    results.write_bytes(clean + json.dumps(first).encode()[:57])  # a kill cut this one short
    inode = results.stat().st_ino
    assert "unreadable line skipped" in _cli("replay", str(tmp_path)).stderr

    done = _cli("sweep", "--resume", str(tmp_path), "--no-progress", "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "removed its last line, cut short by an interruption" in " ".join(done.stdout.split())
    assert results.read_bytes() == clean  # the torn line is gone, nothing else changed
    assert results.stat().st_ino != inode  # (rewritten beside it and moved into place)
    assert not list(tmp_path.glob("*.tmp"))
    replayed = _cli("replay", str(tmp_path))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "warning" not in replayed.stderr and "Traceback" not in replayed.stderr


def test_repair_keeps_a_complete_last_line_that_lacks_its_newline(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    assert repair_log(tmp_path) is None  # no file: nothing to do
    spec = SweepSpec(qs=(3,), ts=(1,), pins=parse_pins([*PINS, "DELEGATES=ONE"]),
                     budget=Budget(20), budget_name="20", seed=4)
    run_sweep(spec, tmp_path, executor=make_executor(workers=1))
    clean = results.read_bytes()
    assert repair_log(tmp_path) is None  # a clean file is left alone
    results.write_bytes(clean[:-1])
    said = repair_log(tmp_path)
    assert said is not None and "newline it lacked" in said
    assert results.read_bytes() == clean
    lines, warnings = load_log(tmp_path)
    assert len(lines) == clean.count(b"\n") and not warnings
