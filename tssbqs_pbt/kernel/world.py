"""The world: every node's state, the network, adversary knowledge, history and trace so far.

A :class:`World` is mutable, and only :func:`tssbqs_pbt.kernel.step.step` changes it.  Node
states are immutable values returned by the protocol, so :meth:`World.copy` is cheap.
"""

from __future__ import annotations

from typing import Any

import attrs

from tssbqs_pbt.crypto.api import Dealing, ThresholdScheme
from tssbqs_pbt.crypto.ideal import IdealScheme
from tssbqs_pbt.errors import InvalidArgument, InvalidProtocol, ProtocolFault
from tssbqs_pbt.kernel.actions import Action, Completed, Event, Invoked, Phase
from tssbqs_pbt.kernel.config import SystemConfig
from tssbqs_pbt.kernel.ids import NodeId, OpId
from tssbqs_pbt.kernel.knowledge import Knowledge
from tssbqs_pbt.kernel.memo import HandlerMemo
from tssbqs_pbt.kernel.network import Pool
from tssbqs_pbt.kernel.node import NodeContext, NodeProtocol

__all__ = ["HistoryRecord", "StepRecord", "World"]

_REQUIRED = ("init_server", "on_server_message", "init_client", "on_invoke", "on_client_message")


@attrs.frozen
class StepRecord:
    """Step ``index`` (from 1): the action taken and the events it caused, in order."""

    index: int
    action: Action
    events: tuple[Event, ...]


@attrs.frozen
class HistoryRecord:
    """A client-visible event (an invocation or a completion) and the step it happened in."""

    step: int
    event: Invoked | Completed


def check_node_protocol(protocol: Any) -> None:
    """Raise :class:`InvalidProtocol` naming the protocol and what it lacks."""
    name = getattr(protocol, "name", None)
    label = repr(name) if isinstance(name, str) else repr(protocol)
    if not isinstance(name, str) or not name:
        raise InvalidProtocol(f"protocol {label} has no 'name' string; give it a short name")
    missing = [m for m in _REQUIRED if not callable(getattr(protocol, m, None))]
    if missing:
        raise InvalidProtocol(
            f"protocol {label} lacks handler(s) {', '.join(missing)}; implement every method of "
            "tssbqs_pbt.kernel.node.NodeProtocol"
        )
    types = getattr(protocol, "message_types", None)
    if not isinstance(types, tuple):
        raise InvalidProtocol(
            f"protocol {label}: message_types must be a tuple of its message classes, "
            f"got {types!r}"
        )


class World:
    """One simulated run of ``protocol`` under ``config``."""

    def __init__(
        self,
        protocol: NodeProtocol,
        config: SystemConfig,
        *,
        scheme: ThresholdScheme | None = None,
        dealing: Dealing | None = None,
        memo: HandlerMemo | None = None,
    ) -> None:
        check_node_protocol(protocol)
        self.protocol = protocol
        self.config = config
        self.scheme: ThresholdScheme = scheme if scheme is not None else IdealScheme()
        self.dealing = dealing if dealing is not None else self.scheme.deal(config.n, config.t)
        pk = self.dealing.public_key
        if (pk.n, pk.t) != (config.n, config.t):
            raise InvalidArgument(
                f"the dealing is for n={pk.n}, t={pk.t} but the world has n={config.n}, "
                f"t={config.t}; deal keys for the world's n and t"
            )
        # handler results shared with other worlds of the same dealing (see kernel.memo)
        self.memo = memo
        if memo is not None:
            memo.bind(self.dealing)
        self.contexts: dict[NodeId, NodeContext] = {}
        self.states: dict[NodeId, Any] = {}
        self.pool = Pool()
        byzantine = config.byzantine_ids
        self.knowledge = Knowledge(
            byzantine=byzantine,
            shares=[s for s in self.dealing.shares if s.index in config.byzantine],
            scheme=self.scheme,
            public_key=pk,
            verification=self.dealing.verification,
        )
        self.phase = Phase.ATTACK
        self.steps: list[StepRecord] = []
        self.history: list[HistoryRecord] = []
        self.pending: dict[NodeId, OpId] = {}
        self.op_counts: dict[NodeId, int] = {c: 0 for c in config.client_ids}
        self.next_msg_id = 1
        for node in (*config.servers, *config.client_ids):
            share = self.dealing.shares[node.index - 1] if node.is_server else None
            ctx = NodeContext(node, config, self.scheme, pk, self.dealing.verification, share)
            self.contexts[node] = ctx
            if node in byzantine:
                continue
            init = protocol.init_server if node.is_server else protocol.init_client
            try:
                self.states[node] = init(ctx)
            except Exception as exc:
                raise ProtocolFault(
                    f"protocol {protocol.name!r}: {node}'s init raised "
                    f"{type(exc).__name__}: {exc}"
                ) from exc

    @property
    def step_count(self) -> int:
        return len(self.steps)

    def is_correct(self, node: NodeId) -> bool:
        return not self.config.is_byzantine(node)

    def copy(self) -> World:
        """An independent world in the same state (node states are shared: they are values)."""
        twin = World.__new__(World)
        twin.__dict__.update(self.__dict__)
        twin.states = dict(self.states)
        twin.pool = self.pool.copy()
        twin.knowledge = self.knowledge.copy()
        twin.steps = list(self.steps)
        twin.history = list(self.history)
        twin.pending = dict(self.pending)
        twin.op_counts = dict(self.op_counts)
        return twin
