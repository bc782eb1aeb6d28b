"""What the kernel asks of a protocol: pure handlers over immutable state.

Every handler is a pure function ``(context, state, input) -> (new_state, effects)``: no
randomness, clocks, threads or I/O.  ``context`` is fixed for the node's life (its id, the system
parameters, the threshold scheme and the node's key share); ``state`` is the protocol's own
immutable value.  The richer plug-in API (declarations of which message fields carry values,
timestamps and signed objects) lives in :mod:`tssbqs_pbt.protocols.api` and builds on this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from tssbqs_pbt.crypto.api import KeyShare, PublicKey, ThresholdScheme, VerificationKeys
from tssbqs_pbt.kernel.config import SystemConfig
from tssbqs_pbt.kernel.effects import Effect
from tssbqs_pbt.kernel.ids import NodeId, OpId
from tssbqs_pbt.kernel.values import Operation

__all__ = ["Envelope", "Handled", "NodeContext", "NodeProtocol"]


@attrs.frozen(cache_hash=True)
class Envelope:
    """A message in flight: ``payload`` sent by ``src`` to ``dst``; ``id`` orders the pool."""

    id: int
    src: NodeId
    dst: NodeId
    payload: Any


@attrs.frozen(cache_hash=True)
class NodeContext:
    """What a node knows from the start and never changes."""

    node: NodeId
    config: SystemConfig
    scheme: ThresholdScheme
    public_key: PublicKey
    verification: VerificationKeys
    share: KeyShare | None = None  # servers only


Handled = tuple[Any, Sequence[Effect]]


@runtime_checkable
class NodeProtocol(Protocol):
    """A storage protocol as the kernel runs it: server and client handlers."""

    name: str
    message_types: tuple[type, ...]

    def init_server(self, ctx: NodeContext) -> Any: ...

    def on_server_message(self, ctx: NodeContext, state: Any, envelope: Envelope) -> Handled: ...

    def init_client(self, ctx: NodeContext) -> Any: ...

    def on_invoke(
        self, ctx: NodeContext, state: Any, op: OpId, operation: Operation
    ) -> Handled: ...

    def on_client_message(self, ctx: NodeContext, state: Any, envelope: Envelope) -> Handled: ...
