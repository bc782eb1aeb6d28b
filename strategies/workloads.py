"""Strategies for client workloads and for single adversary actions."""

from __future__ import annotations

from hypothesis import strategies as st
from tssbqs_pbt.strategies.adversary import Adversary

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import ByzantineSend, Invoke, NodeId, client, read, write

__all__ = ["adversary_actions", "workloads"]


def workloads(*, clients: int = 3, max_ops: int = 5) -> st.SearchStrategy[tuple[Invoke, ...]]:
    """Sequences of invocations by ``clients`` clients; written values are distinct
    (``v1``, ``v2``, ...).  Operations overlap once a scheduler interleaves them."""
    if isinstance(clients, bool) or not isinstance(clients, int) or clients < 1:
        raise InvalidArgument(f"clients={clients!r} must be a whole number >= 1")
    if isinstance(max_ops, bool) or not isinstance(max_ops, int) or max_ops < 0:
        raise InvalidArgument(f"max_ops={max_ops!r} must be a whole number >= 0")
    step = st.tuples(st.integers(1, clients), st.booleans())

    def build(draws: list[tuple[int, bool]]) -> tuple[Invoke, ...]:
        out, written = [], 0
        for who, is_write in draws:
            if is_write:
                written += 1
                out.append(Invoke(client(who), write(f"v{written}")))
            else:
                out.append(Invoke(client(who), read()))
        return tuple(out)

    return st.lists(step, max_size=max_ops).map(build)


@st.composite
def adversary_actions(draw: st.DrawFn, adversary: Adversary) -> ByzantineSend | None:
    """One action of the generic Byzantine adversary built from what ``adversary`` holds:
    replay a held message, or mutate one field of it, or forge a signed reply, sent to one
    correct process.  ``None`` when B holds nothing usable yet."""
    held = adversary.messages()
    targets: list[NodeId] = [
        *adversary.world.config.correct_servers, *adversary.world.config.client_ids
    ]
    options = []
    if held:
        options += ["replay", "mutate"]
    if adversary.forgeable():
        options.append("forge")
    if not options:
        return None
    kind = draw(st.sampled_from(options))
    if kind == "forge":
        made = [m for cls in adversary.forgeable() for m in adversary.forgeries(cls)]
        if not made:
            return None
        payload = draw(st.sampled_from(made))
    else:
        payload = draw(st.sampled_from(held))
        if kind == "mutate":
            positions = adversary.positions(payload)
            if positions:
                position = draw(st.sampled_from(positions))
                current = payload
                for name in position.path:
                    current = getattr(current, name)
                pool = adversary.pool(position, current)
                if pool:
                    payload = adversary.mutate(payload, position, draw(st.sampled_from(pool)))
    return ByzantineSend(adversary.me, draw(st.sampled_from(targets)), payload, immediate=True)
