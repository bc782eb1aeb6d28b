"""The deterministic simulation kernel.

Protocol code only returns effects; the kernel owns the network and the adversary.  Everything
that happens is the result of :func:`step` applied to a :class:`World` with an action, and is
recorded in a :class:`Trace` that serialises to versioned JSON and replays byte-identically.
"""

from __future__ import annotations

from tssbqs_pbt.kernel.actions import (
    Absorbed,
    Action,
    ByzantineRestart,
    ByzantineSend,
    Completed,
    Deliver,
    Delivered,
    Drain,
    Event,
    Faulted,
    Invoke,
    Invoked,
    Learned,
    Logged,
    Phase,
    Restarted,
    Sent,
    Settle,
    Settled,
)
from tssbqs_pbt.kernel.codec import TypeRegistry, canonical_json, decode, encode, nested_of, walk
from tssbqs_pbt.kernel.config import SystemConfig, last_servers
from tssbqs_pbt.kernel.effects import Broadcast, Complete, Effect, Log, ReplyToClient, Send
from tssbqs_pbt.kernel.ids import NodeId, OpId, client, parse_node, server
from tssbqs_pbt.kernel.knowledge import Knowledge, signed_content
from tssbqs_pbt.kernel.network import Pool
from tssbqs_pbt.kernel.node import Envelope, Handled, NodeContext, NodeProtocol
from tssbqs_pbt.kernel.step import step
from tssbqs_pbt.kernel.trace import (
    TRACE_FORMAT,
    TRACE_VERSION,
    Trace,
    TraceHeader,
    load_trace,
    registry_for,
    replay,
    run_actions,
)
from tssbqs_pbt.kernel.values import (
    NodeSigned,
    Operation,
    OpKind,
    OpResult,
    Timestamp,
    read,
    write,
)
from tssbqs_pbt.kernel.world import HistoryRecord, StepRecord, World, check_node_protocol

__all__ = [
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "Absorbed",
    "Action",
    "Broadcast",
    "ByzantineRestart",
    "ByzantineSend",
    "Complete",
    "Completed",
    "Deliver",
    "Delivered",
    "Drain",
    "Effect",
    "Envelope",
    "Event",
    "Faulted",
    "Handled",
    "HistoryRecord",
    "Invoke",
    "Invoked",
    "Knowledge",
    "Learned",
    "Log",
    "Logged",
    "NodeContext",
    "NodeId",
    "NodeProtocol",
    "NodeSigned",
    "OpId",
    "OpKind",
    "OpResult",
    "Operation",
    "Phase",
    "Pool",
    "ReplyToClient",
    "Restarted",
    "Send",
    "Sent",
    "Settle",
    "Settled",
    "StepRecord",
    "SystemConfig",
    "Timestamp",
    "Trace",
    "TraceHeader",
    "TypeRegistry",
    "World",
    "canonical_json",
    "check_node_protocol",
    "client",
    "decode",
    "encode",
    "last_servers",
    "load_trace",
    "nested_of",
    "parse_node",
    "read",
    "registry_for",
    "replay",
    "run_actions",
    "server",
    "signed_content",
    "step",
    "walk",
    "write",
]
