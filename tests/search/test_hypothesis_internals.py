"""The few Hypothesis internals the search turns (engine/limits.py, engine/search.py) are there.

``limits.seed_only``, ``limits.shrink_limit`` and ``search._run_machine`` fall back to doing
nothing on a Hypothesis release that lacks a name they set, so that a search still runs; this
test is where a missing one fails loudly instead (pyproject pins ``hypothesis`` to the tested
range, and a release that moves one of these must be looked at before the pin is raised).
"""

from __future__ import annotations

import time

import hypothesis
from hypothesis import core
from hypothesis.internal.conjecture import engine, providers
from hypothesis.stateful import get_state_machine_test


def test_the_shrink_bounds_are_module_globals_of_the_engine() -> None:
    assert isinstance(engine.MAX_SHRINKING_SECONDS, int | float)
    assert isinstance(engine.MAX_SHRINKS, int)
    assert engine.time is time, "the engine reads time.perf_counter through its 'time' global"


def test_the_local_constants_pool_can_be_turned_off() -> None:
    assert callable(providers._get_local_constants)
    assert hasattr(providers, "Constants") and hasattr(providers, "CONSTANTS_CACHE")
    type(providers.CONSTANTS_CACHE)(1024)  # (seed_only builds an empty one of its type)


def test_a_machine_test_takes_a_database_key_unless_a_seed_is_forced() -> None:
    assert callable(get_state_machine_test)
    assert hasattr(core, "global_force_seed")


def test_the_installed_hypothesis_is_in_the_tested_range() -> None:
    major, minor = (int(p) for p in hypothesis.__version__.split(".")[:2])
    assert (6, 150) <= (major, minor) < (6, 171), hypothesis.__version__
