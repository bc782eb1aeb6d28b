"""Shrink a failing trace on its kernel actions, with no rule machine and no Hypothesis.

Hypothesis shrinks the *choices* of a rule machine: a rule that is not needed becomes a no-op,
but a rule that is needed keeps every kernel step it takes (B's honest step sends to every
server, an exchange delivers every message in flight).  This pass works one level lower, on the
trace's actions, and replays only the kernel (no strategies, no per-step invariants):

- **delete**: drop a chunk of actions (halves, quarters, ... single actions), keeping the drop
  when the replay still shows the violation;
- **settle**: replace what happens between two invocations (deliveries and B's sends) by one
  ``Settle`` (everything in flight, oldest first, B silent), and a run of single deliveries
  and settles by one ``Settle`` (of everything, else of as many messages);
- **clients**: exchange two clients' invocations (a protocol may route a client's k-th
  operation by who it is: a client whose first operation reaches the server the attack needs
  makes the operations before it droppable);
- **operations**: drop one invocation and renumber that client's later operations in every
  message named after it (``C1#4`` becomes ``C1#3``), so that a Byzantine message built for a
  later operation still names it once an earlier, unneeded operation is gone.  (A statement a
  correct server signed about the old number no longer verifies: such a candidate fails.)

A Byzantine restart (:class:`~tssbqs_pbt.kernel.ByzantineRestart`) changes nothing in the
kernel, so any pass could drop it; it is kept instead (it tells the reader why B's later
messages look as they do), and dropped at the end only when B sends nothing after it.

A delivery names its message by what it is (sender, destination, payload), not by its number,
so it still finds its message after an earlier action is dropped; an action that no longer
applies (its message was never sent, B no longer knows what it sent, the client is busy) is
left out of the replay.  Every candidate starts from a copy of the world as the current best
left it just before the first changed action (so a drop near the end costs a few steps), and
the result is a genuine kernel trace: :func:`tssbqs_pbt.kernel.replay` re-runs it step for
step.  Deterministic: one trace in, one trace out; ``max_runs`` bounds the kernel replays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidAction, InvalidArgument, ProtocolFault
from tssbqs_pbt.kernel import (
    Action,
    ByzantineRestart,
    ByzantineSend,
    Deliver,
    Drain,
    Invoke,
    NodeId,
    NodeProtocol,
    OpId,
    Sent,
    Settle,
    Trace,
    World,
    step,
)
from tssbqs_pbt.kernel.codec import attrs_fields
from tssbqs_pbt.kernel.node import Envelope
from tssbqs_pbt.properties import (
    Property,
    SignedValue,
    Verdict,
    check_availability,
    check_confidentiality,
    check_consistency,
    initial_value_of,
)

__all__ = ["Minimized", "minimize_trace"]


@attrs.frozen
class Minimized:
    """What :func:`minimize_trace` made of a trace: the shortest failing trace it found."""

    trace: Trace
    verdict: Verdict | None  # the violated property's verdict on ``trace`` (None: a fault)
    fault: str | None  # the protocol fault ``trace`` ends in (None: a property violation)
    runs: int  # kernel replays of candidate traces
    kernel_steps: int  # kernel steps those replays executed
    cut: bool  # stopped at ``max_runs`` (the best trace so far is kept)


@attrs.frozen
class _Route:
    """A delivery named by its message, not its number (numbers shift when actions drop)."""

    src: Any
    dst: Any
    payload: Any


_Portable = Action | _Route


def minimize_trace(
    trace: Trace,
    protocol: NodeProtocol,
    *,
    property: Property | None,
    signed_value: SignedValue | None = None,
    world: Callable[[], World] | None = None,
    max_runs: int = 400,
) -> Minimized:
    """The shortest trace this pass finds that still violates ``property``.

    ``property`` is the property ``trace`` violates, or None for a protocol fault (a candidate
    keeps it when the replay crashes the protocol).  ``world`` builds the empty world the trace
    started from (same scheme and dealing); by default ``World(protocol, config)``.
    """
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 0:
        raise InvalidArgument(f"max_runs={max_runs!r} must be a whole number >= 0")
    empty = world() if world is not None else World(protocol, trace.header.config)
    shrinker = _Shrinker(empty, property, signed_value, max_runs)
    best = shrinker.start(_portable(trace))
    if best is None:
        raise InvalidArgument(
            f"the trace does not show {property.value if property else 'a protocol fault'} "
            "when replayed; minimize only a failing trace of this protocol"
        )
    return shrinker.run()


class _Shrinker:
    def __init__(self, empty: World, target: Property | None,
                 signed_value: SignedValue | None, max_runs: int) -> None:
        self.empty = empty
        self.target = target
        self.signed_value = signed_value
        self.max_runs = max_runs
        self.runs = 0
        self.steps = 0
        self.cut = False
        self.best: list[_Portable] = []
        self.snapshots: list[World] = []  # snapshots[i]: the world after best[:i]
        self.trace: Trace | None = None
        self.verdict: Verdict | None = None
        self.fault: str | None = None

    def start(self, actions: list[_Portable]) -> Trace | None:
        world, _ = self._play(self.empty.copy(), actions, keep=True)
        if world is None:
            return None
        return self.trace

    def run(self) -> Minimized:
        changed = True
        while changed and not self.cut:
            changed = (self._operations() | self._segments() | self._settles()
                       | self._deletions() | self._clients())
        self._unexplained_restarts()
        assert self.trace is not None
        return Minimized(self.trace, self.verdict, self.fault, self.runs, self.steps, self.cut)

    # -- passes --------------------------------------------------------------------------------
    def _deletions(self) -> bool:
        """Drop chunks of actions, halving the chunk size; last chunks first (cheapest).
        Chunks of one size do not overlap, so a round costs about twice the trace's length."""
        changed = False
        size = max(1, len(self.best) // 2)
        while size >= 1 and not self.cut:
            end = len(self.best)
            while end - size >= 0 and not self.cut:
                start = end - size
                if self._try(start, end, []):
                    changed = True
                    end = min(start, len(self.best))
                else:
                    end -= size
            size //= 2
        return changed

    def _unexplained_restarts(self) -> None:
        """Drop each Byzantine restart after which that server sends nothing (it explains
        nothing; the kernel is the same without it, so the trace still fails)."""
        keep = [x for i, x in enumerate(self.best)
                if not isinstance(x, ByzantineRestart) or any(
                    isinstance(y, ByzantineSend) and y.src == x.server
                    for y in self.best[i + 1:])]
        if len(keep) < len(self.best):
            self.snapshots = []
            self._play(self.empty.copy(), keep, keep=True)

    def _segments(self) -> bool:
        """Replace each stretch between invocations (two or more actions) by one settle."""
        changed = False
        i = len(self.best) - 1
        while i >= 0 and not self.cut:
            if isinstance(self.best[i], (Invoke, Drain)):
                i -= 1
                continue
            start = i
            while start > 0 and not isinstance(self.best[start - 1], (Invoke, Drain)):
                start -= 1
            if i + 1 - start >= 2 and self._try(start, i + 1, [Settle()]):
                changed = True
            i = start - 1
        return changed

    def _settles(self) -> bool:
        """Replace each run of two or more single deliveries and settles (of one ``hold``) by
        one settle: of everything in flight, else of as many messages as the run delivered
        at most, oldest first."""
        changed = False
        i = len(self.best) - 1
        while i >= 0 and not self.cut:
            hold = _settle_hold(self.best[i])
            if hold is None:
                i -= 1
                continue
            start = i
            while start > 0 and _settle_hold(self.best[start - 1]) == hold:
                start -= 1
            run = self.best[start:i + 1]
            if len(run) >= 2:
                count = sum(x.max_deliveries if isinstance(x, Settle) else 1 for x in run)
                merges = [Settle(hold=hold)] + ([Settle(count, hold=hold)]
                                                 if count < Settle().max_deliveries else [])
                for merged in merges:
                    if self._try(start, i + 1, [merged]):
                        changed = True
                        break
            i = start - 1
        return changed

    def _clients(self) -> bool:
        """Exchange the invocations of two clients (at least one of them invoking), kept when
        the replay is shorter: the later invocations of a client that is busy (its operation
        stuck) or deliveries of messages no longer sent drop out of it."""
        changed = False
        clients = self.empty.config.client_ids
        for i, a in enumerate(clients):
            for b in clients[i + 1:]:
                if self.cut:
                    return changed
                at = [k for k, x in enumerate(self.best)
                      if isinstance(x, Invoke) and x.client in (a, b)]
                if not at:
                    continue
                swap = {a: b, b: a}
                changed |= self._try(at[0], len(self.best), [
                    attrs.evolve(x, client=swap[x.client])
                    if isinstance(x, Invoke) and x.client in swap else x
                    for x in self.best[at[0]:]])
        return changed

    def _operations(self) -> bool:
        """Drop each invocation in turn (last first), the client's later operations renumbered
        in the actions after it; what no longer applies drops out of the replay."""
        changed = False
        i = len(self.best) - 1
        while i >= 0 and not self.cut:
            invoke = self.best[i]
            if isinstance(invoke, Invoke):
                seq = 1 + sum(1 for x in self.best[:i]
                              if isinstance(x, Invoke) and x.client == invoke.client)
                tail = [_renumbered(x, invoke.client, seq) for x in self.best[i + 1:]]
                changed |= self._try(i, len(self.best), tail)
            i = min(i, len(self.best)) - 1
        return changed

    # -- replays -------------------------------------------------------------------------------
    def _try(self, start: int, end: int, insert: Sequence[_Portable]) -> bool:
        """Replace best[start:end] by ``insert``; keep it if the violation stays.  A
        Byzantine restart the stretch holds stays (before ``insert``): it changes nothing in
        the kernel, so every pass could drop it, but it tells why B's later messages look as
        they do (:meth:`_unexplained_restarts` drops those no message of B follows)."""
        pinned = [x for x in self.best[start:end]
                  if isinstance(x, ByzantineRestart) and x not in insert]
        if pinned:
            insert = [*pinned, *insert]
            if list(insert) == self.best[start:end]:
                return False  # (only restarts dropped: nothing to try)
        if self.runs >= self.max_runs:
            self.cut = True
            return False
        self.runs += 1
        candidate = [*insert, *self.best[end:]]
        world, _ = self._play(self.snapshots[start].copy(), candidate, keep=False)
        if world is None:
            return False
        if len(world.steps) >= len(self.best):
            return False  # (no shorter: every dropped action came back as a skip's neighbour)
        # rebuild the snapshots of the new best from the unchanged prefix on
        prefix = self.best[:start]
        self.snapshots = self.snapshots[: start + 1]
        self._play(self.snapshots[start].copy(), candidate, keep=True, prefix=prefix)
        return True

    def _play(self, world: World, actions: Sequence[_Portable], *, keep: bool,
              prefix: Sequence[_Portable] = ()) -> tuple[World | None, int]:
        """Run ``actions`` on ``world`` (skipping what no longer applies); the world if the
        violation shows.  ``keep``: make the result the new best, with its snapshots."""
        played: list[_Portable] = list(prefix)
        snapshots = self.snapshots if keep else []
        if keep and not snapshots:
            snapshots.append(world.copy())
        skipped = 0
        fault: str | None = None
        for portable in actions:
            action = _resolve(world, portable)
            if action is None:
                skipped += 1
                continue
            try:
                step(world, action)
            except InvalidAction:
                skipped += 1
                continue
            except ProtocolFault as crash:
                fault = str(crash)
                played.append(portable)
                break
            self.steps += 1
            played.append(portable)
            if keep:
                snapshots.append(world.copy())
        trace = Trace.of(world)
        verdict = self._judge(trace, fault)
        if verdict is False:
            return None, skipped
        if keep:
            self.best = played
            self.trace = trace
            self.verdict = verdict if verdict is not True else None
            self.fault = fault
        return world, skipped

    def _judge(self, trace: Trace, fault: str | None) -> Verdict | bool:
        """The target's verdict when it is violated (True: the target fault); else False."""
        if self.target is None or fault is not None:
            return self.target is None and fault is not None
        if self.target is Property.CONSISTENCY:
            verdict = check_consistency(trace.history(),
                                        initial_value_of(self.empty.protocol))
        elif self.target is Property.AVAILABILITY:
            verdict = check_availability(trace)
        else:
            verdict = check_confidentiality(trace, self.signed_value,
                                            initial_value_of(self.empty.protocol))
        return verdict if verdict.violated else False


def _portable(trace: Trace) -> list[_Portable]:
    """The trace's actions with every delivery named by its message."""
    sent: dict[int, Envelope] = {}
    actions: list[_Portable] = []
    for record in trace.steps:
        action = record.action
        if isinstance(action, Deliver) and action.msg_id in sent:
            envelope = sent[action.msg_id]
            actions.append(_Route(envelope.src, envelope.dst, envelope.payload))
        else:
            actions.append(action)
        for event in record.events:
            if isinstance(event, Sent):
                sent[event.envelope.id] = event.envelope
    return actions


def _renumbered(action: _Portable, client: NodeId, dropped: int) -> _Portable:
    """``action`` with ``client``'s operations after its ``dropped``-th numbered one lower."""
    if isinstance(action, (_Route, ByzantineSend)):
        payload = _renumber(action.payload, client, dropped)
        return action if payload is action.payload else attrs.evolve(action, payload=payload)
    return action


def _renumber(value: Any, client: NodeId, dropped: int) -> Any:
    if isinstance(value, OpId):
        return OpId(client, value.seq - 1) if value.client == client and value.seq > dropped \
            else value
    if isinstance(value, tuple):
        items = tuple(_renumber(v, client, dropped) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, frozenset):
        members = frozenset(_renumber(v, client, dropped) for v in value)
        return value if members == value else members
    if not attrs.has(type(value)):
        return value
    changes = {}
    for name in attrs_fields(type(value)):
        old = getattr(value, name)
        new = _renumber(old, client, dropped)
        if new is not old:
            changes[name.lstrip("_")] = new
    if not changes:
        return value
    try:
        return attrs.evolve(value, **changes)
    except (TypeError, ValueError):  # (a class attrs cannot rebuild: left as it was)
        return value


def _settle_hold(action: _Portable) -> frozenset[Any] | None:
    """What a delivery or settle holds back (a single delivery: nothing); None for any other
    action."""
    if isinstance(action, Settle):
        return action.hold
    return frozenset() if isinstance(action, _Route) else None


def _resolve(world: World, portable: _Portable) -> Action | None:
    if not isinstance(portable, _Route):
        return portable
    for envelope in world.pool:
        if envelope.dst == portable.dst and envelope.src == portable.src \
                and envelope.payload == portable.payload:
            return Deliver(envelope.id)
    return None
