"""The trace pass (:func:`tssbqs_pbt.engine.minimize.minimize_trace`): shorter, still
failing, a real kernel trace, deterministic; and ``search`` runs it after Hypothesis's shrinking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attacks
import pytest
from plugin_project import load_tutorial
from scenario import Attack
from toy_protocols import RaisingRegister
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.engine.minimize import minimize_trace
from tssbqs_pbt.engine.search import Budget, replay_counterexample, search
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import (
    ByzantineSend,
    Deliver,
    Drain,
    Invoke,
    OpId,
    Settle,
    SystemConfig,
    Trace,
    World,
    client,
    read,
    replay,
    run_actions,
    server,
    step,
    write,
)
from tssbqs_pbt.properties import Property, check_all


def _hand_written(design: Design, script: Callable[[Attack], None], byzantine: int = 4) -> Attack:
    attack = Attack(design, byzantine=byzantine)
    script(attack)
    attack.drain()
    return attack


def test_a_hand_written_attack_shrinks_to_a_shorter_trace_that_replays_and_still_fails() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(sign_guard="NONE"))
    attack = _hand_written(design, attacks.withheld_high_datum)
    trace = Trace.of(attack.world)
    assert {v.property for v in check_all(trace, signed_value=attack.protocol.signed_value)
            if v.violated} >= {Property.CONSISTENCY}

    done = minimize_trace(trace, attack.protocol, property=Property.CONSISTENCY,
                          signed_value=attack.protocol.signed_value)

    assert len(done.trace.steps) < len(trace.steps) // 4  # one delivery a step -> settles
    assert done.verdict is not None and done.verdict.violated
    assert done.verdict.property is Property.CONSISTENCY and done.fault is None
    assert replay(done.trace, attack.protocol).steps == list(done.trace.steps)  # a real trace
    again = minimize_trace(trace, attack.protocol, property=Property.CONSISTENCY,
                           signed_value=attack.protocol.signed_value)
    assert again.trace == done.trace and again.runs == done.runs  # deterministic
    assert 0 < done.runs <= 400 and done.kernel_steps > 0


def test_deliveries_find_their_message_after_earlier_actions_are_dropped() -> None:
    """An unrelated operation first: dropping it renumbers every later message."""
    design = Design(4, 1, 3, 4, FAMILY_C_OPTIONS)  # t = 4 > n - f: a write never completes
    protocol = DesignProtocol(design)
    config = design.config(byzantine={4})
    world = World(protocol, config)
    step(world, Invoke(client(2), read()))
    step(world, Invoke(client(1), write("v1")))
    for envelope in list(world.pool):  # one at a time, by number
        if envelope.src == client(1):
            step(world, Deliver(envelope.id))
    step(world, Drain())
    trace = Trace.of(world)

    done = minimize_trace(trace, protocol, property=Property.AVAILABILITY)

    actions = [s.action for s in done.trace.steps]
    assert len(actions) == 2 and isinstance(actions[0], Invoke)  # one operation, then the drain
    assert replay(done.trace, protocol).steps == list(done.trace.steps)


def test_a_run_of_deliveries_becomes_one_settle_when_that_keeps_the_violation() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(sign_guard="NONE"))
    attack = _hand_written(design, attacks.withheld_high_datum)
    done = minimize_trace(Trace.of(attack.world), attack.protocol,
                          property=Property.CONSISTENCY,
                          signed_value=attack.protocol.signed_value)
    assert not done.cut  # (the pass ran to its end: every run of deliveries was tried)
    assert any(isinstance(s.action, Settle) for s in done.trace.steps)
    assert not any(isinstance(a.action, Deliver) and isinstance(b.action, Deliver)
                   for a, b in zip(done.trace.steps, done.trace.steps[1:], strict=False))


def test_consecutive_settles_merge_into_one() -> None:
    """A12 through a store: one delivery a step becomes a chain of settles (each run of
    deliveries between B's sends); the chain of the second write merges into one settle."""
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(store_form="UNSIGNED"))
    attack = _hand_written(design, attacks.unsigned_store_above_all)
    done = minimize_trace(Trace.of(attack.world), attack.protocol,
                          property=Property.CONSISTENCY,
                          signed_value=attack.protocol.signed_value, max_runs=5_000)
    kinds = [type(s.action).__name__ for s in done.trace.steps]
    assert kinds == ["Invoke", "Settle", "Invoke", "Settle", "ByzantineSend", "Invoke", "Settle"]
    assert replay(done.trace, attack.protocol).steps == list(done.trace.steps)


def test_exchanging_clients_lets_the_operations_before_an_attack_drop() -> None:
    """DELEGATES=1 routes a client's k-th operation to server (client + k - 1) mod n: C1 needs
    three operations before its fourth reaches B = S4, C3 one before its second."""
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(delegates="1"))
    protocol = DesignProtocol(design)
    world = World(protocol, design.config(byzantine={4}))
    for operation in (write("v1"), write("v2"), read(), read()):
        step(world, Invoke(client(1), operation))
        step(world, Settle())
    step(world, Drain())
    trace = Trace.of(world)
    assert [v.property for v in check_all(trace) if v.violated] == [Property.AVAILABILITY]

    done = minimize_trace(trace, protocol, property=Property.AVAILABILITY)

    invokes = [s.action for s in done.trace.steps if isinstance(s.action, Invoke)]
    assert len(done.trace.steps) == 4 and len(invokes) == 2
    assert {i.client for i in invokes} == {client(3)}
    assert replay(done.trace, protocol).steps == list(done.trace.steps)


def test_unneeded_operations_drop_and_later_ones_are_renumbered() -> None:
    """The tutorial's broken register trusts the first answer.  Two reads come before the
    attack (a write, then a read that B answers first with v0); B's reply names the read as
    C1#4, so dropping the reads alone would leave it naming nobody: the pass renumbers it to
    C1#2 (seed 0 of ``tssbqs_pbt.check`` on the tutorial shrank to this 9-step trace)."""
    tutorial = load_tutorial()
    protocol = tutorial.SPEC.build(4, 1)
    world = World(protocol, SystemConfig(n=4, f=1, q=3, t=2, byzantine=frozenset({4})))
    for operation in (read(), read(), write("v1")):
        step(world, Invoke(client(1), operation))
        step(world, Settle())
    step(world, Invoke(client(1), read()))
    stale = tutorial.Reply(OpId(client(1), 4), tutorial.INITIAL)
    step(world, ByzantineSend(server(4), client(1), stale, immediate=False))
    step(world, Settle())
    trace = Trace.of(world)
    assert len(trace.steps) == 9
    assert [v.property for v in check_all(trace) if v.violated] == [Property.CONSISTENCY]

    done = minimize_trace(trace, protocol, property=Property.CONSISTENCY)

    actions = [s.action for s in done.trace.steps]
    assert [type(a).__name__ for a in actions] == \
        ["Invoke", "Settle", "Invoke", "ByzantineSend", "Settle"], actions
    assert actions[0].operation == write("v1")
    assert actions[3].payload == tutorial.Reply(OpId(client(1), 2), tutorial.INITIAL)
    assert replay(done.trace, protocol).steps == list(done.trace.steps)


def test_a_protocol_fault_is_kept_as_a_fault() -> None:
    protocol = RaisingRegister()
    config = SystemConfig(n=4, f=1, q=3, t=2, clients=2, byzantine=frozenset())
    world = World(protocol, config)
    step(world, Invoke(client(1), write("a")))
    step(world, Settle())
    step(world, Invoke(client(2), read()))
    with pytest.raises(Exception, match="boom"):
        step(world, Settle())
    trace = Trace.of(world)

    done = minimize_trace(trace, protocol, property=None)

    assert done.verdict is None and done.fault is not None and "boom" in done.fault
    assert [type(s.action) for s in done.trace.steps] == [Invoke, Settle]


def test_bad_input_is_refused_with_the_fix() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol = DesignProtocol(design)
    world = run_actions(protocol, design.config(byzantine={4}),
                        [Invoke(client(1), write("v1")), Settle()])
    with pytest.raises(InvalidArgument, match="does not show P1"):
        minimize_trace(Trace.of(world), protocol, property=Property.CONSISTENCY)
    with pytest.raises(InvalidArgument, match="max_runs=-1"):
        minimize_trace(Trace.of(world), protocol, property=Property.CONSISTENCY, max_runs=-1)


def test_no_runs_leaves_the_trace_as_it_was() -> None:
    design = Design(4, 1, 3, 4, FAMILY_C_OPTIONS)
    attack = _hand_written(design, attacks.silent_byzantine)
    trace = Trace.of(attack.world)
    done = minimize_trace(trace, attack.protocol, property=Property.AVAILABILITY, max_runs=0)
    assert done.trace.steps == trace.steps and done.runs == 0 and done.cut


@pytest.mark.search
def test_search_runs_the_trace_pass_after_hypothesis(tmp_path: Path) -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(delegates="1"))
    protocol = DesignProtocol(design)
    config = design.config(byzantine={4})
    plain = search(protocol, config, budget=Budget(200), seed=4, shrink_runs=30,
                   minimize_runs=0)
    passed = search(protocol, config, budget=Budget(200), seed=4, shrink_runs=30,
                    save_dir=tmp_path)
    assert plain.counterexample is not None and passed.counterexample is not None
    assert plain.minimize_runs == 0 and passed.minimize_runs > 0
    assert passed.counterexample.steps <= plain.counterexample.steps
    assert passed.counterexample.property == plain.counterexample.property
    assert passed.counterexample.path is not None
    assert replay_counterexample(passed.counterexample.path).confirmed
    with pytest.raises(InvalidArgument, match="minimize_runs=-2"):
        search(protocol, config, budget=Budget(5), minimize_runs=-2)


@pytest.mark.search
def test_a_trace_pass_that_cannot_rerun_the_trace_keeps_hypothesis_s_counterexample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tssbqs_pbt.engine.search as search_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise InvalidArgument("the trace does not show P2 when replayed")

    monkeypatch.setattr(search_module, "minimize_trace", refuse)
    design = Design(4, 1, 3, 4, FAMILY_C_OPTIONS)
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(50),
                    seed=1, shrink_runs=10, save_dir=tmp_path)
    found = result.counterexample
    assert found is not None and found.path is not None and result.minimize_runs == 0
    assert replay_counterexample(found.path).confirmed
