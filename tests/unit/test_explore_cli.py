"""``tssbqs-pbt explore``'s flags: each left out takes the explorer's default, and the help
states that default."""

from __future__ import annotations

import argparse
import re

import attrs
import pytest

from tssbqs_pbt.cli import _build_parser as build_parser
from tssbqs_pbt.cli import scope_arguments
from tssbqs_pbt.engine.explore import Scope

FLAGS = {"operations": "--operations", "clients": "--clients",
         "which_clients": "--which-clients", "max_cut": "--max-cut",
         "blocking_cuts": "--blocking-cuts", "pauses": "--pauses",
         "modes": "--modes", "actions": "--actions", "interventions": "--interventions",
         "powers": "--powers", "width": "--width", "field_width": "--field-width",
         "targets": "--targets",
         "properties": "--properties", "max_states": "--max-states", "seconds": "--seconds"}


def _explore_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["explore"]


def _shown(value: object) -> str:
    if value is None:
        return "(any|no time bound)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return re.escape(",".join(value))
    return re.escape(str(value))


@pytest.mark.parametrize("field", sorted(FLAGS))
def test_the_help_states_the_explorers_default(field: str) -> None:
    action = next(a for a in _explore_parser()._actions if FLAGS[field] in a.option_strings)
    default = attrs.fields_dict(Scope)[field].default
    assert re.search(rf"\(default:? {_shown(default)}\)", action.help or ""), (field, default,
                                                                             action.help)


def test_flags_left_out_keep_the_scope_defaults() -> None:
    args = _explore_parser().parse_args(["--protocol", "family-c"])
    assert Scope(**scope_arguments(args)) == Scope()
    args = _explore_parser().parse_args(["--protocol", "family-c", "--clients", "1",
                                         "--powers", "release, answer", "--properties", "P1",
                                         "--which-clients", "any", "--interventions", "2"])
    assert Scope(**scope_arguments(args)) == Scope(clients=1, powers=("release", "answer"),
                                                   properties=("P1",), which_clients="any",
                                                   interventions=2)
    args = _explore_parser().parse_args(["--protocol", "family-c", "--field-width", "2",
                                         "--targets", "each", "--width", "3"])
    assert Scope(**scope_arguments(args)) == Scope(field_width=2, targets="each", width=3)
    args = _explore_parser().parse_args(["--protocol", "family-c", "--no-blocking-cuts"])
    assert Scope(**scope_arguments(args)) == Scope(blocking_cuts=False)
