"""The kernel runs protocols, enforces the model, and reports faults clearly."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from toy_protocols import Answer, Query, RaisingRegister, Store, ToyRegister, datum_bytes

from tssbqs_pbt.crypto import PartialSignature, Signature
from tssbqs_pbt.errors import InvalidAction, InvalidArgument, InvalidProtocol, ProtocolFault
from tssbqs_pbt.kernel import (
    Absorbed,
    ByzantineSend,
    Completed,
    Deliver,
    Drain,
    Faulted,
    Invoke,
    Learned,
    NodeSigned,
    OpResult,
    Phase,
    Settle,
    SystemConfig,
    World,
    client,
    read,
    server,
    step,
    write,
)

B = server(4)
C1, C2 = client(1), client(2)


def world(t: int = 2, byzantine: frozenset[int] = frozenset({4})) -> World:
    return World(ToyRegister(), SystemConfig(n=4, f=1, q=3, t=t, byzantine=byzantine))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(n=4, f=1, q=5, t=2), "q=5 exceeds n=4"),
        (dict(n=4, f=1, q=3, t=5), "t=5 exceeds n=4"),
        (dict(n=4, f=1, q=3, t=0), "t=0 must be at least 1"),
        (dict(n=0, f=0, q=1, t=1), "n=0 must be at least 1"),
        (dict(n=4, f=-1, q=3, t=2), "f=-1 must be at least 0"),
        (dict(n=4, f=5, q=3, t=2), "f=5 exceeds n=4"),
        (dict(n=4, f=1, q=3, t=2, byzantine={3, 4}), "choose at most f Byzantine"),
        (dict(n=4, f=1, q=3, t=2, byzantine={9}), "not server indices in 1..4"),
        (dict(n=4, f=1, q=3, t=2, clients=0), "clients=0 must be at least 1"),
        (dict(n="4", f=1, q=3, t=2), "must be an int"),
    ],
)
def test_config_rejects_impossible_values_naming_them(kwargs: dict, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment.replace(".", r"\.")):
        SystemConfig(**kwargs)


def test_unsafe_but_possible_configs_are_allowed() -> None:
    SystemConfig(n=4, f=1, q=2, t=1, byzantine={4})  # t <= f and a small quorum
    SystemConfig(n=3, f=1, q=2, t=3)  # n <= 3f


def test_honest_write_then_read_completes_and_history_is_client_visible() -> None:
    w = world(byzantine=frozenset())
    step(w, Invoke(C1, write("a")))
    step(w, Settle())
    step(w, Invoke(C2, read()))
    step(w, Settle())
    completions = [r.event for r in w.history if isinstance(r.event, Completed)]
    assert [c.result for c in completions] == [OpResult("a", 11), OpResult("a", 11)]
    assert not w.pending and len(w.pool) == 0


def test_messages_to_byzantine_servers_join_knowledge_not_the_pool() -> None:
    w = world()
    record = step(w, Invoke(C1, write("a")))
    absorbed = [e for e in record.events if isinstance(e, Absorbed)]
    assert len(absorbed) == 1
    assert all(env.dst != B for env in w.pool)
    (store,) = w.knowledge.objects(Store)
    assert store.value == "a"
    assert w.knowledge.field_values("Store", "value") == ("a",)
    assert w.knowledge.holds(store.request)


def test_byzantine_server_cannot_forge_a_correct_partial() -> None:
    w = world()
    s1_share = w.dealing.shares[0]
    forged = w.scheme.partial_sign(s1_share, datum_bytes("evil", 99))
    with pytest.raises(InvalidAction, match="partial signature of correct server S1"):
        step(w, ByzantineSend(B, server(1), Answer(None, "evil", 99, forged)))
    assert w.steps == []  # a refused action changes nothing


def test_byzantine_server_may_use_its_own_share_and_lie_about_plain_data() -> None:
    w = world()
    own = w.knowledge.own_partial(4, datum_bytes("evil", 99))
    assert own is not None
    step(w, ByzantineSend(B, C1, Answer(None, "evil", 99, own)))


def test_byzantine_server_cannot_forge_a_client_request() -> None:
    w = world()
    fake = NodeSigned(C1, ("evil", 99))
    with pytest.raises(InvalidAction, match="signed by correct process C1"):
        step(w, ByzantineSend(B, server(1), Store(fake, "evil", 99)))


def test_replaying_a_held_client_request_is_allowed() -> None:
    w = world()
    step(w, Invoke(C1, write("a")))
    (store,) = w.knowledge.objects(Store)
    step(w, ByzantineSend(B, server(1), Store(store.request, "a", 500), immediate=True))
    assert w.states[server(1)].ts == 500


def test_adversary_combines_signatures_from_t_partials_including_its_own() -> None:
    w = world(t=2)
    record = step(w, ByzantineSend(B, server(1), Query(None), immediate=True))
    learned = [e.signature for e in record.events if isinstance(e, Learned)]
    assert [s.msg for s in learned] == [datum_bytes("v0", 0)]
    assert w.scheme.verify(w.dealing.public_key, learned[0].msg, learned[0])
    sig = w.knowledge.signature_on(datum_bytes("v0", 0))
    assert sig == learned[0]
    # a signature on something no correct server signed stays out of reach at t=2
    assert w.knowledge.signature_on(datum_bytes("evil", 99)) is None


def test_with_t_at_most_f_the_adversary_signs_anything() -> None:
    w = world(t=1)
    sig = w.knowledge.signature_on(b"anything")
    assert isinstance(sig, Signature)
    assert w.knowledge.why_not_derivable(sig) is None


def test_signature_not_derivable_is_refused() -> None:
    w = world(t=3)
    other = World(ToyRegister(), w.config)
    partials = [other.scheme.partial_sign(s, b"m") for s in other.dealing.shares[:3]]
    sig = other.scheme.combine(other.dealing.public_key, other.dealing.verification, b"m",
                               partials)
    assert w.knowledge.why_not_derivable(sig) is not None
    assert isinstance(partials[0], PartialSignature)


def test_only_byzantine_servers_may_inject_and_only_declared_messages() -> None:
    w = world()
    with pytest.raises(InvalidAction, match="S1 is not Byzantine"):
        step(w, ByzantineSend(server(1), server(2), Query(None)))
    with pytest.raises(InvalidAction, match="not a message type of protocol 'toy-register'"):
        step(w, ByzantineSend(B, server(2), OpResult("x")))


def test_deliver_unknown_message_and_busy_client_are_refused() -> None:
    w = world()
    with pytest.raises(InvalidAction, match="message #42 is not in flight"):
        step(w, Deliver(42))
    step(w, Invoke(C1, write("a")))
    with pytest.raises(InvalidAction, match="C1 is still running C1#1"):
        step(w, Invoke(C1, read()))
    with pytest.raises(InvalidAction, match="C9 is not a client"):
        step(w, Invoke(client(9), read()))


def test_drain_delivers_everything_and_ends_the_attack() -> None:
    w = world()
    step(w, Invoke(C1, write("a")))
    step(w, Invoke(C2, read()))
    step(w, Drain())
    assert w.phase is Phase.DRAIN and len(w.pool) == 0 and not w.pending
    with pytest.raises(InvalidAction, match="after the drain phase"):
        step(w, ByzantineSend(B, server(1), Query(None)))


def test_drain_respects_its_step_bound() -> None:
    w = world(byzantine=frozenset())
    step(w, Invoke(C1, write("a")))
    record = step(w, Drain(max_deliveries=2))
    # 4 stores in flight; 2 delivered, each answered: 2 left + 2 answers
    assert record.events[-1].delivered == 2 and record.events[-1].in_flight == 4


def test_handler_exception_is_a_protocol_fault_naming_protocol_node_and_step() -> None:
    w = World(RaisingRegister(), SystemConfig(n=4, f=1, q=3, t=2))
    step(w, Invoke(C1, read()))
    in_flight = w.pool.ids()[0]
    with pytest.raises(ProtocolFault, match=r"'raising-register': S1 raised RuntimeError: boom"):
        step(w, Deliver(in_flight))
    assert isinstance(w.steps[-1].events[-1], Faulted)


class _NoHandlers:
    name = "half-done"
    message_types = ()

    def init_server(self, ctx: object) -> None:
        return None


def test_malformed_protocol_is_rejected_naming_the_missing_parts() -> None:
    with pytest.raises(InvalidProtocol, match=r"'half-done' lacks handler.*on_server_message"):
        World(_NoHandlers(), SystemConfig(n=4, f=1, q=3, t=2))  # type: ignore[arg-type]


def test_world_copy_is_independent() -> None:
    w = world()
    step(w, Invoke(C1, write("a")))
    twin = w.copy()
    step(twin, Settle())
    assert len(w.pool) == 3 and len(twin.pool) == 0
    assert len(w.steps) == 1 and len(twin.steps) == 2
    assert w.pending and not twin.pending


def test_settle_may_hold_back_what_goes_to_some_nodes_and_replays_the_same() -> None:
    from tssbqs_pbt.kernel import Trace, replay

    w = world(byzantine=frozenset())
    slow = server(3)
    step(w, Invoke(C1, write("a")))
    step(w, Settle(hold=frozenset({slow})))
    assert w.pool and all(e.dst == slow for e in w.pool)  # the rest was delivered
    step(w, Settle())
    assert not w.pool
    again = replay(Trace.of(w), ToyRegister())
    assert Trace.of(again).to_json() == Trace.of(w).to_json()


def test_settle_stops_at_its_bound() -> None:
    w = world(byzantine=frozenset())
    step(w, Invoke(C1, write("a")))
    record = step(w, Settle(max_deliveries=2))
    delivered = [e for e in record.events if type(e).__name__ == "Delivered"]
    assert len(delivered) == 2


def test_walk_visits_depth_first_in_field_order() -> None:
    from tssbqs_pbt.kernel.codec import walk

    value = Store(Query(None), "a", 5)
    nested = (value, frozenset({2, 1}), ("x", (3,)))

    def reference(v: Any) -> list[Any]:  # the plain recursive definition
        out = [v]
        if isinstance(v, tuple):
            for item in v:
                out += reference(item)
        elif isinstance(v, frozenset):
            for item in sorted(v):
                out += reference(item)
        elif attrs.has(type(v)):
            for a in attrs.fields(type(v)):
                out += reference(getattr(v, a.name))
        return out

    assert list(walk(nested)) == reference(nested)


def test_a_combined_signature_forwarded_later_is_learned_with_its_parts() -> None:
    # absorb skips the parts of objects it knows; a signature it combined itself was known
    # without its parts, and must still teach them when a message carries it
    w = world(t=2)
    step(w, ByzantineSend(B, server(1), Query(None), immediate=True))
    sig = w.knowledge.signature_on(datum_bytes("v0", 0))
    assert sig is not None and w.knowledge.holds(sig)
    assert sig.value not in w.knowledge.objects(int)  # combined: its parts never walked
    w.knowledge.absorb((sig,))
    assert sig.value in w.knowledge.objects(int)
    w.knowledge.absorb((sig,))  # and once is enough
    assert w.knowledge.objects(int).count(sig.value) == 1
