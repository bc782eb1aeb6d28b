"""The explorer's breadth-first search: fingerprints with budgets, parent pointers instead of
machines, chunks merged in order (the same states, transitions and first violation with one
worker or several), and handler results remembered by their inputs."""

from __future__ import annotations

from array import array
from typing import Any

import pytest
from foreign_protocols import PairRegister
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.engine.bfs import Levels, Visited
from tssbqs_pbt.engine.explore import Scope, explore
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import Drain, Invoke, SystemConfig, World, client, step, write
from tssbqs_pbt.kernel.memo import HandlerMemo

pytestmark = pytest.mark.search
SMALL = Scope(clients=1, interventions=2)


def _summary(result: Any) -> tuple[Any, ...]:
    c = result.certificate
    return (c.states, c.transitions, c.depth, c.exhausted, c.cut_by, result.moves,
            result.described, str(result.failure).split("\n")[0])


def test_a_visited_state_is_dominated_only_by_no_larger_budgets() -> None:
    visited = Visited()
    assert visited.dominated(7, 1, 1) is None
    visited.add(7, 1, 2)
    assert visited.dominated(7, 1, 2) and visited.dominated(7, 2, 3)
    assert visited.dominated(7, 0, 2) is False and visited.dominated(7, 1, 1) is False
    visited.add(7, 0, 3)  # (a second pair the first does not dominate: both are kept)
    assert visited.dominated(7, 0, 3) and visited.dominated(7, 1, 2)
    assert visited.dominated(7, 0, 2) is False and len(visited) == 1


def test_schedules_are_rebuilt_from_parent_pointers() -> None:
    levels = Levels()
    a, b = levels.intern((("rule", "invoke"),)), levels.intern((("rule", "release"),))
    assert levels.intern((("rule", "invoke"),)) == a, "a move is kept once"
    levels.parents.append(array("q", [0, 0]))
    levels.moves.append(array("q", [a, b]))
    levels.parents.append(array("q", [1]))
    levels.moves.append(array("q", [a]))
    assert levels.schedule(2, 0) == ({"rule": "release"}, {"rule": "invoke"})
    assert levels.schedule(0, 0) == ()


@pytest.mark.parametrize("q", [2, 3])
def test_two_workers_find_what_one_finds_on_a_foreign_protocol(q: int) -> None:
    config = SystemConfig(n=4, f=1, q=q, t=2, byzantine={4})
    one = explore(PairRegister(q), config, SMALL)
    two = explore(PairRegister(q), config, SMALL, workers=2)
    assert _summary(one) == _summary(two)
    assert (one.failure is not None) is (q == 2), "q=2 breaks, q=3 holds"
    assert two.certificate.workers == 2


def test_two_workers_find_the_same_shortest_attack_on_a_design() -> None:
    design = Design(4, 1, 2, 2, FAMILY_C_OPTIONS)
    protocol, config = DesignProtocol(design), design.config(byzantine={4})
    one, two = explore(protocol, config, SMALL), explore(protocol, config, SMALL, workers=2)
    assert one.failure is not None and _summary(one) == _summary(two)


def test_a_state_bound_cuts_at_the_same_count_with_any_worker_count() -> None:
    config = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    scope = Scope(clients=1, max_states=120)
    one = explore(PairRegister(3), config, scope)
    two = explore(PairRegister(3), config, scope, workers=2)
    assert one.certificate.cut_by == "max_states" and _summary(one) == _summary(two)
    assert one.certificate.states == 120


def test_the_certificate_says_what_a_visited_state_costs() -> None:
    result = explore(PairRegister(3), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4}), SMALL)
    cert = result.certificate
    assert result.failure is None and 0 < cert.bytes_per_state < 1_000
    assert cert.to_json()["bytes_per_state"] == cert.bytes_per_state


def test_progress_is_told_the_counts_as_they_grow() -> None:
    seen: list[dict[str, Any]] = []
    result = explore(PairRegister(3), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4}), SMALL,
                     progress=seen.append)
    assert seen and seen[-1]["states"] == result.certificate.states
    assert [p["states"] for p in seen] == sorted(p["states"] for p in seen)


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_a_bad_worker_count_is_refused(workers: Any) -> None:
    with pytest.raises(InvalidArgument, match="workers"):
        explore(PairRegister(3), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4}), SMALL,
                workers=workers)


def test_a_remembered_handler_gives_the_trace_an_unremembered_one_gives() -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol, config = DesignProtocol(design), design.config()
    memo = HandlerMemo()
    worlds = [World(protocol, config), World(protocol, config, memo=memo),
              World(protocol, config, memo=memo)]
    for world in worlds:
        step(world, Invoke(client(1), write("v1")))
        step(world, Drain(1_000))
    plain, first, second = (w.steps for w in worlds)
    assert plain == first == second
    assert memo.hits > 0 and memo.misses > 0, "the second world ran on remembered results"


def test_a_handler_that_raises_is_not_remembered() -> None:
    memo, calls = HandlerMemo(), []

    def boom() -> Any:
        calls.append(1)
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            memo.call(client(1), client(2), "payload", "state", boom)
    assert len(calls) == 2 and memo.hits == 0


def test_the_bytes_a_state_costs_do_not_depend_on_the_fingerprints_drawn() -> None:
    """Regression: ``bytes_per_state`` counted each fingerprint's int by its size, which
    depends on the magnitude of a ``hash`` that differs from process to process, so a killed
    and resumed sweep wrote 118 where the uninterrupted one wrote 119."""
    from tssbqs_pbt.engine.bfs import BreadthFirst

    def cost(keys: range) -> int:
        explorer = BreadthFirst.__new__(BreadthFirst)
        explorer.visited, explorer.levels = Visited(), Levels()
        for key in keys:
            explorer.visited.add(key, 0, 0)
        return explorer._bytes_per_state()

    assert cost(range(1, 101)) == cost(range(1 << 62, (1 << 62) + 100))
