"""Strategies for systems: configurations (n, f, q, t, Byzantine set) and design options."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from tssbqs_pbt.protocols.options import OPTION_TYPES, DesignOptions, parse_option

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import SystemConfig

__all__ = ["configurations", "design_options"]


def _whole(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be a whole number >= {minimum}")
    return value


def configurations(
    *,
    n: int = 4,
    f: int = 1,
    q: int | None = None,
    t: int | None = None,
    byzantine: bool | None = None,
    clients: int = 3,
) -> st.SearchStrategy[SystemConfig]:
    """Systems of ``n`` servers with at most ``f`` Byzantine ones.

    ``q`` and ``t`` are drawn from 1..n unless given.  ``byzantine=None`` draws any set of at
    most f servers (including none); ``True`` draws exactly f; ``False`` none.  Shrinks towards
    fewer Byzantine servers.
    """
    n = _whole("n", n, 1)
    f = _whole("f", f, 0)
    clients = _whole("clients", clients, 1)
    if f > n:
        raise InvalidArgument(f"f={f} exceeds n={n}; at most n servers can fail")
    for name, value in (("q", q), ("t", t)):
        if value is not None and not 1 <= _whole(name, value, 1) <= n:
            raise InvalidArgument(f"{name}={value} is outside 1..n={n}")
    sizes = {None: (0, f), True: (f, f), False: (0, 0)}[byzantine]
    return st.builds(
        SystemConfig,
        n=st.just(n),
        f=st.just(f),
        q=st.just(q) if q is not None else st.integers(1, n),
        t=st.just(t) if t is not None else st.integers(1, n),
        byzantine=st.sets(st.integers(1, n), min_size=sizes[0], max_size=sizes[1]).map(
            frozenset
        ),
        clients=st.just(clients),
    )


def design_options(**pinned: Any) -> st.SearchStrategy[DesignOptions]:
    """Any combination of the option space; pin options by name, e.g.
    ``design_options(sign_guard="LOCAL", read_shape=ReadShape.TWO_PHASE)``."""
    fixed = {name.lower().replace("-", "_"): parse_option(name, value)
             for name, value in pinned.items()}
    parts = {
        name: st.just(fixed[name]) if name in fixed else st.sampled_from(list(enum_type))
        for name, enum_type in OPTION_TYPES.items()
    }
    return st.builds(DesignOptions, **parts)
