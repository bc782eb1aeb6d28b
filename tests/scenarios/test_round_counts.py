"""Round counts of the two valid families, measured from traces (documented in docs/families.md).

One honest operation at a time (B=S4 runs the correct protocol through ``Attack.run()``).  For
each operation the trace gives:

- the client's requests: the body of each ``Request`` it broadcast to its delegates;
- the *request rounds*: the distinct message types a delegate broadcast to every server for the
  operation (a broadcast reaches all n servers; the answers go back to one delegate only), in
  the order they first appear;
- the reply types the servers sent back to a delegate.

A round is one request type; retries of a round (e.g. a ``SignDatum`` at a higher timestamp
after a ``Refuse``, or an ``AlreadyStored`` answer to the second delegate) do not add a round.
"""

from __future__ import annotations

from collections import defaultdict

import attrs
import pytest
from scenario import Attack
from tssbqs_pbt.protocols import Design, family_c, family_j
from tssbqs_pbt.protocols.messages import Request

from tssbqs_pbt.kernel import OpId, OpKind, Sent, read, walk, write
from tssbqs_pbt.properties import Status, operations

FAMILIES: dict[str, Design] = {
    "C t=2": family_c(4, 1, 2),
    "C t=3": family_c(4, 1, 3),
    "J": family_j(4, 1),
}


@attrs.frozen
class Rounds:
    client_requests: tuple[str, ...]  # body type of each Request the client broadcast
    requests: tuple[str, ...]  # request rounds: types broadcast by a delegate to all servers
    replies: frozenset[str]  # types a server sent back to one delegate

    @property
    def server_rounds(self) -> int:
        return len(self.requests)


def op_of(payload: object) -> OpId | None:
    """The operation a message belongs to: the first operation id nested in it."""
    return next((o for o in walk(payload) if isinstance(o, OpId)), None)


def measure(attack: Attack, op: OpId) -> Rounds:
    n = attack.world.config.n
    client_bodies: list[str] = []
    reached: dict[tuple[object, str], set[object]] = defaultdict(set)
    order: list[str] = []
    for record in attack.world.steps:
        for event in record.events:
            if not isinstance(event, Sent) or op_of(event.envelope.payload) != op:
                continue
            env = event.envelope
            kind = type(env.payload).__name__
            if env.src.is_client and isinstance(env.payload, Request):
                body = type(env.payload.request.body).__name__
                if not client_bodies or client_bodies[-1] != body:
                    client_bodies.append(body)
            elif env.src.is_server and env.dst.is_server:
                reached[(env.src, kind)].add(env.dst)
                if kind not in order:
                    order.append(kind)
    broadcast = {kind for (_, kind), dsts in reached.items() if len(dsts) == n}
    return Rounds(
        tuple(client_bodies),
        tuple(k for k in order if k in broadcast),
        frozenset(k for k in order if k not in broadcast),
    )


def sequential_run(design: Design) -> tuple[Attack, list[OpId]]:
    attack = Attack(design)  # B = S4 runs the correct protocol
    ops = []
    for who, operation in [(1, write("v1")), (2, read()), (3, write("v2")), (1, read()),
                           (2, write("v3")), (3, read())]:
        ops.append(attack.invoke(who, operation))
        attack.run()
        assert not attack.world.pending, f"{ops[-1]} did not complete on its own"
    attack.drain()
    assert [v.status for v in attack.verdicts()] == [Status.HOLDS] * 3
    return attack, ops


# documented rounds: (client requests, request rounds, allowed reply types)
C_BASIS_READ = ("Query", "SignRead")
C_WRITE = (*C_BASIS_READ, "SignDatum", "Store", "SignWriteReply")
J_WRITE = ("Query", "SignDatum", "Store")
READ = ("Query", "SignRead")
EXPECTED: dict[tuple[str, OpKind], tuple[tuple[str, ...], tuple[str, ...], set[str]]] = {
    ("C", OpKind.WRITE): (
        ("ReadBody", "WriteBody"), C_WRITE,
        {"QueryReply", "ReadPartial", "DatumPartial", "StoreAck", "WriteReplyPartial"},
    ),
    ("C", OpKind.READ): (("ReadBody",), READ, {"QueryReply", "ReadPartial"}),
    ("J", OpKind.WRITE): (
        ("WriteBody",), J_WRITE,
        {"QueryReply", "DatumPartial", "Refuse", "AlreadyStored", "StoreAck"},
    ),
    ("J", OpKind.READ): (("ReadBody",), READ, {"QueryReply", "ReadPartial", "StaleRead"}),
}
ANSWER = {"Query": "QueryReply", "SignRead": "ReadPartial", "SignDatum": "DatumPartial",
          "Store": "StoreAck", "SignWriteReply": "WriteReplyPartial"}
SERVER_ROUNDS = {("C", OpKind.WRITE): 5, ("C", OpKind.READ): 2,
                 ("J", OpKind.WRITE): 3, ("J", OpKind.READ): 2}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_round_counts_per_operation(family: str) -> None:
    attack, ops = sequential_run(FAMILIES[family])
    records = {o.op: o for o in operations(attack.world.history)}
    letter = family[0]
    for op in ops:
        kind = records[op].kind
        got = measure(attack, op)
        client_requests, requests, replies = EXPECTED[(letter, kind)]
        where = f"{family} {op} ({kind.value})"
        assert got.client_requests == client_requests, where
        assert got.requests == requests, where
        assert got.server_rounds == SERVER_ROUNDS[(letter, kind)], where
        answered = {ANSWER[r] for r in requests}  # every round is answered ...
        assert answered <= got.replies <= replies, (where, sorted(got.replies))  # ... and only so


def _write_proper(rounds: Rounds) -> tuple[str, ...]:
    """The request rounds from the signing of the new datum on (the timestamp is fixed)."""
    return rounds.requests[rounds.requests.index("SignDatum"):]


def test_family_j_writes_take_one_round_fewer_than_family_c() -> None:
    measured: dict[str, Rounds] = {}
    for family in ("C t=2", "J"):
        attack, ops = sequential_run(FAMILIES[family])
        measured[family] = measure(attack, ops[2])  # C3's write of v2, over a non-initial datum
    c, j = measured["C t=2"], measured["J"]
    assert _write_proper(c) == ("SignDatum", "Store", "SignWriteReply")
    assert _write_proper(j) == ("SignDatum", "Store")  # the reply partial rides on StoreAck
    assert len(_write_proper(j)) == len(_write_proper(c)) - 1
    # fixing the timestamp: C reads a signed basis (2 rounds), J queries a quorum (1 round)
    assert c.requests[:2] == C_BASIS_READ and j.requests[:1] == ("Query",)
    assert c.server_rounds - j.server_rounds == 2
