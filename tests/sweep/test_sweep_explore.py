"""The sweep's exploration stage: every survivor of the random stages is explored, its line
says what backs it, and a violation the explorer finds is a counterexample like any other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from tssbqs_pbt.engine.explore import Scope
from tssbqs_pbt.engine.search import Budget, replay_counterexample
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.sweep import space
from tssbqs_pbt.sweep.executors import make_executor
from tssbqs_pbt.sweep.exploring import certified
from tssbqs_pbt.sweep.render import Findings, write_markdown
from tssbqs_pbt.sweep.runner import run_sweep
from tssbqs_pbt.sweep.space import SweepSpec, parse_pins
from tssbqs_pbt.sweep.store import load_results, read_manifest

pytestmark = [pytest.mark.sweep]

#: family C's options: at q=3 t=2 it survives, at q=2 it is broken (two correct servers cut
#: off during a write, then the Byzantine server forgets it)
FAMILY_C = ["STORE_FORM=SIGNED", "TS_SOURCE=CLIENT_BASIS", "SIGN_GUARD=EVIDENCE",
            "ACK_MODE=EVIDENCE", "READ_GUARD=EVIDENCE", "READ_SHAPE=TWO_PHASE",
            "DELEGATES=F_PLUS_ONE"]
SMALL = Scope(operations=2, clients=1, actions=0)


def _spec(qs: tuple[int, ...], examples: int, scope: Scope | None = SMALL) -> SweepSpec:
    return SweepSpec(qs=qs, ts=(2,), pins=parse_pins(FAMILY_C), budget=Budget(examples),
                     budget_name=str(examples), seed=5, explore=scope, walks=0)


def test_every_survivor_carries_its_certificate(tmp_path: Path) -> None:
    outcome = run_sweep(_spec((3,), 30), tmp_path, executor=make_executor(workers=1))
    valid = [r for r in outcome.results if r.verdict == "valid"]
    assert outcome.complete and valid  # (family C, both REQUEST_DEDUP values)
    for result in valid:
        assert result.explored is not None
        assert result.explored["exhausted"] is True and result.explored["states"] > 0
        assert result.explored["scope"] == SMALL.describe()
        assert certified(result)
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert all("explored" in line for line in lines if line["verdict"] == "valid"
               and line["phase"] == max(x["phase"] for x in lines))
    report = write_markdown(Findings(outcome), tmp_path / "report.md").read_text()
    assert "certified within the scope" in report and "| certified:" in report


def test_the_explorer_breaks_what_random_search_missed(tmp_path: Path) -> None:
    """At q=2 two random examples miss the attack; the explorer finds it, shortest first, and
    the line is an ordinary "invalid" one: replay file, report, confirmed by replay."""
    spec = SweepSpec(qs=(2,), ts=(2,), pins=parse_pins([*FAMILY_C, "REQUEST_DEDUP=OFF"]),
                     budget=Budget(2), budget_name="2", seed=5, explore=SMALL, walks=0)
    outcome = run_sweep(spec, tmp_path, executor=make_executor(workers=1))
    (result,) = outcome.results
    assert result.verdict == "invalid" and result.source == "explore"
    assert result.property == "P1 data consistency" and result.confirmed
    assert result.explored is not None and result.explored["shortest_within"] == SMALL.describe()
    assert len(result.explored["moves"]) == 2
    assert replay_counterexample(tmp_path / result.files["replay"]).confirmed
    assert (tmp_path / result.files["steps"]).exists()
    report = write_markdown(Findings(outcome), tmp_path / "report.md").read_text()
    assert "Found by the explorer: the shortest schedule within the scope" in report
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["verdict"] == "valid"  # the random stage's line stays
    assert json.loads(lines[-1])["source"] == "explore"


def test_no_explore_leaves_valid_lines_backed_by_examples_only(tmp_path: Path) -> None:
    outcome = run_sweep(_spec((3,), 20, None), tmp_path, executor=make_executor(workers=1))
    assert outcome.complete
    assert all(r.explored is None for r in outcome.results)
    report = write_markdown(Findings(outcome), tmp_path / "report.md").read_text()
    assert "not explored" in report and "survivors not explored (--no-explore)" in report


def test_a_sweep_from_before_exploration_is_explored_on_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest without "explore" (written before the stage existed) reads as the default
    scope: resuming it explores the survivors and reruns nothing else."""
    run_sweep(_spec((3,), 20, None), tmp_path, executor=make_executor(workers=1))
    manifest = tmp_path / "sweep.json"
    data = json.loads(manifest.read_text())
    del data["spec"]["explore"]
    manifest.write_text(json.dumps(data))
    monkeypatch.setattr(space, "SWEEP_SCOPE", SMALL)
    spec = read_manifest(tmp_path)
    assert spec.explore == SMALL
    before = len((tmp_path / "results.jsonl").read_text().splitlines())
    outcome = run_sweep(spec, tmp_path, resume=True, executor=make_executor(workers=1))
    results, _ = load_results(tmp_path)
    after = (tmp_path / "results.jsonl").read_text().splitlines()
    valid = [r for r in results if r.verdict == "valid"]
    assert outcome.complete and valid and all(certified(r) for r in valid)
    assert len(after) == before + len(valid)  # only the explorations were added


def test_scope_round_trips_through_the_manifest() -> None:
    spec = _spec((3,), 20, Scope(operations=3, clients=2, max_states=500))
    again = SweepSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert again == spec and again.explore == spec.explore
    assert SweepSpec.from_json({**spec.to_json(), "explore": None}).explore is None
    with pytest.raises(TypeError, match="unknown field 'depth'"):
        SweepSpec.from_json({**spec.to_json(), "explore": {"depth": 3}})


def test_explore_flags_set_the_sweeps_scope() -> None:
    from tssbqs_pbt.cli import _build_parser
    from tssbqs_pbt.sweep.command import spec_from_args
    from tssbqs_pbt.sweep.space import SWEEP_SCOPE

    args = _build_parser().parse_args(["sweep", "--explore-interventions", "3",
                                       "--explore-clients", "2"])
    assert spec_from_args(args).explore == attrs.evolve(SWEEP_SCOPE, interventions=3, clients=2)
    assert spec_from_args(_build_parser().parse_args(["sweep"])).explore == SWEEP_SCOPE
    assert SWEEP_SCOPE.which_clients == "any"  # (so a Byzantine delegate serves some client)
    assert SWEEP_SCOPE.pauses == 3  # (so B can act in the middle of an operation)
    paused = _build_parser().parse_args(["sweep", "--explore-pauses", "0"])
    assert spec_from_args(paused).explore == attrs.evolve(SWEEP_SCOPE, pauses=0)
    first = _build_parser().parse_args(["sweep", "--explore-which-clients", "first"])
    assert spec_from_args(first).explore == attrs.evolve(SWEEP_SCOPE, which_clients="first")


@pytest.mark.parametrize(("args", "message"), [
    (["--no-explore", "--explore-clients", "1"], "--no-explore with --explore-clients"),
    (["--explore-operations", "0"], "--explore-operations 0: use a whole number >= 1"),
    (["--explore-interventions", "-1"], "--explore-interventions -1: use a whole number >= 0"),
])
def test_bad_explore_flags_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "tssbqs_pbt.cli", "sweep", "--out",
                           str(tmp_path / "x"), *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "x").exists()


def test_a_crashed_exploration_leaves_the_line_valid_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tssbqs_pbt.sweep import exploring
    from tssbqs_pbt.sweep.render import explored_text
    from tssbqs_pbt.sweep.work import CombinationResult

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("explorer crashed")

    monkeypatch.setattr(exploring, "explore", boom)
    design = _spec((3,), 1).designs()[0]
    before = CombinationResult(0, design, "valid", Budget(1), 5, examples=1)
    after = exploring.explore_combination(exploring.ExploreTask(before, SMALL, str(tmp_path)))
    assert after.verdict == "valid" and not certified(after)
    assert after.explored is not None and "explorer crashed" in after.explored["error"]
    assert explored_text(after) == "exploration failed: RuntimeError: explorer crashed"


TINY = Scope(operations=1, clients=1, actions=0)


def _cli_sweep(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tssbqs_pbt.cli", "sweep", "--workers", "1",
                           "--no-progress", "--walks", "0", *args], capture_output=True,
                          text=True, timeout=300)


def test_resuming_with_another_scope_explores_only_the_survivors_again(tmp_path: Path) -> None:
    """``--resume DIR --explore-...``: the random stages stand, the survivors are explored in
    the new scope (built on the sweep's own), and a second resume runs nothing."""
    run_sweep(_spec((3,), 20, TINY), tmp_path, executor=make_executor(workers=1))
    before = (tmp_path / "results.jsonl").read_text().splitlines()
    first, _ = load_results(tmp_path)
    assert all(r.explored["scope"] == TINY.describe() for r in first
               if r.verdict == "valid" and r.explored is not None)
    done = _cli_sweep("--resume", str(tmp_path), "--explore-operations", "2")
    assert done.returncode == 0, done.stderr
    assert read_manifest(tmp_path).explore == SMALL  # (TINY with two operations)
    results, _ = load_results(tmp_path)
    valid = [r for r in results if r.verdict == "valid"]
    assert valid and all(certified(r) and r.explored["scope"] == SMALL.describe()
                         for r in valid)
    after = (tmp_path / "results.jsonl").read_text().splitlines()
    assert after[:len(before)] == before and len(after) == len(before) + len(valid)
    again = _cli_sweep("--resume", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "results.jsonl").read_text().splitlines() == after


def test_a_violation_found_by_exploring_stands_when_resumed_in_a_smaller_scope(
        tmp_path: Path) -> None:
    spec = SweepSpec(qs=(2,), ts=(2,), pins=parse_pins([*FAMILY_C, "REQUEST_DEDUP=OFF"]),
                     budget=Budget(2), budget_name="2", seed=5, explore=SMALL, walks=0)
    run_sweep(spec, tmp_path, executor=make_executor(workers=1))
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    outcome = run_sweep(attrs.evolve(spec, explore=TINY), tmp_path, resume=True,
                        executor=make_executor(workers=1))
    (result,) = outcome.results
    assert result.verdict == "invalid" and result.source == "explore"
    assert (tmp_path / "results.jsonl").read_text().splitlines() == lines
    with pytest.raises(InvalidArgument, match="a verdict found by exploring is never dropped"):
        run_sweep(attrs.evolve(spec, explore=None), tmp_path, resume=True,
                  executor=make_executor(workers=1))
    done = _cli_sweep("--resume", str(tmp_path), "--no-explore")
    assert done.returncode == 2
    assert "--no-explore: that sweep explores its survivors" in done.stderr
    assert (tmp_path / "results.jsonl").read_text().splitlines() == lines


@pytest.mark.parametrize("field", ["operations", "clients", "which_clients", "pauses",
                                   "interventions", "max_states"])
def test_the_sweep_help_states_its_scope(field: str) -> None:
    import argparse

    from tssbqs_pbt.cli import _build_parser
    from tssbqs_pbt.sweep.space import SWEEP_SCOPE

    sub = next(a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    flag = "--explore-" + field.replace("_", "-")
    action = next(a for a in sub.choices["sweep"]._actions if flag in a.option_strings)
    assert f"(default {getattr(SWEEP_SCOPE, field)}" in (action.help or ""), action.help


def test_resuming_with_a_larger_state_bound_explores_what_the_smaller_one_cut_short(
        tmp_path: Path) -> None:
    """Regression: a line stood for any scope of the same description, and a scope's
    description leaves its state bound out, so resuming with a larger ``max_states`` kept the
    certificate cut at the smaller one."""
    cut = attrs.evolve(SMALL, max_states=40)
    first = run_sweep(_spec((3,), 10, cut), tmp_path, executor=make_executor(workers=1))
    valid = [r for r in first.results if r.verdict == "valid"]
    assert valid and all((r.explored or {}).get("cut_by") == "max_states" for r in valid)
    again = run_sweep(_spec((3,), 10, SMALL), tmp_path, resume=True,
                      executor=make_executor(workers=1))
    assert all(certified(r) for r in again.results if r.verdict == "valid")
