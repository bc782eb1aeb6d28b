"""Whole messages the generic adversary can build from its knowledge (no Hypothesis here).

Two capabilities on top of :class:`~tssbqs_pbt.strategies.adversary.Adversary`, both driven only
by the protocol's message declarations:

- **synthesis** of a request: a well-formed message of a declared type B has seen (and that
  carries no signature or partial of its own), every field drawn from what B holds or can
  invent for that field's role (an operation it has seen, an old datum, no evidence, ...);
- **answers**: every self-verifying message naming a pending operation of a correct client that
  B can sign (it holds or can combine the declared signature); a Byzantine delegate hands it to
  that client at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
from tssbqs_pbt.protocols.api import FieldRole
from tssbqs_pbt.strategies.adversary import _NOTHING, Adversary, Position, _optional

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel import Delivered, NodeId, NodeSigned, OpId, Sent, World, walk

__all__ = ["Deliveries", "answers", "build", "carrying_data", "coherent_first", "field_pools",
           "made_up", "signed_leaves", "stale_first", "synthesisable"]

_SIGNED_ROLES = (FieldRole.SIGNATURE, FieldRole.PARTIAL)


def synthesisable(adversary: Adversary) -> tuple[type, ...]:
    """Held message types B may build from scratch: no signature or partial at top level (a
    request, a query, a store), in a stable order (by name)."""
    out = []
    for cls in adversary.held_types():
        decl = adversary.decls.get(cls)
        if decl is None or any(role in _SIGNED_ROLES for _, role in decl.roles):
            continue
        if any(role is FieldRole.OPAQUE for _, role in decl.roles):
            continue
        out.append(cls)
    return tuple(out)


def carrying_data(adversary: Adversary, kinds: Iterable[type]) -> tuple[type, ...]:
    """Those of ``kinds`` with a self-verifying data field (where a stale datum can go)."""
    return tuple(k for k in kinds
                 if any(role is FieldRole.DATA for _, role in adversary.decls[k].roles))


def field_pools(adversary: Adversary, cls: type) -> list[tuple[str, tuple[Any, ...]]]:
    """For each field of ``cls``, the values B can put there (newest or simplest first).

    Self-verifying data come first (the scarce part: what B can show), so the other fields
    can be drawn coherent with it (:func:`coherent_first`)."""
    decl = adversary.decls[cls]
    pools: list[tuple[str, tuple[Any, ...]]] = []
    for name, role in sorted(decl.roles, key=lambda nr: nr[1] is not FieldRole.DATA):
        position = Position((name,), role, cls)
        pool = adversary.pool(position, _NOTHING)
        if _optional(adversary.annotation(position)):
            pool = (*pool, None)
        pools.append((name, pool))
    return pools


def made_up(adversary: Adversary, pool: tuple[Any, ...]) -> tuple[Any, ...]:
    """Those of ``pool`` B made up (:meth:`Adversary.fabrications`: unsigned, each value at
    the highest timestamp it can invent), which come last in a data pool: what only a
    protocol that trusts unsigned data accepts."""
    made = {o for cls in dict.fromkeys(type(c) for c in pool)
            for o in adversary.fabrications(cls)}
    return tuple(c for c in pool if c in made) if made else ()


def coherent_first(adversary: Adversary, chosen: Iterable[Any], pool: tuple[Any, ...],
                   role: FieldRole | None = None) -> tuple[Any, ...]:
    """``pool`` with the candidates about the value the fields chosen so far are about first
    (a datum for the value a request asks to write), then those whose values appear there at
    all (the basis it carries), stable otherwise.  For a value field (``role`` VALUE), the
    values a signed statement chosen before binds come before all (:func:`signed_leaves`);
    a timestamp keeps its order, so B can still get a request's value signed at a timestamp
    it makes up."""
    chosen = list(chosen)
    values: set[Any] = set()
    primary: set[Any] = set()
    for value in chosen:
        values |= adversary.values_in(value)
        primary |= adversary.primary_values(value)
    carried = signed_leaves(chosen) if role is FieldRole.VALUE else frozenset()
    if not values and not carried:
        return pool
    return tuple(sorted(pool, key=lambda c: (not _in(c, carried),
                                             not (adversary.primary_values(c) & primary),
                                             not (adversary.values_in(c) & values))))


def signed_leaves(chosen: Iterable[Any]) -> frozenset[Any]:
    """The plain values (strings, numbers, timestamps) inside the bodies of the signed
    statements among ``chosen``: what a client-signed request binds.  A field beside such a
    request is offered these first: a protocol that checks the request against its fields
    accepts only them, and a made-up value there is refused before it can matter."""
    found: set[Any] = set()
    stack = [v.body for v in chosen if isinstance(v, NodeSigned)]
    while stack:
        item = stack.pop()
        if isinstance(item, NodeSigned):
            stack.append(item.body)
        elif isinstance(item, tuple):
            if item and all(isinstance(x, int) and not isinstance(x, bool) for x in item):
                found.add(item)
            stack.extend(item)
        elif isinstance(item, (str, int)) and not isinstance(item, bool):
            found.add(item)
    return frozenset(found)


def _in(candidate: Any, found: frozenset[Any]) -> bool:
    if not found:
        return False
    try:
        return candidate in found
    except TypeError:
        return False


def build(adversary: Adversary, cls: type, values: Iterable[tuple[str, Any]]) -> Any:
    """The ``cls`` message with the given field values, repaired as B can (re-signed)."""
    try:
        message = cls(**dict(values))
    except (TypeError, ValueError):
        return None
    return adversary.repaired(message)


def answers(adversary: Adversary, pending: Iterable[OpId],
            only_new: frozenset[Any] | None = None) -> list[tuple[NodeId, Any]]:
    """(client, reply) pairs: self-verifying messages B can sign for a pending operation (with
    ``only_new``: only those whose signature is not in that set)."""
    waiting = set(pending)
    if not waiting:
        return []
    out: list[tuple[NodeId, Any]] = []
    for cls in adversary.forgeable():
        decl = adversary.decls[cls]
        op_fields = [name for name, role in decl.roles if role is FieldRole.OPERATION]
        if len(op_fields) != 1:
            continue
        for reply in adversary.forgeries(cls):
            op = getattr(reply, op_fields[0])
            if only_new is not None and _signature(reply) in only_new:
                continue
            if op in waiting and isinstance(op, OpId):
                out.append((op.client, reply))
    return out


class Deliveries:
    """What correct processes delivered to each correct server: the declared objects (data,
    requests, ...) nested in those messages, latest delivery first.

    The adversary schedules the network, so it knows what it let through; a server it has
    been delaying still holds the newest of these (a stale datum B can ask it to vouch for).
    What B itself sent a server is left out: it says nothing of what the server holds.
    Kept up to date incrementally from the world's steps."""

    def __init__(self, world: World, classes: Iterable[type]) -> None:
        self.world = world
        self.classes = tuple(classes)
        self._sent: dict[int, Any] = {}
        self._seen: dict[NodeId, dict[Any, None]] = {}
        self._synced = 0

    def to(self, server: NodeId) -> tuple[Any, ...]:
        steps = self.world.steps
        byzantine = self.world.knowledge.byzantine
        for record in steps[self._synced:]:
            for event in record.events:
                if isinstance(event, Sent):
                    self._sent[event.envelope.id] = event.envelope
                elif isinstance(event, Delivered):
                    envelope = self._sent.pop(event.msg_id, None)
                    if envelope is not None and envelope.src not in byzantine:
                        seen = self._seen.setdefault(envelope.dst, {})
                        for obj in walk(envelope.payload):
                            if isinstance(obj, self.classes):
                                seen.pop(obj, None)  # (moves to the end: latest delivery)
                                seen[obj] = None
        self._synced = len(steps)
        return tuple(reversed(self._seen.get(server, {})))


def stale_first(pool: tuple[Any, ...], seen: tuple[Any, ...], world: World) -> tuple[Any, ...]:
    """``pool`` with what a server still holds first: what correct processes delivered to it,
    latest delivery first; if none of ``pool`` was, the oldest B knows first (a server the
    network has delayed from the start still holds its initial data), in the order B learnt
    them."""
    rank = {obj: i for i, obj in enumerate(seen)}
    if not any(c in rank for c in pool):
        known = world.knowledge
        rank = {obj: i for cls in dict.fromkeys(type(c) for c in pool)
                for i, obj in enumerate(known.objects(cls))}
        if not rank:
            return pool
    return tuple(sorted(pool, key=lambda c: rank.get(c, len(rank))))


def _signature(message: Any) -> Any:
    return next((getattr(message, a.name) for a in attrs.fields(type(message))
                 if isinstance(getattr(message, a.name), Signature)), None)
