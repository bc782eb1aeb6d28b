"""Deep random walks over the explorer's moves: search beyond what breadth first exhausts."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.lib.foreign_notary import NOTARY, NOTARY_UNBOUND
from tssbqs_pbt.engine.explore import move_machine
from tssbqs_pbt.engine.walks import DEEP, _walk, deep_walks
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.preflight import preflight


def _walks(spec, **kwargs):  # type: ignore[no-untyped-def]
    ready = preflight(spec, 4, 1)
    return deep_walks(ready.protocol, ready.config, declarations=ready.declarations, **kwargs)


def test_walks_find_the_unbound_stamp_and_say_how_they_did() -> None:
    found = _walks(NOTARY_UNBOUND, walks=200, seed=0)
    assert found.failure is not None
    assert "P1" in str(found.failure)
    assert any(m["rule"] == "synthesise" for m in found.moves), found.described
    assert len(found.described) == len(found.moves)
    again = _walks(NOTARY_UNBOUND, walks=200, seed=0)  # (one seed, one result)
    assert (again.moves, again.walked.walks) == (found.moves, found.walked.walks)


def test_a_correct_plugin_survives_and_the_walks_are_no_certificate() -> None:
    passed = _walks(NOTARY, walks=30, seed=1)
    assert passed.failure is None and passed.walked.walks == 30
    assert passed.walked.moves > 30 * 4
    assert "not a certificate" in passed.walked.backing()


def test_walks_go_deeper_than_the_default_scope() -> None:
    ready = preflight(NOTARY, 4, 1)
    machine_class = move_machine(ready.protocol, ready.config, DEEP, ready.declarations)
    schedules = [_walk(machine_class, DEEP, 14, random.Random(i))[0] for i in range(10)]
    operations = max(sum(m["rule"] == "invoke" for m in s) for s in schedules)
    actions = max(sum(m["rule"] != "invoke" for m in s) for s in schedules)
    assert operations > 2 and actions > 1, (operations, actions)


@pytest.mark.parametrize("bad", [{"walks": 0}, {"length": -1}, {"seed": True}])
def test_bad_walk_bounds_are_named(bad: dict[str, object]) -> None:
    ready = preflight(NOTARY, 4, 1)
    (name, value), = bad.items()
    with pytest.raises(InvalidArgument, match=rf"deep_walks\({name}={value!r}\)"):
        deep_walks(ready.protocol, ready.config, **bad)  # type: ignore[arg-type]


def test_a_failing_walk_is_cut_until_no_move_can_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: one pass of drops (last move first) kept a move that was needed only while
    an earlier one was there; the passes now repeat until none drops a move."""
    from tssbqs_pbt.engine import walks

    def fails(schedule: tuple[Any, ...]) -> bool:
        names = {move["rule"] for move in schedule}
        return "z" in names and ("y" in names or "x" not in names)

    monkeypatch.setattr(walks, "_ending", lambda _machine, schedule: (
        AssertionError("fails") if fails(schedule) else None, ()))
    x, y, z = ({"rule": name} for name in "xyz")
    assert walks._shortest(None, (x, y, z)) == (z,)
