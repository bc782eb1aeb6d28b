"""The SPLIT tactic's rules: the network adversary of the model, and every Byzantine server.

- **Partitions.**  Any set of correct servers may be cut off, and the cut may change at any
  phase of an operation (``invoke`` draws it as the operation starts, ``repartition`` while it
  runs).  A message to a cut-off server is *held*: it stays in flight, across operations, until
  the adversary releases it (``release``: which one, in the order it likes) or the final drain
  delivers everything fairly.  Cutting a server off again later, or healing the cut, does not
  release what was held.
- **Every Byzantine server acts**, each in its own mode for the operation: following the
  protocol on its own emulated state, silent, keeping every message of one kind to itself
  (released later, to whom the adversary likes), or restarting from its initial state (it then
  reports what it held at the start).  All of them pool one knowledge.
- **Pauses.**  An operation may stop once the Byzantine servers have answered its k-th
  message (``invoke`` draws k, up to ``setup.pauses``): the adversary's next action comes in
  the middle of the operation, and the operation runs on after it (:func:`resuming`).
- **Composed evidence.**  ``synthesise`` builds a whole request from the pooled knowledge, its
  collections assembled from held statements and the Byzantine servers' own
  (:mod:`tssbqs_pbt.strategies.evidence`), sent by the Byzantine server drawn.

Every choice is a draw (an index) that shrinks to the simplest: nobody cut off,
every Byzantine server honest, the first candidate.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from tssbqs_pbt.kernel import ByzantineRestart, Deliver, OpId, Settle
from tssbqs_pbt.protocols.api import FieldRole
from tssbqs_pbt.strategies.draws import pick
from tssbqs_pbt.strategies.synthesis import coherent_first, synthesisable

__all__ = ["B_MODES", "PartitionRules", "cut_sizes", "synthesis_order"]

#: what one Byzantine server does during an operation (shrinks to "honest")
B_MODES = ("honest", "silent", "keep", "restart")


def cut_sizes(config: Any) -> list[int]:
    """How many correct servers a cut may hold, in draw order: none, then as many as leave a
    quorum of servers reachable (n - q: an operation can still complete with Byzantine help),
    then every other number."""
    servers = len(config.correct_servers)
    widest = max(0, min(servers, config.n - config.q))
    return list(dict.fromkeys([0, widest, *range(1, servers + 1)]))


Rule = Callable[[Any, st.DataObject], None]


def resuming(action: Rule) -> Rule:
    """An action of the adversary's: if an operation paused for it, the network runs on once
    it is done (the pause ends).  The random machine and the explorer both reach it only
    through the rules, so a pause means the same to both."""

    @functools.wraps(action)
    def run(self: Any, data: st.DataObject) -> None:
        paused = self._paused
        action(self, data)
        if paused:
            self._resume()

    return run


class PartitionRules:
    """Rules and network of the SPLIT tactic (mixed into its rule machine,
    :class:`~tssbqs_pbt.engine.tactics.SplitMachine`, which provides ``world``, ``adversary``,
    ``setup``, ``kept``, ``_step``, ``_b_send``, ``_may_invoke``, ``_invoke_drawn``, ``kinds_seen``,
    ``_hand_over``, ``answers_offered`` and ``_build_drawn``)."""

    world: Any
    adversary: Any
    setup: Any
    kept: dict[Any, None]
    bound: int

    def __init__(self) -> None:
        super().__init__()
        self._cut: frozenset[Any] = frozenset()  # correct servers cut off now
        self._held: set[int] = set()  # messages held until released (or the drain)
        self._modes: dict[Any, str] = {}  # each Byzantine server's mode in this operation
        self._paused = False  # an operation paused for the adversary (``invoke``'s pause)

    @property
    def paused(self) -> bool:
        """An operation paused for the adversary: its next action comes first."""
        return self._paused

    @property
    def cut(self) -> frozenset[Any]:
        """The correct servers the network cuts off now."""
        return self._cut

    @property
    def held(self) -> frozenset[int]:
        """The ids of the messages the network holds until released (or the drain)."""
        return frozenset(self._held)

    @property
    def modes(self) -> Mapping[Any, str]:
        """Each Byzantine server's mode in the current operation (a copy)."""
        return dict(self._modes)

    def _forked_from(self, machine: Any) -> None:
        super()._forked_from(machine)  # type: ignore[misc]
        self._held = set(machine._held)
        self._modes = dict(machine._modes)

    # -- the network -------------------------------------------------------------------------
    def _draw_cut(self, data: st.DataObject, label: str) -> None:
        """The correct servers cut off from now on: how many (:func:`cut_sizes`), then which
        (:meth:`cut_sets`)."""
        sizes = cut_sizes(self.setup.config)
        size = sizes[data.draw(st.integers(0, len(sizes) - 1), label=f"{label}: how many")]
        self._mark_held()
        if size == 0:
            self._cut = frozenset()
            return
        sets = self.cut_sets(size)
        self._cut = frozenset(sets[pick(data, len(sets), label)])

    def cut_sets(self, size: int) -> list[tuple[Any, ...]]:
        """The sets of ``size`` correct servers, those holding the most servers the current cut
        leaves reachable first (a partition that moves: what the last operation reached is
        now cut off), in a stable order otherwise."""
        servers = self.setup.config.correct_servers
        reached = {s for s in servers if s not in self._cut}
        return sorted(itertools.combinations(servers, size), key=lambda c: -len(set(c) & reached))

    def _mark_held(self) -> None:
        """Messages in flight to a cut-off server are held until released."""
        self._held &= set(self.world.pool.ids())
        self._held.update(e.id for e in self.world.pool if e.dst in self._cut)

    def _draw_modes(self, data: st.DataObject) -> None:
        if self.adversary is None:
            return
        for b in self.adversary.servers:
            mode = B_MODES[data.draw(st.integers(0, len(B_MODES) - 1), label=f"{b} does")]
            if mode == "keep":
                kinds = self.kinds_seen()  # type: ignore[attr-defined]
                mode = f"keep:{kinds[pick(data, len(kinds), 'keeps')].__name__}" if kinds \
                    else "honest"
            elif mode == "restart":
                self.adversary.forget(b)
                self._step(ByzantineRestart(b))  # type: ignore[attr-defined]  # (in the trace)
                mode = "restarted"  # (then follows the protocol from its initial state)
            self._modes[b] = mode

    def _exchange(self, honest: bool = True, keep: type | None = None,
                  withhold: str | None = None, pause_at: int | None = None) -> None:
        """Run the network under the current cut: deliverable messages oldest first; Byzantine
        servers act in their modes of the current operation (also in the final read before the
        drain: a server that forgot stays stale), all silent with ``honest`` false.
        ``keep``/``withhold`` are LAG's.  With ``pause_at``, stop as soon as the Byzantine
        servers have answered that many of the messages they received (the k-th message of
        the operation: it started after they had received ``pause_at - k``): the operation is
        paused (``_paused``), what they sent and everything else in flight still in flight."""
        cut, held, modes = self._cut, self._held, self._modes
        adversary = self.adversary
        for _ in range(self.bound):
            if adversary is not None and adversary.unprocessed() > 0:
                outputs = adversary.honest_step()
                mode = modes.get(adversary.sender, "honest") if honest else "silent"
                for dst, payload in outputs:
                    if mode == "silent":
                        continue
                    if mode.startswith("keep:") and type(payload).__name__ == mode[5:]:
                        self.kept[payload] = None
                        continue
                    self._b_send(dst, payload, immediate=False)  # type: ignore[attr-defined]
                if pause_at is not None and adversary.cursor >= pause_at:
                    self._paused = True  # (B answered; nothing it sent is delivered yet)
                    break
                continue
            if adversary is None and not any(
                    (e := self.world.pool.get(i)) is not None and e.dst not in cut for i in held):
                if any(e.dst not in cut for e in self.world.pool):
                    self._step(Settle(self.bound, hold=cut))  # type: ignore[attr-defined]
                break
            ready = next((e for e in self.world.pool
                          if e.id not in held and e.dst not in cut), None)
            if ready is None:
                break
            self._step(Deliver(ready.id))  # type: ignore[attr-defined]
        self._mark_held()

    # -- rules -------------------------------------------------------------------------------
    @precondition(lambda self: self._may_invoke() and not self._paused)
    @rule(data=st.data())
    def invoke(self, data: st.DataObject) -> None:
        """A client starts an operation; the network may cut a new set of correct servers off;
        each Byzantine server picks its mode; the network runs.  The operation may pause for
        the adversary once the Byzantine servers have answered its k-th message (k up to
        ``setup.pauses``, 0: no pause): no operation starts then, the adversary's next action
        (any rule but ``invoke``) comes first, and the network runs on after it."""
        before = len(self.world.knowledge.received)  # (what B received before it started)
        self._invoke_drawn(data)  # type: ignore[attr-defined]
        pause_at = None
        if self.adversary is not None:
            if data.draw(st.booleans(), label="new cut"):
                self._draw_cut(data, "cut off")
            self._draw_modes(data)
            if self.setup.pauses:  # once the Byzantine servers answered its k-th message
                k = data.draw(st.integers(0, self.setup.pauses), label="pause")
                pause_at = before + k if k else None
        self._exchange(pause_at=pause_at)

    @precondition(lambda self: bool(self.world.pending))
    @rule(data=st.data())
    @resuming
    def repartition(self, data: st.DataObject) -> None:
        """While an operation runs: another set of correct servers is cut off (what was held
        stays held), the Byzantine servers may change mode, and the network runs."""
        self._draw_cut(data, "cut off now")
        if data.draw(st.booleans(), label="new modes"):
            self._draw_modes(data)
        self._exchange()

    @precondition(lambda self: bool(self._held & set(self.world.pool.ids())))
    @rule(data=st.data())
    @resuming
    def release(self, data: st.DataObject) -> None:
        """The network delivers held messages it chooses: one, or every one to its server."""
        held = self._held
        waiting = [e for e in self.world.pool if e.id in held]
        chosen = waiting[pick(data, len(waiting), "held message")]
        if data.draw(st.booleans(), label="all to that server"):
            batch = [e for e in waiting if e.dst == chosen.dst]
        else:
            batch = [chosen]
        for envelope in batch:
            held.discard(envelope.id)
            self._step(Deliver(envelope.id))  # type: ignore[attr-defined]
        self._exchange()

    @precondition(lambda self: bool(self.kept))
    @rule(data=st.data())
    @resuming
    def give_back(self, data: st.DataObject) -> None:
        """A Byzantine server sends a message it kept (newest first) to one correct server or
        to every one."""
        kept = list(reversed(self.kept))
        message = kept[pick(data, len(kept), "kept message")]
        self._send_out(data, message)

    @precondition(lambda self: self.adversary is not None and bool(self.adversary.messages()))
    @rule(data=st.data())
    @resuming
    def synthesise(self, data: st.DataObject) -> None:
        """A Byzantine server builds a whole well-formed request from the pooled knowledge
        (collections composed from held statements and its own) and sends it."""
        adversary = self.adversary
        kinds = synthesisable(adversary)
        if not kinds:
            return
        servers = adversary.servers
        adversary.sender = servers[data.draw(st.integers(0, len(servers) - 1), label="as")]
        kind = kinds[data.draw(st.integers(0, len(kinds) - 1), label="kind")]

        def order(role: FieldRole, pool: tuple[Any, ...], chosen: list[Any]) -> tuple[Any, ...]:
            return synthesis_order(adversary, role, chosen, pool)

        message = self._build_drawn(data, kind, order)  # type: ignore[attr-defined]
        if message is None:
            return
        adversary.produced(message)
        self._send_out(data, message)

    @precondition(lambda self: bool(self.answers_offered()))
    @rule(data=st.data())
    @resuming
    def answer(self, data: st.DataObject) -> None:
        """A Byzantine delegate hands a client a reply it can sign for its operation."""
        super().answer(data)  # type: ignore[misc]

    def teardown(self) -> None:
        """A run that ends at a pause: the adversary did nothing more, the network runs on."""
        if self._paused and not self.failed:  # type: ignore[attr-defined]
            self._resume()
        super().teardown()  # type: ignore[misc]

    def _resume(self) -> None:
        """The paused operation goes on: the network runs."""
        self._paused = False
        self._exchange()

    def _send_out(self, data: st.DataObject, message: Any) -> None:
        """To every correct server (the simplest), to one, or to one client."""
        config = self.setup.config
        servers = config.correct_servers
        targets = (*servers, *config.client_ids)
        choice = data.draw(st.integers(-1, len(targets) - 1), label="to")  # -1: every server
        before = frozenset(self.world.knowledge.signatures)
        for dst in servers if choice < 0 else (targets[choice],):
            self._b_send(dst, message)  # type: ignore[attr-defined]
        self._hand_over(before)  # type: ignore[attr-defined]


def synthesis_order(adversary: Any, role: FieldRole, chosen: list[Any],
                    pool: tuple[Any, ...]) -> tuple[Any, ...]:
    """The order ``synthesise`` offers a field's candidates in, given the fields chosen before
    (the explorer enumerates them in the same order): collections about the same operation
    first, other fields coherent with the chosen ones first."""
    if role is FieldRole.COLLECTION:
        return _about_first(adversary, chosen, pool)
    return coherent_first(adversary, chosen, pool, role)


def _about_first(adversary: Any, chosen: list[Any], pool: tuple[Any, ...]) -> tuple[Any, ...]:
    """Collections about the operation the fields chosen so far name come first (the reports
    for this read, the acknowledgements for this write), stable otherwise."""
    ops = {v for v in chosen if isinstance(v, OpId)}
    if not ops:
        return pool

    def about(collection: Any) -> bool:
        return isinstance(collection, tuple) and any(
            v in ops for s in collection for v in _fields(getattr(s, "body", None)))

    return tuple(sorted(pool, key=lambda c: not about(c)))


def _fields(obj: Any) -> tuple[Any, ...]:
    if obj is None or not hasattr(type(obj), "__attrs_attrs__"):
        return ()
    return tuple(getattr(obj, a.name) for a in type(obj).__attrs_attrs__)
