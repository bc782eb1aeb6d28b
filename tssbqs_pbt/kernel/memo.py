"""Handler results remembered by their inputs: a protocol's handlers are pure.

A handler is a function of its node's fixed context, the node's state and the message (its
sender and payload; the envelope's id only orders the pool), so within one dealing of keys the
same inputs give the same ``(new_state, effects)``.  An explorer reaches the same server state
with the same message in thousands of schedules; a :class:`HandlerMemo` shared by their worlds
runs the handler once.  A handler that raises is not remembered (it is run again and raises
again).  Bounded: when full, the oldest result is forgotten, which costs only time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tssbqs_pbt.kernel.effects import Effect
from tssbqs_pbt.kernel.ids import NodeId

__all__ = ["HandlerMemo", "handle"]

Result = tuple[Any, Sequence[Effect]]


def handle(memo: HandlerMemo | None, handler: Callable[..., Result], node: NodeId, ctx: Any,
           state: Any, envelope: Any) -> Result:
    """``handler(ctx, state, envelope)`` for ``node``, remembered in ``memo`` if there is one."""
    if memo is None:
        return handler(ctx, state, envelope)
    return memo.call(node, envelope.src, envelope.payload, state,
                     lambda: handler(ctx, state, envelope))


class HandlerMemo:
    """``(node, sender, payload, state) -> (new_state, effects)`` for one dealing of keys."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.dealing: Any = None
        self.hits = 0
        self.misses = 0
        self._results: dict[Any, Result] = {}

    def bind(self, dealing: Any) -> None:
        """Use the memo for worlds of ``dealing`` (a different dealing forgets everything:
        what a server signs depends on its share)."""
        if self.dealing != dealing:
            self._results.clear()
            self.dealing = dealing

    def call(self, node: NodeId, src: NodeId, payload: Any, state: Any,
             handler: Callable[[], Result]) -> Result:
        try:
            key = (node, src, payload, state)
            found = self._results.get(key)
        except TypeError:  # (an unhashable state or payload: not remembered)
            return handler()
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        result = handler()
        if isinstance(result, tuple) and len(result) == 2:
            if len(self._results) >= self.limit:  # (the oldest first: dicts keep order)
                del self._results[next(iter(self._results))]
            self._results[key] = (result[0], tuple(result[1]))
        return result
