"""Traces: a run's header and steps, as versioned canonical JSON that replays byte-identically.

The JSON is one object ``{"format", "version", "header", "steps"}`` written one step per line, so
two traces diff well.  :func:`load_trace` names what is wrong with a corrupt file;
:func:`replay` re-runs the recorded actions and checks every step matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import (
    Dealing,
    PartialSignature,
    PublicKey,
    Signature,
    ThresholdScheme,
    VerificationKeys,
)
from tssbqs_pbt.errors import ReplayError, TraceFormatError
from tssbqs_pbt.kernel.actions import ACTION_TYPES, EVENT_TYPES, Action, Completed, Invoked, Phase
from tssbqs_pbt.kernel.codec import TypeRegistry, canonical_json, decode, encode
from tssbqs_pbt.kernel.config import SystemConfig
from tssbqs_pbt.kernel.ids import OpId
from tssbqs_pbt.kernel.jsonfile import parse_json, read_text
from tssbqs_pbt.kernel.node import Envelope, NodeProtocol
from tssbqs_pbt.kernel.step import step
from tssbqs_pbt.kernel.values import NodeSigned, Operation, OpKind, OpResult
from tssbqs_pbt.kernel.world import HistoryRecord, StepRecord, World

__all__ = [
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "Trace",
    "TraceHeader",
    "check_version",
    "load_trace",
    "registry_for",
    "replay",
    "run_actions",
]

TRACE_FORMAT = "tssbqs-pbt-trace"
TRACE_VERSION = 1

_KERNEL_TYPES: tuple[type, ...] = (
    *ACTION_TYPES, *EVENT_TYPES, StepRecord, Envelope, OpId, Operation, OpKind, OpResult,
    NodeSigned, Phase, SystemConfig, PartialSignature, Signature, PublicKey, VerificationKeys,
)


@attrs.frozen
class TraceHeader:
    """What a replay needs besides the actions: protocol, system, and which key was dealt."""

    protocol: str
    config: SystemConfig
    scheme: str
    key_id: str


@attrs.frozen
class Trace:
    header: TraceHeader
    steps: tuple[StepRecord, ...]

    @classmethod
    def of(cls, world: World) -> Trace:
        header = TraceHeader(
            world.protocol.name, world.config, world.scheme.name,
            world.dealing.public_key.key_id,
        )
        return cls(header, tuple(world.steps))

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(s.action for s in self.steps)

    def history(self) -> tuple[HistoryRecord, ...]:
        """The client-visible history: invocations and completions with their step."""
        return tuple(
            HistoryRecord(s.index, e)
            for s in self.steps
            for e in s.events
            if isinstance(e, (Invoked, Completed))
        )

    def to_json(self) -> str:
        head = canonical_json({
            "format": TRACE_FORMAT, "version": TRACE_VERSION, "header": encode(self.header),
        })
        lines = [head[:-1] + ',"steps":[']
        lines.append(",\n".join(canonical_json(encode(s)) for s in self.steps))
        lines.append("]}\n")
        return "\n".join(lines)

    def to_document(self) -> dict[str, Any]:
        """The JSON document of :meth:`to_json` as Python values (for files that add fields)."""
        return {"format": TRACE_FORMAT, "version": TRACE_VERSION,
                "header": encode(self.header), "steps": [encode(s) for s in self.steps]}

    @classmethod
    def from_json(cls, text: str, registry: TypeRegistry, source: str = "trace") -> Trace:
        return cls.from_document(parse_json(text, source), registry, source)

    @classmethod
    def from_document(cls, data: Any, registry: TypeRegistry, source: str = "trace") -> Trace:
        """A trace from its parsed JSON document; every problem is a :class:`TraceFormatError`."""
        if not isinstance(data, dict) or data.get("format") != TRACE_FORMAT:
            raise TraceFormatError(
                f"{source} is not a tssbqs-pbt trace (no \"format\": \"{TRACE_FORMAT}\" field)"
            )
        check_version(data, source)
        for key in ("header", "steps"):
            if key not in data:
                raise TraceFormatError(f"{source} lacks its {key!r} section; the file is corrupt")
        if not isinstance(data["header"], dict):
            raise TraceFormatError(f"{source}: 'header' must be an object, not "
                                   f"{type(data['header']).__name__}; the file is corrupt")
        if not isinstance(data["steps"], list):
            raise TraceFormatError(f"{source}: 'steps' must be a list; the file is corrupt")
        header = decode(data["header"], registry, "$.header")
        steps = tuple(
            decode(s, registry, f"$.steps[{i}]") for i, s in enumerate(data["steps"])
        )
        if not isinstance(header, TraceHeader) or not all(
            isinstance(s, StepRecord) for s in steps
        ):
            raise TraceFormatError(f"{source}: header or steps have the wrong record types")
        for i, s in enumerate(steps, start=1):
            if s.index != i:
                raise TraceFormatError(f"{source}: step {i} is numbered {s.index}; steps are "
                                       "missing or out of order")
        return cls(header, steps)


def check_version(data: dict[str, Any], source: str) -> None:
    """Raise :class:`TraceFormatError` unless ``data["version"]`` is the integer this version
    of tssbqs-pbt reads."""
    version = data.get("version")
    if type(version) is int and version == TRACE_VERSION:
        return
    if "version" not in data:
        raise TraceFormatError(f"{source} has no \"version\" field; a trace file says "
                               f"\"version\": {TRACE_VERSION}; the file is corrupt")
    if type(version) is not int:
        raise TraceFormatError(
            f"{source} has \"version\": {json.dumps(version)[:40]} ({_json_kind(version)}), but "
            f"the version is the integer {TRACE_VERSION}: write \"version\": {TRACE_VERSION} "
            "(no quotes)"
        )
    raise TraceFormatError(
        f"{source} has trace format version {version}, but this tssbqs-pbt reads version "
        f"{TRACE_VERSION}; re-record the trace with this version (or use the tssbqs-pbt that "
        "wrote it)"
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {str: "a string", float: "a fraction", list: "a list", dict: "an object",
            type(None): "null"}.get(type(value), type(value).__name__)


def registry_for(protocol: NodeProtocol, extra: Iterable[type] = ()) -> TypeRegistry:
    """The codec registry for traces of ``protocol`` (kernel, crypto and its message types)."""
    registry = TypeRegistry((*_KERNEL_TYPES, TraceHeader))
    registry.add(protocol.message_types, owner=f"protocol {protocol.name!r}")
    registry.add(extra, owner=f"protocol {protocol.name!r}")
    return registry


def load_trace(source: str | Path, protocol: NodeProtocol) -> Trace:
    """Read a trace file; every problem becomes a :class:`TraceFormatError` naming it."""
    path = Path(source)
    name = f"trace file {str(path)!r}"
    return Trace.from_json(read_text(path, name), registry_for(protocol), source=name)


def run_actions(
    protocol: NodeProtocol,
    config: SystemConfig,
    actions: Iterable[Action],
    *,
    scheme: ThresholdScheme | None = None,
    dealing: Dealing | None = None,
) -> World:
    """A fresh world with ``actions`` applied in order."""
    world = World(protocol, config, scheme=scheme, dealing=dealing)
    for action in actions:
        step(world, action)
    return world


def replay(
    trace: Trace,
    protocol: NodeProtocol,
    *,
    scheme: ThresholdScheme | None = None,
    dealing: Dealing | None = None,
) -> World:
    """Re-run ``trace``'s actions and check each step's events match; return the world."""
    header = trace.header
    if header.protocol != protocol.name:
        raise ReplayError(
            f"the trace was recorded with protocol {header.protocol!r}, not {protocol.name!r}"
        )
    world = World(protocol, header.config, scheme=scheme, dealing=dealing)
    if world.scheme.name != header.scheme or world.dealing.public_key.key_id != header.key_id:
        raise ReplayError(
            f"the trace was recorded with the {header.scheme!r} scheme and key "
            f"{header.key_id[:12]}, this replay has {world.scheme.name!r} and key "
            f"{world.dealing.public_key.key_id[:12]}; replay with the same scheme and key cache"
        )
    for recorded in trace.steps:
        got = step(world, recorded.action)
        if got != recorded:
            raise ReplayError(_first_difference(recorded, got))
    return world


def _first_difference(recorded: StepRecord, got: StepRecord) -> str:
    for i, (a, b) in enumerate(zip(recorded.events, got.events, strict=False)):
        if a != b:
            return (f"step {recorded.index} diverged at event {i + 1}: recorded {_short(a)}, "
                    f"replay gave {_short(b)}")
    return (f"step {recorded.index} diverged: recorded {len(recorded.events)} events, replay "
            f"gave {len(got.events)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:297] + "..."
