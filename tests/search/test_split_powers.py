"""The SPLIT tactic gives the adversary the model's full power, each power driven by hand here
(every draw scripted), so a change that loses one fails a test: partitions of several correct
servers that move between operations, held messages released operations later, every Byzantine
server acting, and evidence B composes from statements it holds and its own."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from scripted import Script
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, ProtocolSpec
from tssbqs_pbt.protocols.messages import INITIAL, Report, SignRead, SignWriteReply
from tssbqs_pbt.strategies.evidence import composed
from tssbqs_pbt.strategies.synthesis import build

from tssbqs_pbt.engine.explore import Moves, Scope
from tssbqs_pbt.engine.machine import PropertyViolated, SearchSetup, Tactic, make_machine
from tssbqs_pbt.engine.partition import B_MODES, PartitionRules
from tssbqs_pbt.engine.search import Budget, search
from tssbqs_pbt.kernel import ByzantineSend, Deliver, NodeSigned, Sent, server

HONEST, SILENT, RESTART = (B_MODES.index(m) for m in ("honest", "silent", "restart"))
WIDEST = 1  # the cut's size draw: index 1 is "as many as leave a quorum reachable" (n - q)


def split_machine(n: int = 4, f: int = 1, q: int = 3, t: int = 2, **options: str) -> Any:
    design = Design(n, f, q, t, FAMILY_C_OPTIONS.with_(**options))
    protocol = DesignProtocol(design)
    declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
        protocol)
    byzantine = set(range(n - f + 1, n + 1))
    setup = SearchSetup(protocol, design.config(byzantine=byzantine), declarations,
                        signed_value=protocol.signed_value, tactic=Tactic.SPLIT)
    machine = make_machine(setup)()
    machine.start(warmup=0, data=Script())
    return machine


def a3(m: Any, write_cut: set[Any], read_cut: set[Any]) -> None:
    # C1 writes with as many correct servers cut off as leave a quorum reachable (the last
    # such set: uniform pick 2), B following the protocol; then C1 reads with as many cut off
    # again, the first set holding servers the write reached, and B restarts from its
    # initial state
    m.invoke(data=Script(0, True, True, WIDEST, 3, 2, HONEST))
    assert m.cut == write_cut
    assert [type(h.event).__name__ for h in m.world.history] == ["Invoked", "Completed"], \
        "the write completed without the servers cut off"
    held = set(m.held)
    assert held and all(m.world.pool.get(i).dst in m.cut for i in held)
    m.invoke(data=Script(0, False, True, WIDEST, 0, 0, RESTART))
    assert m.cut == read_cut
    assert held <= m.held, "what was held during the write is held still"
    m.safe()
    m.teardown()


def test_two_correct_servers_held_across_a_write_while_a_read_completes_elsewhere() -> None:
    # family C at q=2: two quorums {S1, B} and {S2, B} meet only in B, which forgets
    with pytest.raises(PropertyViolated, match="P1"):
        a3(split_machine(q=2), {server(2), server(3)}, {server(1), server(2)})


def test_family_c_resists_the_same_partitions_at_q3() -> None:
    # every two quorums of 3 meet in a correct server: one cut off at a time
    a3(split_machine(q=3), {server(3)}, {server(1)})


def test_a_held_message_released_two_operations_later() -> None:
    m = split_machine()
    m.invoke(data=Script(0, True, True, WIDEST, 3, 2, HONEST))  # C1 writes, S3 cut off
    assert m.cut == {server(3)}
    first_held = min(m.held)
    assert m.world.pool.get(first_held).dst == server(3)
    m.invoke(data=Script(1, True, True, 0, HONEST))  # C2 writes, the cut heals
    m.invoke(data=Script(2, False, False, HONEST))  # C3 reads, same network
    assert not m.cut and first_held in m.held, "healing the cut released nothing"
    assert len(m.world.history) == 6, "both writes and the read completed without S3"
    steps = len(m.world.steps)
    m.release(data=Script(0, 0, False))  # the oldest held message, alone
    assert m.world.steps[steps].action == Deliver(first_held)
    assert first_held not in m.held
    m.safe()
    m.teardown()


def _sent_by(m: Any) -> set[Any]:
    return {r.action.src for r in m.world.steps if isinstance(r.action, ByzantineSend)}


def test_both_byzantine_servers_act_at_n7() -> None:
    m = split_machine(n=7, f=2, q=5, t=3)
    assert m.adversary.servers == (server(6), server(7))
    m.invoke(data=Script(0, True, False, HONEST, HONEST))
    assert _sent_by(m) == {server(6), server(7)}, "both Byzantine servers followed the protocol"
    m.safe()
    m.teardown()


def test_one_byzantine_server_silent_the_other_honest_at_n7() -> None:
    m = split_machine(n=7, f=2, q=5, t=3)
    m.invoke(data=Script(0, True, False, SILENT, HONEST))
    assert _sent_by(m) == {server(7)}


def test_b_puts_its_own_report_inside_the_evidence_it_sends() -> None:
    # C1 writes v1 with S3 cut off; C3 reads (B, following the protocol, is its delegate and
    # collects reports); then B composes evidence for that read: S1's report and a report of
    # its own over the initial datum, which it never sent anyone
    m = split_machine(q=2)
    m.invoke(data=Script(0, True, True, WIDEST, 3, 2, HONEST))
    m.invoke(data=Script(2, False, False, HONEST))
    read = m.world.history[-1].event.op
    candidates = composed(m.adversary, typing.get_type_hints(SignRead)["evidence"])
    own = [c for c in candidates
           if {s.body.op for s in c} == {read} and len(c) == 2
           and NodeSigned(server(4), Report(read, 0, INITIAL)) in c]
    assert own, "B can vouch for the initial datum in a report of its own"
    assert all(not m.world.knowledge.holds(c) for c in own), "a new collection"
    evidence = own[0]
    newest = max((s.body.datum for s in evidence), key=lambda d: d.ts)
    message = build(m.adversary, SignRead, [("op", read), ("attempt", 0), ("datum", newest),
                                            ("evidence", evidence)])
    assert message is not None and message.evidence == evidence
    before = len(m.world.steps)
    m._b_send(server(2), message)
    record = m.world.steps[before]
    assert isinstance(record.action, ByzantineSend), "the kernel accepted B's own statement"
    replies = [e.envelope.payload for e in record.events
               if isinstance(e, Sent) and e.envelope.src == server(2)]
    assert [type(r).__name__ for r in replies] == ["ReadPartial"], \
        "S2 signed a read reply on evidence that carries B's own report"


def test_a_new_collection_of_acknowledgements_assembled_from_held_ones() -> None:
    m = split_machine()
    m.invoke(data=Script(0, True, False, HONEST))  # C1 writes v1, nobody cut off
    held_collections = set(m.world.knowledge.objects(tuple))
    candidates = composed(m.adversary, typing.get_type_hints(SignWriteReply)["acks"])
    acks = [c for c in candidates if c and all(type(s.body).__name__ == "Ack" for s in c)
            and len({s.signer for s in c}) >= 3]
    fresh = [c for c in acks if c not in held_collections]
    assert fresh, "B assembles a quorum of acknowledgements it never received as one collection"
    assert any(any(s.signer not in m.world.knowledge.byzantine for s in c) for c in fresh)
    sample = fresh[0]
    ack = sample[0].body
    message = build(m.adversary, SignWriteReply, [("op", ack.op), ("value", ack.value),
                                                  ("ts", ack.ts), ("acks", sample)])
    before = len(m.world.steps)
    m._b_send(server(1), message)
    assert isinstance(m.world.steps[before].action, ByzantineSend)
    assert isinstance(sample[0], NodeSigned)


def test_a_byzantine_server_restates_a_correct_report_over_an_older_datum() -> None:
    from tssbqs_pbt.strategies.evidence import restated

    m = split_machine(q=2)
    m.invoke(data=Script(0, True, False, HONEST))  # C1 writes v1: B sees reports of v0
    m.invoke(data=Script(2, True, False, HONEST))  # C3 writes v2
    m.invoke(data=Script(1, False, False, HONEST))  # C2 reads: reports of v2 reach B
    mine = restated(m.adversary)
    assert mine and all(s.signer == server(4) for s in mine)
    bodies = [s.body for s in mine if isinstance(s.body, Report)]
    assert {b.datum.value for b in bodies} >= {"v0", "v1", "v2"}, \
        "B may restate a report with any datum it holds, older ones included"


def test_b_may_send_what_it_builds_to_a_client() -> None:
    m = split_machine()
    m.invoke(data=Script(0, True, False, HONEST))
    targets = [*m.setup.config.correct_servers, *m.setup.config.client_ids]
    before = len(m.world.steps)
    m._send_out(Script(targets.index(m.setup.config.client_ids[1])), object())
    # (an object that is no protocol message is refused by the kernel: nothing happens)
    assert len(m.world.steps) == before
    message = next(iter(m.adversary.messages()))
    m._send_out(Script(targets.index(m.setup.config.client_ids[1])), message)
    sent = m.world.steps[before].action
    assert isinstance(sent, ByzantineSend) and sent.dst == m.setup.config.client_ids[1]


# -- pauses: the random machine's operations may stop for the adversary, as the explorer's do --
# (B gets a write's request signed ahead, the explorer's shortest schedule for this design:
# C1 writes with S1 cut off and pauses once S4 answered its third message; S4 sends every
# correct server a signing request for the write at a timestamp it makes up; C1 writes again)
SIGNED_AHEAD = (
    {"rule": "invoke", "client": 0, "write": True, "new cut": True, "cut off: how many": WIDEST,
     "cut off (any)": 3, "cut off": 0, "S4 does": HONEST, "pause": 3},
    {"rule": "synthesise", "as": 0, "kind": 2, "to": -1},
    {"rule": "invoke", "client": 0, "write": True},
)


def test_the_search_and_the_explorer_pause_alike() -> None:
    assert split_machine().setup.pauses == Scope().pauses == 3


def test_an_operation_pauses_for_the_adversary_then_runs_on() -> None:
    m = split_machine(t=3, sign_guard="NONE", request_dedup="STORED")
    invoke, synthesise, again = SIGNED_AHEAD
    m.invoke(data=Moves(invoke))
    assert m._paused and m.world.pending, "the write stopped once S4 answered"
    enabled = type(m).invoke.hypothesis_stateful_rule.preconditions
    assert not all(p(m) for p in enabled), "no operation starts while one is paused"
    m.synthesise(data=Moves(synthesise))
    sent = [s.action for s in m.world.steps if isinstance(s.action, ByzantineSend)]
    assert {type(a.payload).__name__ for a in sent} >= {"SignDatum"}
    assert not m._paused and not m.world.pending, "after S4's action the write went on"
    m.safe()
    m.invoke(data=Moves(again))
    with pytest.raises(PropertyViolated, match="P1"):
        m.safe()
        m.teardown()


def test_the_same_schedule_without_the_pause_breaks_nothing() -> None:
    m = split_machine(t=3, sign_guard="NONE", request_dedup="STORED")
    for move in SIGNED_AHEAD:
        getattr(m, move["rule"])(data=Moves({**move, "pause": 0}))
        m.safe()
    m.teardown()


def test_a_run_ending_at_a_pause_lets_the_operation_finish() -> None:
    m = split_machine()
    m.invoke(data=Moves(SIGNED_AHEAD[0]))
    assert m._paused
    m.teardown()  # (the adversary did nothing more: the network runs on, then the drain)
    assert not m._paused
    assert [type(h.event).__name__ for h in m.world.history][:2] == ["Invoked", "Completed"]


def test_random_split_runs_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    paused: list[bool] = []
    exchange = PartitionRules._exchange

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        exchange(self, *args, **kwargs)
        paused.append(self._paused)

    monkeypatch.setattr(PartitionRules, "_exchange", spy)
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol = DesignProtocol(design)
    search(protocol, design.config(byzantine={4}), budget=Budget(40), seed=5,
           tactics=(Tactic.SPLIT,), shares=(1,))
    assert any(paused), "no operation of 40 random SPLIT runs paused for the adversary"
    assert not all(paused)


@pytest.mark.parametrize("client", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_pause_comes_once_b_answered_the_kth_message_of_the_operation(k: int,
                                                                       client: int) -> None:
    # (it counted what B had received, not what it had answered: C3's write with k=3 paused
    # once B had answered its fourth message)
    m = split_machine()
    m.invoke(data=Moves({**SIGNED_AHEAD[0], "pause": k, "client": client}))
    assert m._paused
    assert m.adversary.cursor == k, f"B answered {m.adversary.cursor} messages, not {k}"
