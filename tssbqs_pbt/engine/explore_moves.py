"""The explorer's moves: every choice the SPLIT machine's rules offer from a state, as draws.

A move is one call of one of the SPLIT rules (:class:`tssbqs_pbt.engine.partition.PartitionRules`)
with every draw given by label; this module only lists the draws a scope allows, runs them on
a machine, and says what a state is (its fingerprint).  There is no adversary here of its own:
the candidates of a synthesised message are the rule's own pools, in the rule's own order.

- ``invoke``: which idle client, write or read, the cut from now on, each Byzantine server's
  mode (honest, silent, restart, or keep every message of one kind it has seen);
- ``release``: everything the network held for one correct server is delivered;
- ``answer``: a Byzantine delegate hands a client a reply it can sign;
- ``give_back``: a Byzantine server sends a message it kept to every correct server or one;
- ``synthesise``: a Byzantine server builds a whole request from the pooled knowledge (each
  field among the first candidates of the rule's pool, duplicates dropped) and sends it to
  every correct server or to one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from tssbqs_pbt.engine.partition import B_MODES, cut_sizes, synthesis_order
from tssbqs_pbt.protocols.api import FieldRole
from tssbqs_pbt.strategies.synthesis import (
    build,
    field_pools,
    made_up,
    synthesisable,
)

__all__ = ["ACTIONS", "Move", "candidates", "describe", "fingerprint", "play",
           "symmetric_clients"]

#: the adversary's actions besides starting an operation, simplest first
ACTIONS = ("release", "answer", "give_back", "synthesise")

Move = dict[str, Any]  # the rule ("rule") and its draws by label


def candidates(machine: Any, scope: Any, actions_left: int,
               budget: int | None) -> Iterator[tuple[Move, int]]:
    """Every move ``scope`` allows from the machine's state, simplest first, with what it
    costs of the intervention ``budget`` (None: unbounded): operations, then (while
    ``actions_left``) the adversary's other actions, then operations that pause."""
    if machine.paused:  # an operation paused: the adversary acts, then the network runs on
        if actions_left > 0 and (budget is None or budget >= 1):
            yield from _actions(machine, scope)
        return
    paused: list[tuple[Move, int]] = []  # (operations that pause: tried last)
    if machine.idle_clients() and machine.operations_started() < machine.setup.max_ops:
        # (a pause is worth it only if an action can follow it)
        pausing = scope.pauses and machine.adversary is not None and actions_left > 0
        for move, cost in _invokes(machine, scope):
            if budget is None or cost <= budget:
                yield move, cost
                if pausing and (budget is None or cost + 1 <= budget):
                    paused.extend(({**move, "pause": k}, cost)
                                  for k in range(1, scope.pauses + 1))
    if actions_left > 0 and machine.adversary is not None and (budget is None or budget >= 1):
        yield from _actions(machine, scope)
    yield from paused


def _actions(machine: Any, scope: Any) -> Iterator[tuple[Move, int]]:
    for action in ACTIONS:
        if action in scope.powers:
            for move in _ACTIONS[action](machine, scope):
                yield move, 1


def _invokes(machine: Any, scope: Any) -> Iterator[tuple[Move, int]]:
    """Each operation with a cut and modes; its cost: a new cut counts one (healing it is
    free), each Byzantine server not honest one.  (A "new" cut equal to the current one is the same
    move as keeping it: left out.)"""
    config = machine.setup.config
    idle = machine.idle_clients()
    if scope.which_clients == "any":  # any client, while at most scope.clients have acted
        acted = {c for c in config.client_ids if machine.world.op_counts[c] > 0}
        clients = [i for i, c in enumerate(idle) if c in acted or len(acted) < scope.clients]
    else:
        clients = [i for i, c in enumerate(idle) if c.index <= scope.clients]
    if symmetric_clients(machine, scope):  # clients that never acted are interchangeable
        fresh = [i for i in clients if machine.world.op_counts[idle[i]] == 0]
        clients = [i for i in clients if i not in fresh[1:]]
    cuts: list[tuple[Move, int]] = [({"new cut": False}, 0)]
    widest = max(1, config.n - config.q)  # (more would leave fewer than q reachable)
    for index, size in enumerate(cut_sizes(config)):
        if (scope.max_cut is not None and size > scope.max_cut) or \
                (not scope.blocking_cuts and size > widest):
            continue
        sets = machine.cut_sets(size) if size else [()]
        for k, chosen in enumerate(sets):
            if frozenset(chosen) == machine.cut:
                continue
            cut: Move = {"new cut": True, "cut off: how many": index}
            if size:
                cut.update({"cut off (any)": 3, "cut off": k})
            cuts.append((cut, 1 if size else 0))  # (healing the cut is free)
    servers = machine.adversary.servers if machine.adversary is not None else ()
    # a mode is its index, or for "keep" the index and the kind kept (among those B has seen,
    # those carrying data first: at most scope.keep_kinds of them)
    choices: list[tuple[int, int | None]] = []
    for mode in scope.modes:
        if mode != "keep":
            choices.append((B_MODES.index(mode), None))
        elif machine.adversary is not None:
            kinds = len(machine.kinds_seen())
            if scope.keep_kinds is not None:
                kinds = min(kinds, scope.keep_kinds)
            choices.extend((B_MODES.index(mode), k) for k in range(kinds))
    honest = B_MODES.index("honest")
    modes = list(itertools.product(choices, repeat=len(servers)))
    for who in clients:
        for write in (True, False):
            for cut, cut_cost in cuts:
                for chosen in modes:
                    move: Move = {"rule": "invoke", "client": who, "write": write, **cut}
                    cost = cut_cost
                    for b, (index, kept) in zip(servers, chosen, strict=True):
                        move[f"{b} does"] = index
                        cost += index != honest
                        if kept is not None:  # (one Byzantine server keeping, in the scope)
                            move.update({"keeps (any)": 3, "keeps": kept})
                    yield move, cost


def symmetric_clients(machine: Any, scope: Any) -> bool:
    """Whether clients are interchangeable for this protocol: only if it says so
    (``symmetric_clients = True``), i.e. nothing it does depends on a client's name.  The
    design protocols do not: delegates rotate with the client's index, and timestamps break
    ties by it."""
    return bool(scope.symmetry and getattr(machine.setup.protocol, "symmetric_clients", False))


def _targets(machine: Any, scope: Any) -> list[int]:
    """The "to" draws of a Byzantine send: every correct server (-1), then each one."""
    servers = len(machine.setup.config.correct_servers)
    return [-1, *range(servers)] if scope.targets == "each" else [-1]


def _release(machine: Any, scope: Any) -> Iterator[Move]:
    held = machine.held
    waiting = [e for e in machine.world.pool if e.id in held]
    first: dict[Any, int] = {}
    for index, envelope in enumerate(waiting):
        first.setdefault(envelope.dst, index)
    for dst in sorted(first, key=lambda s: s.index):
        yield {"rule": "release", "held message (any)": 3, "held message": first[dst],
               "all to that server": True}


def _answer(machine: Any, scope: Any) -> Iterator[Move]:
    for index in range(len(machine.answers_offered())):
        yield {"rule": "answer", "reply (any)": 3, "reply": index}


def _give_back(machine: Any, scope: Any) -> Iterator[Move]:
    kept = list(reversed(machine.kept))
    for index in range(min(len(kept), scope.width)):
        for to in _targets(machine, scope):
            yield {"rule": "give_back", "kept message (any)": 3, "kept message": index, "to": to}


def _synthesise(machine: Any, scope: Any) -> Iterator[Move]:
    """Each distinct message the rule can build with every field among the first
    ``scope.width`` candidates of its pool, sent as the rule sends it."""
    adversary = machine.adversary
    if not adversary.messages():
        return
    kinds = synthesisable(adversary)
    seen: set[Any] = set()
    moves: list[Move] = []
    acting = adversary.sender
    try:
        for sender, server in enumerate(adversary.servers):
            adversary.sender = server  # (as the rule does before it builds)
            for kind_index, kind in enumerate(kinds):
                roles = dict(adversary.decls[kind].roles)
                pools = field_pools(adversary, kind)
                for draws, message in _built(adversary, kind, roles, pools, scope):
                    if message is None or (server, message) in seen:
                        continue
                    seen.add((server, message))
                    moves.extend({"rule": "synthesise", "as": sender, "kind": kind_index,
                                  **draws, "to": to} for to in _targets(machine, scope))
    finally:
        adversary.sender = acting
    yield from moves


def _built(adversary: Any, kind: type, roles: Mapping[str, Any],
           pools: list[tuple[str, tuple[Any, ...]]], scope: Any) -> Iterator[tuple[Move, Any]]:
    """(draws, message) for every choice the scope allows: the first field (what the message
    is about: its data, else its request) among the first ``scope.width`` candidates of its
    pool, and if it is a datum also among those B made up (unsigned, above every timestamp:
    what only a protocol trusting unsigned data accepts); each other field among the first
    ``scope.field_width``; every pool ordered as the rule orders it given the fields before."""

    def fields(i: int, chosen: list[tuple[str, Any]], draws: Move) -> Iterator[tuple[Move, Any]]:
        if i == len(pools):
            yield draws, build(adversary, kind, chosen)
            return
        name, pool = pools[i]
        pool = synthesis_order(adversary, roles[name], [v for _, v in chosen], pool)
        indices = list(range(min(scope.width if i == 0 else scope.field_width, len(pool))))
        if i == 0 and roles[name] is FieldRole.DATA:
            invented = set(made_up(adversary, pool))
            indices += [j for j, c in enumerate(pool) if c in invented and j not in indices]
        for j in indices:
            yield from fields(i + 1, [*chosen, (name, pool[j])],
                              {**draws, f"{name} (any)": 3, name: j})

    yield from fields(0, [], {})


_ACTIONS = {"release": _release, "answer": _answer, "give_back": _give_back,
            "synthesise": _synthesise}


def play(machine: Any, move: Move, moves: Any) -> None:
    """Run ``move`` on ``machine`` (its rule with its draws), then check P1 and P3."""
    draws = {k: v for k, v in move.items() if k != "rule"}
    rule = move.get("rule", "invoke")
    mark = (len(machine.world.history), len(machine.world.steps))
    try:  # (after an action, an operation paused for it goes on: the rule's own doing)
        getattr(machine, rule)(data=moves(draws))
    finally:  # (a move that fails part-way is described as far as it went)
        try:
            machine.described.append(describe(machine, rule, mark))
        except (IndexError, AttributeError):
            machine.described.append(f"{rule} (failed part-way)")
    machine.safe()


def fingerprint(machine: Any) -> tuple[Any, ...]:
    """Everything that decides what happens next, independent of message ids and of the order
    things were learnt."""
    world = machine.world
    held = machine.held
    pool = Counter((e.src, e.dst, _frozen(e.payload), e.id in held) for e in world.pool)
    states = tuple(sorted((str(node), _frozen(state)) for node, state in world.states.items()))
    adversary = machine.adversary
    pooled: tuple[Any, ...] = ()
    if adversary is not None:
        kn = world.knowledge
        pooled = (frozenset(_frozen(o) for o in kn.all_objects()),
                  tuple(_frozen(adversary.states[b]) for b in adversary.servers),
                  adversary.unprocessed(), frozenset(_frozen(k) for k in machine.kept))
    history = tuple((type(h.event).__name__, _frozen(h.event)) for h in world.history)
    return (states, frozenset(pool.items()), pooled, machine.cut, machine.paused,
            tuple(sorted((b, "honest" if m == "restarted" else m)  # (same behaviour)
                         for b, m in machine.modes.items())), history)


def _frozen(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def describe(machine: Any, rule: str, mark: tuple[int, int]) -> str:
    """One move in words."""
    if rule == "invoke":
        started = machine.world.history[mark[0]].event
        what = f"{started.op.client} {started.operation}"
        cut = ", ".join(str(s) for s in sorted(machine.cut, key=lambda s: s.index)) or "nobody"
        modes = ", ".join(f"{b} {m}" for b, m in sorted(machine.modes.items(),
                                                        key=lambda bm: bm[0].index))
        paused = "; paused for the adversary" if machine.paused else ""
        return f"{what}; cut off: {cut}; {modes or 'no Byzantine server'}{paused}"
    steps = machine.world.steps[mark[1]:]
    sent = [s.action for s in steps if type(s.action).__name__ == "ByzantineSend"]
    if rule == "release":
        delivered = [s.action for s in steps if type(s.action).__name__ == "Deliver"]
        return f"the network releases what it held ({len(delivered)} deliveries)"
    if not sent:
        return f"{rule}: nothing sent"
    first = sent[0]
    to = ", ".join(dict.fromkeys(str(a.dst) for a in sent if a.payload == first.payload))
    return f"{first.src} {rule.replace('_', ' ')}s {type(first.payload).__name__} to {to}"
