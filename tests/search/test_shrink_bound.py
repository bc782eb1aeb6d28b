"""``search(shrink_seconds=...)`` bounds shrinking and keeps the best shrink so far."""

from __future__ import annotations

from pathlib import Path

import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.search import Budget, replay_counterexample, search


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


def test_a_bad_bound_is_refused() -> None:
    protocol, design = _delegates_one()
    with pytest.raises(InvalidArgument, match="shrink_seconds=0"):
        search(protocol, design.config(byzantine={4}), budget=Budget(5), shrink_seconds=0)
