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
- **forget**: throw its emulated state away (then it reports stale data).  Every Byzantine
  server acts (one pooled knowledge; each its own emulated state)."""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from tssbqs_pbt.protocols.api import FieldRole, MessageDecl, declare
from tssbqs_pbt.strategies.evidence import composed, restated

from tssbqs_pbt.crypto.api import PartialSignature, Signature
from tssbqs_pbt.kernel import (
    Broadcast,
    NodeId,
    NodeSigned,
    OpId,
    ReplyToClient,
    Send,
    World,
    signed_content,
)
from tssbqs_pbt.kernel.memo import handle

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
    """The Byzantine servers of one run: one pooled knowledge, each with its own emulated
    state; ``sender`` acts next (the last one that processed a message, or a rule's choice).
    ``compose``: collection pools also offer new collections (:mod:`.evidence`)."""

    def __init__(self, world: World, declarations: Mapping[type, MessageDecl]) -> None:
        self.world = world
        self.decls = dict(declarations)
        self.decls.setdefault(NodeSigned, _NODE_SIGNED)
        self.servers: tuple[NodeId, ...] = tuple(sorted(world.config.byzantine_ids))
        self.me: NodeId = self.servers[0]
        self.sender: NodeId = self.me
        self.top_types = tuple(world.protocol.message_types)
        self.states: dict[NodeId, Any] = {
            b: world.protocol.init_server(world.contexts[b]) for b in self.servers}
        self.cursor, self.compose = 0, False  # next received envelope to process honestly
        self.held: dict[Any, None] = {}  # protocol messages held, in the order first held
        self._synced, self._public = 0, set[bytes]()  # signed content B received or sent
        self._public_synced = (0, 0)  # (received envelopes, world steps) scanned for it

    def fork(self, world: World) -> Adversary:
        """This adversary acting in ``world``, a copy of its own (``World.copy``)."""
        twin = copy.copy(self)
        twin.world = world
        twin.held = dict(self.held)
        twin.states = dict(self.states)
        twin._public = set(self._public)
        return twin

    # -- what B holds ------------------------------------------------------------------------
    def sync(self) -> None:
        """Pick up messages received since the last call."""
        received = self.world.knowledge.received
        for envelope in received[self._synced:]:
            self._hold(envelope.payload)
        self._synced = len(received)

    def withheld(self) -> frozenset[bytes]:
        """Signed content B holds that no message it received or sent carried: signatures it
        combined itself and keeps to itself (what a withhold-and-release attack releases)."""
        kn = self.world.knowledge
        received, steps = self._public_synced
        for envelope in kn.received[received:]:
            self._public.update(signed_content(envelope.payload))
        for record in self.world.steps[steps:]:
            for event in record.events:
                sent = getattr(event, "envelope", None)
                if sent is not None and sent.src in kn.byzantine:
                    self._public.update(signed_content(sent.payload))
        self._public_synced = (len(kn.received), len(self.world.steps))
        return frozenset(s.msg for s in kn.signatures if s.msg not in self._public)

    def _hold(self, payload: Any) -> None:
        if isinstance(payload, self.top_types):
            self.held.setdefault(payload, None)

    def messages(self) -> tuple[Any, ...]:
        self.sync()
        return tuple(self.held)

    def held_types(self) -> tuple[type, ...]:
        """Types of the held messages, in a stable order (by name)."""
        return tuple(sorted({type(m) for m in self.messages()}, key=lambda c: c.__name__))

    def held_of(self, cls: type) -> tuple[Any, ...]:
        """Held messages of class ``cls``, most recent first."""
        return tuple(reversed([m for m in self.messages() if type(m) is cls]))

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
        server = envelope.dst if envelope.dst in self.states else self.me
        self.sender = server
        w = self.world
        try:
            self.states[server], effects = handle(w.memo, w.protocol.on_server_message, server,
                                                  w.contexts[server], self.states[server], envelope)
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
        """B made ``payload`` (it may send it now or later; the kernel learns it when sent)."""
        self._hold(payload)

    def forget(self, server: NodeId | None = None) -> None:
        """Throw emulated state away (every Byzantine server's, or ``server``'s)."""
        for b in (self.servers if server is None else (server,)):
            self.states[b] = self.world.protocol.init_server(self.world.contexts[b])

    # -- mutation ------------------------------------------------------------------------------
    def positions(self, message: Any) -> list[Position]:
        """Mutable places in ``message``: shallow ones first, by role priority."""
        out: list[Position] = []
        self._positions(message, (), out, depth=0)
        return sorted(out, key=lambda p: (_PRIORITY.index(p.role), len(p.path)))

    def _positions(self, obj: Any, path: Path, out: list[Position], depth: int) -> None:
        decl = self.decls.get(type(obj))
        if decl is None or depth > 3:
            return
        for name, role in decl.roles:
            if role in _MUTABLE:
                out.append(Position((*path, name), role, type(obj)))
            inner = getattr(obj, name)
            if role is FieldRole.DATA or (
                role is FieldRole.STATEMENT and isinstance(inner, NodeSigned)
                and inner.signer in self.world.knowledge.byzantine
            ):
                # B may rewrite data and its own statements (not inside a correct one's)
                self._positions(inner, (*path, name), out, depth + 1)

    def pool(self, position: Position, current: Any) -> tuple[Any, ...]:
        """Candidate replacements for ``position`` (never ``current`` itself)."""
        role = position.role
        kn = self.world.knowledge
        found: dict[Any, None] = {}
        if role in _LEAF_ROLES:
            seen: dict[Any, None] = {}
            for cls, decl in self.decls.items():
                for name, r in decl.roles:
                    if r is role:
                        seen.update(dict.fromkeys(kn.field_values(cls.__name__, name)))
            if role is FieldRole.OPERATION:  # operation ids are objects, not plain fields
                seen.update(dict.fromkeys(kn.objects(OpId)))
                # operations still running come last here, so they are drawn first
                running = [op for op in self.world.pending.values() if op in seen]
                for op in running:
                    seen.pop(op)
                seen.update(dict.fromkeys(running))
            found.update(dict.fromkeys(self._invented(role, tuple(seen))))
            found.update(dict.fromkeys(reversed(tuple(seen))))
        elif role is FieldRole.STATEMENT:
            statements = tuple(reversed(kn.objects(NodeSigned)))
            found.update(dict.fromkeys(s for s in statements if s.signer.is_client))
            found.update(dict.fromkeys(statements))
            if self.compose:  # its own statements over what correct servers said
                found.update(dict.fromkeys(restated(self)))
        elif role is FieldRole.SIGNATURE:
            found.update(dict.fromkeys(kn.signatures))
        elif role is FieldRole.DATA:
            wanted = self.annotation(position)
            if wanted is Any and current is not _NOTHING:
                wanted = type(current)
            accepted = [cls for cls in self.decls if _accepts(wanted, cls)]
            withheld = self.withheld()
            forged = {cls: self.forgeries(cls) for cls in accepted}
            for made in forged.values():  # first what B keeps to itself (it may release it)
                found.update(dict.fromkeys(o for o in made if signed_content(o) & withheld))
            for cls in accepted:
                found.update(dict.fromkeys(forged[cls]))
                found.update(dict.fromkeys(reversed(kn.objects(cls))))
            for cls in accepted:  # last: what only a protocol that trusts reports accepts
                found.update(dict.fromkeys(self.fabrications(cls)))
        elif role is FieldRole.COLLECTION:
            # (), held collections of objects (not timestamps), new ones (strategies.evidence)
            found[()] = None
            found.update(dict.fromkeys(
                c for c in reversed(kn.objects(tuple)) if c and all(attrs.has(type(x)) for x in c)
            ))
            if self.compose:
                found.update(dict.fromkeys(composed(self, self.annotation(position))))
        if _optional(self.annotation(position)):
            found[None] = None
        found.pop(current, None)
        return tuple(v for v in found if _fits(role, v, current))

    def annotation(self, position: Position) -> Any:
        return _hints(position.owner).get(position.path[-1], Any)

    # -- targeted mutations ----------------------------------------------------------------------
    def outbid_targets(self) -> tuple[tuple[Any, Position], ...]:
        """(held message, timestamp position) pairs: where a timestamp above all can go."""
        return tuple(
            (m, p) for m in self.messages() for p in self.positions(m)
            if p.role is FieldRole.TIMESTAMP
        )

    def above_all(self) -> Any:
        """A timestamp just above every timestamp B has seen (None if it has seen none)."""
        seen: list[Any] = []
        for cls, decl in self.decls.items():
            for name, role in decl.roles:
                if role is FieldRole.TIMESTAMP:
                    seen.extend(self.world.knowledge.field_values(cls.__name__, name))
        stamps = [s for s in seen if isinstance(s, (int, tuple)) and not isinstance(s, bool)]
        return _bump(max(stamps, key=_ts_key), 1) if stamps else None

    def plant_targets(self) -> tuple[tuple[Any, Position, Any], ...]:
        """(held message, data position, self-verifying object B can build) triples."""
        out: list[tuple[Any, Position, Any]] = []
        forged = {c: self.forgeries(c) for c in self.decls if self._signature_field(c)}
        for message in self.messages():
            for position in self.positions(message):
                if position.role is not FieldRole.DATA:
                    continue
                current = _get(message, position.path)
                wanted = self.annotation(position)
                if wanted is Any:
                    wanted = type(current)
                for cls, objects in forged.items():
                    if _accepts(wanted, cls):
                        out.extend((message, position, o) for o in objects if o != current)
        # coherent plants first: the object's values already appear elsewhere in the message
        return tuple(sorted(out, key=lambda t: not self._coherent(t[0], t[2])))

    def releases(self) -> tuple[Any, ...]:
        """B's last act: every signed object it kept to itself, put in place of an older
        version of the same thing (same values) in the newest held message of each kind a
        correct process sent it (a store, a request); with no such place, where its values
        appear at all; else in the newest message of that kind.  (Withhold-and-release: what
        B kept is worth most once later operations have completed.)"""
        withheld = self.withheld()
        if not withheld:
            return ()
        received = {type(e.payload) for e in self.world.knowledge.received}
        chosen: dict[tuple[type, frozenset[bytes]], tuple[bool, Any]] = {}
        targets = reversed(self.plant_targets())  # newest held messages first (stable sort)
        for message, position, obj in sorted(targets, key=lambda t: not self._coherent(*t[::2])):
            content = frozenset(signed_content(obj) & withheld)
            if not content or type(message) not in received:
                continue
            same = self.primary_values(_get(message, position.path)) == self.primary_values(obj)
            key = (type(message), content)
            if key not in chosen or (same and not chosen[key][0]):
                chosen[key] = (same, self.mutate(message, position, obj))
        return tuple(dict.fromkeys(m for _, m in chosen.values()))

    def _coherent(self, message: Any, obj: Any) -> bool:
        values = self.values_in(obj)
        return bool(values) and values <= self.values_in(message)

    def primary_values(self, obj: Any) -> set[Any]:
        """The values ``obj`` is about: those of its shallowest value fields (a write request's
        own value, not the value of the basis it carries)."""
        level = [obj]
        for _ in range(4):
            found: set[Any] = set()
            deeper: list[Any] = []
            for item in level:
                decl = self.decls.get(type(item))
                if decl is None:
                    continue
                for name, role in decl.roles:
                    value = getattr(item, name)
                    if role is FieldRole.VALUE:
                        found.add(value)
                    elif role in (FieldRole.DATA, FieldRole.STATEMENT):
                        deeper.append(value)
            if found or not deeper:
                return found
            level = deeper
        return set()

    def values_in(self, obj: Any) -> set[Any]:
        found: set[Any] = set()
        decl = self.decls.get(type(obj))
        if decl is None:
            return found
        for name, role in decl.roles:
            value = getattr(obj, name)
            if role is FieldRole.VALUE:
                found.add(value)
            elif role in (FieldRole.DATA, FieldRole.STATEMENT):
                found |= self.values_in(value)
        return found

    # -- forging self-verifying objects ----------------------------------------------------------
    def forgeable(self) -> tuple[type, ...]:
        """Top-level message classes that carry a declared service signature."""
        return tuple(c for c in self.top_types if self._signature_field(c) is not None)

    def _signature_field(self, cls: type) -> str | None:
        decl = self.decls.get(cls)
        if decl is None:
            return None
        for name, _ in decl.signs:
            if decl.role(name) is FieldRole.SIGNATURE:
                return name
        return None

    def forgeries(self, cls: type, limit: int = 4_000) -> tuple[Any, ...]:
        """Every ``cls`` object B can build from its pools whose declared signature it holds or
        can combine, newest content first (signature first, then the fields that match it)."""
        sig_field = self._signature_field(cls)
        decl = self.decls.get(cls)
        if sig_field is None or decl is None:
            return ()
        fields: list[tuple[str, tuple[Any, ...]]] = []
        for name, role in decl.roles:
            if name == sig_field:
                continue
            if role not in _LEAF_ROLES:
                return ()  # only flat objects are forged; nested ones are mutated instead
            fields.append((name, self.pool(Position((name,), role, cls), _NOTHING)))
        signs = dict(decl.signs)[sig_field]
        out: list[Any] = []
        for combo in _product([values for _, values in fields], limit):
            candidate = cls(**{n: v for (n, _), v in zip(fields, combo, strict=True)},
                            **{sig_field: None})
            try:
                data = signs(candidate)
            except Exception:
                continue
            sig = self.world.knowledge.signature_on(data)
            if sig is not None:
                out.append(attrs.evolve(candidate, **{sig_field: sig}))
        return tuple(out)

    def fabrications(self, cls: type) -> tuple[Any, ...]:
        """Unsigned ``cls`` objects B makes up: each value it has seen (or a fabricated one)
        at the highest timestamp it can invent, every signature or partial field left empty.
        Only flat classes whose signed fields are optional qualify."""
        decl = self.decls.get(cls)
        if decl is None:
            return ()
        fields: dict[str, Any] = {}
        values: tuple[Any, ...] = ()
        value_field = None
        for name, role in decl.roles:
            position = Position((name,), role, cls)
            if role in (FieldRole.SIGNATURE, FieldRole.PARTIAL):
                if not _optional(self.annotation(position)):
                    return ()
                fields[name] = None
            elif role is FieldRole.VALUE and value_field is None:
                value_field, values = name, self.pool(position, _NOTHING)
            elif role in _LEAF_ROLES:
                pool = self.pool(position, _NOTHING)
                if not pool:
                    return ()
                fields[name] = pool[0]  # invented first: for a timestamp, above everything
            else:
                return ()
        if value_field is None or not any(v is None for v in fields.values()):
            return ()
        out = []
        for value in values:
            try:
                out.append(cls(**fields, **{value_field: value}))
            except (TypeError, ValueError):
                continue
        return tuple(out)

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
            return [_bump(top, 1000), _bump(top, 1)]
        return []

    def mutate(self, message: Any, position: Position, value: Any) -> Any:
        """``message`` with ``position`` set to ``value``, repaired as B can."""
        return self._set(message, position.path, value)

    def _set(self, obj: Any, path: Path, value: Any) -> Any:
        head, rest = path[0], path[1:]
        new_field = value if not rest else self._set(getattr(obj, head), rest, value)
        return self.repaired(attrs.evolve(obj, **{head: new_field}))

    def repaired(self, obj: Any) -> Any:
        """``obj`` as B can send it: re-signed by B where it can (statements, signatures)."""
        if isinstance(obj, NodeSigned) and obj.signer not in self.world.knowledge.byzantine \
                and not self.world.knowledge.holds(obj):
            obj = attrs.evolve(obj, signer=self.sender)
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
                    mine = self.world.knowledge.own_partial(self.sender.index, data)
                    if mine is not None:
                        updates[name] = mine
            else:
                if not (isinstance(old, Signature) and old.msg == data):
                    sig = self.world.knowledge.signature_on(data)
                    if sig is not None:
                        updates[name] = sig
        return attrs.evolve(obj, **updates) if updates else obj


_PRIORITY = (FieldRole.TIMESTAMP, FieldRole.DATA, FieldRole.VALUE, FieldRole.OPERATION,
             FieldRole.STATEMENT, FieldRole.COUNTER, FieldRole.COLLECTION, FieldRole.SIGNATURE)
_NOTHING = object()


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved field annotations of ``cls`` (resolving them is costly: once per class)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:
        return {}


def _product(pools: list[tuple[Any, ...]], limit: int) -> list[tuple[Any, ...]]:
    combos: list[tuple[Any, ...]] = [()]
    for values in pools:
        combos = [(*c, v) for c in combos for v in values][:limit]
    return combos


def _get(obj: Any, path: Path) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


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
    """Is ``value`` a plausible replacement for ``current`` (same shape)?"""
    if value is None:
        return current is not _NOTHING
    if current is _NOTHING or current is None:
        return _shape_ok(role, value)
    if role is FieldRole.TIMESTAMP:
        return type(value) is type(current) and (
            not isinstance(value, tuple) or len(value) == len(current)
        )
    if role in (FieldRole.VALUE, FieldRole.COUNTER):
        return type(value) is type(current)
    return _shape_ok(role, value)


def _shape_ok(role: FieldRole, value: Any) -> bool:
    if role is FieldRole.VALUE:
        return isinstance(value, str)
    if role is FieldRole.TIMESTAMP:
        return isinstance(value, (int, tuple)) and not isinstance(value, bool)
    if role is FieldRole.COUNTER:
        return isinstance(value, int) and not isinstance(value, bool)
    if role is FieldRole.COLLECTION:
        return isinstance(value, tuple)
    return True
