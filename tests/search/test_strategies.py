"""The public strategies respect their arguments, and the generic adversary never makes a
correct server crash (every action it draws is either accepted or refused by the kernel)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tssbqs_pbt.protocols import (
    Design,
    DesignProtocol,
    ProtocolSpec,
    ReadShape,
    SignGuard,
    family_c,
    family_j,
)
from tssbqs_pbt.strategies import (
    Adversary,
    adversary_actions,
    configurations,
    design_options,
    workloads,
)

from tssbqs_pbt.errors import InvalidAction, InvalidArgument
from tssbqs_pbt.kernel import Invoke, OpKind, Settle, World, client, step, write


@given(configurations(n=4, f=1))
def test_configurations_stay_within_bounds(config) -> None:  # type: ignore[no-untyped-def]
    assert config.n == 4 and config.f == 1
    assert 1 <= config.q <= 4 and 1 <= config.t <= 4
    assert len(config.byzantine) <= 1


@given(configurations(n=7, f=2, q=5, t=3, byzantine=True))
def test_configurations_pin_values(config) -> None:  # type: ignore[no-untyped-def]
    assert (config.q, config.t, len(config.byzantine)) == (5, 3, 2)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(n=0), "n=0 must be a whole number >= 1"),
        (dict(n=4, f=5), "f=5 exceeds n=4"),
        (dict(n=4, q=9), "q=9 is outside 1..n=4"),
        (dict(n=4, t="2"), "t='2' must be a whole number"),
    ],
)
def test_configurations_reject_impossible_arguments(kwargs: dict, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment.replace(".", r"\.")):
        configurations(**kwargs)


@given(design_options(sign_guard="LOCAL", read_shape=ReadShape.TWO_PHASE))
def test_design_options_pin_some_options(options) -> None:  # type: ignore[no-untyped-def]
    assert options.sign_guard is SignGuard.LOCAL
    assert options.read_shape is ReadShape.TWO_PHASE


def test_design_options_reject_unknown_names() -> None:
    with pytest.raises(InvalidArgument, match="unknown option 'colour'"):
        design_options(colour="red")
    with pytest.raises(InvalidArgument, match="SIGN_GUARD='strict' is not a value"):
        design_options(sign_guard="strict")


@given(workloads(clients=2, max_ops=6))
def test_workloads_write_distinct_values(ops) -> None:  # type: ignore[no-untyped-def]
    values = [o.operation.value for o in ops if o.operation.kind is OpKind.WRITE]
    assert len(values) == len(set(values)) and len(ops) <= 6
    assert all(o.client.index in (1, 2) for o in ops)


def _world(design: Design) -> tuple[World, Adversary]:
    protocol = DesignProtocol(design)
    declarations = ProtocolSpec(name="x", build=lambda n, f: protocol).declarations(protocol)
    world = World(protocol, design.config(byzantine={4}))
    adversary = Adversary(world, declarations)
    step(world, Invoke(client(1), write("v1")))
    for _ in range(50):  # let the write run, B acting as a correct server
        if adversary.unprocessed():
            for dst, payload in adversary.honest_step():
                step(world, _send(adversary, dst, payload))
        elif len(world.pool):
            step(world, Settle())
        else:
            break
    return world, adversary


def _send(adversary: Adversary, dst, payload):  # type: ignore[no-untyped-def]
    from tssbqs_pbt.kernel import ByzantineSend

    return ByzantineSend(adversary.me, dst, payload, immediate=False)


DESIGNS = [family_c(4, 1, 2), family_j(4, 1),
           Design(4, 1, 3, 2, family_c(4, 1, 2).options.with_(store_form="UNSIGNED"))]


@pytest.mark.parametrize("design", DESIGNS, ids=["C", "J", "C-unsigned"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_adversary_actions_never_crash_a_correct_server(design: Design, data) -> None:  # type: ignore[no-untyped-def]
    world, adversary = _world(design)
    for _ in range(6):
        action = data.draw(adversary_actions(adversary))
        if action is None:
            break
        # a ProtocolFault here would be a crash and fails the test; InvalidAction means B tried
        # to use something it cannot build: refused, nothing changed
        with contextlib.suppress(InvalidAction):
            step(world, action)
