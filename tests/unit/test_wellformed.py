"""Correct servers drop ill-typed messages: the compiled check accepts exactly what the attrs
annotations describe (a Byzantine sender may put anything anywhere)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from tssbqs_pbt.protocols.messages import INITIAL, Datum, Store, WriteBody
from tssbqs_pbt.protocols.wellformed import well_formed

from tssbqs_pbt.kernel import NodeSigned, client


@attrs.frozen
class Nest:
    inner: Any = None


def _signed(body: Any) -> NodeSigned:
    return NodeSigned(client(1), body)


@pytest.mark.parametrize(
    ("message", "ok"),
    [
        (INITIAL, True),
        (Datum("v", (1, 2)), True),
        (Datum("v", (1, "2")), False),  # a timestamp of the wrong shape
        (Datum("v", (1, 2, 3)), False),
        (Datum(7, (1, 2)), False),  # type: ignore[arg-type]
        (Datum("v", (True, 2)), False),  # bool is not an int here
        (Datum("v", (1, 2), sig="forged"), False),  # type: ignore[arg-type]
        (Store(_signed(WriteBody("v")), Datum("v", (1, 2))), True),
        (Store(_signed(WriteBody("v")), "datum"), False),  # type: ignore[arg-type]
        (Store(_signed(WriteBody(3)), Datum("v", (1, 2))), False),  # type: ignore[arg-type]
        (WriteBody("v", basis=None), True),
        (WriteBody("v", basis=INITIAL), False),  # type: ignore[arg-type]
    ],
)
def test_messages_are_checked_against_their_annotations(message: Any, ok: bool) -> None:
    assert well_formed(message) is ok


def test_nesting_deeper_than_the_bound_is_refused() -> None:
    value: Any = 1
    for _ in range(5):
        value = Nest(value)
    assert well_formed(value)
    for _ in range(10):
        value = Nest(value)
    assert not well_formed(value)


def test_plain_values_and_unions() -> None:
    assert well_formed(3, int) and not well_formed(True, int)
    assert well_formed(None, int | None) and not well_formed("x", int | None)
    assert well_formed((1, 2, 3), tuple[int, ...]) and not well_formed((1, "x"), tuple[int, ...])


def test_verdicts_are_remembered_per_object_never_per_equal_value() -> None:
    # (regression guard for the identity cache: a verdict belongs to one object)
    good, bad = Datum("v", (1, 2)), Datum("v", (1, "2"))
    for _ in range(3):
        assert well_formed(good) and not well_formed(bad)
    twin = Datum("v", (1, "2"))
    assert twin == bad and twin is not bad and not well_formed(twin)
    deep: Any = 1
    for _ in range(12):
        deep = Nest(deep)
    assert not well_formed(deep) and not well_formed(deep)


def test_a_remembered_verdict_respects_the_depth_it_was_reached_at() -> None:
    """Verdicts are remembered by identity (a forwarded datum is checked once); one object met
    again deeper down must still hit the nesting bound, and one refused for depth alone must
    still be accepted nearer the top."""
    inner: Any = 1
    for _ in range(6):
        inner = Nest(inner)
    assert well_formed(inner)  # fine on its own (depth 0)
    deep: Any = inner
    for _ in range(5):
        deep = Nest(deep)
    assert not well_formed(deep)  # the same object, now too deep
    assert well_formed(inner)  # and fine again at the top
