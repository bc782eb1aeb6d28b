"""Effects: the only way protocol code acts on the world.

A handler returns ``(new_state, effects)``; the kernel's :func:`~tssbqs_pbt.kernel.step.step`
interprets the effects (puts messages in flight, records client replies, logs).
"""

from __future__ import annotations

from typing import Any

import attrs

from tssbqs_pbt.kernel.ids import NodeId, OpId
from tssbqs_pbt.kernel.values import OpResult

__all__ = ["Broadcast", "Complete", "Effect", "Log", "ReplyToClient", "Send"]


@attrs.frozen
class Send:
    """Send ``payload`` to ``dst`` over an authenticated channel."""

    dst: NodeId
    payload: Any


@attrs.frozen
class Broadcast:
    """Send ``payload`` to each of ``dsts`` (in the given order)."""

    dsts: tuple[NodeId, ...]
    payload: Any


@attrs.frozen
class ReplyToClient:
    """A server's reply to a client (a send whose destination must be a client)."""

    client: NodeId
    payload: Any


@attrs.frozen
class Complete:
    """A client's operation returns ``result``: it enters the client-visible history."""

    op: OpId
    result: OpResult


@attrs.frozen
class Log:
    """A note for the trace; it changes nothing."""

    text: str


Effect = Send | Broadcast | ReplyToClient | Complete | Log
