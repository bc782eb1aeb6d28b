"""A synthesised message offers, in a value field beside a client-signed request, the values
that request binds first: a protocol that checks the request against the message's fields
accepts only those, so a made-up value there is refused before the attack can start.  A
timestamp keeps its order, so the adversary can still have a request's own value signed at a
timestamp it makes up (what a protocol that does not bind the timestamp lets through)."""

from __future__ import annotations

from tssbqs_pbt.protocols import FieldRole
from tssbqs_pbt.strategies import Adversary
from tssbqs_pbt.strategies.synthesis import coherent_first, field_pools, signed_leaves

from tests.lib.foreign_notary import NOTARY_UNBOUND, Endorse
from tssbqs_pbt.explore import Scope, explore
from tssbqs_pbt.kernel import Invoke, NodeSigned, Settle, World, client, step, write
from tssbqs_pbt.preflight import preflight


def test_the_leaves_of_a_signed_body_are_its_plain_values() -> None:
    order = NodeSigned(client(1), ("v1", (2, 1)), None)
    assert signed_leaves([order]) == {"v1", (2, 1), 2, 1}
    assert signed_leaves(["v1", (2, 1)]) == frozenset()  # (only what a signature binds)
    nested = NodeSigned(client(2), (order, "v2"), None)
    assert {"v1", "v2"} <= signed_leaves([nested])


def _after_a_write() -> Adversary:
    ready = preflight(NOTARY_UNBOUND, 4, 1)
    world = World(ready.protocol, ready.config)
    step(world, Invoke(client(1), write("v1")))
    step(world, Settle(5_000))
    step(world, Invoke(client(2), write("v2")))
    step(world, Settle(5_000))
    return Adversary(world, ready.declarations)


def test_a_value_beside_a_signed_order_is_the_orders_own_value_first() -> None:
    adversary = _after_a_write()
    pools = dict(field_pools(adversary, Endorse))
    orders = [o for o in pools["order"] if isinstance(o, NodeSigned) and o.body[0] == "v1"]
    assert orders, "B saw v1's signed order"
    values = coherent_first(adversary, [orders[0]], pools["value"], FieldRole.VALUE)
    assert values[0] == "v1", values
    # the timestamp pool is left in its own order
    stamps = coherent_first(adversary, [orders[0], "v1"], pools["stamp"], FieldRole.TIMESTAMP)
    assert stamps == coherent_first(adversary, [orders[0], "v1"], pools["stamp"])


def test_the_explorer_reaches_a_request_signed_at_another_stamp_with_one_candidate() -> None:
    # field_width=1: each field beside the order takes its first candidate only; before the
    # order came first, the value was a made-up one and this scope was exhausted clean
    ready = preflight(NOTARY_UNBOUND, 4, 1)
    scope = Scope(clients=1, interventions=2, pauses=3, field_width=1)
    result = explore(ready.protocol, ready.config, scope, declarations=ready.declarations)
    assert result.failure is not None, result.certificate
    assert result.moves[-1]["rule"] == "synthesise"
    assert len(result.moves) <= 3
