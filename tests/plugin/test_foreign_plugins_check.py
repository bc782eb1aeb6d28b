"""A default ``check()`` on plug-ins written as outsiders write them (own message types): the
subtle bugs a random search of the default budget misses are found by the exploration that
follows it, and the correct plug-ins pass.

The exploration is the same at every seed (it enumerates its scope); a seed changes only the
random search before it.  So each bug is checked at five seeds, and each correct plug-in is
searched at five seeds and explored once."""

from __future__ import annotations

from pathlib import Path

import pytest
from tssbqs_pbt.protocols import ProtocolSpec

from tests.lib.foreign_notary import NOTARY, NOTARY_FORGETS, NOTARY_SHORT, NOTARY_UNBOUND
from tests.lib.foreign_protocols import PairRegister
from tssbqs_pbt import CheckFailed, check

BROKEN = {"short": NOTARY_SHORT, "forgets": NOTARY_FORGETS, "unbound": NOTARY_UNBOUND}
PAIR = ProtocolSpec(name="pair-register-q3", build=lambda n, f: PairRegister(3))
SEEDS = range(5)


@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_a_default_check_finds_each_subtle_bug(bug: str, tmp_path: Path) -> None:
    with pytest.raises(CheckFailed, match=r"violates P1") as failed:
        check(BROKEN[bug], seed=0, report_dir=tmp_path, database=None)
    assert failed.value.result.counterexample is not None


@pytest.mark.exhaustive
@pytest.mark.parametrize("seed", SEEDS[1:])
@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_a_default_check_finds_each_subtle_bug_at_every_seed(bug: str, seed: int,
                                                             tmp_path: Path) -> None:
    with pytest.raises(CheckFailed, match=r"violates P1"):
        check(BROKEN[bug], seed=seed, report_dir=tmp_path, database=None)


@pytest.mark.exhaustive
@pytest.mark.parametrize("spec", [NOTARY, PAIR], ids=["notary", "pair-register"])
def test_the_correct_foreign_plugins_pass_a_default_check(spec: ProtocolSpec,
                                                          tmp_path: Path) -> None:
    for seed in SEEDS:
        result = check(spec, seed=seed, report_dir=tmp_path, database=None, explore=False)
        assert result.counterexample is None, seed
    result = check(spec, seed=0, report_dir=tmp_path, database=None)
    assert result.explored is not None and result.explored.exhausted, result.explored
