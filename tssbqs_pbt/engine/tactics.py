"""The rule machines of the four tactics (no single rule set wins), one class each.

:class:`FineMachine` (one message at a time), :class:`CoarseMachine` (whole exchanges too),
:class:`LagMachine` (few, coarse rules around a lagging server) and :class:`SplitMachine` (the
model's whole network adversary, :mod:`tssbqs_pbt.engine.partition`) share
:class:`~tssbqs_pbt.engine.machine_base.RuleMachine`; each class's docstring says what it does.

**Every seed keeps its trace.**  Hypothesis picks a rule by its place in the machine's rule
list (every rule of the class, sorted by argument count and name) and swarm testing enables a
random subset of rule names, so each tactic's set of rule names, and every draw of its rules
(order, strategy, label), is part of what a seed means.  That is why LAG and SPLIT carry the
single-message rules of :class:`SingleMessageRules` with preconditions that never hold there
(``single_messages`` false): dropping them would change every recorded seed of those tactics
(tests/search/test_tactic_traces.py pins the rule lists and the traces).
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from tssbqs_pbt.engine.machine_base import RuleMachine, warm_up
from tssbqs_pbt.engine.partition import PartitionRules
from tssbqs_pbt.kernel import ByzantineRestart, Deliver, Settle
from tssbqs_pbt.protocols.api import FieldRole
from tssbqs_pbt.strategies.draws import NETWORK_MODES, pick
from tssbqs_pbt.strategies.synthesis import (
    Deliveries,
    carrying_data,
    coherent_first,
    made_up,
    stale_first,
    synthesisable,
)

__all__ = [
    "CoarseMachine",
    "ExchangeMachine",
    "FineMachine",
    "LagMachine",
    "SingleMessageRules",
    "SplitMachine",
]


class SingleMessageRules(RuleMachine):
    """B acts on single messages: replays, mutates, outbids, plants or forges one, or forgets
    what it holds.  Live only where ``single_messages`` is true (FINE, COARSE); LAG and SPLIT
    carry these rules with preconditions that never hold, which keeps their rule lists, and so
    every recorded seed, unchanged."""

    single_messages: ClassVar[bool] = False

    @precondition(lambda self: self.single_messages and self._b_holds())
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        self._b_target(data, self._pick_held(data))

    @precondition(lambda self: self.single_messages and self._b_holds())
    @rule(data=st.data())
    def mutate(self, data: st.DataObject) -> None:
        adversary = self.adversary
        assert adversary is not None
        message = self._pick_held(data)
        positions = adversary.positions(message)
        if not positions:
            return
        position = positions[pick(data, len(positions), "field")]
        current = _get(message, position.path)
        pool = adversary.pool(position, current)
        if not pool:
            return
        value = pool[pick(data, len(pool), "value")]
        self._b_send_changed(data, message, position, value)

    @precondition(lambda self: self.single_messages and self._b_holds())
    @rule(data=st.data())
    def outbid(self, data: st.DataObject) -> None:
        """B puts a timestamp above everything it has seen into a held message."""
        adversary = self.adversary
        assert adversary is not None
        places = adversary.outbid_targets()
        high = adversary.above_all()
        if not places or high is None:
            return
        message, position = places[pick(data, len(places), "at")]
        self._b_send_changed(data, message, position, high)

    @precondition(lambda self: self.single_messages and self._b_holds())
    @rule(data=st.data())
    def plant(self, data: st.DataObject) -> None:
        """B puts a self-verifying object it can sign into a held message (release)."""
        adversary = self.adversary
        assert adversary is not None
        places = adversary.plant_targets()
        if not places:
            return
        message, position, obj = places[pick(data, len(places), "plant")]
        self._b_send_changed(data, message, position, obj)

    @precondition(lambda self: self.single_messages and self._b_forges())
    @rule(data=st.data())
    def forge(self, data: st.DataObject) -> None:
        adversary = self.adversary
        assert adversary is not None
        kinds = adversary.forgeable()
        kind = kinds[data.draw(st.integers(0, len(kinds) - 1), label="kind")]
        made = adversary.forgeries(kind)
        if not made:
            return
        forged = made[pick(data, len(made), "forged")]
        adversary.produced(forged)
        self._b_target(data, forged)

    @precondition(lambda self: self.byzantine and self.single_messages)
    @rule()
    def forget(self) -> None:
        assert self.adversary is not None
        self.adversary.forget()
        for b in self.adversary.servers:  # (in the trace: a reader sees the restart)
            self._step(ByzantineRestart(b))

    def _b_forges(self) -> bool:
        return self.adversary is not None and bool(self.adversary.forgeable())

    def _pick_held(self, data: st.DataObject) -> Any:
        assert self.adversary is not None
        kinds = self.adversary.held_types()
        kind = kinds[data.draw(st.integers(0, len(kinds) - 1), label="kind")]
        held = self.adversary.held_of(kind)
        return held[pick(data, len(held), "held")]

    def _b_send_changed(self, data: st.DataObject, message: Any, position: Any,
                        value: Any) -> None:
        assert self.adversary is not None
        changed = self.adversary.mutate(message, position, value)
        self.adversary.produced(changed)
        self._b_target(data, changed)

    def _b_target(self, data: st.DataObject, payload: Any) -> None:
        config = self.setup.config
        targets = [*config.correct_servers, *config.client_ids]
        choice = data.draw(st.integers(-1, len(targets) - 1), label="to")
        if choice < 0:
            for dst in self.setup.config.correct_servers:
                self._b_send(dst, payload)
        else:
            self._b_send(targets[choice], payload)


class FineMachine(SingleMessageRules):
    """``FINE``: one message at a time (deliver one, or settle the network); B processes what
    reached it as the protocol says and sends all, one or none of its replies, and acts on
    single messages (:class:`SingleMessageRules`).  No warm-up."""

    single_messages = True
    start = warm_up(0)

    @precondition(lambda self: self._may_invoke())
    @rule(data=st.data())
    def invoke(self, data: st.DataObject) -> None:
        self._invoke_drawn(data)

    # -- the network ---------------------------------------------------------------------------
    @precondition(lambda self: len(self.world.pool) > 0)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        ids = self.world.pool.ids()
        self._step(Deliver(ids[data.draw(st.integers(0, len(ids) - 1), label="msg")]))

    @precondition(lambda self: len(self.world.pool) > 0)
    @rule()
    def settle(self) -> None:
        self._step(Settle(self.bound))

    # -- the Byzantine server ------------------------------------------------------------------
    @precondition(lambda self: self._b_busy())
    @rule(data=st.data())
    def honest(self, data: st.DataObject) -> None:
        assert self.adversary is not None
        outputs = self.adversary.honest_step()
        if not outputs:
            return
        mode = data.draw(st.sampled_from(("send", "keep", "one")), label="mode")
        if mode == "send":
            for dst, payload in outputs:
                self._b_send(dst, payload)
        elif mode == "one":
            dst, payload = outputs[data.draw(st.integers(0, len(outputs) - 1), label="which")]
            self._b_send(dst, payload)

    def _b_busy(self) -> bool:
        return self.adversary is not None and self.adversary.unprocessed() > 0


class CoarseMachine(FineMachine):
    """``COARSE``: FINE's rules, plus whole exchanges (settle with B honest; the same while the
    network delays every message to or from one correct server) and an initial warm-up of
    0..2 complete writes."""

    start = warm_up(2)

    @precondition(lambda self: len(self.world.pool) > 0 or self._b_busy())
    @rule()
    def settle_with_b(self) -> None:
        self._settle_with_b()

    @precondition(lambda self: len(self.world.pool) > 0 or self._b_busy())
    @rule(data=st.data())
    def isolate(self, data: st.DataObject) -> None:
        """Settle with B honest, but delay every message to or from one correct
        server (it lags behind: the network may delay it as long as it likes)."""
        servers = self.setup.config.correct_servers
        lagging = servers[data.draw(st.integers(0, len(servers) - 1), label="lagging")]
        self._settle_with_b(skip=lagging)


class ExchangeMachine(SingleMessageRules):
    """The tactics whose operations run as exchanges of the network (LAG, SPLIT): a warm-up of
    0..2 writes, each one exchange; before the teardown's drain an idle client reads while the
    network still lags.  B does not act on single messages here."""

    start = warm_up(2)
    reads_before_drain = True

    def _complete_warm_up_write(self) -> None:
        self._exchange()

    @precondition(lambda self: bool(self.answers_offered()))
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        """A Byzantine delegate hands a client a reply it can sign for its operation."""
        replies = self.answers_offered()
        client, reply = replies[pick(data, len(replies), "reply")]
        self._b_send(client, reply)


class LagMachine(ExchangeMachine):
    """``LAG``: few, coarse rules.  A warm-up of 0..2 writes while the network may delay every
    message to one correct server until the drain (a *lagging* server, drawn so it shrinks to
    none); ``invoke`` may move the lag to another correct server once the client has sent its
    request — a server the request went to drawn first (what was held for the old one is
    delivered from then on), then let the network run at once — with B silent, with
    B following the protocol, or following it but keeping every message of one kind to itself
    (withhold; kinds carrying self-verifying data first); ``synthesise`` (B builds a whole
    well-formed request from its knowledge and sends it to one or every correct server; one
    data field in four is drawn among the unsigned data B makes up, if the protocol's data may
    be unsigned); ``release`` (B sends what it kept to one correct server); ``answer`` (B, as a
    delegate, hands a client a reply it can sign) — and B hands over at once every reply it can
    newly sign for a running operation.  After an operation in which B kept something to
    itself, a *probe*: on a copy of the world an idle client reads while the network still
    lags, B following the protocol; a P1 violation there fails the run with the copy's trace,
    otherwise the run goes on untouched (a later write would hide what the read shows)."""

    def __init__(self) -> None:
        super().__init__()
        # what correct processes delivered to each server ("stale data first")
        self.deliveries = Deliveries(self.world, tuple(self.setup.declarations))

    def _prepare(self, data: st.DataObject) -> None:
        self._draw_lagging(data)

    @precondition(lambda self: self._may_invoke())
    @rule(data=st.data())
    def invoke(self, data: st.DataObject) -> None:
        self._invoke_drawn(data)
        if self.byzantine:
            self._redraw_lagging(data, first=self._recipients())
        # the network waits, runs with B silent, with B following the protocol, or the
        # same but B keeps every message of one kind to itself, or what carries a
        # signature it alone holds, or tells that to one correct server only (which
        # the network then delays): NETWORK_MODES holds the odds
        modes = len(NETWORK_MODES) if self.byzantine else 2
        mode = NETWORK_MODES[data.draw(st.integers(0, modes - 1), label="network")]
        if mode != "wait":
            kept = None
            if mode == "keep":
                kinds = self.kinds_seen()
                kept = kinds[pick(data, len(kinds), "B keeps")] if kinds else None
            self._exchange(honest=mode != "silent", keep=kept,
                           withhold=mode if mode.startswith("withhold") else None)
        if mode == "keep" or mode.startswith("withhold"):
            # B kept something to itself: what would a reader see now (before a
            # later write hides it)?  On a copy of the world, with no draw
            self._probe()

    @precondition(lambda self: self._b_holds())
    @rule(data=st.data())
    def synthesise(self, data: st.DataObject) -> None:
        """B builds a whole well-formed request from what it holds and sends it."""
        adversary = self.adversary
        assert adversary is not None
        kinds = synthesisable(adversary)
        if not kinds:
            return
        # while an operation runs, half the time what a lagging server still holds
        # comes first (the newest datum correct processes delivered to it, else the
        # oldest: a stale datum it may vouch for), in a kind of request carrying data
        seen: tuple[Any, ...] | None = None
        if self.lagging and self.world.pending and data.draw(
                st.booleans(), label="stale data first"):
            assert self.deliveries is not None
            carrying = carrying_data(adversary, kinds)
            if carrying:
                kinds = carrying
                seen = self.deliveries.to(min(self.lagging))
        kind = kinds[data.draw(st.integers(0, len(kinds) - 1), label="kind")]

        def order(role: FieldRole, pool: tuple[Any, ...], chosen: list[Any]) -> tuple[Any, ...]:
            if seen is not None and role is FieldRole.DATA:
                pool = stale_first(pool, seen, self.world)
            elif role is FieldRole.DATA and (invented := made_up(adversary, pool)) and data.draw(
                    st.integers(0, 3), label="made up") == 3:
                pool = invented  # one time in four only what B made up (else last)
            return coherent_first(adversary, chosen, pool, role)

        message = self._build_drawn(data, kind, order)
        if message is None:
            return
        adversary.produced(message)
        servers = self.setup.config.correct_servers
        choice = data.draw(st.one_of(st.just(-1), st.integers(0, len(servers) - 1)),
                           label="to")  # every correct server, or one
        before = frozenset(self.world.knowledge.signatures)
        for dst in servers if choice < 0 else (servers[choice],):
            self._b_send(dst, message)
        self._hand_over(before)

    @precondition(lambda self: bool(self.kept))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        """B sends a message it kept (newest first) to one correct server, which the
        network may delay from then on: that server alone has it."""
        kept = list(reversed(self.kept))
        message = kept[pick(data, len(kept), "release")]
        servers = [s for s in self.setup.config.correct_servers if s not in self.lagging]
        if not servers:
            return
        dst = servers[pick(data, len(servers), "to")]
        before = frozenset(self.world.knowledge.signatures)
        self._b_send(dst, message)
        self._hand_over(before)
        if data.draw(st.booleans(), label="then delay it"):
            self.lagging = frozenset({dst})


class SplitMachine(PartitionRules, ExchangeMachine):
    """``SPLIT``: the model's whole network adversary and every Byzantine server
    (:class:`~tssbqs_pbt.engine.partition.PartitionRules`: any set of correct servers cut off,
    the cut moving at any phase; each Byzantine server in its own mode; requests synthesised
    from composed evidence)."""

    compose = True


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj
