"""A failing run, once seen, is the search's result whatever Hypothesis does afterwards.

Hypothesis may end its shrinking without re-raising the failure it saw (a replay that no longer
fails, a limit) or give up with an error of its own (a flaky replay); either way the search
reports the shortest failing run it saw, saved and replayable, and the sweep records the design
invalid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

import tssbqs_pbt.engine.machine_base as machine_module  # (where the properties are checked)
from tssbqs_pbt.engine.search import Budget, replay_counterexample, search
from tssbqs_pbt.properties.verdict import Status

pytestmark = pytest.mark.search


def test_a_failure_hypothesis_cannot_reproduce_is_still_the_result(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # t=1: B signs alone (P3 at once).  Only the first violated verdict is let through: every
    # later run, Hypothesis's own replays included, passes, so Hypothesis never re-raises it
    calls = {"violated": 0}

    def once(check: Any) -> Any:
        def judged(*args: Any, **kwargs: Any) -> Any:
            verdict = check(*args, **kwargs)
            if verdict.violated:
                calls["violated"] += 1
                if calls["violated"] > 1:
                    return attrs.evolve(verdict, status=Status.HOLDS, violations=())
            return verdict
        return judged

    scan = machine_module.ConfidentialityScan
    monkeypatch.setattr(scan, "verdict", once(scan.verdict))
    for name in ("check_consistency", "check_availability"):
        monkeypatch.setattr(machine_module, name, once(getattr(machine_module, name)))
    design = Design(4, 1, 3, 1, FAMILY_C_OPTIONS)
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(50),
                    seed=1, save_dir=tmp_path, minimize_runs=0)
    assert calls["violated"] >= 2, "Hypothesis ran the failing example again"
    assert result.found, "the failing run Hypothesis saw was lost"
    found = result.counterexample
    assert found is not None and found.property.startswith("P3")
    assert found.path is not None
    monkeypatch.undo()
    assert replay_counterexample(found.path).confirmed


LOST = ("n=4 f=1 q=3 t=3 STORE_FORM=SIGNED TS_SOURCE=QUORUM_MAX SIGN_GUARD=NONE "
        "ACK_MODE=EVIDENCE READ_GUARD=EVIDENCE READ_SHAPE=TWO_PHASE DELEGATES=F_PLUS_ONE "
        "REQUEST_DEDUP=STORED")


@pytest.mark.slow
def test_the_reported_lost_counterexample_is_reported(tmp_path: Path) -> None:
    # the command of the report: it saved a P1 "-first" file and then said "no violation"
    done = subprocess.run(
        [sys.executable, "-m", "tssbqs_pbt.cli", "search", "--design", LOST,
         "--seed", "52170026", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "VIOLATED: P1 data consistency" in done.stdout, done.stdout
    shrunk = [p for p in tmp_path.glob("counterexample-p1-*.json")
              if not p.name.endswith("-first.json")]
    assert len(shrunk) == 1
    assert replay_counterexample(shrunk[0]).confirmed
