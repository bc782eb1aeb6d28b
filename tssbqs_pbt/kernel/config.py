"""The system under test: n servers, f of which may be Byzantine, quorum q, threshold t."""

from __future__ import annotations

import functools
from typing import Any

import attrs

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel.ids import NodeId, client, server
from tssbqs_pbt.validation import int_at_least

__all__ = ["SystemConfig", "last_servers"]


def last_servers(n: int, f: int) -> frozenset[int]:
    """The Byzantine servers of n with bound f, as every entry point takes them (``check()``,
    ``search``, ``explore`` and the sweep): the last f, S(n-f+1)..Sn."""
    return frozenset(range(max(n - f, 0) + 1, n + 1))


def _to_frozenset(value: Any) -> frozenset[int]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise InvalidArgument(f"byzantine={value!r} must be a set of server indices, e.g. {{4}}")
    return frozenset(value)


@attrs.frozen
class SystemConfig:
    """Parameters of one world.

    Unsafe settings (t <= f, n <= 3f, a small q) are allowed on purpose: they are what the
    search is meant to break.  Impossible ones (q > n, more Byzantine servers than f) are not.
    """

    n: int = attrs.field(validator=int_at_least(1))
    f: int = attrs.field(validator=int_at_least(0))
    q: int = attrs.field(validator=int_at_least(1))
    t: int = attrs.field(validator=int_at_least(1))
    byzantine: frozenset[int] = attrs.field(default=frozenset(), converter=_to_frozenset)
    clients: int = attrs.field(default=3, validator=int_at_least(1))

    def __attrs_post_init__(self) -> None:
        n, f, q, t = self.n, self.f, self.q, self.t
        if f > n:
            raise InvalidArgument(f"f={f} exceeds n={n}; at most n servers can fail")
        if q > n:
            raise InvalidArgument(f"q={q} exceeds n={n}; a quorum is at most all n servers")
        if t > n:
            raise InvalidArgument(f"t={t} exceeds n={n}; the threshold is at most n shares")
        bad = sorted(
            repr(i)
            for i in self.byzantine
            if isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= n
        )
        if bad:
            raise InvalidArgument(
                f"byzantine: {', '.join(bad)} not server indices in 1..{n}; "
                "name Byzantine servers by their index, e.g. byzantine={n}"
            )
        if len(self.byzantine) > f:
            raise InvalidArgument(
                f"byzantine={sorted(self.byzantine)} names {len(self.byzantine)} servers but "
                f"f={f}; choose at most f Byzantine servers"
            )

    # (cached: asked on every rule choice, and a configuration never changes)
    @functools.cached_property
    def servers(self) -> tuple[NodeId, ...]:
        return tuple(server(i) for i in range(1, self.n + 1))

    @functools.cached_property
    def client_ids(self) -> tuple[NodeId, ...]:
        return tuple(client(i) for i in range(1, self.clients + 1))

    @functools.cached_property
    def byzantine_ids(self) -> frozenset[NodeId]:
        return frozenset(server(i) for i in self.byzantine)

    @functools.cached_property
    def correct_servers(self) -> tuple[NodeId, ...]:
        return tuple(s for s in self.servers if s.index not in self.byzantine)

    def is_byzantine(self, node: NodeId) -> bool:
        return node.kind == "S" and node.index in self.byzantine

    def has_node(self, node: NodeId) -> bool:
        limit = self.n if node.kind == "S" else self.clients
        return 1 <= node.index <= limit
