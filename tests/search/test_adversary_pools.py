"""What the generic adversary offers, and in which order: fabricated unsigned data, data about
the value a request writes first, and the skewed index draw that favours the front of a pool."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, ProtocolSpec
from tssbqs_pbt.protocols.messages import Datum, Store
from tssbqs_pbt.strategies import Adversary
from tssbqs_pbt.strategies.synthesis import coherent_first, field_pools

from tssbqs_pbt.kernel import Invoke, Settle, World, client, step, write
from tssbqs_pbt.machine import _pick


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
