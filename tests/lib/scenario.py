"""Hand-written attack schedules against the option-driven protocol (regression scenarios).

An :class:`Attack` drives one world.  The scripted adversary can block servers (their messages
stay in flight), let the Byzantine server B behave like a correct server by running the real
handler on its own share (``run``), make it drop or ignore chosen messages, or inject messages
built from its knowledge (``inject``).  Nothing here is used by the search engine: the search
must find attacks on its own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tssbqs_pbt.protocols import Design, DesignProtocol

from tssbqs_pbt.errors import InvalidAction
from tssbqs_pbt.kernel import (
    Broadcast,
    ByzantineSend,
    Completed,
    Deliver,
    Drain,
    Envelope,
    Invoke,
    NodeId,
    Operation,
    OpId,
    OpResult,
    ReplyToClient,
    Send,
    Trace,
    World,
    client,
    server,
    step,
)
from tssbqs_pbt.properties import Verdict, check_all


class Attack:
    def __init__(self, design: Design, *, byzantine: int = 4, clients: int = 3,
                 scheme: Any = None) -> None:
        self.design = design
        self.protocol = DesignProtocol(design)
        config = design.config(byzantine={byzantine}, clients=clients)
        self.world = World(self.protocol, config, scheme=scheme)
        self.B = server(byzantine)
        self.blocked: set[NodeId] = set()
        self.silent = False  # B ignores everything it receives
        self.drop_out: Callable[[NodeId, Any], bool] = lambda dst, payload: False
        self.ignore_in: Callable[[Envelope], bool] = lambda env: False
        self.hold: Callable[[Envelope], bool] = lambda env: False  # also delayed
        self.on_receive: Callable[[Envelope], bool] = lambda env: False  # True: B handled it
        self.refused: list[str] = []
        self._b_state = self.protocol.init_server(self.world.contexts[self.B])
        self._b_seen = 0

    # -- clients ---------------------------------------------------------------------------
    def invoke(self, client_index: int, operation: Operation) -> OpId:
        who = client(client_index)
        step(self.world, Invoke(who, operation))
        return self.world.pending[who]

    def result(self, op: OpId) -> OpResult | None:
        for record in self.world.history:
            if isinstance(record.event, Completed) and record.event.op == op:
                return record.event.result
        return None

    # -- scheduling --------------------------------------------------------------------------
    def run(self, limit: int = 5_000) -> None:
        """Deliver everything not touching a blocked server, B acting as a correct server."""
        for _ in range(limit):
            if self._b_turn():
                continue
            envelope = next((e for e in self.world.pool if self._allowed(e)), None)
            if envelope is None:
                return
            step(self.world, Deliver(envelope.id))
        raise AssertionError("scenario did not settle")

    def run_until(self, done: Callable[[], bool], limit: int = 5_000) -> None:
        """Like :meth:`run`, one delivery at a time, stopping as soon as ``done()`` holds."""
        for _ in range(limit):
            if done():
                return
            if self._b_turn():
                continue
            envelope = next((e for e in self.world.pool if self._allowed(e)), None)
            if envelope is None:
                return
            step(self.world, Deliver(envelope.id))

    def run_random(self, rng: random.Random, steps: int) -> int:
        """Up to ``steps`` scheduling moves chosen by ``rng``; the number of moves made.

        Each move picks uniformly among the deliverable in-flight messages (those :meth:`run`
        may deliver) and the messages waiting in B's inbox; picking one of the latter lets B
        handle its oldest unhandled message, exactly as :meth:`run` does.  Fewer than
        ``steps`` moves are made only when nothing is left to do.
        """
        for done in range(steps):
            waiting = len(self.world.knowledge.received) - self._b_seen
            candidates = [e for e in self.world.pool if self._allowed(e)]
            if not candidates and not waiting:
                return done
            pick = rng.randrange(len(candidates) + waiting)
            if pick >= len(candidates):
                self._b_turn()
            else:
                step(self.world, Deliver(candidates[pick].id))
        return steps

    def forget(self) -> None:
        """B throws its state away: from now on it reports the initial datum (a lie)."""
        self._b_state = self.protocol.init_server(self.world.contexts[self.B])

    def _allowed(self, envelope: Envelope) -> bool:
        if self.hold(envelope):
            return False
        return envelope.src not in self.blocked and envelope.dst not in self.blocked

    def mark(self) -> int:
        """The id of the newest message sent so far (to hold everything older)."""
        return self.world.next_msg_id - 1

    def _b_turn(self) -> bool:
        inbox = self.world.knowledge.received
        if self._b_seen >= len(inbox):
            return False
        envelope = inbox[self._b_seen]
        self._b_seen += 1
        if self.silent or self.ignore_in(envelope) or self.on_receive(envelope):
            return True
        ctx = self.world.contexts[self.B]
        self._b_state, effects = self.protocol.on_server_message(ctx, self._b_state, envelope)
        for effect in effects:
            if isinstance(effect, (Send, ReplyToClient)):
                dst = effect.dst if isinstance(effect, Send) else effect.client
                self._emit(dst, effect.payload)
            elif isinstance(effect, Broadcast):
                for dst in effect.dsts:
                    self._emit(dst, effect.payload)
        return True

    def _emit(self, dst: NodeId, payload: Any) -> None:
        if not self.drop_out(dst, payload):
            self.inject(dst, payload, immediate=False)

    def inject(self, dst: NodeId, payload: Any, *, immediate: bool = True) -> bool:
        """B sends ``payload``; False (and a note in ``refused``) if the kernel refuses it."""
        try:
            step(self.world, ByzantineSend(self.B, dst, payload, immediate=immediate))
        except InvalidAction as exc:
            self.refused.append(str(exc))
            return False
        return True

    def drain(self) -> None:
        step(self.world, Drain())

    # -- verdicts ----------------------------------------------------------------------------
    def verdicts(self) -> tuple[Verdict, ...]:
        return check_all(Trace.of(self.world), signed_value=self.protocol.signed_value)

    def violated(self) -> set[str]:
        """Names of the properties violated so far (P1, P2, P3)."""
        names = ("P1", "P2", "P3")
        return {n for n, v in zip(names, self.verdicts(), strict=True) if v.violated}
