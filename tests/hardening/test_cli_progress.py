"""Issue 40, the rest of "what a user meets at the command line": search and explore say what
runs first, show their progress and end on Ctrl-C or SIGTERM with what was done (item 1); a
resumed sweep's progress and ETA (item 4); regression tests that stand alone (item 9); piped
output, the sweep's counter, ``-first.json`` files, rendered names (item 12)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tssbqs_pbt.cli import main

DESIGN = "n=4 f=1 q=3 t=2"


def _here(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out.out, out.err)


# -- 1. the header first, a progress line, Ctrl-C ends with what was done --------------------
class _Stop(Exception):
    pass


def _fake_engine(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 states: list[Mapping[str, Any]], end: BaseException) -> dict[str, Any]:
    """search() and explore() replaced: each records what was printed before it ran and the
    keywords it got, tells ``progress`` each of ``states``, then raises ``end``."""
    import tssbqs_pbt.engine.explore as engine_explore
    import tssbqs_pbt.engine.search as engine_search

    seen: dict[str, Any] = {}

    def fake(protocol: object, config: object, *rest: object, **kw: Any) -> None:
        seen["printed"] = capsys.readouterr().out
        seen["kw"] = kw
        for state in states:
            kw["progress"](state)
        raise end

    monkeypatch.setattr(engine_search, "search", fake)
    monkeypatch.setattr(engine_explore, "explore", fake)
    return seen


@pytest.mark.parametrize("command", ["search", "explore"])
def test_the_header_prints_before_the_engine_runs(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seen = _fake_engine(monkeypatch, capsys, [], _Stop())
    with pytest.raises(_Stop):
        main([command, "--design", DESIGN, "--out", str(tmp_path), "--seed" if command ==
              "search" else "--max-states", "7"])
    assert seen["printed"].startswith("protocol design[n=4 f=1 q=3 t=2 ")
    if command == "search":
        assert "budget thorough = 2000 examples" in seen["printed"]
        assert "seed 7" in seen["printed"]
    else:
        assert "scope: 2 operations" in seen["printed"]
        assert f"on {os.cpu_count()} worker process" in seen["printed"]
        assert seen["kw"]["workers"] == os.cpu_count()  # default: every local core
    assert callable(seen["kw"]["progress"])


@pytest.mark.parametrize(("command", "state", "said"), [
    ("search", {"examples": 1234, "tactic": "lag", "found": False, "elapsed_s": 2.0},
     "interrupted after 1234 examples"),
    ("explore", {"level": 3, "states": 5678, "transitions": 9012, "frontier": 40,
                 "elapsed_s": 2.0}, "interrupted after 5678 states, 9012 transitions (level 3)"),
])
def test_ctrl_c_ends_with_what_was_done_not_a_traceback(
        command: str, state: Mapping[str, Any], said: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    seen = _fake_engine(monkeypatch, capsys, [state], KeyboardInterrupt())
    done = _here(capsys, command, "--design", DESIGN, "--out", str(tmp_path))
    assert done.returncode == 3, done  # as an interrupted sweep's
    assert said in done.stdout, done.stdout
    assert "no violation found so far — this is not a certificate" in done.stdout
    assert "Traceback" not in done.stderr and not done.stderr
    assert seen["printed"]


def test_off_a_terminal_a_plain_progress_line_every_30_seconds() -> None:
    from tssbqs_pbt.cli_progress import StatusLine, explore_line

    out, clock = io.StringIO(), [0.0]
    status = StatusLine(explore_line, live=False, stream=out, clock=lambda: clock[0])
    with status:
        for second in range(0, 100):
            clock[0] = float(second)
            status.update({"level": 2, "states": 10 * second, "transitions": 30 * second,
                           "frontier": 5, "elapsed_s": float(second)})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines  # at 30, 60, 90 s
    assert lines[0] == ("[30s] level 2 · 300 states · 900 transitions · frontier 5 · "
                        "10 states/s")


def test_the_search_line_says_examples_tactic_rate_and_shrinking() -> None:
    from tssbqs_pbt.cli_progress import search_line

    line = search_line({"examples": 500, "tactic": "split", "found": False, "elapsed_s": 10.0},
                       12.0, 2000)
    assert line == "[12s] 500/2000 examples · split tactic · 50/s"
    assert search_line({"examples": 5, "tactic": "lag", "found": True, "elapsed_s": 10.0},
                       12.0, 2000).endswith("0.5/s · shrinking a violation")


def test_search_tells_progress_after_each_run() -> None:
    from tssbqs_pbt.engine.search import Budget, search
    from tssbqs_pbt.preflight import as_spec, preflight

    ready = preflight(as_spec("family-c"), 4, 1)
    told: list[Mapping[str, Any]] = []
    result = search(ready.protocol, ready.config, declarations=ready.declarations,
                    budget=Budget(6), seed=3, progress=told.append)
    assert [t["examples"] for t in told] == list(range(1, result.examples + 1))
    assert {t["tactic"] for t in told} <= {t.value for t in result.tactics}


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_explore_refuses_workers_below_one(
        workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = _here(capsys, "explore", "--design", DESIGN, "--workers", workers,
                 "--out", str(tmp_path / "never"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"tssbqs-pbt: error: --workers {workers}: use a whole "
                                  "number >= 1"), done.stderr
    assert done.stderr.count("\n") == 1


def test_explore_passes_workers_and_its_help_says_the_result_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from tssbqs_pbt.cli import _build_parser

    seen = _fake_engine(monkeypatch, capsys, [], _Stop())
    with pytest.raises(_Stop):
        main(["explore", "--design", DESIGN, "--workers", "3", "--out", str(tmp_path)])
    assert seen["kw"]["workers"] == 3
    text = " ".join(_build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
                    .choices["explore"].format_help().split())
    assert "the same at any count" in text


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with open(task / "children") as handle:
            found |= {int(c) for c in handle.read().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize(("command", "flags", "how"), [
    ("explore", ["--protocol", "family-c", "--workers", "2"], "ctrl-c"),
    ("explore", ["--protocol", "family-c", "--workers", "2"], "sigterm"),
    ("search", ["--protocol", "family-c", "--seed", "5"], "sigterm"),
])
def test_a_real_run_interrupted_leaves_no_process_and_no_traceback(
        command: str, flags: list[str], how: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tssbqs_pbt.cli", command, *flags, "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    first = process.stdout.readline()  # (printed before the run starts)
    assert first.startswith("protocol "), first
    deadline = time.monotonic() + 30
    children: set[int] = set()
    while time.monotonic() < deadline and command == "explore" and len(children) < 2:
        children |= _children(process.pid)
        time.sleep(0.1)
    time.sleep(1.0)
    if how == "ctrl-c":  # (a terminal's Ctrl-C reaches the whole process group)
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, first + stdout + stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "not a certificate" in stdout
    if command == "explore":
        assert len(children) >= 2, children  # (the workers were running)
    time.sleep(0.2)
    assert not [c for c in children if _alive(c)], children


# -- 12. -first.json files -------------------------------------------------------------------
def test_the_unshrunk_first_file_goes_once_the_shrunk_one_is_saved(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    earlier = tmp_path / "counterexample-p1-000000000000-first.json"
    earlier.write_text("{}", encoding="utf-8")  # (an earlier run's: not this one's to remove)
    os.utime(earlier, (time.time() - 3600,) * 2)
    done = _here(capsys, "search", "--design", "n=4 f=1 q=3 t=4", "--seed", "1",
                 "--out", str(tmp_path))
    assert done.returncode == 1, done
    assert sorted(p.name for p in tmp_path.glob("*-first.json")) == [earlier.name]
    assert len(list(tmp_path.glob("counterexample-p2-*.json"))) == 1


# -- 12. piped lines, the sweep's counter, rendered names ------------------------------------
def test_the_sweep_counter_says_what_it_counts() -> None:
    from tssbqs_pbt.sweep.command import progress_line
    from tssbqs_pbt.sweep.runner import Progress

    p = Progress(6, 192, 2, {"valid": 2, "invalid": 6}, None, "search (25 examples)")
    line = progress_line(p, 125.0, 250.0, width=120)  # (a live line: the console's width)
    assert line == ("[2m05s] search 25 ex: 6/192 decided · 6 invalid · 2 valid so far "
                    "(provisional) · 2 running · ETA 4m10s"), line
    plain = progress_line(p, 125.0, 250.0)  # (80 columns: the short form)
    assert "6/192 decided · 6 invalid · 2 valid so far · ETA" in plain, plain
    wide = Progress(27_000, 27_648, 64, {"valid": 13_000, "invalid": 12_000, "error": 2_648},
                    None, "aliases: replaying their representative's counterexample")
    narrow = progress_line(wide, 99_999.0, 99_999.0)
    assert len(narrow) <= 80 and "13000 valid so far" in narrow, narrow


def test_piped_sweep_output_keeps_the_resume_command_on_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import tssbqs_pbt.sweep.command as command
    from tssbqs_pbt.sweep.runner import SweepOutcome

    out = tmp_path / ("a-rather-long-directory-name-for-the-sweep-" * 2) / "results"

    def interrupted(spec: Any, directory: Any, **kw: Any) -> SweepOutcome:
        Path(directory).mkdir(parents=True, exist_ok=True)
        return SweepOutcome(spec, Path(directory), (), len(spec.designs()), True, 1.0, 0,
                            "1 local worker process", 1)

    monkeypatch.setattr(command, "run_sweep", interrupted)
    done = _here(capsys, "sweep", "--q", "3", "--t", "2", "--only", "SIGN_GUARD=LOCAL",
                 "--budget", "quick", "--seed", "1", "--workers", "1", "--no-progress",
                 "--out", str(out))
    assert done.returncode == 3, done
    assert f"finish with: tssbqs-pbt sweep --resume {out}\n" in done.stdout, done.stdout
    assert f"{out}/\n" in done.stdout, done.stdout  # (the header's path whole too)


def test_render_names_a_compressed_sweep_file_without_a_stray_underscore(
        replay_files: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    from tssbqs_pbt.report import report_stem

    assert report_stem("counterexamples/00001-024df071-p3.json.gz") == "00001_024df071_p3"
    assert report_stem("counterexample-p1-ab12.json") == "counterexample_p1_ab12"
    saved = tmp_path / "00001-024df071-p1.json.gz"
    saved.write_bytes(gzip.compress(replay_files["p1"].read_bytes()))
    done = _here(capsys, "render", str(saved))
    assert done.returncode == 0, done
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["00001-024df071-p1.json.gz", "00001_024df071_p1.mmd",
                     "00001_024df071_p1.steps.md", "00001_024df071_p1.svg",
                     "regression_00001_024df071_p1.py"], names
    compile((tmp_path / "regression_00001_024df071_p1.py").read_text(), "regression", "exec")


# -- 4. a resumed sweep's progress and ETA ---------------------------------------------------
@pytest.mark.sweep
def test_a_resumed_sweep_counts_what_was_done_from_its_first_report(tmp_path: Path) -> None:
    from tssbqs_pbt.engine.explore import Scope
    from tssbqs_pbt.engine.search import Budget
    from tssbqs_pbt.sweep.executors import make_executor
    from tssbqs_pbt.sweep.runner import Progress, run_sweep
    from tssbqs_pbt.sweep.space import SweepSpec, parse_pins

    pins = ["STORE_FORM=SIGNED", "TS_SOURCE=CLIENT_BASIS", "SIGN_GUARD=EVIDENCE",
            "ACK_MODE=EVIDENCE", "READ_GUARD=EVIDENCE", "READ_SHAPE=TWO_PHASE",
            "DELEGATES=F_PLUS_ONE"]
    spec = SweepSpec(qs=(3,), ts=(2,), pins=parse_pins(pins), budget=Budget(20),
                     budget_name="20", seed=5, walks=0,
                     explore=Scope(operations=2, clients=1, actions=0))
    first = run_sweep(spec, tmp_path, executor=make_executor(workers=1))
    assert first.complete
    survivors = sum(r.explored is not None for r in first.results)
    assert survivors >= 1
    seen: list[Progress] = []
    again = run_sweep(spec, tmp_path, resume=True, executor=make_executor(workers=1),
                      on_progress=seen.append)
    assert again.complete and again.resumed == first.total
    assert seen and all(p.done == first.total for p in seen), [p.done for p in seen]
    explored = [p.explored for p in seen if p.explored is not None]
    assert explored and all(e == (survivors, survivors) for e in explored), explored


def test_the_eta_after_resume_is_from_this_runs_work_and_exploring_has_one() -> None:
    from tssbqs_pbt.sweep.command import ProgressDisplay
    from tssbqs_pbt.sweep.runner import Progress

    clock = [0.0]
    display = ProgressDisplay(live=False, stream=io.StringIO(), clock=lambda: clock[0])
    counts = {"valid": 10, "invalid": 2172}
    display.update(Progress(2182, 27648, 0, counts, None, "search (25 examples)"))
    assert "2182/27648 decided" in display.line(80)  # (not 0/27648)
    for second in range(1, 601):  # 10 combinations a second this run
        clock[0] = float(second)
        display.update(Progress(2182 + 10 * second, 27648, 2, counts, None,
                                "search (25 examples)"))
    # 19466 left at 10/s: 32m26s (the resumed 2182 are not this run's work)
    assert display.line(80).endswith("ETA 32m"), display.line(80)
    for done in range(0, 11):
        clock[0] = 600.0 + 60 * done
        display.update(Progress(27648, 27648, 1, counts, None, "explore (40 survivors)",
                                (done, 40)))
    assert "explore: 10/40 explored" in display.line(80)
    assert display.line(80).endswith("ETA 30m"), display.line(80)  # 30 left at 1/min
