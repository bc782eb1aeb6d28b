"""``step(world, action)``: the single interpreter of actions and effects.

Nothing else changes a :class:`~tssbqs_pbt.kernel.world.World`.  An action the model does not
allow raises :class:`~tssbqs_pbt.errors.InvalidAction` before anything changes; a protocol
handler that raises or returns garbage is recorded as a :class:`Faulted` event and raised as
:class:`~tssbqs_pbt.errors.ProtocolFault`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tssbqs_pbt.errors import InvalidAction, ProtocolFault
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
from tssbqs_pbt.kernel.effects import Broadcast, Complete, Log, ReplyToClient, Send
from tssbqs_pbt.kernel.ids import NodeId, OpId
from tssbqs_pbt.kernel.memo import handle
from tssbqs_pbt.kernel.node import Envelope, Handled
from tssbqs_pbt.kernel.world import HistoryRecord, StepRecord, World

__all__ = ["step"]


def step(world: World, action: Action) -> StepRecord:
    """Apply ``action`` to ``world``; return (and append to the world's trace) what happened."""
    index = len(world.steps) + 1
    events: list[Event] = []
    try:
        if isinstance(action, Deliver):
            _deliver(world, world.pool.take(action.msg_id), events)
        elif isinstance(action, Invoke):
            _invoke(world, action, events, index)
        elif isinstance(action, ByzantineSend):
            _byzantine_send(world, action, events)
        elif isinstance(action, ByzantineRestart):
            _byzantine_restart(world, action, events)
        elif isinstance(action, Settle):
            _settle(world, action.max_deliveries, events, action.hold)
        elif isinstance(action, Drain):
            world.phase = Phase.DRAIN
            _settle(world, action.max_deliveries, events)
        else:
            raise InvalidAction(f"{action!r} is not a kernel action")
    except ProtocolFault:
        world.steps.append(StepRecord(index, action, tuple(events)))
        raise
    record = StepRecord(index, action, tuple(events))
    world.steps.append(record)
    for event in events:
        if isinstance(event, (Invoked, Completed)):
            world.history.append(HistoryRecord(index, event))
    return record


def _invoke(world: World, action: Invoke, events: list[Event], index: int) -> None:
    client = action.client
    if not client.is_client or not world.config.has_node(client):
        raise InvalidAction(
            f"{client} is not a client of this world (clients C1..C{world.config.clients})"
        )
    if client in world.pending:
        raise InvalidAction(
            f"{client} is still running {world.pending[client]}; a correct client runs one "
            "operation at a time"
        )
    op = OpId(client, world.op_counts[client] + 1)
    world.op_counts[client] = op.seq
    world.pending[client] = op
    events.append(Invoked(op, action.operation))
    ctx = world.contexts[client]
    _run(world, client, events, f"invocation of {action.operation}",
         lambda: world.protocol.on_invoke(ctx, world.states[client], op, action.operation))


def _deliver(world: World, envelope: Envelope, events: list[Event]) -> None:
    dst = envelope.dst
    events.append(Delivered(envelope.id))
    ctx = world.contexts[dst]
    protocol = world.protocol
    handler = protocol.on_server_message if dst.is_server else protocol.on_client_message
    what = f"{type(envelope.payload).__name__} #{envelope.id} from {envelope.src}"
    state = world.states[dst]
    _run(world, dst, events, what,
         lambda: handle(world.memo, handler, dst, ctx, state, envelope))


def _byzantine_send(world: World, action: ByzantineSend, events: list[Event]) -> None:
    src, dst, payload = action.src, action.dst, action.payload
    if world.phase is not Phase.ATTACK:
        raise InvalidAction("Byzantine servers cannot act after the drain phase started")
    if not world.config.is_byzantine(src):
        raise InvalidAction(
            f"{src} is not Byzantine (Byzantine: {sorted(world.config.byzantine_ids) or 'none'}); "
            "a correct server's messages cannot be forged"
        )
    if not world.config.has_node(dst):
        raise InvalidAction(f"{dst} is not a node of this world")
    if type(payload) not in world.protocol.message_types:
        raise InvalidAction(
            f"{type(payload).__name__} is not a message type of protocol "
            f"{world.protocol.name!r}"
        )
    reason = world.knowledge.why_not_derivable(payload)
    if reason is not None:
        raise InvalidAction(f"{src} cannot send {type(payload).__name__} to {dst}: {reason}")
    for signature in world.knowledge.absorb(payload):  # B knows what it sent
        events.append(Learned(signature))
    envelope = _post(world, src, dst, payload, events)
    if action.immediate and envelope is not None:
        _deliver(world, world.pool.take(envelope.id), events)


def _byzantine_restart(world: World, action: ByzantineRestart, events: list[Event]) -> None:
    server = action.server
    if world.phase is not Phase.ATTACK:
        raise InvalidAction("Byzantine servers cannot act after the drain phase started")
    if not world.config.is_byzantine(server):
        raise InvalidAction(
            f"{server} is not Byzantine (Byzantine: "
            f"{sorted(world.config.byzantine_ids) or 'none'}); only the adversary's servers "
            "restart"
        )
    events.append(Restarted(server))


def _settle(world: World, limit: int, events: list[Event],
            hold: frozenset[NodeId] = frozenset()) -> None:
    delivered = 0
    while delivered < limit:
        if hold:
            envelope = next((e for e in world.pool if e.dst not in hold), None)
        else:
            envelope = world.pool.oldest()
        if envelope is None:
            break
        _deliver(world, world.pool.take(envelope.id), events)
        delivered += 1
    events.append(Settled(delivered, len(world.pool)))


def _post(
    world: World, src: NodeId, dst: NodeId, payload: Any, events: list[Event]
) -> Envelope | None:
    """Put a message in flight, or into adversary knowledge if ``dst`` is Byzantine."""
    envelope = Envelope(world.next_msg_id, src, dst, payload)
    world.next_msg_id += 1
    events.append(Sent(envelope))
    if world.config.is_byzantine(dst):
        events.append(Absorbed(envelope.id))
        for signature in world.knowledge.receive(envelope):
            events.append(Learned(signature))
        return None
    world.pool.add(envelope)
    return envelope


def _run(
    world: World, node: NodeId, events: list[Event], what: str, call: Callable[[], Handled]
) -> None:
    """Call one handler of ``node`` and interpret its effects."""
    name = world.protocol.name
    try:
        result = call()
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        events.append(Faulted(node, f"raised {detail} while handling {what}"))
        raise ProtocolFault(
            f"protocol {name!r}: {node} raised {detail} while handling {what} "
            f"(step {len(world.steps) + 1})"
        ) from exc
    if not (isinstance(result, tuple) and len(result) == 2):
        _fault(world, node, events, f"returned {result!r} for {what}, not (new_state, effects)")
    new_state, effects = result
    world.states[node] = new_state
    for effect in effects:
        _apply(world, node, effect, events, what)


def _apply(world: World, node: NodeId, effect: Any, events: list[Event], what: str) -> None:
    if isinstance(effect, Send):
        _check_dst(world, node, effect.dst, events, what)
        _post(world, node, effect.dst, effect.payload, events)
    elif isinstance(effect, Broadcast):
        for dst in effect.dsts:
            _check_dst(world, node, dst, events, what)
            _post(world, node, dst, effect.payload, events)
    elif isinstance(effect, ReplyToClient):
        _check_dst(world, node, effect.client, events, what)
        if not effect.client.is_client:
            _fault(world, node, events, f"ReplyToClient names {effect.client}, not a client")
        _post(world, node, effect.client, effect.payload, events)
    elif isinstance(effect, Complete):
        _complete(world, node, effect.op, events)
        events.append(Completed(effect.op, effect.result))
    elif isinstance(effect, Log):
        events.append(Logged(node, effect.text))
    else:
        _fault(world, node, events, f"returned {effect!r} while handling {what}, not an effect")


def _complete(world: World, node: NodeId, op: OpId, events: list[Event]) -> None:
    if world.pending.get(node) != op:
        _fault(world, node, events, f"completed {op}, which is not its running operation "
               f"({world.pending.get(node, 'none')})")
    del world.pending[node]


def _check_dst(world: World, node: NodeId, dst: Any, events: list[Event], what: str) -> None:
    if not isinstance(dst, NodeId) or not world.config.has_node(dst):
        _fault(world, node, events, f"sent to {dst!r}, which is not a node, while handling {what}")


def _fault(world: World, node: NodeId, events: list[Event], detail: str) -> None:
    events.append(Faulted(node, detail))
    raise ProtocolFault(
        f"protocol {world.protocol.name!r}: {node} {detail} (step {len(world.steps) + 1})"
    )
