"""The attack schedules of ATTACKS.md as scripts over :class:`scenario.Attack`.

Each script only uses what the adversary may: deliver or delay messages, let B run the correct
protocol on its own share, make B drop, ignore or forget, and inject messages built from B's
knowledge (the kernel refuses anything else).  A script never checks which design it runs
against: the same schedule is tried on the design it breaks and on both valid families.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scenario import Attack
from tssbqs_pbt.protocols.encoding import datum_bytes, read_reply_bytes, write_reply_bytes
from tssbqs_pbt.protocols.messages import (
    INITIAL,
    Ack,
    Datum,
    DatumPartial,
    Query,
    QueryReply,
    ReadOwn,
    ReadReply,
    Report,
    Request,
    SignDatum,
    SignRead,
    SignWriteReply,
    Store,
    StoreAck,
    WriteBody,
    WriteReply,
)

from tssbqs_pbt.kernel import (
    Envelope,
    NodeId,
    NodeSigned,
    OpId,
    client,
    read,
    server,
    write,
)

S1, S2, S3, S4 = (server(i) for i in range(1, 5))


def held_write_request(a: Attack, op: OpId) -> NodeSigned | None:
    for request in a.world.knowledge.objects(Request):
        inner = request.request
        if inner.op == op and isinstance(inner.body, WriteBody):
            return inner  # type: ignore[no-any-return]
    return None


def forge_alone(a: Attack) -> None:
    """A1: B signs a read reply over a fake value with its own share(s) only."""
    op = a.invoke(3, read())
    ts = (10**9, 9)
    sig = a.world.knowledge.signature_on(read_reply_bytes(op, "fake", ts))
    if sig is not None:
        a.inject(client(3), ReadReply(op, "fake", ts, sig))
    a.run()


def silent_byzantine(a: Attack) -> None:
    """A2/A4: B never answers; a write must still complete once the attack stops."""
    a.silent = True
    a.invoke(1, write("v1"))
    a.run()


def silent_later_delegate(a: Attack) -> None:
    """A4 with B = S4: C3's first operation goes to S3 alone and completes; its second goes to
    S4 alone, which never answers."""
    a.silent = True
    a.invoke(3, write("v1"))
    a.run()
    a.invoke(3, write("v2"))


def small_quorum(a: Attack) -> None:
    """A3: v1 completes at {S1, B}; a read at {S2, B} with B lying misses it."""
    a.blocked = {S2, S3}
    a.invoke(1, write("v1"))
    a.run()
    a.forget()
    a.blocked = {S1, S3}
    a.invoke(2, read())
    a.run()


def withheld_high_datum(a: Attack) -> None:
    """A5/A6: B gets <v1, 1000> signed for C3's request and releases it after v2 completes."""
    w1 = a.invoke(3, write("v1"))
    a.run_until(lambda: held_write_request(a, w1) is not None)
    request = held_write_request(a, w1)
    assert request is not None
    high = (1000, 3)
    data = datum_bytes("v1", high)
    for s in (S1, S2, S3):  # ask just enough correct servers to combine the signature
        if a.world.knowledge.signature_on(data) is not None:
            break
        a.inject(s, SignDatum(request, high, ()), immediate=True)
    sig = a.world.knowledge.signature_on(data)
    a.run()
    a.invoke(1, write("v2"))
    a.run()
    if sig is not None:
        for s in (S1, S2, S3):
            a.inject(s, Store(request, Datum("v1", high, sig)), immediate=True)
    a.run()
    a.invoke(2, read())
    a.run()


def lagging_signer(a: Attack) -> None:
    """A7: S3 lags; B and S3 sign C3's v2 at S3's stale timestamp and B completes it."""
    a.blocked = {S3}
    a.invoke(1, write("a"))
    a.run()
    a.invoke(2, write("b"))
    a.run()
    a.silent = True
    w3 = a.invoke(3, write("v2"))
    a.run_until(lambda: held_write_request(a, w3) is not None)
    request = held_write_request(a, w3)
    if request is not None:
        a.inject(S3, SignDatum(request, None, ()), immediate=True)
        for partial in a.world.knowledge.objects(DatumPartial):
            sig = a.world.knowledge.signature_on(datum_bytes("v2", partial.ts))
            if partial.value != "v2" or sig is None:
                continue
            for s in (S1, S2, S3):
                a.inject(s, Store(request, Datum("v2", partial.ts, sig)), immediate=True)
            _finish_write_as_delegate(a, w3, "v2", partial.ts)
            break
    a.run()


def _finish_write_as_delegate(a: Attack, op: OpId, value: str, ts: tuple[int, int]) -> None:
    """B completes a write reply from the acknowledgements correct servers sent it."""
    acks = tuple(
        m.ack for m in a.world.knowledge.objects(StoreAck)
        if m.op == op and m.ack is not None and m.ack.body == Ack(op, value, ts)
    )
    own = NodeSigned(a.B, Ack(op, value, ts))
    for s in (S1, S2, S3):
        a.inject(s, SignWriteReply(op, value, ts, (*acks, own)), immediate=True)
    for data in (write_reply_bytes(op, value, ts), datum_bytes(value, ts)):
        sig = a.world.knowledge.signature_on(data)
        if sig is not None:
            a.inject(client(op.client.index), WriteReply(op, value, ts, sig))
            return


def lagging_signers_never_match(a: Attack) -> None:
    """A7': S3 lags, then B falls silent: with t = 3 matching partials never exist."""
    a.blocked = {S3}
    a.invoke(1, write("a"))
    a.run()
    a.invoke(2, write("b"))
    a.run()
    old = a.mark()
    a.blocked = set()
    a.hold = lambda env: env.dst == S3 and env.id <= old  # S3 keeps lagging
    a.silent = True
    a.invoke(1, write("v3"))
    a.run()


def done_without_store(a: Attack) -> None:
    """A8: B, delegate for C3's write, never sends the datum out; a read misses v1."""
    a.blocked = {S3}
    a.drop_out = lambda dst, payload: isinstance(payload, Store)
    a.invoke(3, write("v1"))
    a.run()
    a.drop_out = lambda dst, payload: False
    a.invoke(2, read())
    a.run()


def done_after_one_store(a: Attack) -> None:
    """A9: B stores v1 at S1 only and combines S1's reply partial with its own."""
    a.blocked = {S3}
    a.drop_out = lambda dst, payload: isinstance(payload, Store) and dst not in (S1, a.B)
    a.invoke(3, write("v1"))
    a.run()
    a.drop_out = lambda dst, payload: False
    a.forget()
    a.blocked = {S1}
    a.invoke(2, read())
    a.run()


def stale_read_reply(a: Attack) -> None:
    """A10 (+ P3b variant): after v1 is everywhere, B asks for read partials over D0 and over
    a value nobody wrote."""
    a.invoke(1, write("v1"))
    a.run()
    a.blocked = {S3}
    a.silent = True
    r = a.invoke(3, read())
    for s in (S1, S2):
        a.inject(s, SignRead(r, 0, INITIAL, ()), immediate=True)
        a.inject(s, SignRead(r, 0, Datum("fake", (999, 9)), ()), immediate=True)
    _hand_over_read(a, r)


def lagging_read_signer(a: Attack) -> None:
    """A11 (and one-phase reads): v1 at S1, S2, B; S3 lags; B gets S3's partial over D0."""
    a.blocked = {S3}
    a.invoke(1, write("v1"))
    a.run()
    a.silent = True
    r = a.invoke(3, read())
    a.inject(S3, SignRead(r, 0, INITIAL, ()), immediate=True)
    a.inject(S3, ReadOwn(r), immediate=True)
    _hand_over_read(a, r)


def _hand_over_read(a: Attack, r: OpId) -> None:
    sig = a.world.knowledge.signature_on(read_reply_bytes(r, INITIAL.value, INITIAL.ts))
    if sig is not None:
        a.inject(client(r.client.index), ReadReply(r, INITIAL.value, INITIAL.ts, sig))
    a.run()


def fabricated_report(a: Attack) -> None:
    """A12: B answers every query with an unsigned <fake, 999>."""
    fake = Datum("fake", (999, 9))

    def lie(env: Envelope) -> bool:
        query = env.payload
        if isinstance(query, Query):
            report = NodeSigned(a.B, Report(query.op, query.attempt, fake))
            a.inject(env.src, QueryReply(report), immediate=False)
        return True

    a.on_receive = lie
    a.invoke(1, read())
    a.run()


def unsigned_store_above_all(a: Attack) -> None:
    """A12, through a store: after v1 then v2 complete, B stores v1 (with its client-signed
    request R1) unsigned at a timestamp above every one seen; a server storing data as given
    keeps it, and the next read returns v1 as newer than v2."""
    _after_two_writes(a, lambda request: (S2, Store(request, Datum("v1", (1002, 1)))))


def replayed_request(a: Attack) -> None:
    """A13/A14: after v1 then v2 complete, B hands C3's old request R1 to a correct server."""
    _after_two_writes(a, lambda request: (S1, Request(request)))


def _after_two_writes(a: Attack, replay: Callable[[NodeSigned], tuple[NodeId, Any]]) -> None:
    """C3 writes v1 (request R1, B one of its delegates), then C1 writes v2; B, silent from
    then on, sends ``replay(R1)`` to one correct server; then C2 reads."""
    w1 = a.invoke(3, write("v1"))
    a.run()
    a.invoke(1, write("v2"))
    a.run()
    request = held_write_request(a, w1)
    assert request is not None
    a.silent = True
    a.inject(*replay(request), immediate=True)
    a.run()
    a.invoke(2, read())
    a.run()
