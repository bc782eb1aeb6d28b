"""The LAG machine can express SPEC's attacks in a few coarse rules, each draw an index into a
pool: driven by hand here (every draw scripted), so a change of the machine that loses an attack
shows up as a failing test rather than as a lower find rate in a benchmark."""

from __future__ import annotations

from typing import Any

import pytest
from scripted import Script
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, ProtocolSpec
from tssbqs_pbt.strategies.draws import NETWORK_MODES
from tssbqs_pbt.strategies.synthesis import (
    carrying_data,
    field_pools,
    made_up,
    synthesisable,
)

from tssbqs_pbt.engine.machine import PropertyViolated, SearchSetup, Tactic, make_machine
from tssbqs_pbt.kernel import read, server

HONEST = NETWORK_MODES.index("honest")  # the network draws of the LAG machine's operations
KEEP = NETWORK_MODES.index("keep")


def lag_machine(**options: str) -> Any:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(**options))
    protocol = DesignProtocol(design)
    declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
        protocol)
    setup = SearchSetup(protocol, design.config(byzantine={4}), declarations,
                        signed_value=protocol.signed_value, tactic=Tactic.LAG)
    return make_machine(setup)()


def test_a8_done_before_any_store_needs_b_to_keep_its_stores() -> None:
    # ACK_MODE=NONE: B (delegate of C3's write, S3 lagging) follows the protocol but keeps its
    # Store messages; the write is "done" with the datum stored nowhere; the probe after the
    # operation (B kept something) reads v0 on a copy of the world
    m = lag_machine(ack_mode="NONE")
    m.start(warmup=1, data=Script(server(3)))
    m.safe()
    kinds = [k.__name__ for k in m.kinds_seen()]
    keep = kinds.index("Store")
    before = len(m.world.steps)
    # client C3, a write, the lag stays, network runs with B keeping one kind (uniform pick)
    with pytest.raises(PropertyViolated, match="P1") as caught:
        m.invoke(data=Script(2, True, 0, KEEP, 3, keep))
    probe = caught.value.trace.steps
    assert not m.world.pending, "the write is done"
    assert len(m.world.steps) > before and list(m.world.steps) == list(probe[:len(m.world.steps)])
    first = probe[len(m.world.steps)].action
    assert type(first).__name__ == "Invoke" and first.operation == read(), \
        "the copy goes on with a read; the run's own world does not"
    assert not any(type(s.action).__name__ == "Drain" for s in probe)


def test_the_probe_leaves_the_run_as_it_was() -> None:
    # family C, the same schedule: the probe reads (on a copy) and finds nothing; the run's
    # world and B (its place in what it received, what it holds, the signatures it knows) are
    # those of a run without the probe, step for step
    runs = []
    for probe in (True, False):
        m = lag_machine()
        if not probe:
            m._probe = lambda: None
        m.start(warmup=1, data=Script(server(3)))
        keep = [k.__name__ for k in m.kinds_seen()].index("Store")
        m.invoke(data=Script(2, True, 0, KEEP, 3, keep))
        m.invoke(data=Script(0, False, 0, HONEST))
        m.safe()
        m.teardown()
        runs.append((list(m.world.steps), m.adversary.cursor, list(m.adversary.held),
                     m.world.knowledge.signatures))
    assert runs[0] == runs[1]


def test_without_keeping_the_same_schedule_is_harmless() -> None:
    m = lag_machine(ack_mode="NONE")
    m.start(warmup=1, data=Script(server(3)))
    m.invoke(data=Script(2, True, 0, HONEST))  # B follows the protocol and sends everything
    m.invoke(data=Script(0, False, 0, HONEST))
    m.safe()
    m.teardown()


def test_family_c_resists_the_same_schedule() -> None:
    # ACK_MODE=EVIDENCE: "done" needs q signed acknowledgements, so B keeping its stores
    # only delays the write
    m = lag_machine()
    m.start(warmup=1, data=Script(server(3)))
    keep = [k.__name__ for k in m.kinds_seen()].index("Store")
    m.invoke(data=Script(2, True, 0, KEEP, 3, keep))
    m.invoke(data=Script(0, False, 0, HONEST))
    m.safe()
    m.teardown()


def test_a9_released_to_one_server_then_that_server_lags() -> None:
    # ACK_MODE=PIGGYBACK: B keeps its stores (the signed datum stays withheld), releases the
    # datum to S1 alone (index 0 of every pool: withheld data first), S1's acknowledgement
    # and B's partial sign "done"; the read starts with S1 lagging instead of S3
    m = lag_machine(ack_mode="PIGGYBACK")
    m.start(warmup=1, data=Script(server(3)))
    keep = [k.__name__ for k in m.kinds_seen()].index("Store")
    m.invoke(data=Script(2, True, 0, KEEP, 3, keep))
    assert m.adversary.withheld(), "B combined the datum's signature and kept it"
    kinds = [k.__name__ for k in synthesisable(m.adversary)]
    # (S3 lags: no "stale data first") Store, every field at index 0, then "to" 0: S1 alone
    m.synthesise(data=Script(False, kinds.index("Store"), *([0] * 9)))
    assert not m.world.pending, "the write is done"
    with pytest.raises(PropertyViolated, match="P1"):
        # C1 reads (C1#2: to S2, S3); the lag moves (3), to S1 (uniform pick, index 3 of
        # S2, S3 — where the request went — none, S1); B honest
        m.invoke(data=Script(0, False, 3, 3, 3, HONEST))
        m.safe()


def test_the_lag_moves_first_to_a_correct_server_the_new_request_went_to() -> None:
    # C3's first write goes to S3 and B = S4: when the lag moves, the pick's index 0 (its most
    # likely draw) is S3, which leaves B the only delegate at work; then none, S1, S2
    for index, lagging in enumerate([{server(3)}, set(), {server(1)}, {server(2)}]):
        m = lag_machine()
        m.start(warmup=0, data=Script(None))
        m.invoke(data=Script(2, True, 3, 3, index, 0))  # the lag moves, uniform pick; wait
        assert m.lagging == lagging, index
    m = lag_machine()
    m.start(warmup=0, data=Script(None))
    m.invoke(data=Script(2, True, 3, 0, 0, 0))  # the geometric pick's first index
    assert m.lagging == {server(3)}


def _sign_high_for_first_request(m: Any) -> None:
    """B asks every correct server to sign the first write's value at a timestamp above all it
    has seen (kind SignDatum; the second-newest client request; the invented timestamp; no
    evidence; to every correct server)."""
    from tssbqs_pbt.protocols.messages import SignDatum

    kinds = synthesisable(m.adversary)
    m.synthesise(data=Script(kinds.index(SignDatum), 3, 1, 0, 0, 0, 0, -1))
    m.safe()


def test_a5_b_releases_what_it_kept_and_the_final_read_sees_it() -> None:
    # SIGN_GUARD=NONE: after two writes, B gets <v1, high ts> signed and keeps it; its last act
    # releases it in place of v1's older datum, and the read after the drain returns v1
    m = lag_machine(sign_guard="NONE")
    m.start(warmup=2, data=Script(None))
    _sign_high_for_first_request(m)
    released = m.adversary.releases()
    stores = [r for r in released if type(r).__name__ == "Store"]
    assert len(stores) == 1
    assert stores[0].request.body.value == stores[0].datum.value == "v1"
    assert stores[0].datum.ts > (2, 2)
    with pytest.raises(PropertyViolated, match="P1") as caught:
        m.teardown()
    kinds = [type(s.action).__name__ for s in caught.value.trace.steps]
    assert kinds[-3:] == ["Drain", "Invoke", "Drain"], "the final read follows the drain"


def test_family_c_leaves_nothing_to_release() -> None:
    # SIGN_GUARD=EVIDENCE: no correct server signs <v1, high ts> without a basis that pins it
    m = lag_machine()
    m.start(warmup=2, data=Script(None))
    _sign_high_for_first_request(m)
    assert m.adversary.releases() == ()
    m.teardown()


WITHHOLD_ONE = NETWORK_MODES.index("withhold-one")


def _write_telling_one_server(m: Any) -> None:
    # S3 lags; C3 (whose other delegate is S3) writes; B follows the protocol but sends what
    # carries the datum's signature (which it combined) to S1 alone, not even to itself, and
    # hands C3 the reply it can sign; the network then delays S1
    m.start(warmup=0, data=Script(server(3)))
    m.invoke(data=Script(2, True, 0, WITHHOLD_ONE))
    m.safe()


def test_a9_withhold_one_then_the_read_before_the_drain_misses_the_write() -> None:
    # ACK_MODE=PIGGYBACK: S1's acknowledgement partial and B's sign "done" after one correct
    # store; the probe after the write (the network still delaying S1, B honest) meets S2,
    # S3 and B, which all hold v0
    m = lag_machine(ack_mode="PIGGYBACK")
    with pytest.raises(PropertyViolated, match="P1") as caught:
        _write_telling_one_server(m)
    assert not m.world.pending, "the write is done"
    assert m.lagging == {server(1)}
    kinds = [type(s.action).__name__ for s in caught.value.trace.steps]
    assert "Drain" not in kinds, "the read that breaks P1 runs before the network heals"
    m = lag_machine(ack_mode="PIGGYBACK")  # without the probe, the read the run ends with
    m._probe = lambda: None
    _write_telling_one_server(m)
    with pytest.raises(PropertyViolated, match="P1") as caught:
        m.teardown()
    assert "Drain" not in [type(s.action).__name__ for s in caught.value.trace.steps]


def test_family_c_resists_withhold_one() -> None:
    # ACK_MODE=EVIDENCE: "done" needs q signed acknowledgements; the write stays pending, the
    # read before the drain and the drain break nothing
    m = lag_machine()
    _write_telling_one_server(m)
    assert m.world.pending, "one store is not enough for family C"
    m.teardown()


def test_withhold_keeps_what_only_b_holds_and_release_tells_one_server() -> None:
    # ACK_MODE=NONE: with "withhold", B keeps the stores of the datum it combined (the write is
    # "done" anyway); "release" sends the kept store to S1 alone and the network delays S1
    m = lag_machine(ack_mode="NONE")
    m._probe = lambda: None  # (it would read v0 after the write: a violation, shown above)
    m.start(warmup=0, data=Script(server(3)))
    m.invoke(data=Script(2, True, 0, NETWORK_MODES.index("withhold")))
    assert [type(k).__name__ for k in m.kept] == ["Store"]
    m.release(data=Script(0, 0, True))  # the newest kept message, to S1, then delay S1
    assert m.lagging == {server(1)}
    stored_at_s1 = [s for s in m.world.steps
                    if type(s.action).__name__ == "ByzantineSend" and s.action.dst == server(1)]
    assert stored_at_s1 and type(stored_at_s1[-1].action.payload).__name__ == "Store"


def _stale_read(m: Any, stale: bool) -> None:
    # v1 everywhere; S3 lags from C2's write of v2 on (C2#1 goes to S2, S3; the lag moves: 3,
    # uniform pick 1 of S2, S3, none, S1 = S3),
    # which completes without it; C3 reads (the network waits); B builds a SignRead for the
    # read, its datum drawn first from what the network delivered to S3 (or not), every other
    # field at index 0, sent to every correct server
    m.start(warmup=1, data=Script(None))
    m.invoke(data=Script(1, True, 3, 3, 1, HONEST))
    assert m.lagging == {server(3)} and not m.world.pending
    m.invoke(data=Script(2, False, 0, 0))
    _sign_read(m, stale)


def _sign_read(m: Any, stale: bool) -> None:
    # (with "stale data first", the kind is drawn among those carrying data)
    from tssbqs_pbt.protocols.messages import SignRead

    kinds = synthesisable(m.adversary)
    if stale:
        kinds = carrying_data(m.adversary, kinds)
    m.synthesise(data=Script(stale, kinds.index(SignRead), *([0] * 8), -1))
    m.safe()


def test_a11_a_stale_datum_the_lagging_server_holds_gets_vouched_for() -> None:
    # READ_GUARD=LOCAL: S3 signs a read reply over v1, not older than its own datum; with B's
    # partial that is a service signature B hands C3: the read returns v1 after v2 completed
    m = lag_machine(read_guard="LOCAL")
    with pytest.raises(PropertyViolated, match="regular"):
        _stale_read(m, stale=True)


def test_a11_without_stale_data_first_the_newest_datum_is_harmless() -> None:
    m = lag_machine(read_guard="LOCAL")
    _stale_read(m, stale=False)  # the datum drawn is v2's: the reply B gets is correct
    m.teardown()


def test_family_c_resists_the_stale_read() -> None:
    # READ_GUARD=EVIDENCE: S3 signs a read reply only with q signed reports showing the datum
    # is the newest, and B's SignRead carries none
    m = lag_machine()
    _stale_read(m, stale=True)
    m.teardown()


def _read_while_lagging_from_the_start(m: Any, stale: bool) -> None:
    # S3 lags from the start: C1's write of v1 completes without it (S3 still holds the
    # initial datum, which no correct process ever sent it); C3 reads (the network waits); B
    # builds a SignRead for the read, its datum drawn first from what S3 holds (or not)
    m.start(warmup=1, data=Script(server(3)))
    assert not m.world.pending
    m.invoke(data=Script(2, False, 0, 0))
    _sign_read(m, stale)


def test_a11_a_server_delayed_from_the_start_vouches_for_the_initial_datum() -> None:
    # nothing was delivered to S3, so "stale data first" puts the oldest datum B knows first:
    # the initial one S3 still holds; S3 signs the read reply over it, and C3 reads v0 after v1
    m = lag_machine(read_guard="LOCAL")
    with pytest.raises(PropertyViolated, match="regular") as caught:
        _read_while_lagging_from_the_start(m, stale=True)
    read = caught.value.verdict.violations[0]
    assert "v0" in str(read), read


def test_a11_delayed_from_the_start_without_stale_first_is_harmless() -> None:
    m = lag_machine(read_guard="LOCAL")
    _read_while_lagging_from_the_start(m, stale=False)
    m.teardown()


def test_family_c_resists_the_read_while_lagging_from_the_start() -> None:
    m = lag_machine()
    _read_while_lagging_from_the_start(m, stale=True)
    m.teardown()


def test_stale_first_ignores_what_b_sent_the_lagging_server() -> None:
    # B asks S3 (lagging) to vouch for v1's datum; that delivery is B's own, so S3's data
    # are still only what correct processes sent it: nothing
    from tssbqs_pbt.protocols.messages import SignRead

    m = lag_machine(read_guard="LOCAL")
    m.start(warmup=1, data=Script(server(3)))
    datum = m.world.states[server(1)].datum
    assert datum.value == "v1"
    assert m.deliveries.to(server(3)) == ()
    m.invoke(data=Script(2, False, 0, 0))
    read = m.world.pending[next(iter(m.world.pending))]
    m._b_send(server(3), SignRead(read, 0, datum, ()))
    sent = m.world.steps[-1].action
    assert type(sent).__name__ == "ByzantineSend" and sent.dst == server(3), "B's send happened"
    assert datum not in m.deliveries.to(server(3))


def test_stale_data_first_draws_among_the_kinds_carrying_data() -> None:
    # of the requests B can build after a write, only SignRead and Store have a datum field
    m = lag_machine(read_guard="LOCAL")
    m.start(warmup=1, data=Script(server(3)))
    kinds = synthesisable(m.adversary)
    assert {k.__name__ for k in kinds} > {"SignRead", "Store"}
    assert [k.__name__ for k in carrying_data(m.adversary, kinds)] == ["SignRead", "Store"]


def test_no_stale_draw_while_no_operation_runs() -> None:
    # S3 lags but nothing is pending: the first draw of synthesise is the kind itself
    m = lag_machine(read_guard="LOCAL")
    m.start(warmup=1, data=Script(server(3)))
    assert m.lagging and not m.world.pending
    script = Script(0)
    m.synthesise(data=script)
    assert script.labels[0] == "kind"
    m.invoke(data=Script(2, False, 0, 0))  # C3 reads, the network waits
    script = Script(0)
    m.synthesise(data=script)
    assert script.labels[0] == "stale data first"


def _store_made_up_v1(m: Any) -> Script:
    """After two writes, B stores v1 unsigned at a timestamp above all (a datum it made up) at
    S1 alone: kind Store; "made up" (3); the uniform pick of v1 among what B made up; the
    request coherent with it (index 0); "to" 0."""
    from tssbqs_pbt.protocols.messages import Store

    pool = dict(field_pools(m.adversary, Store))["datum"]
    invented = [d.value for d in made_up(m.adversary, pool)]
    script = Script(synthesisable(m.adversary).index(Store), 3, 3, invented.index("v1"),
                    0, 0, 0)
    m.synthesise(data=script)
    return script


def test_a12_b_stores_an_old_value_above_all_and_a_read_returns_it() -> None:
    # STORE_FORM=UNSIGNED: S1 accepts the made-up datum <v1, high ts> (nothing signs it), and
    # C3's read sees it above v2: regular semantics broken
    m = lag_machine(store_form="UNSIGNED")
    m.start(warmup=2, data=Script(None))
    script = _store_made_up_v1(m)
    assert script.labels[:2] == ["kind", "made up"]
    sent = next(e for e in m.world.steps[-1].events if type(e).__name__ == "Sent")
    assert sent.envelope.dst == server(1)
    datum = sent.envelope.payload.datum
    assert (datum.value, datum.sig) == ("v1", None) and datum.ts > (1000, 0)
    with pytest.raises(PropertyViolated, match="regular semantics"):
        m.invoke(data=Script(2, False, 0, HONEST))  # C3 reads; the lag stays; B honest
        m.safe()


def test_family_c_refuses_the_made_up_datum() -> None:
    # the same schedule against family C: S1 drops the unsigned datum, every read returns v2
    m = lag_machine()
    m.start(warmup=2, data=Script(None))
    _store_made_up_v1(m)
    m.invoke(data=Script(2, False, 0, HONEST))
    m.safe()
    m.teardown()
    done = [r.event.result.value for r in m.world.history
            if type(r.event).__name__ == "Completed"]
    assert done[:2] == ["v1", "v2"] and len(done) > 2 and set(done[2:]) == {"v2"}, done


def test_made_up_picks_what_b_made_up_in_pool_order() -> None:
    m = lag_machine(store_form="UNSIGNED")
    m.start(warmup=2, data=Script(None))
    from tssbqs_pbt.protocols.messages import Store

    pool = dict(field_pools(m.adversary, Store))["datum"]
    invented = made_up(m.adversary, pool)
    assert invented and all(d.sig is None and d.ts > (1000, 0) for d in invented)
    assert list(invented) == [d for d in pool if d in invented], "pool order kept"
    signed = tuple(d for d in pool if d.sig is not None)
    assert signed and made_up(m.adversary, signed) == ()
