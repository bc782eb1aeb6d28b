"""``Design.representative()``: designs it merges behave identically (traces equal but names)."""

from __future__ import annotations

import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol
from tssbqs_pbt.protocols.options import ReadGuard, ReadShape

from tssbqs_pbt.engine.search import Budget, search


def _trace_without_name(design: Design, seed: int) -> tuple[int, int, str | None]:
    protocol = DesignProtocol(design)
    result = search(protocol, design.config(byzantine={4}), budget=Budget(16), seed=seed,
                    shrink=False)
    text = None
    if result.counterexample is not None:
        text = result.counterexample.trace.to_json().replace(protocol.name, "?")
        assert protocol.name not in text
    return result.examples, result.kernel_steps, text


def test_two_phase_designs_are_their_own_representative() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(read_guard="local"))
    assert design.representative() is design


@pytest.mark.parametrize("t", [2, 3])
@pytest.mark.parametrize("guard", [ReadGuard.LOCAL, ReadGuard.EVIDENCE])
def test_one_phase_reads_ignore_the_read_guard(t: int, guard: ReadGuard) -> None:
    options = FAMILY_C_OPTIONS.with_(read_shape=ReadShape.ONE_PHASE, read_guard=guard)
    design = Design(4, 1, 3, t, options)
    rep = design.representative()
    assert rep.options.read_guard is ReadGuard.NONE
    assert rep.options.read_shape is ReadShape.ONE_PHASE
    runs = [(_trace_without_name(design, seed), _trace_without_name(rep, seed))
            for seed in (1, 2, 3)]
    assert all(a == b for a, b in runs)  # the same adversary choices give the same runs
    assert all(a[1] > 100 for a, _ in runs)  # and they did run
