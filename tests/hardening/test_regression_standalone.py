"""Issue 40, item 9: a generated regression test stands alone and says where it came from.

Copied by itself into an empty directory (as the docs suggest: "copy it next to your tests"),
the test runs and fails while the protocol is still broken (it embeds the replay file's JSON;
it used to read the file beside it and fail with TraceFormatError).  A counterexample the
explorer found says "explorer" and its scope, not "found by the split tactic" (the explorer
runs the split tactic's rule machine); one the random search found names its tactic and seed.
The explorer's "S4 restarted" move shows in the numbered steps and in the Mermaid chart.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt import CheckFailed, check
from tssbqs_pbt.cli import main
from tssbqs_pbt.engine.explore import Scope
from tssbqs_pbt.engine.search import Budget, search

#: family C's options at q=2: two correct servers cut off during a write, then the Byzantine
#: server restarts (forgets the write), and the next write reuses its timestamp
BROKEN = "n=4 f=1 q=2 t=2"
SMALL = Scope(operations=2, clients=1, actions=0)


def _run_alone(test: Path, fresh: Path) -> subprocess.CompletedProcess[str]:
    """Copy ``test`` alone into the empty ``fresh`` directory as ``test_copied.py`` and run
    pytest there (a subprocess, its working directory ``fresh``)."""
    fresh.mkdir()
    shutil.copy(test, fresh / "test_copied.py")
    assert sorted(p.name for p in fresh.iterdir()) == ["test_copied.py"]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_copied.py"], cwd=fresh, capture_output=True, text=True,
                          timeout=300)


def _fails_as_a_regression(done: subprocess.CompletedProcess[str], violated: str) -> None:
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # 1: a test failed (not an error, not a collection problem)
    assert "1 failed" in done.stdout, out
    assert f"after the drain, {violated} VIOLATED" in done.stdout, out
    assert "TraceFormatError" not in out and "does not exist" not in out, out


def test_a_regression_test_from_the_random_search_runs_copied_alone(tmp_path: Path) -> None:
    design = Design(4, 1, 3, 4, FAMILY_C_OPTIONS)  # t=4: a read never completes (P2)
    found = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(100),
                   seed=1, save_dir=tmp_path / "found").counterexample
    assert found is not None and found.report is not None
    _fails_as_a_regression(_run_alone(found.report.test, tmp_path / "fresh"), found.property)
    text = found.report.test.read_text(encoding="utf-8")
    assert f"Found by the random search (the {found.tactic.value} tactic, seed 1)." in text
    assert "explorer" not in text


def test_a_regression_test_from_the_explorer_runs_alone_and_says_explorer(
        tmp_path: Path) -> None:
    with pytest.raises(CheckFailed) as failed:
        check(f"design[{BROKEN}]", budget=2, seed=0, report_dir=tmp_path / "found",
              database=None, explore=SMALL)
    found = failed.value.result.counterexample
    assert found is not None and found.report is not None
    _fails_as_a_regression(_run_alone(found.report.test, tmp_path / "fresh"), found.property)
    text = found.report.test.read_text(encoding="utf-8")
    assert ("Found by the bounded-exhaustive explorer, the shortest schedule within its scope: "
            f"{SMALL.describe()}.") in text
    assert "tactic" not in text.split('"""')[1]  # (the explorer runs split's machine: no matter)


def test_the_explore_command_shows_the_restart_in_the_steps_and_the_chart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    code = main(["explore", "--design", BROKEN, "--clients", "1", "--interventions", "2",
                 "--pauses", "0", "--workers", "1", "--no-progress", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1, printed
    assert "move 2: C1 write(v2); cut off: nobody; S4 restarted" in printed
    (steps,) = out.glob("*.steps.md")
    (chart,) = out.glob("*.mmd")
    (test,) = out.glob("regression_*.py")
    said = "restarted (lost its state: it follows the protocol again from its initial state)"
    listed = steps.read_text(encoding="utf-8").split("### Steps", 1)[1]
    numbered = [line for line in listed.splitlines() if f"B=S4 (Byzantine) {said}" in line]
    assert len(numbered) == 1 and numbered[0].split(".")[0].isdigit(), listed
    drawn = chart.read_text(encoding="utf-8")
    assert f"Note over S4: {numbered[0].split('.')[0]}. S4 restarted (lost its state" in drawn
    # the restart comes after the first write completed and before the second write's sends
    number = int(numbered[0].split(".")[0])
    assert f"\n{number - 1}. C1 invokes write(v2)" in listed, listed
    text = test.read_text(encoding="utf-8")
    assert "explorer" in text and "split tactic" not in text
    _fails_as_a_regression(_run_alone(test, tmp_path / "fresh"), "P1 data consistency")
    assert f"regression test: {test}" in printed
