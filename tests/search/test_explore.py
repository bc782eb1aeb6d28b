"""The bounded-exhaustive explorer: every schedule of strategic moves within a scope, breadth
first, states deduplicated; the first violation is the shortest in the scope, and with none the
result says what was covered."""

from __future__ import annotations

import pytest
from foreign_protocols import PairRegister
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.explore import Moves, Scope, explore
from tssbqs_pbt.kernel import SystemConfig

pytestmark = pytest.mark.search
ONE_CLIENT = Scope(clients=1)


def pair(q: int) -> tuple[PairRegister, SystemConfig]:
    return PairRegister(q), SystemConfig(n=4, f=1, q=q, t=2, byzantine={4})


def test_the_foreign_register_breaks_at_depth_two_and_no_shallower() -> None:
    result = explore(*pair(2), ONE_CLIENT)
    assert result.failure is not None and "P1" in str(result.failure)
    assert len(result.moves) == 2
    first, _ = result.moves
    assert first["write"] and first["cut off: how many"] == 1, "a write with n - q cut off"
    assert result.certificate.depth == 2 and not result.certificate.exhausted
    assert result.certificate.cut_by == "violation"
    # breadth first: every schedule of one move was explored first and none failed
    shallow = explore(*pair(2), Scope(operations=1, clients=1))
    assert shallow.failure is None and shallow.certificate.exhausted


def test_quorums_of_three_exhaust_the_scope() -> None:
    result = explore(*pair(3), ONE_CLIENT)
    assert result.failure is None
    cert = result.certificate
    assert cert.exhausted and cert.cut_by is None and cert.depth == 2
    assert cert.states > 100 and cert.transitions >= cert.states
    assert cert.to_json()["scope"] == ONE_CLIENT.describe()


def test_a_state_bound_cuts_the_exploration_and_says_so() -> None:
    result = explore(*pair(3), Scope(clients=1, max_states=50))
    assert result.failure is None
    assert not result.certificate.exhausted and result.certificate.cut_by == "max_states"


def test_family_c_at_q2_breaks_and_at_q3_is_certified() -> None:
    for q, broken in ((2, True), (3, False)):
        design = Design(4, 1, q, 2, FAMILY_C_OPTIONS)
        result = explore(DesignProtocol(design), design.config(byzantine={4}), ONE_CLIENT)
        assert (result.failure is not None) is broken, (q, result.certificate)
        assert result.certificate.exhausted is not broken


def test_a_configuration_that_fails_before_any_move() -> None:
    design = Design(4, 1, 3, 1, FAMILY_C_OPTIONS)  # t=1: B holds t key shares
    result = explore(DesignProtocol(design), design.config(byzantine={4}))
    assert result.failure is not None and "P3" in str(result.failure) and result.moves == ()


@pytest.mark.parametrize("bad", [{"operations": 0}, {"clients": -1}, {"modes": ("lie",)},
                                 {"modes": ()}, {"max_states": True}])
def test_a_bad_scope_is_refused_by_name(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument, match=next(iter(bad))):
        Scope(**bad)  # type: ignore[arg-type]


def test_moves_answer_draws_by_label() -> None:
    moves = Moves({"client": 1, "cut off": 2})
    assert moves.draw(None, "client") == 1 and moves.draw(None, "cut off") == 2
    assert moves.draw(None, "write") is False and moves.draw(None, "S4 does") == 0


def test_the_explore_command_prints_a_certificate_or_the_shortest_schedule(
        tmp_path: pytest.TempPathFactory) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tssbqs_pbt.cli", "explore", *args,
                               "--clients", "1", "--out", str(tmp_path)],
                              capture_output=True, text=True, timeout=300)

    clean = run("--protocol", "family-c")
    assert clean.returncode == 0, clean.stderr
    assert "no violation within the scope: exhausted" in clean.stdout
    assert "432 states" in clean.stdout
    broken = run("--design", "n=4 f=1 q=2 t=2")
    assert broken.returncode == 1, broken.stderr
    assert "the shortest schedule within the scope: 2 moves" in broken.stdout
    assert "move 2: C1 write(v2); cut off: nobody; S4 restarted" in broken.stdout
    assert list(tmp_path.glob("counterexample-p1-*.json"))  # type: ignore[attr-defined]
    bad = run("--protocol", "family-c", "--operations", "0")
    assert bad.returncode == 2 and "Scope(operations=0)" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_keep_moves_name_the_kind_kept() -> None:
    from tssbqs_pbt.protocols import ProtocolSpec

    from tssbqs_pbt.explore import _moves, _run
    from tssbqs_pbt.machine import SearchSetup, Tactic, make_machine

    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol = DesignProtocol(design)
    declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
        protocol)
    machine_class = make_machine(SearchSetup(protocol, design.config(byzantine={4}),
                                             declarations, tactic=Tactic.SPLIT))
    scope = Scope(clients=1, modes=("keep",))
    first = [m for m in _moves(_run(machine_class, ()), scope)]
    assert first == [], "before any operation B has seen no kind it could keep"
    after = _run(machine_class, ({"client": 0, "write": True},))
    moves = list(_moves(after, scope))
    kinds = len(after._kinds())
    assert kinds and {m["keeps"] for m in moves} == set(range(kinds))
    kept = _run(machine_class, ({"client": 0, "write": True}, moves[0]))
    assert kept.described[-1].endswith(f"S4 keep:{after._kinds()[0].__name__}")
