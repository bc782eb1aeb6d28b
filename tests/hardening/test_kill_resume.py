"""A sweep killed with SIGKILL at any point and resumed ends with exactly the results of a sweep
never interrupted, line for line (timings aside); and its workers never outlive it.

The slice: 27 combinations around family C (q=3; t in {1, 2, 4}; SIGN_GUARD x READ_GUARD
free), budget 100 in three stages, window 4 (so tasks of the first pass reuse each other's
schedules, as a full sweep's do), two workers.  It has every kind of line: found by search and
by reuse, in the first pass and in later ones, and valid at every stage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.sweep]

FLAGS = ["--q", "3", "--t", "1,2,4", "--only", "STORE_FORM=SIGNED", "--only",
         "READ_SHAPE=TWO_PHASE", "--only", "REQUEST_DEDUP=OFF", "--only", "DELEGATES=F_PLUS_ONE",
         "--only", "TS_SOURCE=CLIENT_BASIS", "--only", "ACK_MODE=EVIDENCE", "--budget", "100",
         "--seed", "5", "--window", "4", "--explore-operations", "1", "--explore-clients", "1",
         "--walks", "8"]
TIMING = ("elapsed_s", "first_failure_s")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tssbqs_pbt.cli", "sweep", *args]


def _lines(directory: Path) -> Counter[str]:
    """Every line of results.jsonl without its timings, as canonical JSON (a multiset: a
    combination decided twice, or a lost line, shows)."""
    out: Counter[str] = Counter()
    for text in (directory / "results.jsonl").read_text(encoding="utf-8").splitlines():
        line: dict[str, Any] = json.loads(text)
        for key in TIMING:
            line.pop(key)
        if line.get("explored"):
            line["explored"].pop("elapsed_s")  # (the explorer's own timing)
        if line.get("walked"):
            line["walked"].pop("elapsed_s")  # (and the walks')
        out[json.dumps(line, sort_keys=True)] += 1
    return out


def _matrix(directory: Path) -> str:
    report = (directory / "report.md").read_text(encoding="utf-8")
    start = report.index("## Matrix")
    return report[start:report.index("## ", start + 3)]


def _count(results: Path) -> int:
    try:
        return results.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_when(command: list[str], results: Path, lines: int, *, timeout: float = 240,
               ) -> set[int]:
    """Start ``command``, SIGKILL it once ``results`` has ``lines`` lines (its manifest is
    written and its workers run); the worker processes it left behind."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    workers: set[int] = set()
    while time.monotonic() < deadline and process.poll() is None:
        workers |= _descendants(process.pid)
        if (_count(results) >= lines and workers
                and (results.parent / "sweep.json").exists()):
            break
        time.sleep(0.05)
    assert process.poll() is None, "the sweep ended before it could be killed: " + (
        process.stderr.read().decode() if process.stderr else "")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    if process.stderr is not None:
        process.stderr.close()
    return workers


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_and_resumed_sweep_gives_the_uninterrupted_results(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    done = subprocess.run(_cli("--out", str(whole), "--workers", "2", "--no-progress", *FLAGS),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = _lines(whole)
    total = sum(expected.values())
    assert total >= 27

    killed = tmp_path / "killed"
    results = killed / "results.jsonl"
    first = _cli("--out", str(killed), "--workers", "2", "--no-progress", *FLAGS)
    resume = _cli("--resume", str(killed), "--workers", "2", "--no-progress")
    # killed before any result, then early, midway and late (mid-task each time: two tasks
    # run when the line count is reached), resumed after each kill
    for number, lines in enumerate((0, total // 4, total // 2, 3 * total // 4)):
        orphans = _kill_when(first if number == 0 else resume, results, lines)
        # a worker ends within a second of its parent's death (it checks every 0.5 s)
        assert _wait_gone(orphans, 10) == set(), "worker processes outlived the killed sweep"
    done = subprocess.run(resume, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    got = _lines(killed)
    assert got == expected, (
        f"only after the kills: {sorted((got - expected).elements())}\n"
        f"only uninterrupted: {sorted((expected - got).elements())}")
    assert _matrix(killed) == _matrix(whole)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.skipif(os.environ.get("TSSBQS_PBT_SKIP_DASK") == "1", reason="asked to skip Dask")
def test_dask_local_workers_end_with_a_killed_sweep(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    orphans = _kill_when(_cli("--out", str(out), "--dask-local", "2", "--no-progress", *FLAGS),
                         out / "results.jsonl", 2)
    assert orphans, "no worker process was seen"
    assert _wait_gone(orphans, 15) == set(), "Dask worker processes outlived the killed sweep"
