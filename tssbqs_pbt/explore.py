"""A bounded-exhaustive explorer: every adversary schedule within a :class:`Scope`, breadth first.

Random search finds shallow attacks fast; its "valid" means only that the runs it drew found
nothing.  The explorer enumerates, in breadth-first order, every sequence of the adversary's
*strategic* moves within a scope — which client starts which operation, which correct servers
the network cuts off during it, what each Byzantine server does — and settles everything else
canonically (deliveries oldest first), as Twins enumerates partitions per round rather than
message orders.  A move is one call of the SPLIT rule machine's own ``invoke`` rule with its
draws given (:class:`Moves`): there is one definition of what the adversary can do, the one the
random search uses.

World states are deduplicated by a fingerprint (every node's state, what is in flight and held,
the adversary's pooled knowledge and emulated states, the cut, the client-visible history), so a
state reached twice is expanded once.  P1 and P3 are checked after every move; at every new
state the run is also ended the way a search ends it (a read while the network is still cut,
then a fair drain, a final read) and P2, P1, P3 judged.  The first violation in breadth-first
order is the shortest within the scope (fewest moves); with none, the result is a certificate:
the scope, states, transitions, depth reached, and whether the scope was exhausted or a bound
cut it short.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import ThresholdScheme
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import SystemConfig
from tssbqs_pbt.machine import FaultFound, PropertyViolated, SearchSetup, Tactic, make_machine
from tssbqs_pbt.partition import B_MODES, cut_sizes
from tssbqs_pbt.protocols.api import MessageDecl, ProtocolSpec, StorageProtocol

__all__ = ["Certificate", "ExploreResult", "Moves", "Scope", "explore"]

_MODES = frozenset(B_MODES)


def _positive(instance: object, attribute: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"Scope({attribute.name}={value!r}): must be a whole number >= 1")


def _modes(instance: object, attribute: Any, value: tuple[str, ...]) -> None:
    bad = [m for m in value if m not in _MODES]
    if bad or not value:
        raise InvalidArgument(f"Scope(modes={value!r}): each mode must be one of "
                              f"{', '.join(sorted(_MODES))} (at least one)")


@attrs.frozen
class Scope:
    """The bounds of one exploration.

    ``operations``: client operations in a schedule (each one adversary move); ``clients``:
    how many clients may act; ``max_cut``: at most this many correct servers cut off at once
    (None: any number); ``modes``: what a Byzantine server may do during an operation;
    ``max_states`` and ``seconds``: bounds that cut the exploration short (then the
    certificate says it is not exhausted)."""

    operations: int = attrs.field(default=2, validator=_positive)
    clients: int = attrs.field(default=2, validator=_positive)
    max_cut: int | None = None
    modes: tuple[str, ...] = attrs.field(default=("honest", "silent", "restart"),
                                         converter=tuple, validator=_modes)
    max_states: int = attrs.field(default=20_000, validator=_positive)
    seconds: float | None = None

    def describe(self) -> str:
        cut = "any" if self.max_cut is None else str(self.max_cut)
        return (f"{self.operations} operations by {self.clients} clients, cuts of {cut} "
                f"correct servers, Byzantine modes {'/'.join(self.modes)}")


@attrs.frozen
class Certificate:
    """What an exploration covered: states, transitions (moves run), the depth reached, the
    reductions used, and whether the whole scope was explored."""

    scope: Scope
    states: int
    transitions: int
    depth: int
    exhausted: bool
    elapsed_s: float
    reductions: tuple[str, ...] = ("state fingerprints",)
    cut_by: str | None = None  # the bound that stopped it ("max_states", "seconds")

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope.describe(), "states": self.states,
                "transitions": self.transitions, "depth": self.depth,
                "exhausted": self.exhausted, "reductions": list(self.reductions),
                "cut_by": self.cut_by, "elapsed_s": round(self.elapsed_s, 2)}


@attrs.frozen
class ExploreResult:
    certificate: Certificate
    failure: AssertionError | None = None  # the first violation in breadth-first order
    moves: tuple[Mapping[str, Any], ...] = ()  # the schedule that led to it (its draws)
    described: tuple[str, ...] = ()  # each move in words


class Moves:
    """The draws of one move, by label (a stand-in for Hypothesis's ``data``): the machine's
    own rules run with exactly these choices; a draw not given takes its simplest value."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        if label in self.values:
            return self.values[label]
        return False if "write" in (label or "") or label == "new cut" else 0


def _moves(machine: Any, scope: Scope) -> Iterator[dict[str, Any]]:
    """Every move the scope allows from the machine's state, simplest first."""
    config = machine.setup.config
    idle = machine._idle()
    clients = [i for i, c in enumerate(idle) if c.index <= scope.clients]
    cuts: list[dict[str, Any]] = [{"new cut": False}]
    for index, size in enumerate(cut_sizes(config)):
        if scope.max_cut is not None and size > scope.max_cut:
            continue
        count = math.comb(len(config.correct_servers), size) if size else 1
        for k in range(count):
            cut = {"new cut": True, "cut off: how many": index}
            if size:
                cut.update({"cut off (any)": 3, "cut off": k})
            cuts.append(cut)
    servers = machine.adversary.servers if machine.adversary is not None else ()
    # a mode is its index, or for "keep" the index and the kind kept (among those B has seen)
    choices: list[tuple[int, int | None]] = []
    for mode in scope.modes:
        if mode != "keep":
            choices.append((B_MODES.index(mode), None))
        elif machine.adversary is not None:
            kinds = len(machine._kinds())
            choices.extend((B_MODES.index(mode), k) for k in range(kinds))
    modes = list(itertools.product(choices, repeat=len(servers)))
    for who in clients:
        for write in (True, False):
            for cut in cuts:
                for chosen in modes:
                    move: dict[str, Any] = {"client": who, "write": write, **cut}
                    for b, (index, kept) in zip(servers, chosen, strict=True):
                        move[f"{b} does"] = index
                        if kept is not None:  # (one Byzantine server keeping, in the scope)
                            move.update({"keeps (any)": 3, "keeps": kept})
                    yield move


def fingerprint(machine: Any) -> tuple[Any, ...]:
    """Everything that decides what happens next, independent of message ids and of the order
    things were learnt."""
    world = machine.world
    held = machine._held
    pool = Counter((e.src, e.dst, _frozen(e.payload), e.id in held) for e in world.pool)
    states = tuple(sorted((str(node), _frozen(state)) for node, state in world.states.items()))
    adversary = machine.adversary
    pooled: tuple[Any, ...] = ()
    if adversary is not None:
        kn = world.knowledge
        pooled = (frozenset(_frozen(o) for cls in list(kn._objects) for o in kn.objects(cls)),
                  tuple(_frozen(adversary.states[b]) for b in adversary.servers),
                  adversary.unprocessed(), frozenset(_frozen(k) for k in machine.kept))
    history = tuple((type(h.event).__name__, _frozen(h.event)) for h in world.history)
    return (states, frozenset(pool.items()), pooled, machine._cut,
            tuple(sorted((b, "honest" if m == "restarted" else m)  # (same behaviour)
                         for b, m in machine._modes.items())), history)


def _frozen(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def explore(protocol: StorageProtocol, config: SystemConfig, scope: Scope | None = None, *,
            declarations: Mapping[type, MessageDecl] | None = None,
            scheme: ThresholdScheme | None = None) -> ExploreResult:
    """Explore every schedule of ``scope`` breadth first; return the first violation (the
    shortest within the scope) or a certificate of what was covered."""
    scope = scope or Scope()
    if declarations is None:
        declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol
                                    ).declarations(protocol)
    setup = SearchSetup(protocol, config, declarations, scheme=scheme,
                        signed_value=getattr(protocol, "signed_value", None),
                        tactic=Tactic.SPLIT, max_ops=scope.operations)
    machine_class = make_machine(setup)
    started = time.perf_counter()
    seen: set[tuple[Any, ...]] = set()
    frontier: list[tuple[dict[str, Any], ...]] = [()]
    transitions = depth = 0

    def certificate(exhausted: bool, cut_by: str | None = None) -> Certificate:
        return Certificate(scope, len(seen), transitions, depth, exhausted,
                           time.perf_counter() - started, cut_by=cut_by)

    try:
        _run(machine_class, ())  # (a violation before any move: the configuration itself)
    except (PropertyViolated, FaultFound) as failure:
        return ExploreResult(certificate(False, "violation"), failure, ())
    for level in range(1, scope.operations + 1):
        following: list[tuple[dict[str, Any], ...]] = []
        for path in frontier:
            for move in _moves(_run(machine_class, path), scope):
                if len(seen) >= scope.max_states:
                    return ExploreResult(certificate(False, "max_states"))
                if scope.seconds is not None and \
                        time.perf_counter() - started > scope.seconds:
                    return ExploreResult(certificate(False, "seconds"))
                transitions += 1
                schedule = (*path, move)
                machine = None
                try:
                    machine = _run(machine_class, schedule)
                    key = fingerprint(machine)
                    if key in seen:
                        continue
                    seen.add(key)
                    depth = level
                    machine.teardown()
                except (PropertyViolated, FaultFound) as failure:
                    depth = level
                    words = tuple(getattr(machine, "described", ()))
                    if machine is None:  # (the move itself failed: describe it on a replay)
                        words = _words(machine_class, schedule)
                    return ExploreResult(certificate(False, "violation"), failure, schedule,
                                         words)
                following.append(schedule)
        frontier = following
        if not frontier:
            break
    return ExploreResult(certificate(True))


def _run(machine_class: Any, schedule: tuple[dict[str, Any], ...]) -> Any:
    """A fresh machine with ``schedule``'s moves played (P1 and P3 checked after each)."""
    machine = machine_class()
    machine.start(warmup=0, data=Moves({}))
    machine.safe()
    machine.described = []
    for move in schedule:
        if not machine._idle() or machine._ops() >= machine.setup.max_ops:
            break
        invoked = len(machine.world.history)
        machine.invoke(data=Moves(move))
        machine.described.append(_describe(machine, invoked))
        machine.safe()
    return machine


def _words(machine_class: Any, schedule: tuple[dict[str, Any], ...]) -> tuple[str, ...]:
    machine = machine_class()
    machine.described = []
    machine.start(warmup=0, data=Moves({}))
    for move in schedule:
        invoked = len(machine.world.history)
        try:
            machine.invoke(data=Moves(move))
        except (PropertyViolated, FaultFound):
            machine.described.append(_describe(machine, invoked))
            break
        machine.described.append(_describe(machine, invoked))
    return tuple(machine.described)


def _describe(machine: Any, invoked: int) -> str:
    """One move in words: who started what, what was cut off, what each Byzantine server did."""
    started = machine.world.history[invoked].event
    what = f"{started.op.client} {started.operation}"
    cut = ", ".join(str(s) for s in sorted(machine._cut, key=lambda s: s.index)) or "nobody"
    modes = ", ".join(f"{b} {m}" for b, m in sorted(machine._modes.items(),
                                                    key=lambda bm: bm[0].index))
    return f"{what}; cut off: {cut}; {modes or 'no Byzantine server'}"
