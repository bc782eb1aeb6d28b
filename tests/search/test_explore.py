"""The bounded-exhaustive explorer: every schedule of strategic moves within a scope, breadth
first, states deduplicated; the first violation is the shortest in the scope, and with none the
result says what was covered."""

from __future__ import annotations

import attrs
import pytest
from foreign_protocols import PairRegister
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.engine.explore import Moves, Scope, explore
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import SystemConfig

pytestmark = pytest.mark.search
ONE_CLIENT = Scope(clients=1, interventions=2)  # (the sweep's scope: quick)


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
    shallow = explore(*pair(2), Scope(operations=1, clients=1, actions=0))
    assert shallow.failure is None and shallow.certificate.exhausted


def test_quorums_of_three_exhaust_the_scope() -> None:
    result = explore(*pair(3), ONE_CLIENT)
    assert result.failure is None
    cert = result.certificate
    assert cert.exhausted and cert.cut_by is None and cert.depth == 3  # 2 operations, 1 action
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
                                 {"modes": ()}, {"max_states": True}, {"actions": -1},
                                 {"interventions": 1.5}, {"powers": ("fly",)},
                                 {"targets": "some"}, {"properties": ("P4",)},
                                 {"which_clients": "all"},
                                 {"width": 0}, {"keep_kinds": -2}])
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

    clean = run("--protocol", "family-c", "--interventions", "2", "--pauses", "0")
    assert clean.returncode == 0, clean.stderr
    assert "no violation found: certified within the scope" in clean.stdout
    assert "2342 states" in clean.stdout  # (one client, two interventions, no pauses)
    cut = run("--protocol", "family-c", "--interventions", "2", "--pauses", "0",
              "--max-states", "300")
    assert cut.returncode == 4, cut.stdout + cut.stderr  # (not 0: it is no certificate)
    assert "NOT exhausted (stopped by max_states after 300 states)" in cut.stdout
    assert "not a certificate" in cut.stdout
    broken = run("--design", "n=4 f=1 q=2 t=2")
    assert broken.returncode == 1, broken.stderr
    assert "the shortest schedule within the scope: 2 moves" in broken.stdout
    assert "move 2: C1 write(v2); cut off: nobody; S4 restarted" in broken.stdout
    assert list(tmp_path.glob("counterexample-p1-*.json"))  # type: ignore[attr-defined]
    bad = run("--protocol", "family-c", "--operations", "0")
    assert bad.returncode == 2 and "Scope(operations=0)" in bad.stderr
    assert "Traceback" not in bad.stderr


def _machine_class(**options: str) -> type:
    from tssbqs_pbt.protocols import ProtocolSpec

    from tssbqs_pbt.engine.machine import SearchSetup, Tactic, make_machine

    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(**options))
    protocol = DesignProtocol(design)
    declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
        protocol)
    return make_machine(SearchSetup(protocol, design.config(byzantine={4}), declarations,
                                    signed_value=protocol.signed_value, tactic=Tactic.SPLIT))


def test_keep_moves_name_the_kind_kept() -> None:
    from tssbqs_pbt.engine.bfs import replay as _run
    from tssbqs_pbt.engine.explore_moves import candidates

    machine_class = _machine_class()
    scope = Scope(clients=1, modes=("keep",), keep_kinds=None, actions=0)
    first = [m for m, _ in candidates(_run(machine_class, ()), scope, 0, None)]
    assert first == [], "before any operation B has seen no kind it could keep"
    after = _run(machine_class, ({"client": 0, "write": True},))
    moves = [m for m, _ in candidates(after, scope, 0, None)]
    kinds = len(after.kinds_seen())
    assert kinds and {m["keeps"] for m in moves} == set(range(kinds))
    kept = _run(machine_class, ({"client": 0, "write": True}, moves[0]))
    assert kept.described[-1].endswith(f"S4 keep:{after.kinds_seen()[0].__name__}")
    bounded = [m for m, _ in candidates(after, attrs.evolve(scope, keep_kinds=2), 0, None)]
    assert {m["keeps"] for m in bounded} == {0, 1}, "the first two kinds (data first)"


def test_each_move_costs_what_the_adversary_does() -> None:
    # a new cut counts one (healing it is free), each Byzantine server not honest one; a
    # "new" cut equal to the current one is the same move as keeping it and is left out
    from tssbqs_pbt.engine.bfs import replay as _run
    from tssbqs_pbt.engine.explore_moves import candidates

    machine_class = _machine_class()
    scope = Scope(clients=1, modes=("honest", "silent"), actions=0)
    cut = {"client": 0, "write": True, "new cut": True, "cut off: how many": 1,
           "cut off (any)": 3, "cut off": 0}
    after = _run(machine_class, (cut,))
    costs = {(m["new cut"], m.get("cut off: how many"), m.get("cut off"), m["S4 does"]): c
             for m, c in candidates(after, scope, 0, None) if m["write"]}
    assert costs[(False, None, None, 0)] == 0 and costs[(False, None, None, 1)] == 1
    assert costs[(True, 0, None, 0)] == 0, "healing is free"
    ones = sorted(k for (new, size, k, _) in costs if new and size == 1)
    assert ones == [0, 0, 1, 1], "two other single servers: the current cut is left out"
    current = after.cut_sets(1).index(tuple(after.cut))
    assert current == 2 and costs[(True, 1, 0, 0)] == 1 and costs[(True, 1, 0, 1)] == 2
    assert all(c <= 1 for _, c in candidates(after, scope, 0, 1)), "the budget bounds the cost"


def test_adversary_actions_are_the_machine_s_rules_with_given_draws() -> None:
    # after a write: B may synthesise requests (each a call of the SPLIT machine's own rule);
    # with nothing held and nothing kept there is no release and no give-back
    from tssbqs_pbt.engine.bfs import replay as _run
    from tssbqs_pbt.engine.explore_moves import candidates

    machine_class = _machine_class()
    after = _run(machine_class, ({"client": 0, "write": True},))
    scope = Scope(clients=1, operations=1)
    actions = [m for m, _ in candidates(after, scope, 1, None) if m["rule"] != "invoke"]
    assert actions and {m["rule"] for m in actions} == {"synthesise"}
    assert all(m["to"] == -1 for m in actions), "to every correct server at once"
    played = _run(machine_class, ({"client": 0, "write": True}, actions[0]))
    assert "synthesises" in played.described[-1]
    each = [m for m, _ in candidates(after, attrs.evolve(scope, targets="each"), 1, None)
            if m["rule"] == "synthesise"]
    assert len(each) == 4 * len(actions), "or to any one correct server"
    cut = {"client": 0, "write": True, "new cut": True, "cut off: how many": 1,
           "cut off (any)": 3, "cut off": 0}
    held = _run(machine_class, (cut,))
    releases = [m for m, _ in candidates(held, scope, 1, None) if m["rule"] == "release"]
    assert len(releases) == 1, "what the network held for the one server cut off"
    before = held.held & set(held.world.pool.ids())
    released = _run(machine_class, (cut, releases[0]))
    assert before and not before & set(released.world.pool.ids()), "all of it delivered"
    assert "releases" in released.described[-1]


def test_no_action_once_the_budget_is_spent() -> None:
    from tssbqs_pbt.engine.bfs import replay as _run
    from tssbqs_pbt.engine.explore_moves import candidates

    after = _run(_machine_class(), ({"client": 0, "write": True},))
    scope = Scope(clients=1, operations=1)
    assert not [m for m, _ in candidates(after, scope, 0, None) if m["rule"] != "invoke"]
    assert not [m for m, _ in candidates(after, scope, 1, 0) if m["rule"] != "invoke"]


def test_clients_are_interchangeable_only_where_the_protocol_says_so() -> None:
    # a protocol that declares it: of the clients that never acted only the first starts an
    # operation (the rest are the same schedules, renamed); the design protocols do not
    # declare it (delegates rotate with the client's index, timestamps break ties by it)
    class Symmetric(PairRegister):
        symmetric_clients = True

    config = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    scope = Scope(operations=1, actions=0)
    on = explore(Symmetric(3), config, scope).certificate
    off = explore(Symmetric(3), config, attrs.evolve(scope, symmetry=False)).certificate
    assert "client symmetry" in on.reductions and "client symmetry" not in off.reductions
    assert on.states * 2 == off.states and on.exhausted and off.exhausted
    assert "client symmetry" not in explore(*pair(3), scope).certificate.reductions


def test_which_clients_any_lets_any_client_act_up_to_the_count() -> None:
    # which client acts decides who serves it (delegates rotate with the client): with
    # which_clients="any" the first operation may be any client's, the next ones only those of
    # clients that acted while `clients` of them have
    from tssbqs_pbt.engine.bfs import replay as _run
    from tssbqs_pbt.engine.explore_moves import candidates

    machine_class = _machine_class()
    scope = Scope(clients=1, modes=("honest",), actions=0, max_cut=0)

    def who(schedule: tuple[dict[str, object], ...], chosen: Scope) -> set[str]:
        machine = _run(machine_class, schedule)
        idle = machine.idle_clients()
        return {str(idle[m["client"]]) for m, _ in candidates(machine, chosen, 0, None)}

    anyone = attrs.evolve(scope, which_clients="any")
    assert who((), scope) == {"C1"}
    assert who((), anyone) == {"C1", "C2", "C3"}
    c2_wrote = ({"client": 1, "write": True},)
    assert who(c2_wrote, anyone) == {"C2"}
    assert who(c2_wrote, attrs.evolve(anyone, clients=2)) == {"C1", "C2", "C3"}
    assert "by any 1 client" in anyone.describe()


def test_a_pause_is_offered_only_where_an_action_can_follow_it() -> None:
    """``pauses`` adds schedules in which an operation stops once B answered its k-th message
    and the adversary acts there; with no action to take there is nothing to pause for."""
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol, config = DesignProtocol(design), design.config(byzantine={4})
    quiet = Scope(operations=1, clients=1, actions=0)
    assert explore(protocol, config, attrs.evolve(quiet, pauses=2)).certificate.states == \
        explore(protocol, config, quiet).certificate.states
    acting = Scope(operations=1, clients=1, interventions=1, pauses=0)
    plain = explore(protocol, config, acting).certificate
    paused = explore(protocol, config, attrs.evolve(acting, pauses=2)).certificate
    assert plain.exhausted and paused.exhausted and paused.states > plain.states
    assert "pause for an action once B answered 1-2" in paused.scope.describe()
    with pytest.raises(InvalidArgument, match="pauses=-1"):
        Scope(pauses=-1)


def test_a_schedule_does_not_end_at_a_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pause is for the adversary's action that follows it: P2 is judged (the run ended by a
    drain and a final read) after that action, never at the paused state itself."""
    from tssbqs_pbt.engine.machine_base import RuleMachine

    ended: list[bool] = []
    teardown = RuleMachine.teardown

    def recording(self: RuleMachine) -> None:
        ended.append(self._paused)  # type: ignore[attr-defined]
        teardown(self)

    monkeypatch.setattr(RuleMachine, "teardown", recording)
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    scope = Scope(operations=1, clients=1, interventions=1, pauses=2)
    result = explore(DesignProtocol(design), design.config(byzantine={4}), scope)
    assert result.certificate.exhausted and ended and not any(ended)
    # (paused states were reached, and not ended: fewer runs ended than states, and the same
    # scope without pauses has fewer states)
    plain = explore(DesignProtocol(design), design.config(byzantine={4}),
                    attrs.evolve(scope, pauses=0))
    assert plain.certificate.states < result.certificate.states
    assert len(ended) - plain.certificate.states < result.certificate.states
