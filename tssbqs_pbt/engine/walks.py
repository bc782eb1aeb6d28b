"""Deep random walks over the explorer's moves: what breadth first cannot reach.

Breadth first holds every schedule of a scope, and so only short ones: a scope of many
operations, many adversary actions chained one on another (what one synthesis gets signed
becomes the evidence of the next) and no bound on interventions is far too large to exhaust.
A walk goes deep instead: from the initial state it takes, again and again, one of the moves
the scope allows (:func:`~tssbqs_pbt.engine.explore_moves.candidates`, the explorer's own),
first drawing which kind of move (an operation, an operation that pauses for the adversary,
or one of the adversary's actions), then one move of that kind, each uniformly from a seeded
generator; P1 and P3 are judged after every move and, when the walk ends, the run is ended as
the explorer ends it (a read while cut, a fair drain, a final read) and all three judged.

It is search, not a certificate: a walk covers one schedule, and nothing found in N walks
says only that.  The same seed gives the same walks.  A failing walk is cut to the shortest
prefix that still fails, then single moves are dropped while it still fails, so its report
is about the attack rather than the walk.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.engine.bfs import replay
from tssbqs_pbt.engine.certificate import Moves
from tssbqs_pbt.engine.explore import Scope, move_machine
from tssbqs_pbt.engine.explore_moves import Move, candidates, play
from tssbqs_pbt.engine.machine import FaultFound, PropertyViolated, Tactic
from tssbqs_pbt.engine.search import Counterexample, counterexample_of, trace_pass
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import SystemConfig
from tssbqs_pbt.protocols.api import MessageDecl, StorageProtocol
from tssbqs_pbt.wording import plural

__all__ = ["DEEP", "WalkResult", "Walked", "deep_walks", "walked_counterexample"]

#: the bounds of one deep walk: six operations by any three clients, eight adversary actions
#: of every kind (each field of a synthesised message among its first two candidates, sent to
#: every correct server or to one), any number of interventions, pauses up to the third
#: message
DEEP = Scope(operations=6, clients=3, which_clients="any", actions=8, interventions=None,
             field_width=2, targets="each", pauses=3)


@attrs.frozen
class Walked:
    """What the walks covered: how many, how deep, in which scope and with which seed."""

    scope: Scope
    walks: int
    length: int  # moves a walk takes at most
    moves: int  # moves taken in all
    seed: int
    elapsed_s: float

    def backing(self) -> str:
        return (f"{plural(self.walks, 'deep random walk')} of up to {self.length} moves "
                f"({self.moves:,} in all, seed {self.seed}): nothing found (search, not a "
                "certificate)")

    def describe(self) -> str:
        return (f"deep random walks of up to {self.length} moves, seed {self.seed}, within "
                f"{self.scope.describe()}")

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope.describe(), "walks": self.walks, "length": self.length,
                "moves": self.moves, "seed": self.seed, "elapsed_s": round(self.elapsed_s, 2)}


@attrs.frozen
class WalkResult:
    walked: Walked
    failure: AssertionError | None = None
    moves: tuple[Mapping[str, Any], ...] = ()  # the failing schedule, cut short (its draws)
    described: tuple[str, ...] = ()


def deep_walks(protocol: StorageProtocol, config: SystemConfig, scope: Scope | None = None,
               *, walks: int = 64, length: int = 14, seed: int = 0,
               declarations: Mapping[type, MessageDecl] | None = None,
               scheme: ThresholdScheme | None = None) -> WalkResult:
    """``walks`` random walks of up to ``length`` moves within ``scope`` (default
    :data:`DEEP`); the first violation, cut short, or what was covered."""
    for name, value, low in (("walks", walks, 1), ("length", length, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidArgument(f"deep_walks({name}={value!r}): must be a whole number "
                                  f">= {low}")
    scope = scope or DEEP
    machine_class = move_machine(protocol, config, scope, declarations, scheme)
    started, taken = time.perf_counter(), 0
    for number in range(walks):
        rng = random.Random(f"tssbqs-walk:{seed}:{number}")
        schedule, failure = _walk(machine_class, scope, length, rng)
        taken += len(schedule)
        if failure is not None:
            cut = _shortest(machine_class, schedule)
            failure, described = _ending(machine_class, cut)
            walked = Walked(scope, number + 1, length, taken, seed,
                            time.perf_counter() - started)
            assert failure is not None
            return WalkResult(walked, failure, cut, described)
    return WalkResult(Walked(scope, walks, length, taken, seed, time.perf_counter() - started))


def _walk(machine_class: Any, scope: Scope, length: int, rng: random.Random
          ) -> tuple[tuple[Move, ...], AssertionError | None]:
    machine = replay(machine_class, ())
    schedule: list[Move] = []
    acted = spent = 0
    try:
        for _ in range(length):
            left = None if scope.interventions is None else scope.interventions - spent
            move, cost = _pick(candidates(machine, scope, scope.actions - acted, left), rng)
            if move is None:
                break
            schedule.append(move)
            acted, spent = acted + (move["rule"] != "invoke"), spent + cost
            play(machine, move, Moves)
        if not machine.paused:
            machine.teardown()
    except (PropertyViolated, FaultFound) as failure:
        return tuple(schedule), failure
    return tuple(schedule), None


def _pick(moves: Any, rng: random.Random) -> tuple[Move | None, int]:
    """A kind of move, then a move of that kind, each uniformly."""
    kinds: dict[str, list[tuple[Move, int]]] = {}
    for move, cost in moves:
        kind = "pause" if "pause" in move else move["rule"]
        kinds.setdefault(kind, []).append((move, cost))
    if not kinds:
        return None, 0
    chosen = kinds[rng.choice(sorted(kinds))]
    return chosen[rng.randrange(len(chosen))]


def _ending(machine_class: Any, schedule: tuple[Move, ...]
            ) -> tuple[AssertionError | None, tuple[str, ...]]:
    """Whether ``schedule``, then the end of the run, fails (and its moves in words)."""
    machine = None
    try:
        machine = replay(machine_class, ())
        for move in schedule:
            play(machine, move, Moves)
        if not machine.paused:
            machine.teardown()
    except (PropertyViolated, FaultFound) as failure:
        return failure, tuple(machine.described) if machine is not None else ()
    except Exception:  # (a move whose draws no longer fit once an earlier one was dropped)
        return None, ()
    return None, tuple(machine.described)


def _shortest(machine_class: Any, schedule: tuple[Move, ...]) -> tuple[Move, ...]:
    """The shortest prefix of ``schedule`` that fails, then without each move that is not
    needed for it to fail (passes, last move first, until a pass drops none: a move needed
    only for one dropped later can go then)."""
    for end in range(1, len(schedule) + 1):
        if _ending(machine_class, schedule[:end])[0] is not None:
            schedule = schedule[:end]
            break
    dropped = True
    while dropped:
        dropped = False
        for at in reversed(range(len(schedule) - 1)):
            shorter = schedule[:at] + schedule[at + 1:]
            if _ending(machine_class, shorter)[0] is not None:
                schedule, dropped = shorter, True
    return schedule


def walked_counterexample(result: WalkResult, protocol: StorageProtocol, config: SystemConfig,
                          *, scheme: ThresholdScheme | None = None) -> Counterexample:
    """The violation a walk found, as a counterexample: shrunk on its kernel actions (the
    trace pass) and marked as found by the deep walks (its replay file and regression test
    say so)."""
    if result.failure is None:
        raise InvalidArgument("the walks found no violation: there is no counterexample")
    found = attrs.evolve(counterexample_of(result.failure, Tactic.SPLIT),
                         walks=result.walked.describe())
    return trace_pass(found, protocol, config, scheme=scheme)
