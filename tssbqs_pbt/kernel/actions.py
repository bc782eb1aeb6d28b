"""Scheduler and adversary actions, and the events a step records.

Actions are what a schedule is made of; events are what the kernel observed while interpreting
one action.  Both are frozen values that serialise into the trace.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from tssbqs_pbt.crypto.api import Signature
from tssbqs_pbt.kernel.ids import NodeId, OpId
from tssbqs_pbt.kernel.node import Envelope
from tssbqs_pbt.kernel.values import Operation, OpResult
from tssbqs_pbt.validation import int_at_least

__all__ = [
    "ACTION_TYPES",
    "EVENT_TYPES",
    "Absorbed",
    "Action",
    "ByzantineRestart",
    "ByzantineSend",
    "Completed",
    "Deliver",
    "Delivered",
    "Drain",
    "Event",
    "Faulted",
    "Invoke",
    "Invoked",
    "Learned",
    "Logged",
    "Phase",
    "Restarted",
    "Sent",
    "Settle",
    "Settled",
]


class Phase(enum.Enum):
    ATTACK = "attack"  # the adversary schedules everything and may act
    DRAIN = "drain"  # messages among correct processes are delivered fairly; Byzantine silent


# -- actions ----------------------------------------------------------------------------------
@attrs.frozen
class Invoke:
    """Correct client ``client`` starts ``operation``."""

    client: NodeId
    operation: Operation


@attrs.frozen
class Deliver:
    """Deliver in-flight message ``msg_id`` to its (correct) destination."""

    msg_id: int


@attrs.frozen
class ByzantineSend:
    """Byzantine server ``src`` sends ``payload`` to ``dst``; ``immediate`` delivers it at once.

    Every unforgeable object in ``payload`` must be in the adversary's knowledge (or derivable
    from it), otherwise the kernel refuses the action.
    """

    src: NodeId
    dst: NodeId
    payload: Any
    immediate: bool = False


@attrs.frozen
class ByzantineRestart:
    """Byzantine server ``server`` restarts from its initial state (the adversary's emulation
    of it forgets everything; it then follows the protocol afresh).

    The kernel holds no state of a Byzantine server and changes nothing (what the adversary
    knows stays known); the step is recorded so that a trace shows why the server's later
    messages look like those of a server that never ran.
    """

    server: NodeId


@attrs.frozen
class Settle:
    """Deliver in-flight messages oldest first until none is left or ``max_deliveries``;
    messages to the nodes in ``hold`` stay in flight (the network delays them)."""

    max_deliveries: int = attrs.field(default=10_000, validator=int_at_least(1))
    hold: frozenset[NodeId] = attrs.field(default=frozenset(), converter=frozenset)


@attrs.frozen
class Drain:
    """End the attack: from now on deliver fairly (oldest first), Byzantine servers silent."""

    max_deliveries: int = attrs.field(default=10_000, validator=int_at_least(1))


Action = Invoke | Deliver | ByzantineSend | ByzantineRestart | Settle | Drain
ACTION_TYPES: tuple[type, ...] = (Invoke, Deliver, ByzantineSend, ByzantineRestart, Settle,
                                  Drain)


# -- events -----------------------------------------------------------------------------------
@attrs.frozen
class Invoked:
    op: OpId
    operation: Operation


@attrs.frozen
class Sent:
    envelope: Envelope


@attrs.frozen
class Delivered:
    msg_id: int


@attrs.frozen
class Absorbed:
    """Message ``msg_id`` reached a Byzantine server: it joined the adversary's knowledge."""

    msg_id: int


@attrs.frozen
class Learned:
    """The adversary can now show a service signature (it combined t partials)."""

    signature: Signature


@attrs.frozen
class Completed:
    op: OpId
    result: OpResult


@attrs.frozen
class Logged:
    node: NodeId
    text: str


@attrs.frozen
class Settled:
    """End of a settle or drain: how many were delivered and how many are still in flight."""

    delivered: int
    in_flight: int


@attrs.frozen
class Restarted:
    """Byzantine server ``node`` lost its state (a :class:`ByzantineRestart`)."""

    node: NodeId


@attrs.frozen
class Faulted:
    """A protocol handler failed; ``detail`` says where and how."""

    node: NodeId
    detail: str


Event = (Invoked | Sent | Delivered | Absorbed | Learned | Completed | Logged | Settled
         | Restarted | Faulted)
EVENT_TYPES: tuple[type, ...] = (
    Invoked, Sent, Delivered, Absorbed, Learned, Completed, Logged, Settled, Restarted, Faulted,
)
