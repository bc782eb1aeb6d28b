"""The conformance preflight: is a plugged-in protocol fit to be searched?

:func:`preflight` checks, in order, and stops at the first problem with one paragraph that says
what the plug-in must change:

1. its declarations: handlers present, message classes frozen attrs values, every message
   field usable by the adversary (a role other than *opaque*), nested data types listed;
2. determinism: the same honest schedule on two fresh builds gives the same trace;
3. that it survives the honest no-fault schedule (no Byzantine server): no handler raises,
   every message it sends is of a listed type, every operation completes, P1–P3 hold, the
   trace round-trips through JSON;
``check()`` runs it before every search; the kit (:mod:`tssbqs_pbt.conformance`) runs it and
then the three properties under search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol, ProtocolFault, TssbqsError
from tssbqs_pbt.kernel import (
    Drain,
    Invoke,
    Sent,
    SystemConfig,
    Trace,
    World,
    client,
    last_servers,
    read,
    registry_for,
    step,
    write,
)
from tssbqs_pbt.properties import check_all, initial_value_of
from tssbqs_pbt.protocols.api import (
    FieldRole,
    MessageDecl,
    ProtocolSpec,
    StorageProtocol,
    canonical_quorum,
)
from tssbqs_pbt.protocols.design_protocol import DesignProtocol
from tssbqs_pbt.protocols.options import parse_design
from tssbqs_pbt.protocols.registry import get

__all__ = ["Conformance", "as_spec", "own_parameter", "preflight"]


@attrs.frozen
class Conformance:
    """A protocol that passed the preflight checks, ready for the search."""

    spec: ProtocolSpec
    protocol: StorageProtocol
    config: SystemConfig  # the last f servers Byzantine
    declarations: Mapping[type, MessageDecl]
    notes: tuple[str, ...] = ()  # advice that is not an error


def as_spec(protocol: Any) -> ProtocolSpec:
    """A registered name, a ``design[...]`` name, a :class:`ProtocolSpec` or a protocol object
    as a spec."""
    if isinstance(protocol, ProtocolSpec):
        return protocol
    if isinstance(protocol, str):
        if protocol.startswith("design[") and protocol.endswith("]"):
            design = parse_design(protocol[len("design["):-1])
            return ProtocolSpec(name=protocol, build=lambda n, f: DesignProtocol(design),
                                quorum=lambda n, f: design.q, threshold=lambda n, f: design.t)
        return get(protocol)
    if isinstance(protocol, type):
        raise InvalidArgument(
            f"check() got the class {protocol.__name__}, not a protocol; pass an instance "
            f"({protocol.__name__}()), a ProtocolSpec or a registered name"
        )
    name = getattr(protocol, "name", None)
    if not isinstance(name, str) or not callable(getattr(protocol, "on_server_message", None)):
        raise InvalidArgument(
            f"cannot check {protocol!r}: pass a registered protocol name (see 'tssbqs-pbt "
            "protocols'), a tssbqs_pbt.protocols.ProtocolSpec or a StorageProtocol instance"
        )
    if isinstance(protocol, DesignProtocol):
        design = protocol.design
        return ProtocolSpec(name=name, build=lambda n, f: protocol,
                            quorum=lambda n, f: design.q, threshold=lambda n, f: design.t)
    own: dict[str, Any] = {}
    for attr in ("quorum", "threshold"):  # the instance's own q and t, if it declares them
        value = own_parameter(protocol, attr)
        if value is not None:
            own[attr] = (lambda fixed: lambda n, f: fixed)(value)
    return ProtocolSpec(name=name, build=lambda n, f: protocol,
                        **{"quorum": canonical_quorum, **own})


def own_parameter(protocol: Any, attr: str) -> int | None:
    """A protocol object's own ``quorum`` or ``threshold`` (a whole number attribute), if any."""
    value = getattr(protocol, attr, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def preflight(spec: ProtocolSpec, n: int = 4, f: int = 1) -> Conformance:
    """Checks 1–3 of the module docstring; raises :class:`InvalidProtocol` on the first
    problem."""
    protocol, q, t = spec.instantiate(n, f, smoke=False)
    for attr, letter, value in (("quorum", "q", q), ("threshold", "t", t)):
        own = own_parameter(protocol, attr)
        if own is not None and own != value:
            raise InvalidProtocol(
                f"protocol {spec.name!r} declares {attr} = {own} but the configuration has "
                f"{letter} = {value} (from its ProtocolSpec's {attr}(n={n}, f={f})); make them "
                f"agree: the search never replaces a protocol's own {attr}")
    declarations = spec.declarations(protocol)
    notes = _check_declarations(spec.name, declarations)
    honest = SystemConfig(n=n, f=f, q=q, t=t)
    first = _honest_run(spec, n, f, honest)
    _listed(spec.name, protocol, first)
    second = _honest_run(spec, n, f, honest)
    _same(spec.name, first, second)
    _survives(spec.name, protocol, first)
    return Conformance(spec, protocol, attrs.evolve(honest, byzantine=last_servers(n, f)),
                       declarations, notes)


# -- 1. declarations ------------------------------------------------------------------------
def _check_declarations(name: str, declarations: Mapping[type, MessageDecl]) -> tuple[str, ...]:
    notes = []
    for cls, decl in declarations.items():
        opaque = [field for field, role in decl.roles if role is FieldRole.OPAQUE]
        if opaque:
            raise InvalidProtocol(
                f"protocol {name!r}: the adversary cannot use field(s) {', '.join(opaque)} of "
                f"message {cls.__name__} (their annotations give no role); annotate them with "
                "str, int, tuple[int, ...], OpId, PartialSignature, Signature, NodeSigned, a "
                f"listed attrs class or a tuple of those, or declare({cls.__name__}, "
                f"{opaque[0]}=FieldRole....) in the spec's messages"
            )
        signed = dict(decl.signs)
        for field, role in decl.roles:
            if role in (FieldRole.SIGNATURE, FieldRole.PARTIAL) and field not in signed:
                notes.append(
                    f"{cls.__name__}.{field}: say which bytes it signs with declare("
                    f"{cls.__name__}, signs={{{field!r}: ...}}) so the adversary can attach "
                    "signatures it holds"
                )
    return tuple(notes)


# -- 2. and 3. the honest schedule ----------------------------------------------------------
def _honest_run(spec: ProtocolSpec, n: int, f: int, config: SystemConfig) -> World:
    world = World(spec.build(n, f), config)
    steps: Iterable[Any] = (
        (Invoke(client(1), write("v1")),),
        (Invoke(client(2), read()),),
        (Invoke(client(1), write("v2")), Invoke(client(2), read())),
    )
    try:
        for batch in steps:
            for action in batch:
                step(world, action)
            if world.pending or len(world.pool):
                step(world, Drain(max_deliveries=5_000))
            if world.pending:
                break  # reported by _survives, after the message types
    except ProtocolFault as fault:
        raise InvalidProtocol(
            f"{fault} in the honest no-fault schedule; a handler must return (new_state, "
            "effects) for every message it can receive and never raise — ignore what it does "
            "not expect by returning (state, [])"
        ) from None
    return world


def _same(name: str, first: World, second: World) -> None:
    for one, other in zip(first.steps, second.steps, strict=False):
        if one != other:
            raise InvalidProtocol(
                f"protocol {name!r} is not deterministic: the same schedule on two fresh builds "
                f"gave different events at step {one.index} ({type(one.action).__name__}); "
                "handlers must be pure — no randomness, clocks, global counters, iteration over "
                "sets or any other hidden input"
            )
    if len(first.steps) != len(second.steps):
        raise InvalidProtocol(
            f"protocol {name!r} is not deterministic: the same schedule ran "
            f"{len(first.steps)} then {len(second.steps)} steps; handlers must be pure"
        )


def _listed(name: str, protocol: StorageProtocol, world: World) -> None:
    listed = set(protocol.message_types)
    for record in world.steps:
        for event in record.events:
            if isinstance(event, Sent) and type(event.envelope.payload) not in listed:
                kind = type(event.envelope.payload).__name__
                raise InvalidProtocol(
                    f"protocol {name!r} sends {kind} (step {record.index}, "
                    f"{event.envelope.src} to {event.envelope.dst}) but {kind} is not in its "
                    f"message_types; add {kind} to message_types (a frozen attrs class) so "
                    "traces can record it and the adversary can use it"
                )


def _survives(name: str, protocol: StorageProtocol, world: World) -> None:
    if world.pending:
        waiting = ", ".join(f"{op}" for op in world.pending.values())
        raise InvalidProtocol(
            f"protocol {name!r} does not survive the honest no-fault schedule: with every "
            f"server correct and every message delivered, {waiting} never completed; a client "
            "must emit Complete(op, result) once it has its answers (check the number of "
            "replies it waits for)"
        )
    trace = Trace.of(world)
    try:
        Trace.from_json(trace.to_json(), registry_for(protocol))
    except (TssbqsError, TypeError, ValueError) as exc:
        raise InvalidProtocol(
            f"protocol {name!r}: a trace of the honest schedule does not round-trip through "
            f"JSON ({exc}); message fields must be str, int, bool, None, tuples, OpId, "
            "signatures, NodeSigned or attrs classes listed in message_types"
        ) from None
    signed_value = getattr(protocol, "signed_value", None)
    for verdict in check_all(trace, signed_value=signed_value,
                             initial_value=initial_value_of(protocol)):
        if verdict.violated:
            first = verdict.violations[0] if verdict.violations else None
            what = (f"{first.clause.value} (got {first.got!r}, allowed {first.allowed!r})"
                    if first is not None else "see its verdict")
            raise InvalidProtocol(
                f"protocol {name!r} violates {verdict.property.value} even with no Byzantine "
                f"server and every message delivered: {what}; fix the honest protocol first"
            )
