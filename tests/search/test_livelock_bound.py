"""Regression: a design whose reads retry forever (q=1, local read guards) made every coarse
rule run the 5,000-delivery drain bound; counterexamples had 50,000 steps and a sweep spent
~47 s on one combination.  A rule's exchange now stops at 40 n^2 deliveries."""

from __future__ import annotations

import pytest
from tssbqs_pbt.protocols import DesignProtocol, parse_design

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import Budget, search
from tssbqs_pbt.kernel import Deliver, Settle, Settled

pytestmark = pytest.mark.search

LIVELOCK = parse_design(
    "n=4 f=1 q=1 t=2 STORE_FORM=SIGNED TS_SOURCE=CLIENT_BASIS SIGN_GUARD=LOCAL ACK_MODE=NONE "
    "READ_GUARD=LOCAL READ_SHAPE=TWO_PHASE DELEGATES=F_PLUS_ONE REQUEST_DEDUP=OFF")


def test_a_livelocked_protocol_gives_a_short_counterexample_quickly() -> None:
    result = search(DesignProtocol(LIVELOCK), LIVELOCK.config(byzantine={4}),
                    budget=Budget(60), seed=3, tactics=(Tactic.COARSE, Tactic.LAG),
                    max_shrinks=200)
    assert result.counterexample is not None
    trace = result.counterexample.trace
    bound = 40 * LIVELOCK.n ** 2
    for record in trace.steps:
        if isinstance(record.action, Settle):
            # (the trace pass may merge a run of deliveries into one settle of everything in
            # flight, written with the kernel's default bound: what counts is what it delivered)
            (settled,) = [e for e in record.events if isinstance(e, Settled)]
            assert settled.delivered <= bound
    # at most 30 rules, each at most ``bound`` deliveries (and B's answers to them): before the
    # bound one rule could run 5,000 deliveries, and 10 rules made a 50,000-step trace
    single = sum(1 for r in trace.steps if isinstance(r.action, Deliver))
    assert single <= 30 * bound
    assert len(trace.steps) <= 2 * 30 * bound + 10
