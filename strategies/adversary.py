"""The protocol-generic Byzantine adversary: what it can build from its pooled knowledge.

Pure and deterministic (no Hypothesis here): the rule machine draws the choices.  Everything is
derived from the protocol's message declarations, so it works for any plugged-in protocol:

- **honest** emulation: B runs the protocol's own server handler on its own share and state, and
  then chooses what to do with each output (send, keep for later, send to some only);
- **replay**: send any protocol message it holds (received or produced), to anyone, any time;
- **mutate**: take a held message, replace one field (found by its declared role: value,
  timestamp, operation, counter, nested data, statement, collection) by something it holds or
  can invent (a fabricated value, a timestamp above everything seen), then repair the message
  the way B can: statements of correct processes become B's own statements, and every declared
  signature or partial field gets the signature B holds or can combine for the new content;
- **forget**: throw its emulated state away (then it reports stale data).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from tssbqs_pbt.protocols.api import FieldRole, MessageDecl, declare

from tssbqs_pbt.crypto.api import PartialSignature, Signature
from tssbqs_pbt.kernel import (
    Broadcast,
    NodeId,
    NodeSigned,
    ReplyToClient,
    Send,
    World,
)

__all__ = ["FABRICATED_VALUE", "Adversary", "Position"]

FABRICATED_VALUE = "fake"
_NODE_SIGNED = declare(NodeSigned, signer=FieldRole.OPAQUE, body=FieldRole.DATA)
_LEAF_ROLES = (FieldRole.VALUE, FieldRole.TIMESTAMP, FieldRole.OPERATION, FieldRole.COUNTER)
_MUTABLE = (*_LEAF_ROLES, FieldRole.DATA, FieldRole.STATEMENT, FieldRole.COLLECTION,
            FieldRole.SIGNATURE)

Path = tuple[str, ...]


@attrs.frozen
class Position:
    """A mutable place inside a message: the path of field names, its role and the class that
    declares it."""

    path: Path
    role: FieldRole
    owner: type


class Adversary:
    """B's side of one run (the first Byzantine server acts; the others stay silent)."""

    def __init__(self, world: World, declarations: Mapping[type, MessageDecl]) -> None:
        self.world = world
        self.decls = dict(declarations)
        self.decls.setdefault(NodeSigned, _NODE_SIGNED)
        self.me: NodeId = min(world.config.byzantine_ids)
        self.top_types = tuple(world.protocol.message_types)
        self._ctx = world.contexts[self.me]
        self.state: Any = world.protocol.init_server(self._ctx)
        self.cursor = 0  # next received envelope to process honestly
        self.held: dict[Any, None] = {}  # protocol messages held, in the order first held
        self._synced = 0

    # -- what B holds ------------------------------------------------------------------------
    def sync(self) -> None:
        """Pick up messages received since the last call."""
        received = self.world.knowledge.received
        for envelope in received[self._synced:]:
            self._hold(envelope.payload)
        self._synced = len(received)

    def _hold(self, payload: Any) -> None:
        if isinstance(payload, self.top_types):
            self.held.setdefault(payload, None)

    def messages(self) -> tuple[Any, ...]:
        self.sync()
        return tuple(self.held)

    def unprocessed(self) -> int:
        return len(self.world.knowledge.received) - self.cursor

    # -- honest emulation --------------------------------------------------------------------
    def honest_step(self) -> list[tuple[NodeId, Any]]:
        """Process the next received envelope with the protocol's own handler; return the
        (destination, payload) pairs a correct server would send (the caller decides)."""
        received = self.world.knowledge.received
        if self.cursor >= len(received):
            return []
        envelope = received[self.cursor]
        self.cursor += 1
        try:
            self.state, effects = self.world.protocol.on_server_message(
                self._ctx, self.state, envelope
            )
        except Exception:
            return []  # B is not bound by the protocol: a crashing handler just does nothing
        out: list[tuple[NodeId, Any]] = []
        for effect in effects:
            if isinstance(effect, Send):
                out.append((effect.dst, effect.payload))
            elif isinstance(effect, ReplyToClient):
                out.append((effect.client, effect.payload))
            elif isinstance(effect, Broadcast):
                out.extend((dst, effect.payload) for dst in effect.dsts)
        for _, payload in out:
            self.produced(payload)
        return out

    def produced(self, payload: Any) -> None:
        """B made ``payload`` (it may send it now or later)."""
        self.world.knowledge.absorb(payload)
        self._hold(payload)

    def forget(self) -> None:
        self.state = self.world.protocol.init_server(self._ctx)

    # -- mutation ------------------------------------------------------------------------------
    def positions(self, message: Any) -> list[Position]:
        out: list[Position] = []
        self._positions(message, (), out, depth=0)
        return out

    def _positions(self, obj: Any, path: Path, out: list[Position], depth: int) -> None:
        decl = self.decls.get(type(obj))
        if decl is None or depth > 3:
            return
        for name, role in decl.roles:
            if role in _MUTABLE:
                out.append(Position((*path, name), role, type(obj)))
            if role in (FieldRole.DATA, FieldRole.STATEMENT):
                self._positions(getattr(obj, name), (*path, name), out, depth + 1)

    def pool(self, position: Position, current: Any) -> tuple[Any, ...]:
        """Candidate replacements for ``position`` (never ``current`` itself)."""
        role = position.role
        kn = self.world.knowledge
        found: dict[Any, None] = {}
        if role in _LEAF_ROLES:
            for cls, decl in self.decls.items():
                for name, r in decl.roles:
                    if r is role:
                        found.update(dict.fromkeys(kn.field_values(cls.__name__, name)))
            found.update(dict.fromkeys(self._invented(role, tuple(found))))
        elif role is FieldRole.STATEMENT:
            found.update(dict.fromkeys(kn.objects(NodeSigned)))
        elif role is FieldRole.SIGNATURE:
            found.update(dict.fromkeys(kn.signatures))
        elif role is FieldRole.DATA:
            wanted = self._annotation(position)
            for cls in self.decls:
                if _accepts(wanted, cls):
                    found.update(dict.fromkeys(kn.objects(cls)))
        elif role is FieldRole.COLLECTION:
            found.update(dict.fromkeys(kn.objects(tuple)))
            found[()] = None
        if _optional(self._annotation(position)):
            found[None] = None
        found.pop(current, None)
        return tuple(v for v in found if _fits(role, v, current))

    def _annotation(self, position: Position) -> Any:
        try:
            return typing.get_type_hints(position.owner).get(position.path[-1], Any)
        except Exception:
            return Any

    @staticmethod
    def _invented(role: FieldRole, seen: Sequence[Any]) -> list[Any]:
        if role is FieldRole.VALUE:
            return [FABRICATED_VALUE]
        if role is FieldRole.COUNTER:
            return [0, 1]
        if role is FieldRole.TIMESTAMP:
            stamps = [s for s in seen if isinstance(s, (int, tuple))]
            if not stamps:
                return []
            top = max(stamps, key=_ts_key)
            return [_bump(top, 1), _bump(top, 1000)]
        return []

    def mutate(self, message: Any, position: Position, value: Any) -> Any:
        """``message`` with ``position`` set to ``value``, repaired as B can."""
        return self._set(message, position.path, value)

    def _set(self, obj: Any, path: Path, value: Any) -> Any:
        head, rest = path[0], path[1:]
        new_field = value if not rest else self._set(getattr(obj, head), rest, value)
        changed = attrs.evolve(obj, **{head: new_field})
        return self._repair(changed)

    def _repair(self, obj: Any) -> Any:
        if isinstance(obj, NodeSigned) and obj.signer not in self.world.knowledge.byzantine \
                and not self.world.knowledge.holds(obj):
            obj = attrs.evolve(obj, signer=self.me)
        decl = self.decls.get(type(obj))
        if decl is None or not decl.signs:
            return obj
        updates: dict[str, Any] = {}
        for name, signed_bytes in decl.signs:
            try:
                data = signed_bytes(obj)
            except Exception:
                continue
            old = getattr(obj, name)
            if isinstance(old, PartialSignature) or decl.role(name) is FieldRole.PARTIAL:
                if not (isinstance(old, PartialSignature) and old.msg == data):
                    mine = self.world.knowledge.own_partial(self.me.index, data)
                    if mine is not None:
                        updates[name] = mine
            else:
                if not (isinstance(old, Signature) and old.msg == data):
                    sig = self.world.knowledge.signature_on(data)
                    if sig is not None:
                        updates[name] = sig
        return attrs.evolve(obj, **updates) if updates else obj


def _ts_key(ts: Any) -> tuple[int, ...]:
    return (ts,) if isinstance(ts, int) else tuple(ts)


def _bump(ts: Any, by: int) -> Any:
    if isinstance(ts, int):
        return ts + by
    return (ts[0] + by, *ts[1:])


def _optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _accepts(annotation: Any, cls: type) -> bool:
    if annotation is Any:
        return attrs.has(cls)
    args = typing.get_args(annotation)
    if args:
        return any(_accepts(a, cls) for a in args if a is not Ellipsis)
    return annotation is cls


def _fits(role: FieldRole, value: Any, current: Any) -> bool:
    if value is None:
        return True
    if role is FieldRole.TIMESTAMP and current is not None:
        return type(value) is type(current) and (
            not isinstance(value, tuple) or len(value) == len(current)
        )
    if role in (FieldRole.VALUE, FieldRole.COUNTER) and current is not None:
        return type(value) is type(current)
    if role is FieldRole.COLLECTION:
        return isinstance(value, tuple)
    return True

