"""A trace reads back whatever the kernel let happen.

Regression: the checked decoder refused a counterexample in which a Byzantine server sent a
``SignWriteReply`` whose ``acks`` held a ``Datum`` (a collection it had seen elsewhere): the
kernel accepts such a lie (only unforgeable objects are checked), so the sweep's replay of its
own counterexample failed and the design was recorded as an error instead of invalid."""

from __future__ import annotations

import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol
from tssbqs_pbt.protocols.messages import INITIAL, SignWriteReply

from tssbqs_pbt.errors import TraceFormatError
from tssbqs_pbt.kernel import (
    ByzantineSend,
    Invoke,
    OpId,
    Trace,
    World,
    client,
    registry_for,
    replay,
    server,
    step,
    write,
)


def test_a_byzantine_lie_of_the_wrong_type_round_trips() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol = DesignProtocol(design)
    world = World(protocol, design.config(byzantine={4}))
    step(world, Invoke(client(1), write("v1")))
    lie = SignWriteReply(OpId(client(1), 1), "v1", (1, 1), (INITIAL,))  # type: ignore[arg-type]
    step(world, ByzantineSend(server(4), server(1), lie, immediate=True))
    trace = Trace.of(world)
    again = Trace.from_json(trace.to_json(), registry_for(protocol))
    assert again.steps[-1].action.payload == lie
    assert replay(again, protocol).steps[-1].events == world.steps[-1].events


def test_the_kernel_records_are_still_checked() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol = DesignProtocol(design)
    world = World(protocol, design.config(byzantine={4}))
    step(world, Invoke(client(1), write("v1")))
    text = Trace.of(world).to_json().replace('{"$node":"C1"}', '"C1"', 1)
    with pytest.raises(TraceFormatError, match="NodeId"):
        Trace.from_json(text, registry_for(protocol))
