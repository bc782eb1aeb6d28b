"""CheckSettings: validated values, precedence helpers, and the named budgets kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from tssbqs_pbt.check_settings import (
    BUDGET_NAMES,
    CheckSettings,
    activate,
    active,
    parse_seed,
    record,
    take_records,
)
from tssbqs_pbt.engine.search import BUDGETS
from tssbqs_pbt.errors import InvalidArgument


def test_budget_names_are_the_search_budgets() -> None:
    assert tuple(BUDGETS) == BUDGET_NAMES


@pytest.mark.parametrize(("field", "value", "message"), [
    ("budget", "lots", "budget='lots' is not a budget; use one of quick, standard, thorough"),
    ("budget", "0", "budget='0' is not a budget"),
    ("crypto", "rsa", "crypto='rsa' is not a threshold-signature scheme; use 'ideal'"),
    ("key_bits", 128, "key_bits=128 must be a whole number >= 256"),
    ("n", 0, "n=0 must be a whole number >= 1"),
    ("f", -1, "f=-1 must be a whole number >= 0"),
    ("seed", True, "seed=True must be a whole number >= 0"),
])
def test_bad_values_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
        CheckSettings(**{field: value})  # type: ignore[arg-type]


def test_values_are_normalised() -> None:
    settings = CheckSettings(budget=250, report_dir="out")  # type: ignore[arg-type]
    assert (settings.budget, settings.report_dir) == ("250", Path("out"))
    assert settings.with_({"n": 7}).n == 7
    with pytest.raises(InvalidArgument, match="unknown tssbqs setting"):
        settings.with_({"threshold": 3})
    assert "budget=250, crypto=ideal, n=4, f=1, seed=0" in settings.describe()


def test_seed_activation_and_records() -> None:
    assert parse_seed("12") == 12 and parse_seed(-3) == 3
    assert parse_seed("abc") == parse_seed("abc") != parse_seed("abd")
    outer = active()
    with activate(CheckSettings(n=7)) as inner:
        assert active() is inner
    assert active() is outer
    with pytest.raises(InvalidArgument, match="activate\\(\\) takes CheckSettings"), \
            activate({"n": 7}):  # type: ignore[arg-type]
        pass
    take_records()
    record("statistics", examples=3)
    assert take_records() == [{"kind": "statistics", "examples": "3"}] and take_records() == []
