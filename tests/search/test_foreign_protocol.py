"""The engine on a protocol that looks nothing like the option-driven one (own message types,
no threshold signatures): a two-phase register whose quorums of 2 meet only in the Byzantine
server.  Breaking it needs two correct servers cut off across a write and a Byzantine server
that forgets, which the one-lagging-server tactics cannot express."""

from __future__ import annotations

from typing import Any

import pytest
from foreign_protocols import PairRegister
from scripted import Script
from tssbqs_pbt.protocols import ProtocolSpec

from tssbqs_pbt.engine.machine import PropertyViolated, SearchSetup, Tactic, make_machine
from tssbqs_pbt.engine.partition import B_MODES
from tssbqs_pbt.engine.search import Budget, search
from tssbqs_pbt.kernel import SystemConfig, replay, server
from tssbqs_pbt.properties import check_consistency

pytestmark = pytest.mark.search


def config(q: int) -> SystemConfig:
    return SystemConfig(n=4, f=1, q=q, t=2, byzantine={4})


def scripted(q: int) -> Any:
    protocol = PairRegister(q)
    declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
        protocol)
    machine = make_machine(SearchSetup(protocol, config(q), declarations, tactic=Tactic.SPLIT))()
    machine.start(warmup=0, data=Script())
    # a write with as many correct servers cut off as leave a quorum (the last such set), B
    # honest; a read with as many cut off, the first set holding what the write reached, B
    # restarting from its initial state
    machine.invoke(data=Script(0, True, True, 1, 3, 2, B_MODES.index("honest")))
    machine.invoke(data=Script(0, False, True, 1, 0, 0, B_MODES.index("restart")))
    machine.safe()
    machine.teardown()
    return machine


def test_two_servers_cut_off_and_a_forgetful_b_break_quorums_of_two() -> None:
    with pytest.raises(PropertyViolated, match="P1"):
        scripted(2)


def test_quorums_of_three_resist_the_same_schedule() -> None:
    machine = scripted(3)
    assert machine.cut == {server(1)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_finds_it_and_the_trace_replays(seed: int) -> None:
    # pinned seeds: measured when SPLIT landed, LAG, FINE and COARSE together found nothing
    # at 400 examples on seeds 0, 1, 2; SPLIT alone found it on all three (849-1,760 runs
    # with shrinking).  The rate is low (a few per 1,000 runs): the explorer is the systematic
    # answer
    result = search(PairRegister(2), config(2), budget=Budget(400), seed=seed,
                    tactics=(Tactic.SPLIT,))
    found = result.counterexample
    assert found is not None and found.property.startswith("P1"), result
    # (not registered as a plug-in: the trace is replayed through the kernel directly)
    world = replay(found.trace, PairRegister(2))
    assert check_consistency(world.history).violated


def test_the_default_search_leaves_quorums_of_three_alone() -> None:
    result = search(PairRegister(3), config(3), budget=Budget(400), seed=0)
    assert result.counterexample is None, result.counterexample
