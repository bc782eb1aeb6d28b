"""The sweep's deep walks: after its exploration every survivor is walked (many operations,
chained adversary actions, no bound on interventions), its line says what the walks covered,
and a violation a walk finds is a counterexample like any other, never a "valid"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli import here, refused

from tssbqs_pbt.engine.explore import Scope
from tssbqs_pbt.engine.search import Budget, replay_counterexample
from tssbqs_pbt.sweep.executors import make_executor
from tssbqs_pbt.sweep.exploring import certified
from tssbqs_pbt.sweep.render import Findings, explored_text, matrix_rows, write_markdown
from tssbqs_pbt.sweep.runner import run_sweep
from tssbqs_pbt.sweep.space import SWEEP_WALKS, SweepSpec, parse_pins
from tssbqs_pbt.sweep.store import read_manifest

pytestmark = [pytest.mark.sweep]

#: family C's options with a signing guard that checks only the signer's own state: an attack
#: needs the adversary to get a request signed and use it (an action), which a scope with no
#: actions cannot hold
LOCAL_GUARD = ["STORE_FORM=SIGNED", "TS_SOURCE=CLIENT_BASIS", "SIGN_GUARD=LOCAL",
               "ACK_MODE=EVIDENCE", "READ_GUARD=EVIDENCE", "READ_SHAPE=TWO_PHASE",
               "DELEGATES=F_PLUS_ONE", "REQUEST_DEDUP=OFF"]
FAMILY_C = [*LOCAL_GUARD[:2], "SIGN_GUARD=EVIDENCE", *LOCAL_GUARD[3:]]
NO_ACTIONS = Scope(operations=2, clients=1, actions=0)


def _spec(pins: list[str], walks: int, examples: int = 1) -> SweepSpec:
    return SweepSpec(qs=(3,), ts=(2,), pins=parse_pins(pins), budget=Budget(examples),
                     budget_name=str(examples), seed=5, explore=NO_ACTIONS, walks=walks)


def test_a_walk_breaks_what_the_scope_certified(tmp_path: Path) -> None:
    """SIGN_GUARD=LOCAL survives one random example and a scope without adversary actions;
    a deep walk breaks it, and the line is an ordinary "invalid" one: replay file, report,
    confirmed by replay, saying it was found by a walk."""
    outcome = run_sweep(_spec(LOCAL_GUARD, 64), tmp_path, executor=make_executor(workers=1))
    (result,) = outcome.results
    assert result.verdict == "invalid" and result.source == "walks" and result.confirmed
    assert result.explored is not None and result.explored["exhausted"] is True
    assert result.walked is not None and result.walked["of"] == 64
    assert 1 <= result.walked["walks"] <= 64  # (the walks taken, the last one failing)
    assert 0 < len(result.walked["failing_walk"]) <= 14
    assert replay_counterexample(tmp_path / result.files["replay"]).confirmed
    replay = json.loads((tmp_path / result.files["replay"]).read_text())
    assert replay["expect"]["found_by"] == "walks"
    assert "deep random walk" in (tmp_path / result.files["test"]).read_text()
    assert not certified(result)
    (row,) = matrix_rows(outcome)
    assert row[13] == 1 and row[12] == 0  # by walks, not by explore
    report = write_markdown(Findings(outcome), tmp_path / "report.md").read_text()
    assert f"Found by a deep random walk (walk {result.walked['walks']} of 64, seed" in report
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert lines[0]["verdict"] == "valid" and lines[-1]["source"] == "walks"


def test_a_survivor_says_what_its_walks_covered(tmp_path: Path) -> None:
    outcome = run_sweep(_spec(FAMILY_C, 4, examples=10), tmp_path,
                        executor=make_executor(workers=1))
    (result,) = outcome.results
    assert result.verdict == "valid" and certified(result)
    assert result.walked is not None
    assert {k: result.walked[k] for k in ("walks", "length", "seed")} == {
        "walks": 4, "length": 14, "seed": result.seed}
    assert result.walked["moves"] > 0 and "6 operations" in result.walked["scope"]
    assert explored_text(result).endswith("; 4 deep walks found nothing")
    report = write_markdown(Findings(outcome), tmp_path / "report.md").read_text()
    assert "4 deep walks found nothing" in report


def test_walks_zero_leaves_the_certificate_alone(tmp_path: Path) -> None:
    outcome = run_sweep(_spec(FAMILY_C, 0, examples=10), tmp_path,
                        executor=make_executor(workers=1))
    (result,) = outcome.results
    assert certified(result) and result.walked is None
    assert "deep walk" not in explored_text(result)


def test_resuming_with_other_walks_walks_the_survivors_again(tmp_path: Path) -> None:
    run_sweep(_spec(FAMILY_C, 0, examples=10), tmp_path, executor=make_executor(workers=1))
    before = len((tmp_path / "results.jsonl").read_text().splitlines())
    outcome = run_sweep(_spec(FAMILY_C, 3, examples=10), tmp_path, resume=True,
                        executor=make_executor(workers=1))
    (result,) = outcome.results
    assert result.walked is not None and result.walked["walks"] == 3
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == before + 1
    assert read_manifest(tmp_path).walks == 3
    first_explored = json.loads((tmp_path / "results.jsonl").read_text().splitlines()[-2])
    assert result.explored == first_explored["explored"]  # (not explored again: only walked)
    again = run_sweep(_spec(FAMILY_C, 3, examples=10), tmp_path, resume=True,
                      executor=make_executor(workers=1))  # (nothing left to do)
    assert [(r.verdict, r.walked) for r in again.results] == [
        (r.verdict, r.walked) for r in outcome.results]
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == before + 1


def test_walks_round_trip_through_the_manifest() -> None:
    spec = _spec(FAMILY_C, 7)
    assert SweepSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    older = {k: v for k, v in spec.to_json().items() if k != "walks"}
    assert SweepSpec.from_json(older).walks == 0  # (written before the walks: none taken)
    assert SweepSpec().walks == SWEEP_WALKS


def test_walk_flags_set_the_sweeps_walks() -> None:
    from tssbqs_pbt.cli import _build_parser
    from tssbqs_pbt.sweep.command import header_lines, spec_from_args

    parse = _build_parser().parse_args
    assert spec_from_args(parse(["sweep"])).walks == SWEEP_WALKS
    assert spec_from_args(parse(["sweep", "--walks", "5"])).walks == 5
    assert spec_from_args(parse(["sweep", "--no-explore"])).walks == 0
    assert spec_from_args(parse(["sweep", "--explore-field-width", "2"])).explore.field_width == 2
    text = " ".join(header_lines(spec_from_args(parse(["sweep", "--walks", "5"])), 1, "x",
                                 Path("out")))
    assert "then walked: 5 deep random walks" in text


@pytest.mark.parametrize(("flags", "says"), [
    (["--walks", "-1"], "--walks -1: use a whole number >= 0"),
    (["--no-explore", "--walks", "3"], "--no-explore with --walks 3"),
    (["--explore-field-width", "0"], "--explore-field-width 0: use a whole number >= 1"),
])
def test_bad_walk_flags_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    flags: list[str], says: str) -> None:
    refused(here(capsys, "sweep", "--out", str(tmp_path / "s"), *flags), says)
    assert not (tmp_path / "s").exists()


def test_walks_on_resuming_a_sweep_that_does_not_explore_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The walks run in the explore stage: a sweep made with --no-explore would take
    ``--walks`` on resume and never walk; it is refused, naming the way to walk."""
    spec = SweepSpec(qs=(3,), ts=(2,), pins=parse_pins(FAMILY_C), budget=Budget(3),
                     budget_name="3", seed=5, explore=None, walks=0)
    run_sweep(spec, tmp_path, executor=make_executor(workers=1))
    refused(here(capsys, "sweep", "--resume", str(tmp_path), "--walks", "4"),
            "does not explore its survivors", "--explore-")
    assert read_manifest(tmp_path).walks == 0
