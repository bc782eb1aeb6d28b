"""The plug-in protocol API: bring your own candidate protocol with its own message types.

A plug-in implements :class:`StorageProtocol` (pure handlers, see
:class:`tssbqs_pbt.kernel.NodeProtocol`) and describes itself with a :class:`ProtocolSpec`:
how to build it for n servers of which f may be Byzantine, which quorum and threshold it uses,
and — through :class:`MessageDecl` — which fields of its messages carry values, timestamps,
operation ids and signed objects, so that the generic adversary can synthesise well-formed
messages for it.  Roles are inferred from the attrs field annotations; declare them explicitly
where the annotation does not say enough (a ``str`` that is not a written value, say).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from tssbqs_pbt.crypto.api import PartialSignature, Signature
from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol
from tssbqs_pbt.kernel import (
    Drain,
    Invoke,
    NodeProtocol,
    NodeSigned,
    OpId,
    SystemConfig,
    World,
    check_node_protocol,
    client,
    read,
    step,
    write,
)

__all__ = [
    "FieldRole",
    "MessageDecl",
    "ProtocolSpec",
    "StorageProtocol",
    "canonical_quorum",
    "declare",
    "infer_roles",
]


@runtime_checkable
class StorageProtocol(NodeProtocol, Protocol):
    """What a plugged-in protocol implements (the kernel's :class:`NodeProtocol`): a ``name``,
    its ``message_types``, and pure handlers ``init_server``, ``on_server_message``,
    ``init_client``, ``on_invoke``, ``on_client_message`` — same input, same output, effects
    only.  Optionally ``declarations`` (a tuple of :class:`MessageDecl`) and
    ``signed_value(msg: bytes) -> str | None`` for the P3 signing-oracle check."""


class FieldRole(enum.Enum):
    """What a message field carries, as far as the adversary is concerned."""

    VALUE = "value"  # a value a client may write (str)
    TIMESTAMP = "timestamp"  # an int or a tuple of ints, ordered
    OPERATION = "operation"  # an OpId
    COUNTER = "counter"  # a small int: attempt, round, epoch
    PARTIAL = "partial"  # a PartialSignature
    SIGNATURE = "signature"  # a service Signature
    STATEMENT = "statement"  # a NodeSigned statement (client request or server statement)
    DATA = "data"  # a nested attrs value built from the roles above
    COLLECTION = "collection"  # a tuple of any of the above
    OPAQUE = "opaque"  # anything else: replayed from knowledge, never synthesised


_BY_TYPE: dict[Any, FieldRole] = {
    str: FieldRole.VALUE,
    int: FieldRole.COUNTER,
    OpId: FieldRole.OPERATION,
    PartialSignature: FieldRole.PARTIAL,
    Signature: FieldRole.SIGNATURE,
    NodeSigned: FieldRole.STATEMENT,
}


def _role_of(annotation: Any) -> FieldRole:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and args:
        roles = {_role_of(a) for a in args}
        return roles.pop() if len(roles) == 1 else FieldRole.OPAQUE
    if origin is tuple:
        if args and all(a in (int,) for a in args if a is not Ellipsis):
            return FieldRole.TIMESTAMP
        return FieldRole.COLLECTION
    if annotation in _BY_TYPE:
        return _BY_TYPE[annotation]
    if isinstance(annotation, type) and attrs.has(annotation):
        return FieldRole.DATA
    return FieldRole.OPAQUE


def infer_roles(cls: type) -> dict[str, FieldRole]:
    """Roles of ``cls``'s fields from their annotations (``tuple[int, ...]`` is a timestamp)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:
        raise InvalidProtocol(
            f"cannot read the field annotations of message type {cls.__name__}: {exc}; "
            "declare its field roles explicitly with declare()"
        ) from None
    return {a.name: _role_of(hints.get(a.name, Any)) for a in attrs.fields(cls)}


SignedBytes = Callable[[Any], bytes]


@attrs.frozen
class MessageDecl:
    """One message type, the role of each of its fields, and — for fields that carry a
    signature or a partial signature — the bytes that signature covers (``signs``)."""

    type: type
    roles: tuple[tuple[str, FieldRole], ...]
    signs: tuple[tuple[str, SignedBytes], ...] = ()

    def role(self, field: str) -> FieldRole:
        return dict(self.roles)[field]


def declare(
    cls: type, *, signs: Mapping[str, SignedBytes] | None = None, **roles: FieldRole | str
) -> MessageDecl:
    """Declare ``cls``: roles inferred from annotations, overridden by ``roles``.

    ``signs`` maps a signature (or partial) field to a function of the message returning the
    bytes it signs, e.g. ``declare(Datum, signs={"sig": lambda d: encode(d.value, d.ts)})``:
    the generic adversary then attaches a signature it holds or can combine.
    """
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise InvalidProtocol(
            f"message type {cls!r} is not an attrs class; declare messages as @attrs.frozen"
        )
    if getattr(cls.__setattr__, "__name__", "") != "_frozen_setattrs":
        raise InvalidProtocol(
            f"message type {cls.__name__} is not frozen; use @attrs.frozen so messages are values"
        )
    inferred = infer_roles(cls)
    names = [a.name for a in attrs.fields(cls)]
    for name, role in roles.items():
        if name not in names:
            raise InvalidProtocol(
                f"declare({cls.__name__}, {name}=...): {cls.__name__} has no field {name!r} "
                f"(fields: {', '.join(names)})"
            )
        try:
            inferred[name] = role if isinstance(role, FieldRole) else FieldRole(role)
        except ValueError:
            choices = ", ".join(r.value for r in FieldRole)
            raise InvalidProtocol(
                f"declare({cls.__name__}, {name}={role!r}): unknown role; use one of {choices}"
            ) from None
    for name in signs or {}:
        if name not in names or inferred[name] not in (FieldRole.SIGNATURE, FieldRole.PARTIAL):
            raise InvalidProtocol(
                f"declare({cls.__name__}, signs={{{name!r}: ...}}): {name!r} is not a signature "
                "or partial-signature field"
            )
    return MessageDecl(
        cls, tuple((n, inferred[n]) for n in names), tuple((signs or {}).items())
    )


_SMOKE = (Invoke(client(1), write("v1")), Invoke(client(2), read()), Drain(max_deliveries=2_000))


def check_determinism(
    name: str, build: Callable[[], StorageProtocol], config: SystemConfig
) -> None:
    """Run an honest write + read twice on fresh builds; raise :class:`InvalidProtocol` naming
    the first step whose events differ."""
    traces = []
    for _ in range(2):
        world = World(build(), config)
        for action in _SMOKE:
            step(world, action)
        traces.append(world.steps)
    for first, second in zip(*traces, strict=True):
        if first != second:
            raise InvalidProtocol(
                f"protocol {name!r} is not deterministic: the same schedule gave different "
                f"events at step {first.index} ({type(first.action).__name__}); handlers must "
                "not use randomness, clocks, iteration over sets or any other hidden input"
            )


def canonical_quorum(n: int, f: int) -> int:
    """q = ceil((n + f + 1) / 2)."""
    return (n + f + 2) // 2


@attrs.frozen
class ProtocolSpec:
    """A protocol as users register it.

    ``build(n, f)`` returns a :class:`StorageProtocol`; ``quorum(n, f)`` and ``threshold(n, f)``
    give the q and t the protocol is meant to run with; ``messages`` declares its message types
    (inferred from ``message_types`` when left empty).
    """

    name: str
    build: Callable[[int, int], StorageProtocol]
    quorum: Callable[[int, int], int] = canonical_quorum
    threshold: Callable[[int, int], int] = lambda n, f: f + 1
    messages: tuple[MessageDecl, ...] = ()
    description: str = ""

    def instantiate(
        self, n: int = 4, f: int = 1, *, smoke: bool = True
    ) -> tuple[StorageProtocol, int, int]:
        """Build the protocol for ``n``/``f``; returns ``(protocol, q, t)``.

        Checks the handlers exist and the message declarations; with ``smoke`` it also runs a
        short honest schedule twice on two fresh builds and requires identical traces (a
        handler that is not deterministic is named with the first step that differs).
        """
        try:
            protocol = self.build(n, f)
            q, t = self.quorum(n, f), self.threshold(n, f)
        except InvalidArgument:
            raise
        except Exception as exc:
            raise InvalidProtocol(
                f"protocol {self.name!r}: building it for n={n}, f={f} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        check_node_protocol(protocol)
        self.declarations(protocol)
        if smoke:
            config = SystemConfig(n=n, f=f, q=q, t=t)
            check_determinism(self.name, lambda: self.build(n, f), config)
        return protocol, q, t

    def declarations(self, protocol: StorageProtocol) -> Mapping[type, MessageDecl]:
        """Every message type of ``protocol`` with its declaration (checked).

        Declarations come from the spec's ``messages``, then from an optional ``declarations``
        attribute of the protocol object, then from the annotations.
        """
        own = getattr(protocol, "declarations", ())
        declared = {d.type: d for d in (*own, *self.messages)}
        for cls in protocol.message_types:
            if cls not in declared:
                declared[cls] = declare(cls)
        stray = [d.type.__name__ for d in self.messages if d.type not in protocol.message_types]
        if stray:
            raise InvalidProtocol(
                f"protocol {self.name!r} declares {', '.join(stray)} but does not list them in "
                "message_types; add them there"
            )
        return declared
