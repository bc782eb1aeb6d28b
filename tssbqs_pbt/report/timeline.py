"""A trace regrouped for reading: who acted in each step, on which message, with what effect.

The kernel records a step as a flat list of events; which handler run caused which ``Sent``,
``Completed`` or ``Learned`` is implied by their order (an ``Invoked`` or ``Delivered`` event
starts a handler run, the events up to the next one are its effects).  :func:`build_timeline`
makes that structure explicit once, and notes each message's fate (delivered, absorbed by a
Byzantine server, or still in flight when the trace ends) for every renderer to share.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from tssbqs_pbt.kernel import (
    Absorbed,
    Action,
    ByzantineSend,
    Completed,
    Delivered,
    Envelope,
    Event,
    Faulted,
    Invoked,
    Learned,
    NodeId,
    Operation,
    OpId,
    OpResult,
    Restarted,
    Sent,
    Settled,
    SystemConfig,
    Trace,
    TraceHeader,
)
from tssbqs_pbt.properties import Clause, Verdict

__all__ = ["Fate", "Happening", "Kind", "StepView", "Timeline", "build_timeline"]


class Kind(enum.Enum):
    INVOKE = "invoke"  # a correct client started an operation
    RECEIVE = "receive"  # a message was delivered to a correct process, which handled it
    INJECT = "inject"  # a Byzantine server sent a message of its own making
    RESTART = "restart"  # a Byzantine server lost its state (it follows the protocol afresh)
    KERNEL = "kernel"  # effects the kernel recorded outside any handler run (defensive)


class Fate(enum.Enum):
    DELIVERED = "delivered"
    ABSORBED = "absorbed"  # reached a Byzantine server: joined the adversary's knowledge
    IN_FLIGHT = "in flight"  # never delivered before the trace ended


@attrs.frozen
class Happening:
    """One handler run (or one injection) inside a step, with the events it caused in order."""

    kind: Kind
    node: NodeId | None  # the invoking client, the receiver, or the Byzantine sender
    envelope: Envelope | None = None  # the message received or injected
    invoked: Invoked | None = None
    effects: tuple[Event, ...] = ()


@attrs.frozen
class StepView:
    index: int
    action: Action
    happenings: tuple[Happening, ...]
    settled: Settled | None = None


@attrs.frozen
class Timeline:
    """A trace plus everything the renderers look up: message fates, operations, highlights."""

    header: TraceHeader
    steps: tuple[StepView, ...]
    envelopes: Mapping[int, Envelope]
    sent_at: Mapping[int, int]  # message id -> step it was sent in
    fates: Mapping[int, tuple[Fate, int]]  # message id -> (fate, step); absent: in flight
    operations: Mapping[OpId, Operation]
    invoked_at: Mapping[OpId, int]
    completed: Mapping[OpId, tuple[int, OpResult]]
    faults: tuple[tuple[int, Faulted], ...]
    verdict: Verdict | None
    highlight: frozenset[int]  # steps the evidence (or a fault) points at
    focus: int | None  # the step where the violation (or fault) shows; 0: before any step
    # ids of the messages whose delivery (or injection) made the violation happen: the one that
    # completed an operation the evidence names, let the adversary learn a signature it must
    # not hold, or faulted; plus the messages the evidence names itself
    decisive: frozenset[int] = frozenset()

    @property
    def config(self) -> SystemConfig:
        return self.header.config

    @property
    def nodes(self) -> tuple[NodeId, ...]:
        """Every process: clients first, then servers."""
        return (*self.config.client_ids, *self.config.servers)

    def is_byzantine(self, node: NodeId) -> bool:
        return self.config.is_byzantine(node)

    def fate(self, msg_id: int) -> tuple[Fate, int | None]:
        found = self.fates.get(msg_id)
        return (Fate.IN_FLIGHT, None) if found is None else found

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Ids of messages sent but never delivered nor absorbed."""
        return tuple(i for i in self.envelopes if i not in self.fates)


def build_timeline(trace: Trace, verdict: Verdict | None = None) -> Timeline:
    ledger = _Ledger()
    views: list[StepView] = []
    for record in trace.steps:
        index = record.index
        happenings: list[Happening] = []
        settled: Settled | None = None
        injecting = isinstance(record.action, ByzantineSend)
        early: list[Event] = []  # what the kernel recorded before the injected message left
        for event in record.events:
            ledger.note(event, index)
            if isinstance(event, Sent) and injecting:
                injecting = False
                happenings.append(Happening(Kind.INJECT, event.envelope.src, event.envelope,
                                            effects=tuple(early)))
                early.clear()
            elif isinstance(event, Invoked):
                happenings.append(Happening(Kind.INVOKE, event.op.client, invoked=event))
            elif isinstance(event, Delivered):
                envelope = ledger.envelopes.get(event.msg_id)
                node = envelope.dst if envelope is not None else None
                happenings.append(Happening(Kind.RECEIVE, node, envelope))
            elif isinstance(event, Settled):
                settled = event
            elif isinstance(event, Restarted):
                happenings.append(Happening(Kind.RESTART, event.node))
            elif injecting:
                early.append(event)  # e.g. Learned: B knows what it is about to send
            else:
                if not happenings:
                    happenings.append(Happening(Kind.KERNEL, None))
                last = happenings[-1]
                happenings[-1] = attrs.evolve(last, effects=(*last.effects, event))
        if early:
            happenings.append(Happening(Kind.KERNEL, None, effects=tuple(early)))
        views.append(StepView(index, record.action, tuple(happenings), settled))

    highlight, focus = _highlight(verdict, ledger.faults)
    return Timeline(
        header=trace.header, steps=tuple(views), envelopes=ledger.envelopes,
        sent_at=ledger.sent_at, fates=ledger.fates, operations=ledger.operations,
        invoked_at=ledger.invoked_at, completed=ledger.completed, faults=tuple(ledger.faults),
        verdict=verdict, highlight=highlight, focus=focus, decisive=_decisive(views, verdict),
    )


def _decisive(views: list[StepView], verdict: Verdict | None) -> frozenset[int]:
    """The messages whose handling made the violation (or a fault) happen."""
    found: set[int] = set()
    ops: set[OpId] = set()
    oracle_steps: set[int] = set()
    named: set[int] = set()
    if verdict is not None and verdict.violated:
        for v in verdict.violations:
            ops.update(v.ops)
            named.update(v.messages)
            if v.clause is Clause.SIGNING_ORACLE:
                oracle_steps.update(v.steps)
    for view in views:
        for h in view.happenings:
            if h.envelope is None:
                continue
            for event in h.effects:
                if (isinstance(event, Faulted)
                        or (isinstance(event, Completed) and event.op in ops)
                        or (isinstance(event, Learned) and view.index in oracle_steps)
                        or (isinstance(event, Sent) and event.envelope.id in named)):
                    found.add(h.envelope.id)
    return frozenset(found | named)


@attrs.define
class _Ledger:
    """What the events say about messages, operations and faults, gathered in one pass."""

    envelopes: dict[int, Envelope] = attrs.Factory(dict)
    sent_at: dict[int, int] = attrs.Factory(dict)
    fates: dict[int, tuple[Fate, int]] = attrs.Factory(dict)
    operations: dict[OpId, Operation] = attrs.Factory(dict)
    invoked_at: dict[OpId, int] = attrs.Factory(dict)
    completed: dict[OpId, tuple[int, OpResult]] = attrs.Factory(dict)
    faults: list[tuple[int, Faulted]] = attrs.Factory(list)

    def note(self, event: Event, index: int) -> None:
        if isinstance(event, Sent):
            self.envelopes[event.envelope.id] = event.envelope
            self.sent_at[event.envelope.id] = index
        elif isinstance(event, Delivered):
            self.fates[event.msg_id] = (Fate.DELIVERED, index)
        elif isinstance(event, Absorbed):
            self.fates[event.msg_id] = (Fate.ABSORBED, index)
        elif isinstance(event, Invoked):
            self.operations[event.op] = event.operation
            self.invoked_at[event.op] = index
        elif isinstance(event, Completed):
            self.completed[event.op] = (index, event.result)
        elif isinstance(event, Faulted):
            self.faults.append((index, event))


def _highlight(
    verdict: Verdict | None, faults: list[tuple[int, Faulted]]
) -> tuple[frozenset[int], int | None]:
    if verdict is not None and verdict.violated:
        steps = frozenset(s for v in verdict.violations for s in v.steps)
        focus = verdict.first_step
        if focus is None and verdict.violations:
            focus = 0  # evidence without steps: the violation holds from the start
        return steps, focus
    if faults:
        return frozenset(i for i, _ in faults), faults[0][0]
    return frozenset(), None
