"""Valid files to break: counterexamples saved from scripted attacks (with Byzantine sends,
signatures, partials and sets in them), a sweep manifest and results lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attacks
import pytest
from scenario import Attack
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import Counterexample, replay_counterexample, save_counterexample
from tssbqs_pbt.kernel import Trace


def _saved(design: Design, script: Callable[[Attack], None], folder: Path) -> Path:
    attack = Attack(design, byzantine=4)
    script(attack)
    attack.drain()
    verdict = next(v for v in attack.verdicts() if v.violated)
    found = Counterexample(verdict.property.value, verdict.violations[0].clause.value,
                           Tactic.LAG, Trace.of(attack.world), verdict)
    path = save_counterexample(found, folder)
    assert replay_counterexample(path).confirmed
    return path


@pytest.fixture(scope="session")
def replay_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``p1``: A5 against SIGN_GUARD=NONE (Byzantine sends of signed data); ``p2``: A2, t=4
    (a read that never completes)."""
    folder = tmp_path_factory.mktemp("replays")
    return {
        "p1": _saved(Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(sign_guard="NONE")),
                     attacks.withheld_high_datum, folder / "p1"),
        "p2": _saved(Design(4, 1, 3, 4, FAMILY_C_OPTIONS), attacks.silent_byzantine,
                     folder / "p2"),
    }
