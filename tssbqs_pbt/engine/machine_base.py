"""What every tactic's rule machine shares: its state, the set-up, the properties, the teardown.

Rules start client operations and take adversary actions (each tactic's own:
:mod:`tssbqs_pbt.engine.tactics`); the P1 and P3 invariants are checked after every rule.  The
teardown ends the attack: B's last act releases every signed object it kept to itself (withhold
and release), the network drains (the adversary stops, Byzantine servers fall silent), an idle
correct client reads once more (Jepsen's final read: what the servers hold now), the network
drains again, and P2 (and P1, P3) are checked.  Every rule is a few kernel steps, all recorded
in the world's trace, so a counterexample replays without Hypothesis
(:func:`tssbqs_pbt.kernel.replay`).

Swarm testing comes from Hypothesis itself (each example enables a random subset of the rules).
The no-op rule ``done`` sorts first among Hypothesis's rules, so shrinking turns every step it
can spare into a no-op: shrunk counterexamples contain only the steps the violation needs.
"""

from __future__ import annotations

import contextlib
import copy
import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.engine.exchanges import NetworkMixin
from tssbqs_pbt.errors import InvalidAction, ProtocolFault
from tssbqs_pbt.kernel import (
    ByzantineSend,
    Drain,
    Invoke,
    SystemConfig,
    Trace,
    World,
    read,
    step,
    write,
)
from tssbqs_pbt.kernel.memo import HandlerMemo
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
from tssbqs_pbt.strategies.draws import pick
from tssbqs_pbt.strategies.synthesis import Deliveries, build, field_pools

__all__ = [
    "FaultFound",
    "FieldOrder",
    "PropertyViolated",
    "RuleMachine",
    "SearchSetup",
    "Tactic",
    "warm_up",
]


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
    # an operation (SPLIT's) may pause once the Byzantine servers have answered up to this
    # many of its messages: the adversary then acts before the network runs on
    pauses: int = 3
    # handler results shared by every run of this setup (the explorer's; see kernel.memo)
    memo: HandlerMemo | None = attrs.field(default=None, eq=False)


#: how a synthesised request's pool of candidates for one field is ordered (and narrowed),
#: given the field's role and the values chosen for the fields before it; it may draw
FieldOrder = Callable[[FieldRole, tuple[Any, ...], list[Any]], tuple[Any, ...]]


def warm_up(writes: int) -> Callable[..., None]:
    """The ``start`` initializer of a tactic: a warm-up of 0..``writes`` complete writes (each
    completed by :meth:`RuleMachine._complete_warm_up_write`), after :meth:`RuleMachine._prepare`.
    One function per tactic class: the range is part of what Hypothesis draws."""

    @initialize(warmup=st.integers(0, writes), data=st.data())
    def start(self: RuleMachine, warmup: int, data: st.DataObject) -> None:
        self._prepare(data)
        for i in range(warmup):
            self._invoke(i % self.setup.config.clients, is_write=True)
            self._complete_warm_up_write()

    return start


class RuleMachine(NetworkMixin, RuleBasedStateMachine):
    """The state and the shared behaviour of every tactic's machine (a tactic class adds its
    rules, its ``start = warm_up(...)`` and the hooks and class attributes below)."""

    setup: SearchSetup
    #: the adversary also composes new collections from held statements and its own
    #: (:mod:`tssbqs_pbt.strategies.evidence`)
    compose: ClassVar[bool] = False
    #: before the teardown's drain, an idle client reads while the network still lags, B
    #: following the protocol (what a client would read if the attack stopped there)
    reads_before_drain: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        setup = self.setup
        self.byzantine = bool(setup.config.byzantine)
        # a rule's exchange stops after this many deliveries (a livelocked protocol would
        # make every rule run the whole drain bound; what is left stays in flight)
        self.bound = setup.settle_bound or 40 * setup.config.n ** 2
        self.world = World(setup.protocol, setup.config, scheme=setup.scheme, memo=setup.memo)
        self.adversary = Adversary(self.world, setup.declarations) if self.byzantine else None
        if self.compose and self.adversary is not None:
            self.adversary.compose = True  # new collections too (strategies.evidence)
        # what correct processes delivered to each server (LAG's "stale data first" only)
        self.deliveries: Deliveries | None = None
        self.values = 0
        self.checked = (-1, -1)
        self.initial = initial_value_of(setup.protocol)  # the register's value before writes
        self.p3 = ConfidentialityScan(setup.config, setup.signed_value,
                                      self.initial)  # fed as it grows
        self.lagging: frozenset[Any] = frozenset()  # correct servers the network delays
        self._answer_cache: tuple[Any, list[tuple[Any, Any]]] = (None, [])
        self.failed = False  # a property failed (or the protocol crashed) in this run
        self.kept: dict[Any, None] = {}  # what B kept to itself in an exchange, in order
        self.described: list[str] = []  # each move in words (the explorer's and the walks')

    # -- copies --------------------------------------------------------------------------------
    def fork(self) -> Any:
        """An independent machine in this state (the world copied, the adversary forked):
        what the explorer expands each of a state's moves from.  Each class copies its own
        mutable fields (:meth:`_forked_from`)."""
        twin = copy.copy(self)
        twin._forked_from(self)
        return twin

    def _forked_from(self, machine: Any) -> None:
        self.world = machine.world.copy()
        if machine.adversary is not None:
            self.adversary = machine.adversary.fork(self.world)
        self.p3 = machine.p3.copy()
        self.kept = dict(machine.kept)
        self.described = list(machine.described)
        self._answer_cache = (None, [])

    # -- hooks of the tactics ------------------------------------------------------------------
    def _prepare(self, data: st.DataObject) -> None:
        """Draws before the warm-up (none by default)."""

    def _complete_warm_up_write(self) -> None:
        """Run a warm-up write to its end: settle with B honest (by default)."""
        self._settle_with_b()

    # -- rules ---------------------------------------------------------------------------------
    @rule()
    def done(self) -> None:
        """Nobody acts this step (the simplest step: what shrinking turns spare steps into)."""

    # -- properties ----------------------------------------------------------------------------
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
        idle = self.idle_clients()
        if self.reads_before_drain and idle and self.world.history:
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
        idle = self.idle_clients()
        if idle and self.world.history:
            # a final read once the network has healed (as Jepsen does): what the
            # servers now hold is what later reads would return
            self._step(Invoke(idle[0], read()))
            self._step(Drain(self.setup.drain_bound))
            self._check(check_availability(Trace.of(self.world)))
            self.safe()

    # -- helpers -------------------------------------------------------------------------------
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

    def idle_clients(self) -> list[Any]:
        """The clients running no operation now."""
        return [c for c in self.setup.config.client_ids if c not in self.world.pending]

    def operations_started(self) -> int:
        """How many operations the clients started in this run."""
        return sum(self.world.op_counts.values())

    def _may_invoke(self) -> bool:
        """An idle client, and operations left (the precondition of every ``invoke``)."""
        return bool(self.idle_clients()) and self.operations_started() < self.setup.max_ops

    def _invoke_drawn(self, data: st.DataObject) -> None:
        """An idle client drawn starts a write or a read (drawn)."""
        idle = self.idle_clients()
        who = data.draw(st.integers(0, len(idle) - 1), label="client")
        is_write = data.draw(st.booleans(), label="write")
        self._invoke(idle[who].index - 1, is_write=is_write)

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

    def _b_holds(self) -> bool:
        return self.adversary is not None and bool(self.adversary.messages())

    def _b_send(self, dst: Any, payload: Any, immediate: bool = True) -> None:
        assert self.adversary is not None
        # B may not send what it cannot build: then the draw was wasted
        with contextlib.suppress(InvalidAction):
            self._step(ByzantineSend(self.adversary.sender, dst, payload, immediate))

    def _build_drawn(self, data: st.DataObject, kind: type, order: FieldOrder) -> Any:
        """A request of ``kind`` B builds from what it holds, each field drawn (by its name)
        from its pool as ``order`` orders it; None if a pool is empty or the parts do not
        make a well-formed message.  (LAG's and SPLIT's ``synthesise``.)"""
        adversary = self.adversary
        assert adversary is not None
        roles = dict(adversary.decls[kind].roles)
        chosen: list[tuple[str, Any]] = []
        for name, pool in field_pools(adversary, kind):
            pool = order(roles[name], pool, [v for _, v in chosen])
            if not pool:
                return None
            chosen.append((name, pool[pick(data, len(pool), name)]))
        return build(adversary, kind, chosen)
