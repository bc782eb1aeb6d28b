"""How the machines run the network around the Byzantine server B (a mixin of the machine).

A LAG operation is one *exchange*: messages are delivered oldest first, except those to the
lagging correct server (held back until the drain), and B processes what reaches it as the
protocol says, unless the operation's network mode makes it keep some of it to itself (a kind
of message; or whatever carries a signature it alone holds, kept or told to one correct server
only).  B, as a delegate, hands a client any reply it can sign.  COARSE settles with B honest,
possibly skipping one correct server.  Everything here is a scheduling choice: the kernel still
refuses anything B could not build.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from hypothesis import strategies as st

from tssbqs_pbt.kernel import Deliver, Invoke, Sent, Settle, World, read, signed_content
from tssbqs_pbt.properties import Verdict, check_consistency
from tssbqs_pbt.protocols.api import FieldRole
from tssbqs_pbt.strategies.adversary import Adversary
from tssbqs_pbt.strategies.draws import pick
from tssbqs_pbt.strategies.synthesis import answers

__all__ = ["NetworkMixin"]


class NetworkMixin:
    """The network helpers of the rule machine (it provides ``_step`` and ``_b_send``)."""

    setup: Any  # the machine's SearchSetup
    world: World
    adversary: Adversary | None
    byzantine: bool
    bound: int
    lagging: frozenset[Any]
    kept: dict[Any, None]
    initial: str  # the protocol's initial value (P1 judges reads against it)
    _answer_cache: tuple[Any, list[tuple[Any, Any]]]

    def _step(self, action: Any) -> None:
        raise NotImplementedError

    def _b_send(self, dst: Any, payload: Any, immediate: bool = True) -> None:
        raise NotImplementedError

    def _check(self, verdict: Verdict) -> None:
        raise NotImplementedError

    def idle_clients(self) -> list[Any]:
        raise NotImplementedError

    def _probe(self) -> None:
        """What a reader would see now: on a copy of the world, an idle client reads while
        the network still lags, B following the protocol (the run's own last read, taken
        early: a later write may hide what this one shows).  A violation fails the run with
        the copy's trace; otherwise the run goes on as if nothing happened."""
        idle = self.idle_clients()
        if not idle or not self.world.history:
            return
        world, adversary, cache = self.world, self.adversary, self._answer_cache
        self.world = world.copy()
        self.adversary = adversary.fork(self.world) if adversary is not None else None
        try:
            self._step(Invoke(idle[0], read()))
            self._exchange()
            self._check(check_consistency(self.world.history, self.initial))
        finally:
            self.world, self.adversary, self._answer_cache = world, adversary, cache

    def _settle_with_b(self, skip: Any = None) -> None:
        for _ in range(self.bound):
            if self.adversary is not None and self.adversary.unprocessed() > 0:
                for dst, payload in self.adversary.honest_step():
                    if dst != skip:
                        self._b_send(dst, payload, immediate=False)
                continue
            if skip is None:
                if not len(self.world.pool):
                    return
                self._step(Settle(self.bound))
                continue
            ready = [e for e in self.world.pool if skip not in (e.src, e.dst)]
            if not ready:
                return
            self._step(Deliver(ready[0].id))

    def _redraw_lagging(self, data: st.DataObject, first: Collection[Any] = ()) -> None:
        """When an operation starts the network may start delaying another correct server
        (what it held for the one before is delivered from now on), or stop delaying;
        three times in four the lag stays where it is (shrinks to staying).  The correct
        servers in ``first`` (those the new request went to) come first in the pick."""
        if data.draw(st.integers(0, 3), label="lag moves") < 3:
            return
        servers = self.setup.config.correct_servers
        order = [*(s for s in servers if s in first), None,
                 *(s for s in servers if s not in first)]
        choice = order[pick(data, len(order), "lagging now")]
        self.lagging = frozenset() if choice is None else frozenset({choice})

    def _recipients(self) -> tuple[Any, ...]:
        """Where the last step's messages went (the new request's destinations)."""
        return tuple(e.envelope.dst for e in self.world.steps[-1].events
                     if isinstance(e, Sent))

    def _draw_lagging(self, data: st.DataObject) -> None:
        servers = (None, *self.setup.config.correct_servers) if self.byzantine else (None,)
        slow = data.draw(st.sampled_from(servers), label="lagging")
        self.lagging = frozenset() if slow is None else frozenset({slow})

    def _hand_over(self, before: frozenset[Any]) -> None:
        """B, as a delegate, completes each operation whose reply it could just sign."""
        if self.adversary is None or not self.world.pending or \
                len(self.world.knowledge.signatures) == len(before):
            return
        done: set[Any] = set()
        for client, reply in answers(self.adversary, self.world.pending.values(), before):
            if client not in done and client in self.world.pending:
                done.add(client)
                self._b_send(client, reply)

    def answers_offered(self) -> list[tuple[Any, Any]]:
        if self.adversary is None or not self.world.pending:
            return []
        mark = (len(self.world.knowledge.signatures), tuple(self.world.pending.values()))
        if self._answer_cache[0] != mark:
            self._answer_cache = (mark, answers(self.adversary, self.world.pending.values()))
        return self._answer_cache[1]

    def kinds_seen(self) -> list[type]:
        """The message kinds B has seen, those carrying self-verifying data first."""
        assert self.adversary is not None
        decls = self.setup.declarations
        return sorted(self.adversary.held_types(), key=lambda cls: (
            cls not in decls or not any(r is FieldRole.DATA for _, r in decls[cls].roles),
            cls.__name__))

    def _exchange(self, honest: bool = True, keep: type | None = None,
                  withhold: str | None = None) -> None:
        """Deliver oldest first, except messages to lagging servers (held back until the
        drain); B processes what it received honestly unless ``honest`` is false, and
        keeps what it would send of kind ``keep`` to itself (it may release it later).
        ``withhold``: B keeps every message to a server that carries a signature it alone
        holds ("withhold"), or sends those to one correct server only, which the network
        then delays ("withhold-one"); either way B hands a client any reply it can sign."""
        adversary = self.adversary if honest else None
        before = frozenset(self.world.knowledge.signatures) if withhold else frozenset()
        told: frozenset[bytes] = frozenset()  # signed content sent to ``one`` alone
        one = next((s for s in self.setup.config.correct_servers
                    if s not in self.lagging), None) if withhold == "withhold-one" else None
        for _ in range(self.bound):
            if adversary is not None and adversary.unprocessed() > 0:
                outputs = adversary.honest_step()
                # (what B told the one server stays withheld from the others)
                secret = (told | adversary.withheld()) if withhold else frozenset()
                for dst, payload in outputs:
                    if type(payload) is keep or (
                            secret and dst.is_server
                            and signed_content(payload) & secret):
                        if dst == one:
                            told |= signed_content(payload)
                        else:
                            self.kept[payload] = None
                            continue
                    if dst not in self.lagging:
                        self._b_send(dst, payload, immediate=False)
                continue
            if adversary is None or not self.lagging:
                # B does not act in between: one settle that holds back what goes to
                # the lagging server
                if not any(e.dst not in self.lagging for e in self.world.pool):
                    break
                self._step(Settle(self.bound, hold=self.lagging))
                if adversary is None:
                    break
                continue
            ready = next((e for e in self.world.pool if e.dst not in self.lagging), None)
            if ready is None:
                break
            self._step(Deliver(ready.id))
        if withhold is not None and adversary is not None:
            self._hand_over(before)
            if told and one is not None:
                self.lagging = frozenset({one})
