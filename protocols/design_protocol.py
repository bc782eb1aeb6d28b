"""The option-driven protocol: one server + client protocol for every point of the design space.

``DesignProtocol(design)`` satisfies the kernel's :class:`~tssbqs_pbt.kernel.NodeProtocol`.
Every option value is a separate behaviour piece (see :mod:`.rules`); this module only routes
messages to the participant or delegate handler for their type.
"""

from __future__ import annotations

from typing import Any

from tssbqs_pbt.protocols import client as client_side
from tssbqs_pbt.protocols import encoding
from tssbqs_pbt.protocols.declarations import design_declarations
from tssbqs_pbt.protocols.delegate import DELEGATE_HANDLERS
from tssbqs_pbt.protocols.messages import MESSAGE_TYPES
from tssbqs_pbt.protocols.options import Design
from tssbqs_pbt.protocols.rules import Rules
from tssbqs_pbt.protocols.server import PARTICIPANT_HANDLERS, ServerState
from tssbqs_pbt.protocols.wellformed import well_formed

from tssbqs_pbt.kernel import Envelope, Handled, Log, NodeContext, Operation, OpId

__all__ = ["DesignProtocol"]

_SERVER_HANDLERS: dict[type, Any] = {**PARTICIPANT_HANDLERS, **DELEGATE_HANDLERS}


class DesignProtocol:
    """The reference protocol for ``design``."""

    message_types: tuple[type, ...] = MESSAGE_TYPES

    def __init__(self, design: Design, *, name: str | None = None) -> None:
        self.design = design
        self.rules = Rules.of(design)
        self.declarations = design_declarations(self.rules.ack)
        self.name = name if name is not None else f"design[{design.describe()}]"

    def __repr__(self) -> str:
        return f"DesignProtocol({self.name})"

    def init_server(self, ctx: NodeContext) -> ServerState:
        return ServerState()

    def init_client(self, ctx: NodeContext) -> client_side.ClientState:
        return client_side.ClientState()

    def on_server_message(self, ctx: NodeContext, state: Any, envelope: Envelope) -> Handled:
        handler = _SERVER_HANDLERS.get(type(envelope.payload))
        if handler is None or not well_formed(envelope.payload):
            return state, [Log(f"dropped {type(envelope.payload).__name__}: not well-formed")]
        result: Handled = handler(ctx, self.rules, state, envelope, envelope.payload)
        return result

    def on_invoke(self, ctx: NodeContext, state: Any, op: OpId, operation: Operation) -> Handled:
        return client_side.on_invoke(ctx, self.rules, state, op, operation)

    def on_client_message(self, ctx: NodeContext, state: Any, envelope: Envelope) -> Handled:
        if not well_formed(envelope.payload):
            return state, [Log(f"dropped {type(envelope.payload).__name__}: not well-formed")]
        return client_side.on_client_message(ctx, self.rules, state, envelope)

    @staticmethod
    def signed_value(msg: bytes) -> str | None:
        """The value that signed bytes of this protocol certify (P3 signing-oracle check)."""
        return encoding.signed_value(msg)
