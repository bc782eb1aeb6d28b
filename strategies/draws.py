"""How the rule machines draw from the pools the adversary keeps (most plausible first)."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["NETWORK_MODES", "pick"]

# the network modes of a LAG operation, each as often as it appears (shrinks to "wait"); an
# attack needs the mode that exposes it at one or two operations in a row.  "keep": B keeps
# every message of one kind to itself; "withhold": every message to a server carrying a
# signature only B holds; "withhold-one": those go to one correct server, which then lags.
# (Measured on 12 seeds x 400 LAG examples: two "keep" slots and one of each withhold mode
# found ACK_MODE=PIGGYBACK at 1.4-1.8 per 1,000 runs and SIGN_GUARD=NONE at 4.8; this order at 3.7
# and 6.5.)
NETWORK_MODES = ("wait", "silent", "silent", "silent", "honest", "honest", "keep", "withhold",
                 "withhold-one")


def pick(data: st.DataObject, size: int, label: str) -> int:
    """An index into a pool of ``size`` candidates kept most plausible first.

    Three draws in four are geometric (index 0 with probability 1/2, 1 with 1/4, ...), one in
    four uniform; both shrink to index 0.  The pools B draws from (held messages newest first,
    invented timestamps first, coherent data first) put what an attack usually needs in front,
    and a chain of uniform draws over them multiplies small odds at every field.
    """
    if size <= 1:
        return 0
    if data.draw(st.integers(0, 3), label=f"{label} (any)") == 3:
        return data.draw(st.integers(0, size - 1), label=label)
    bits = min(size - 1, 16)
    u = data.draw(st.integers(0, (1 << bits) - 1), label=label)
    return min(size - 1, bits - ((1 << bits) - 1 - u).bit_length())
