"""What the generic adversary offers, and in which order: fabricated unsigned data, data about
the value a request writes first, signed data B keeps to itself before anything else (until it
sends it), and the skewed index draw that favours the front of a pool."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, ProtocolSpec
from tssbqs_pbt.protocols.messages import Datum, SignDatum, Store
from tssbqs_pbt.strategies import Adversary
from tssbqs_pbt.strategies.draws import pick as _pick
from tssbqs_pbt.strategies.synthesis import coherent_first, field_pools

from tssbqs_pbt.kernel import ByzantineSend, Invoke, Settle, World, client, server, step, write


def _after_two_writes(store_form: str) -> Adversary:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(store_form=store_form))
    protocol = DesignProtocol(design)
    world = World(protocol, design.config(byzantine={4}))
    for who, value in ((1, "v1"), (2, "v2")):
        step(world, Invoke(client(who), write(value)))
        step(world, Settle(5_000))
    spec = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol)
    return Adversary(world, spec.declarations(protocol))


def test_fabrications_are_unsigned_data_above_every_timestamp_seen() -> None:
    adversary = _after_two_writes("UNSIGNED")
    made = adversary.fabrications(Datum)
    assert made, "B can always make up an unsigned datum"
    assert all(d.sig is None for d in made)
    highest = max(ts for d in adversary.world.knowledge.objects(Datum) for ts in [d.ts])
    assert all(d.ts > highest for d in made)
    assert {"v1", "v2", "fake"} <= {d.value for d in made}


def test_a_datum_for_the_requests_own_value_comes_before_one_for_its_basis() -> None:
    adversary = _after_two_writes("UNSIGNED")
    pools = dict(field_pools(adversary, Store))
    requests = [r for r in pools["request"]
                if getattr(getattr(r, "body", None), "value", None) == "v1"]
    assert requests, "B holds v1's signed write request"
    ordered = coherent_first(adversary, [requests[0]], pools["datum"])
    # v1's request also carries its basis (v0): data about v1 itself come first
    firsts = [d.value for d in ordered[:2]]
    assert firsts == ["v1", "v1"], ordered[:4]
    assert any(d.value == "v1" and d.sig is None and d.ts > (2, 2) for d in ordered[:4])


def test_signed_data_b_keeps_to_itself_come_first_until_it_sends_them() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(sign_guard="NONE"))
    protocol = DesignProtocol(design)
    world = World(protocol, design.config(byzantine={4}))
    step(world, Invoke(client(1), write("v1")))
    step(world, Settle(5_000))
    adversary = Adversary(world, ProtocolSpec(name=protocol.name,
                                              build=lambda n, f: protocol).declarations(protocol))
    assert adversary.withheld() == frozenset()  # everything B holds, a correct server sent
    request = dict(field_pools(adversary, SignDatum))["request"][0]
    for s in (1, 2, 3):  # B asks for <v1, 1000> (SIGN_GUARD=NONE: servers sign anything)
        step(world, ByzantineSend(server(4), server(s), SignDatum(request, (1000, 1)), True))
    step(world, Settle(5_000))
    assert len(adversary.withheld()) == 1
    step(world, Invoke(client(2), write("v2")))
    step(world, Settle(5_000))
    datum = dict(field_pools(adversary, Store))["datum"][0]
    assert (datum.value, datum.ts) == ("v1", (1000, 1))  # before v2's newer honest datum
    step(world, ByzantineSend(server(4), server(1), Store(request, datum), True))
    assert adversary.withheld() == frozenset()  # released: no longer kept back
    assert dict(field_pools(adversary, Store))["datum"][0] != datum


def test_synthesis_draws_the_data_field_first() -> None:
    adversary = _after_two_writes("SIGNED")
    assert [name for name, _ in field_pools(adversary, Store)] == ["datum", "request"]


@settings(max_examples=400, database=None, derandomize=True)
@given(st.data())
def test_pick_stays_in_range(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 40))
    assert 0 <= _pick(data, size, "x") < size


def test_pick_favours_the_front_of_the_pool_and_still_reaches_the_back() -> None:
    seen: Counter[int] = Counter()

    @settings(max_examples=600, database=None, derandomize=True)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        seen[_pick(data, 10, "x")] += 1

    draw()
    total = sum(seen.values())
    assert seen[0] / total > 0.3  # uniform would give 0.1
    assert seen[9] > 0  # the uniform half reaches every index
