"""``search(shrink_seconds=...)`` and ``search(shrink_runs=...)`` bound shrinking and keep the
best shrink so far; a bound in runs leaves one seed one trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.engine.search import Budget, replay_counterexample, search
from tssbqs_pbt.errors import InvalidArgument


def _delegates_one() -> tuple[DesignProtocol, Design]:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(delegates="1"))
    return DesignProtocol(design), design


@pytest.mark.search
def test_shrinking_stops_at_the_bound_and_the_result_still_replays(tmp_path: Path) -> None:
    protocol, design = _delegates_one()
    config = design.config(byzantine={4})
    result = search(protocol, config, budget=Budget(200), seed=4, save_dir=tmp_path,
                    shrink_seconds=0.001)
    assert result.found and result.shrink_cut
    found = result.counterexample
    assert found is not None and found.path is not None
    assert replay_counterexample(found.path).confirmed
    assert list(tmp_path.glob("*-first.json"))  # the unshrunk failure was saved first


@pytest.mark.search
def test_a_bound_in_runs_cuts_shrinking_the_same_way_every_time(tmp_path: Path) -> None:
    protocol, design = _delegates_one()
    config = design.config(byzantine={4})

    def run(runs: int | None, folder: str) -> tuple[object, ...]:
        result = search(protocol, config, budget=Budget(200), seed=4, shrink_runs=runs,
                        save_dir=tmp_path / folder)
        found = result.counterexample
        assert found is not None and found.path is not None
        assert replay_counterexample(found.path).confirmed
        return (found.trace.to_document(), result.examples, result.shrink_cut)

    cut = run(5, "a")
    assert cut == run(5, "b")  # the same trace, after the same number of runs
    assert cut[2]  # the bound cut shrinking short, and the result says so
    whole = run(None, "c")
    assert not whole[2] and whole[1] > cut[1]


@pytest.mark.search
def test_a_plateau_ends_shrinking_once_runs_stop_finding_shorter_failures(
        tmp_path: Path) -> None:
    protocol, design = _delegates_one()
    config = design.config(byzantine={4})

    def run(plateau: int | None, folder: str) -> tuple[object, ...]:
        result = search(protocol, config, budget=Budget(200), seed=4, shrink_runs=120,
                        shrink_plateau=plateau, save_dir=tmp_path / folder)
        found = result.counterexample
        assert found is not None and found.path is not None
        assert replay_counterexample(found.path).confirmed
        return (found.trace.to_document(), result.examples, result.shrink_cut)

    early = run(3, "a")
    assert early == run(3, "b")  # a count: the same trace after the same runs every time
    assert early[2]  # cut short, and the result says so
    assert early[1] < run(None, "c")[1]


def test_a_bad_bound_is_refused() -> None:
    protocol, design = _delegates_one()
    config = design.config(byzantine={4})
    with pytest.raises(InvalidArgument, match="shrink_seconds=0"):
        search(protocol, config, budget=Budget(5), shrink_seconds=0)
    with pytest.raises(InvalidArgument, match="shrink_runs=0"):
        search(protocol, config, budget=Budget(5), shrink_runs=0)
    with pytest.raises(InvalidArgument, match="by time or by runs, not both"):
        search(protocol, config, budget=Budget(5), shrink_runs=5, shrink_seconds=1.0)
    with pytest.raises(InvalidArgument, match="shrink_plateau=0"):
        search(protocol, config, budget=Budget(5), shrink_runs=5, shrink_plateau=0)
    with pytest.raises(InvalidArgument, match="give shrink_runs too"):
        search(protocol, config, budget=Budget(5), shrink_plateau=5)
