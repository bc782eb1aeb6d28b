"""``check(..., explore=...)``: the explorer after the random search, from any test."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from tssbqs_pbt import CheckFailed, check
from tssbqs_pbt.check_settings import CheckSettings, activate
from tssbqs_pbt.checking import CHECK_SCOPE, backing
from tssbqs_pbt.engine.explore import Scope
from tssbqs_pbt.errors import InvalidArgument

SMALL = Scope(operations=2, clients=1, actions=0)
#: family C's options at q=2: two correct servers cut off during a write, then the Byzantine
#: server forgets it, and a read misses the write (two random examples do not find it)
BROKEN = ("design[n=4 f=1 q=2 t=2 STORE_FORM=SIGNED TS_SOURCE=CLIENT_BASIS SIGN_GUARD=EVIDENCE "
          "ACK_MODE=EVIDENCE READ_GUARD=EVIDENCE READ_SHAPE=TWO_PHASE DELEGATES=F_PLUS_ONE "
          "REQUEST_DEDUP=OFF]")


def test_a_survivor_returns_the_certificate(tmp_path: Path) -> None:
    result = check("family-c", budget=5, seed=1, report_dir=tmp_path, database=None,
                   explore=SMALL)
    assert result.counterexample is None
    assert result.explored is not None and result.explored.exhausted
    assert result.explored.scope == SMALL and result.explored.states > 0


def test_the_explorer_fails_the_check_with_the_shortest_schedule(tmp_path: Path) -> None:
    with pytest.raises(CheckFailed) as failed:
        check(BROKEN, budget=2, seed=0, report_dir=tmp_path, database=None, explore=SMALL)
    message = str(failed.value)
    assert "violates P1 data consistency" in message
    assert "not found in 2 examples" in message and "found by the explorer" in message
    found = failed.value.result.counterexample
    assert found is not None and found.path is not None and found.path.exists()
    assert found.report is not None and found.report.svg.exists()
    assert found.steps <= 40  # the trace pass ran (the explorer's own trace has 96 steps)
    assert failed.value.result.explored is not None


def test_explore_judges_only_the_properties_asked_for(tmp_path: Path) -> None:
    result = check(BROKEN, budget=2, seed=0, report_dir=tmp_path, database=None,
                   properties=["P3"], explore=SMALL)
    assert result.counterexample is None
    assert result.explored is not None and result.explored.scope.properties == ("P3",)


def test_check_explores_by_default_and_explore_false_opts_out(tmp_path: Path) -> None:
    # two examples of random search miss this design's bug; the default exploration finds it
    with pytest.raises(CheckFailed, match="found by the explorer"):
        check(BROKEN, budget=2, seed=0, report_dir=tmp_path, database=None)
    result = check(BROKEN, budget=2, seed=0, report_dir=tmp_path, database=None,
                   explore=False, walks=0)
    assert result.counterexample is None and result.explored is None
    assert backing(result).endswith("not explored (random search only: no certificate)")
    with activate(CheckSettings(explore=False, walks=0)):
        assert check(BROKEN, budget=2, seed=0, report_dir=tmp_path,
                     database=None).explored is None


def test_a_cut_short_exploration_says_it_is_no_certificate(tmp_path: Path) -> None:
    result = check("family-c", budget=2, seed=0, report_dir=tmp_path, database=None,
                   explore=Scope(clients=1, max_states=50))
    assert result.explored is not None and not result.explored.exhausted
    assert "NOT exhausted (stopped by max_states after 50 states)" in backing(result)
    assert "not a certificate" in backing(result)


def test_check_scope_is_the_default_adversary_bounded_by_states() -> None:
    assert attrs.evolve(CHECK_SCOPE, max_states=Scope().max_states) == Scope()
    with pytest.raises(InvalidArgument, match=r"explore=1 must be True or False"):
        CheckSettings(explore=1)  # type: ignore[arg-type]


def test_a_bad_explore_value_is_named() -> None:
    with pytest.raises(InvalidArgument, match=r"explore='yes' is neither True/False nor"):
        check("family-c", budget=1, explore="yes")  # type: ignore[arg-type]


def test_deep_walks_follow_and_a_find_says_it_came_from_them(tmp_path: Path) -> None:
    from tests.lib.foreign_notary import NOTARY_UNBOUND

    with pytest.raises(CheckFailed, match="found by a deep random walk") as failed:
        check(NOTARY_UNBOUND, budget=1, seed=0, report_dir=tmp_path, database=None,
              explore=False)
    found = failed.value.result.counterexample
    assert found is not None and found.walks is not None and found.report is not None
    assert "found by a deep random walk" in found.report.test.read_text(encoding="utf-8").lower()
    passed = check(NOTARY_UNBOUND, budget=1, seed=0, report_dir=tmp_path, database=None,
                   explore=False, walks=0)
    assert passed.walked is None and "deep random walk" not in backing(passed)
    with pytest.raises(InvalidArgument, match=r"walks=-1 must be a whole number >= 0"):
        check(NOTARY_UNBOUND, budget=1, explore=False, walks=-1)
