"""Collections the Byzantine servers compose from statements they hold (no Hypothesis here).

A collection field (``tuple[NodeSigned, ...]``, ``tuple[NodeSigned | Datum, ...]``: a set of
acknowledgements, a quorum of reports, a piece of evidence) need not be one B received: B may
assemble a new one from any statements it holds, and add statements of its own made on the
spot — each Byzantine server signs whatever body it likes, a correct server's body or the same
body with the datum inside replaced by another datum B holds (an older one: B reports stale
data; a newer one).  What B can never do is put a correct process's statement there that it
never received: the kernel refuses it.

Statements are grouped by what they are about: the body's class and its operation and counter
fields (the reports for one read attempt, the acknowledgements for one write).  For each group,
newest first, the candidates are: the group as held (one statement per signer); the ``q``
statements about the oldest data, and the ``q`` about the newest; each of these with every
Byzantine server's own statement over each body variant added.  Signers are distinct and in
signer order.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import attrs
from tssbqs_pbt.protocols.api import FieldRole

from tssbqs_pbt.kernel import NodeId, NodeSigned, OpId

if typing.TYPE_CHECKING:
    from tssbqs_pbt.strategies.adversary import Adversary

__all__ = ["composed", "element_types", "group_key", "own_statements", "restated"]

_GROUPS = 3  # newest groups of statements composed from
_VARIANTS = 4  # body variants a Byzantine server may sign in one group


def element_types(annotation: Any) -> tuple[type, ...]:
    """The classes a collection field's annotation admits as elements (``tuple[X | Y, ...]``)."""
    out: list[type] = []
    for arg in typing.get_args(annotation):
        if arg is Ellipsis or arg is type(None):
            continue
        inner = typing.get_args(arg)
        out.extend(a for a in (inner or (arg,)) if isinstance(a, type) and a is not type(None))
    return tuple(dict.fromkeys(out))


def group_key(adversary: Adversary, body: Any) -> tuple[Any, ...]:
    """What a statement's body is about: its class, operation ids and counters."""
    decl = adversary.decls.get(type(body))
    if decl is None:
        return (type(body),)
    about = tuple(getattr(body, name) for name, role in decl.roles
                  if role in (FieldRole.OPERATION, FieldRole.COUNTER))
    return (type(body), *about)


def _stamp(adversary: Adversary, obj: Any, depth: int = 0) -> tuple[int, ...]:
    """The highest timestamp inside ``obj`` (by its declared roles); () when none."""
    decl = adversary.decls.get(type(obj))
    if decl is None or depth > 3:
        return ()
    best: tuple[int, ...] = ()
    for name, role in decl.roles:
        value = getattr(obj, name)
        if role is FieldRole.TIMESTAMP and isinstance(value, (int, tuple)):
            best = max(best, (value,) if isinstance(value, int) else tuple(value))
        elif role in (FieldRole.DATA, FieldRole.STATEMENT):
            best = max(best, _stamp(adversary, value, depth + 1))
    return best


def _variants(adversary: Adversary, body: Any) -> list[Any]:
    """``body`` and the same body with its first data field replaced by another datum of the
    same class B holds (oldest first)."""
    out = [body]
    decl = adversary.decls.get(type(body))
    if decl is None:
        return out
    for name, role in decl.roles:
        current = getattr(body, name)
        if role is FieldRole.DATA and current is not None and attrs.has(type(current)):
            for datum in adversary.world.knowledge.objects(type(current)):
                if datum != current:
                    try:
                        out.append(attrs.evolve(body, **{name: datum}))
                    except (TypeError, ValueError):
                        continue
            break
    return out


def own_statements(adversary: Adversary, bodies: Iterable[Any]) -> list[NodeSigned]:
    """Statements the Byzantine servers can make on the spot over ``bodies`` (and their data
    variants), at most a few bodies: each Byzantine server signs each."""
    chosen: dict[Any, None] = {}
    for body in bodies:
        for variant in _variants(adversary, body):
            chosen.setdefault(variant, None)
    variants = list(chosen)[:_VARIANTS]
    return [NodeSigned(b, v) for v in variants for b in adversary.servers]


def restated(adversary: Adversary) -> list[NodeSigned]:
    """The Byzantine servers' own statements over what correct servers stated (a report of
    theirs, with any datum B holds in it), newest first: a Byzantine server reports an older
    state, or a newer one."""
    kn = adversary.world.knowledge
    bodies = [s.body for s in reversed(kn.objects(NodeSigned))
              if s.signer.is_server and s.signer not in kn.byzantine]
    return own_statements(adversary, dict.fromkeys(bodies))


def composed(adversary: Adversary, annotation: Any) -> tuple[tuple[Any, ...], ...]:
    """New collections for a field annotated ``annotation``, assembled from held statements and
    the Byzantine servers' own (see the module's docstring); () when the field holds no
    statements."""
    if NodeSigned not in element_types(annotation):
        return ()
    kn = adversary.world.knowledge
    byzantine = kn.byzantine
    groups: dict[tuple[Any, ...], dict[NodeId, NodeSigned]] = {}
    for statement in kn.objects(NodeSigned):
        signer = statement.signer
        if not signer.is_server or isinstance(statement.body, OpId):
            continue
        key = group_key(adversary, statement.body)
        group = groups.pop(key, {})  # (re-inserted: the group last added to comes last)
        if signer not in byzantine:
            group[signer] = statement
        groups[key] = group
    q = adversary.world.config.q
    out: dict[tuple[Any, ...], None] = {}
    for group in list(reversed(groups.values()))[:_GROUPS]:
        held = sorted(group.values(), key=lambda s: _stamp(adversary, s.body))
        selections = [held, held[:q], held[-q:]] if held else [[]]
        bodies = [s.body for s in held] or [s.body for s in group.values()]
        if not bodies:
            continue
        own = own_statements(adversary, dict.fromkeys(bodies))
        for selection in selections:
            out.setdefault(_canonical(selection), None)
            for b_index in range(0, len(own), len(adversary.servers)):
                mine = own[b_index:b_index + len(adversary.servers)]
                out.setdefault(_canonical([*selection, *mine]), None)
    out.pop((), None)
    return tuple(out)


def _canonical(statements: Iterable[NodeSigned]) -> tuple[NodeSigned, ...]:
    """One statement per signer (the last given wins), in signer order."""
    by_signer: dict[NodeId, NodeSigned] = {}
    for statement in statements:
        by_signer[statement.signer] = statement
    return tuple(by_signer[s] for s in sorted(by_signer, key=lambda n: (n.kind, n.index)))
