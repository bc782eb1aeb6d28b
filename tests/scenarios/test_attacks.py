"""Every attack of SPEC.md §5 as an explicit schedule: it breaks the design SPEC.md says it
breaks, and both valid families block it (all three properties hold after the drain).

These are regression tests. The search engine never sees them.
"""

from __future__ import annotations

from collections.abc import Callable

import attacks
import pytest
from scenario import Attack
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, FAMILY_J_OPTIONS, Design, family_c, family_j


def c_with(t: int = 2, q: int = 3, **changes: str) -> Design:
    return Design(4, 1, q, t, FAMILY_C_OPTIONS.with_(**changes))


def j_with(**changes: str) -> Design:
    return Design(4, 1, 3, 3, FAMILY_J_OPTIONS.with_(**changes))


Script = Callable[[Attack], None]

# (attack id, script, broken design, Byzantine server, properties it must violate)
BROKEN: list[tuple[str, Script, Design, int, set[str]]] = [
    ("A1 t<=f", attacks.forge_alone, c_with(t=1), 4, {"P1", "P3"}),
    ("A2 t>n-f", attacks.silent_byzantine, c_with(t=4), 4, {"P2"}),
    ("A3 q too small", attacks.small_quorum, c_with(q=2), 4, {"P1"}),
    ("A4 DELEGATES=1", attacks.silent_byzantine, c_with(delegates="ONE"), 1, {"P2"}),
    ("A4 DELEGATES=1 B=S4", attacks.silent_later_delegate, c_with(delegates="ONE"), 4, {"P2"}),
    ("A5 SIGN_GUARD=NONE t=2", attacks.withheld_high_datum, c_with(sign_guard="NONE"), 4,
     {"P1"}),
    ("A5 SIGN_GUARD=NONE t=3", attacks.withheld_high_datum,
     c_with(t=3, sign_guard="NONE"), 4, {"P1"}),
    # (de-duplication does not help: B gets the request signed ahead, before any correct
    # server has stored it)
    ("A5 SIGN_GUARD=NONE t=3 STORED", attacks.withheld_high_datum,
     c_with(t=3, sign_guard="NONE", request_dedup="STORED"), 4, {"P1"}),
    ("A6 SIGN_GUARD=LOCAL t=2", attacks.withheld_high_datum, c_with(sign_guard="LOCAL"), 4,
     {"P1"}),
    ("A7 SERVER_LOCAL t=2", attacks.lagging_signer, c_with(ts_source="SERVER_LOCAL"), 4,
     {"P1"}),
    ("A7' SERVER_LOCAL t=3", attacks.lagging_signers_never_match,
     c_with(t=3, ts_source="SERVER_LOCAL"), 4, {"P2"}),
    ("A8 ACK_MODE=NONE", attacks.done_without_store, c_with(ack_mode="NONE"), 4, {"P1"}),
    ("A9 ACK_MODE=PIGGYBACK t=2", attacks.done_after_one_store,
     c_with(ack_mode="PIGGYBACK"), 4, {"P1"}),
    ("A10 READ_GUARD=NONE", attacks.stale_read_reply, c_with(read_guard="NONE"), 4,
     {"P1", "P3"}),
    ("A11 READ_GUARD=LOCAL t=2", attacks.lagging_read_signer, c_with(read_guard="LOCAL"), 4,
     {"P1"}),
    ("ONE_PHASE reads t=2", attacks.lagging_read_signer, c_with(read_shape="ONE_PHASE"), 4,
     {"P1"}),
    ("A12 STORE_FORM=UNSIGNED", attacks.fabricated_report, c_with(store_form="UNSIGNED"), 4,
     {"P1"}),
    ("A12 STORE_FORM=UNSIGNED, a store", attacks.unsigned_store_above_all,
     c_with(store_form="UNSIGNED"), 4, {"P1"}),
    ("A13 EVIDENCE+QUORUM_MAX no dedup", attacks.replayed_request,
     c_with(ts_source="QUORUM_MAX"), 4, {"P1"}),
    ("A14 family J without dedup", attacks.replayed_request, j_with(request_dedup="OFF"), 4,
     {"P1"}),
]

FAMILIES = {"C t=2": family_c(4, 1, 2), "C t=3": family_c(4, 1, 3), "J": family_j(4, 1)}


@pytest.mark.parametrize(("name", "script", "design", "byzantine", "expected"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_attack_breaks_the_design_spec_says_it_breaks(
    name: str, script: Script, design: Design, byzantine: int, expected: set[str]
) -> None:
    attack = Attack(design, byzantine=byzantine)
    script(attack)
    attack.drain()
    assert expected <= attack.violated(), (name, attack.verdicts(), attack.refused)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize(("name", "script", "byzantine"),
                         [(b[0], b[1], b[3]) for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_both_families_block_the_attack(
    family: str, name: str, script: Script, byzantine: int
) -> None:
    attack = Attack(FAMILIES[family], byzantine=byzantine)
    script(attack)
    attack.drain()
    assert attack.violated() == set(), (name, family, attack.verdicts())
    assert not attack.world.pending, "every operation completes once the attack stops"
