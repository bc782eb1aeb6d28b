"""The command line as a new user meets it: usage without a command, descriptions, defaults,
the design options listed, plurals that read right."""

from __future__ import annotations

import argparse

import pytest
from tssbqs_pbt.protocols.options import (
    OPTION_TYPES,
    PARAMETER_HELP,
    VALUE_HELP,
    options_text,
)

from tssbqs_pbt.cli import _build_parser, main
from tssbqs_pbt.wording import plural


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tssbqs-pbt") and "a command is required" in err


def test_every_subcommand_has_a_description() -> None:
    for name, sub in _subparsers().items():
        assert sub.description, f"'tssbqs-pbt {name}' has no description"


@pytest.mark.parametrize("command", ["sweep", "search", "explore"])
def test_help_states_every_default(command: str) -> None:
    sub = _subparsers()[command]
    text = sub.format_help()
    assert "(default: tssbqs-" in text or "(default tssbqs-" in text  # --out
    for action in sub._actions:
        if action.option_strings and action.default not in (None, False, [], argparse.SUPPRESS):
            assert action.help and ("default" in action.help or str(action.default) in text)


def test_options_lists_every_option_value_and_parameter(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["options"]) == 0
    out = capsys.readouterr().out
    assert out == options_text()
    for name in PARAMETER_HELP:
        assert f"  {name}  " in out
    for key, enum_type in OPTION_TYPES.items():
        assert f"{key.upper()}: " in out
        for member in enum_type:
            assert f"  {member.name} " in out
            assert VALUE_HELP[member].split()[0] in out
    assert all(len(line) <= 79 for line in out.splitlines())


def test_every_value_has_a_meaning() -> None:
    for enum_type in OPTION_TYPES.values():
        for member in enum_type:
            assert VALUE_HELP.get(member), member


def test_plural() -> None:
    assert plural(1, "step") == "1 step"
    assert plural(0, "step") == "0 steps"
    assert plural(2, "example") == "2 examples"
    assert plural(1, "more message") == "1 more message"
