"""The rule machine: one ``RuleBasedStateMachine`` per (protocol, configuration, tactic).

Rules start client operations and take adversary actions; the P1 and P3 invariants are checked
after every rule.  The teardown ends the attack: B's last act releases every signed object it
kept to itself (withhold and release), the network drains (the adversary stops, Byzantine
servers fall silent), an idle correct client reads once more (Jepsen's final read: what the
servers hold now), the network drains again, and P2 (and P1, P3) are checked.  Every rule is
a few kernel steps, all recorded in the world's trace, so a counterexample replays without
Hypothesis (:func:`tssbqs_pbt.kernel.replay`).

Three tactics share this machine (SEARCH-NOTES: no single rule set wins):

- ``FINE``: one message at a time; B acts on single messages;
- ``COARSE``: adds whole exchanges (settle with B honest, B asks every correct server) and an
  initial warm-up of 0..2 complete writes.
- ``LAG``: few, coarse rules.  A warm-up of 0..2 writes while the network may delay every
  message to one correct server until the drain (a *lagging* server, drawn so it shrinks to
  none); ``invoke`` may move the lag to another correct server once the client has sent its
  request — a server the request went to drawn first (what was held for the old one is
  delivered from then on), then let the network run at once — with B silent, with
  B following the protocol, or following it but keeping every message of one kind to itself
  (withhold; kinds carrying self-verifying data first); ``synthesise`` (B builds a whole
  well-formed request from its knowledge and sends it to one or every correct server; one
  data field in four is drawn among the unsigned data B makes up, if the protocol's data may
  be unsigned); ``answer`` (B, as a delegate, hands a client a reply it can sign) — and B
  hands over at once every reply it can newly sign for a running operation.  After an
  operation in which B kept something to itself, a *probe*: on a copy of the world an idle
  client reads while the network still lags, B following the protocol; a P1 violation there
  fails the run with the copy's trace, otherwise the run goes on untouched (a later write would
  hide what the read shows).

Swarm testing comes from Hypothesis itself (each example enables a random subset of the rules).
The no-op rule ``done`` sorts first among Hypothesis's rules, so shrinking turns every step it
can spare into a no-op: shrunk counterexamples contain only the steps the violation needs.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.engine.exchanges import NetworkMixin
from tssbqs_pbt.engine.partition import PartitionRules
from tssbqs_pbt.errors import InvalidAction, ProtocolFault
from tssbqs_pbt.kernel import (
    ByzantineSend,
    Deliver,
    Drain,
    Invoke,
    Settle,
    SystemConfig,
    Trace,
    World,
    read,
    step,
    write,
)
from tssbqs_pbt.properties import (
    ConfidentialityScan,
    Property,
    SignedValue,
    Verdict,
    check_availability,
    check_consistency,
    initial_value_of,
)
from tssbqs_pbt.protocols.api import FieldRole, MessageDecl, StorageProtocol
from tssbqs_pbt.strategies.adversary import Adversary
from tssbqs_pbt.strategies.draws import NETWORK_MODES, pick
from tssbqs_pbt.strategies.synthesis import (
    Deliveries,
    build,
    carrying_data,
    coherent_first,
    field_pools,
    made_up,
    stale_first,
    synthesisable,
)

__all__ = ["FaultFound", "PropertyViolated", "SearchSetup", "Tactic", "make_machine"]


class Tactic(enum.Enum):
    FINE = "fine"
    COARSE = "coarse"
    LAG = "lag"
    SPLIT = "split"


class PropertyViolated(AssertionError):
    """A property failed; carries the verdict and the run's trace (already a counterexample)."""

    def __init__(self, verdict: Verdict, trace: Trace) -> None:
        clause = verdict.violations[0].clause.value if verdict.violations else "?"
        super().__init__(f"{verdict.property.value} violated ({clause}) after "
                         f"{len(trace.steps)} steps")
        self.verdict = verdict
        self.trace = trace


class FaultFound(AssertionError):
    """A protocol handler crashed during the run; carries the fault and the trace so far."""

    def __init__(self, fault: ProtocolFault, trace: Trace) -> None:
        super().__init__(str(fault))
        self.fault = fault
        self.trace = trace


@attrs.frozen
class SearchSetup:
    """Everything one search needs; ``on_failure`` is told about every failing run."""

    protocol: StorageProtocol
    config: SystemConfig
    declarations: Mapping[type, MessageDecl]
    scheme: ThresholdScheme | None = None
    signed_value: SignedValue | None = None
    tactic: Tactic = Tactic.FINE
    max_ops: int = 5
    drain_bound: int = 5_000
    settle_bound: int | None = None  # deliveries per exchange in a rule; None: 40 n^2
    on_failure: Callable[[AssertionError], None] | None = None
    on_example: Callable[[World], None] | None = None
    properties: frozenset[Property] | None = None  # None: all three


def make_machine(setup: SearchSetup) -> type[RuleBasedStateMachine]:
    """A machine class for ``setup``: a subclass of the tactic's rule machine that carries it.

    The rule machine of a tactic is built once per process (running Hypothesis's rule
    decorators for every search cost ~1.4 ms of the 2.8 ms of a one-example search, and a sweep
    runs ~40,000 searches); ``setup`` is a class attribute of the subclass, so concurrent
    searches in one process never share it."""
    base = _machine_class(setup.tactic)
    return type(base.__name__, (base,), {"setup": setup})


@functools.cache
def _machine_class(tactic: Tactic) -> type[RuleBasedStateMachine]:
    coarse = tactic is Tactic.COARSE
    lag = tactic is Tactic.LAG
    split = tactic is Tactic.SPLIT
    fine = not lag and not split  # single messages, B acting on single messages
    mixins: tuple[type, ...] = (PartitionRules,) if split else ()

    class ProtocolMachine(*mixins, NetworkMixin, RuleBasedStateMachine):  # type: ignore[misc]
        setup: SearchSetup

        def __init__(self) -> None:
            super().__init__()
            setup = self.setup
            self.byzantine = bool(setup.config.byzantine)
            # a rule's exchange stops after this many deliveries (a livelocked protocol would
            # make every rule run the whole drain bound; what is left stays in flight)
            self.bound = setup.settle_bound or 40 * setup.config.n ** 2
            self.world = World(setup.protocol, setup.config, scheme=setup.scheme)
            self.adversary = Adversary(self.world, setup.declarations) if self.byzantine else None
            if split and self.adversary is not None:
                self.adversary.compose = True  # new collections too (strategies.evidence)
            # what correct processes delivered to each server (LAG's "stale data first" only)
            self.deliveries = Deliveries(self.world, tuple(setup.declarations)) if lag else None
            self.values = 0
            self.checked = (-1, -1)
            self.initial = initial_value_of(setup.protocol)  # the register's value before writes
            self.p3 = ConfidentialityScan(setup.config, setup.signed_value,
                                          self.initial)  # fed as it grows
            self.lagging: frozenset[Any] = frozenset()  # correct servers the network delays
            self._answer_cache: tuple[Any, list[tuple[Any, Any]]] = (None, [])
            self.failed = False  # a property failed (or the protocol crashed) in this run
            self.kept: dict[Any, None] = {}  # what B kept to itself in a LAG exchange, in order

        # -- set-up ------------------------------------------------------------------------
        @initialize(warmup=st.integers(0, 0 if fine and not coarse else 2), data=st.data())
        def start(self, warmup: int, data: st.DataObject) -> None:
            if lag:
                self._draw_lagging(data)
            for i in range(warmup):
                self._invoke(i % self.setup.config.clients, is_write=True)
                if lag or split:
                    self._exchange()
                else:
                    self._settle_with_b()

        # -- clients -------------------------------------------------------------------------
        if not split:  # (SPLIT has its own: tssbqs_pbt.engine.partition)

            @precondition(lambda self: self._idle() and self._ops() < self.setup.max_ops)
            @rule(data=st.data())
            def invoke(self, data: st.DataObject) -> None:
                idle = self._idle()
                who = data.draw(st.integers(0, len(idle) - 1), label="client")
                is_write = data.draw(st.booleans(), label="write")
                self._invoke(idle[who].index - 1, is_write=is_write)
                if lag and self.byzantine:
                    self._redraw_lagging(data, first=self._recipients())
                if lag:
                    # the network waits, runs with B silent, with B following the protocol, or the
                    # same but B keeps every message of one kind to itself, or what carries a
                    # signature it alone holds, or tells that to one correct server only (which
                    # the network then delays): NETWORK_MODES holds the odds
                    modes = len(NETWORK_MODES) if self.byzantine else 2
                    mode = NETWORK_MODES[data.draw(st.integers(0, modes - 1), label="network")]
                    if mode != "wait":
                        kept = None
                        if mode == "keep":
                            kinds = self._kinds()
                            kept = kinds[pick(data, len(kinds), "B keeps")] if kinds else None
                        self._exchange(honest=mode != "silent", keep=kept,
                                       withhold=mode if mode.startswith("withhold") else None)
                    if mode == "keep" or mode.startswith("withhold"):
                        # B kept something to itself: what would a reader see now (before a
                        # later write hides it)?  On a copy of the world, with no draw
                        self._probe()

        if fine:
            # -- the network -----------------------------------------------------------------
            @precondition(lambda self: len(self.world.pool) > 0)
            @rule(data=st.data())
            def deliver(self, data: st.DataObject) -> None:
                ids = self.world.pool.ids()
                self._step(Deliver(ids[data.draw(st.integers(0, len(ids) - 1), label="msg")]))

            @precondition(lambda self: len(self.world.pool) > 0)
            @rule()
            def settle(self) -> None:
                self._step(Settle(self.bound))

            # -- the Byzantine server --------------------------------------------------------
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
                    dst, payload = outputs[data.draw(st.integers(0, len(outputs) - 1),
                                                     label="which")]
                    self._b_send(dst, payload)

        @precondition(lambda self: fine and self._b_holds())
        @rule(data=st.data())
        def replay(self, data: st.DataObject) -> None:
            self._b_target(data, self._pick_held(data))

        @precondition(lambda self: fine and self._b_holds())
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

        @precondition(lambda self: fine and self._b_holds())
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

        @precondition(lambda self: fine and self._b_holds())
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

        @precondition(lambda self: fine and self._b_forges())
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

        @precondition(lambda self: self.byzantine and fine)
        @rule()
        def forget(self) -> None:
            assert self.adversary is not None
            self.adversary.forget()

        if coarse:

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

        if lag:

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
                roles = dict(adversary.decls[kind].roles)
                chosen: list[tuple[str, Any]] = []
                for name, pool in field_pools(adversary, kind):
                    if seen is not None and roles[name] is FieldRole.DATA:
                        pool = stale_first(pool, seen, self.world)
                    elif roles[name] is FieldRole.DATA and (
                            invented := made_up(adversary, pool)) and data.draw(
                            st.integers(0, 3), label="made up") == 3:
                        pool = invented  # one time in four only what B made up (else last)
                    pool = coherent_first(adversary, (v for _, v in chosen), pool)
                    if not pool:
                        return
                    chosen.append((name, pool[pick(data, len(pool), name)]))
                message = build(adversary, kind, chosen)
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

            @precondition(lambda self: bool(self._answers()))
            @rule(data=st.data())
            def answer(self, data: st.DataObject) -> None:
                """B, as a delegate, hands a client a reply it can sign for its operation."""
                replies = self._answers()
                client, reply = replies[pick(data, len(replies), "reply")]
                self._b_send(client, reply)

        @rule()
        def done(self) -> None:
            """Nobody acts this step (the simplest step: what shrinking turns spare steps into)."""

        # -- properties ----------------------------------------------------------------------
        @invariant()
        def safe(self) -> None:
            # P1 can only change with the history, P3 only when a new signature reaches the
            # adversary (its key-share clause is the configuration's, checked the first time)
            mark = (len(self.world.history), len(self.world.knowledge.signatures))
            before, self.checked = self.checked, mark
            if mark[0] != before[0]:
                self._check(check_consistency(self.world.history, self.initial))
            if mark[1] != before[1]:
                self.p3.feed(self.world.steps[self.p3.fed:])
                self._check(self.p3.verdict())

        def teardown(self) -> None:
            if self.setup.on_example is not None:
                self.setup.on_example(self.world)
            if not self.world.steps or self.failed:
                return  # (after a failure the run is a counterexample already: no drain)
            idle = self._idle()
            if (lag or split) and idle and self.world.history:
                # a read while the network still lags, B following the protocol: what a
                # client would read if the attack stopped here
                self._step(Invoke(idle[0], read()))
                self._exchange()
                self.safe()
            if self.adversary is not None:  # B's last act: it releases what it kept
                for payload in self.adversary.releases():
                    for dst in self.setup.config.correct_servers:
                        self._b_send(dst, payload)
            self._step(Drain(self.setup.drain_bound))
            self._check(check_availability(Trace.of(self.world)))
            self.safe()
            idle = self._idle()
            if idle and self.world.history:
                # a final read once the network has healed (as Jepsen does): what the
                # servers now hold is what later reads would return
                self._step(Invoke(idle[0], read()))
                self._step(Drain(self.setup.drain_bound))
                self._check(check_availability(Trace.of(self.world)))
                self.safe()

        # -- helpers ---------------------------------------------------------------------------
        def _step(self, action: Any) -> None:
            try:
                step(self.world, action)
            except ProtocolFault as fault:
                self.failed = True
                failure = FaultFound(fault, Trace.of(self.world))
                if self.setup.on_failure is not None:
                    self.setup.on_failure(failure)
                raise failure from fault

        def _check(self, verdict: Verdict) -> None:
            if verdict.violated and (self.setup.properties is None
                                     or verdict.property in self.setup.properties):
                self.failed = True
                failure = PropertyViolated(verdict, Trace.of(self.world))
                if self.setup.on_failure is not None:
                    self.setup.on_failure(failure)
                raise failure

        def _idle(self) -> list[Any]:
            return [c for c in self.setup.config.client_ids if c not in self.world.pending]

        def _ops(self) -> int:
            return sum(self.world.op_counts.values())

        def _invoke(self, client_index: int, *, is_write: bool) -> None:
            who = self.setup.config.client_ids[client_index]
            if who in self.world.pending:
                return
            if is_write:
                self.values += 1
                operation = write(f"v{self.values}")
            else:
                operation = read()
            self._step(Invoke(who, operation))

        def _b_busy(self) -> bool:
            return self.adversary is not None and self.adversary.unprocessed() > 0

        def _b_holds(self) -> bool:
            return self.adversary is not None and bool(self.adversary.messages())

        def _b_forges(self) -> bool:
            return self.adversary is not None and bool(self.adversary.forgeable())

        def _pick_held(self, data: st.DataObject) -> Any:
            assert self.adversary is not None
            kinds = self.adversary.held_types()
            kind = kinds[data.draw(st.integers(0, len(kinds) - 1), label="kind")]
            held = self.adversary.held_of(kind)
            return held[pick(data, len(held), "held")]

        def _b_send(self, dst: Any, payload: Any, immediate: bool = True) -> None:
            assert self.adversary is not None
            # B may not send what it cannot build: then the draw was wasted
            with contextlib.suppress(InvalidAction):
                self._step(ByzantineSend(self.adversary.sender, dst, payload, immediate))

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

    ProtocolMachine.__name__ = f"Machine_{tactic.value}"
    return ProtocolMachine


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj
