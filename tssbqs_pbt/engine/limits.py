"""Knobs of Hypothesis's engine the search turns while it runs (module globals it reads).

:func:`shrink_limit` bounds shrinking by time, by successful shrinks or by machine runs (a
clock that counts runs); :func:`seed_only` makes the seed alone decide what Hypothesis draws.
Both restore what they changed, and fall back to doing nothing on a Hypothesis version that
lacks the names they set.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis.internal.conjecture import engine as _engine

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["seed_only", "shrink_limit"]


@contextlib.contextmanager
def seed_only() -> Iterator[None]:
    """Make the seed alone decide what Hypothesis generates.

    Hypothesis mixes into its draws constants found in the *local* modules loaded at the time
    (source files outside site-packages: an editable install, the test files pytest
    collected, the script that called us), so one seed gave different schedules under pytest,
    the CLI and a benchmark script.  The search turns that pool off while it runs."""
    from hypothesis.internal.conjecture import providers

    before = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if before is None or cache is None or not hasattr(providers, "Constants"):
        yield  # another Hypothesis version: nothing to turn off
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    # (constants allowed per draw are cached: earlier tests in this process filled that cache)
    providers.CONSTANTS_CACHE = type(cache)(1024)
    try:
        yield
    finally:
        providers._get_local_constants = before
        providers.CONSTANTS_CACHE = cache


class _RunClock:
    """Stands in for the ``time`` module Hypothesis's engine reads: its shrink deadline then
    counts machine runs instead of seconds (everything else reads the real clock)."""

    def __init__(self, runs: Callable[[], int]) -> None:
        self._runs = runs

    def perf_counter(self) -> float:
        return float(self._runs())

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextlib.contextmanager
def shrink_limit(seconds: float | None, count: int | None, runs: int | None = None,
                  clock: Callable[[], int] | None = None) -> Iterator[None]:
    """Bound Hypothesis's shrinking by time, by successful shrinks or by runs (module globals
    its engine reads; runs: its deadline is read from a clock that counts runs)."""
    if seconds is not None and seconds <= 0:
        raise InvalidArgument(f"shrink_seconds={seconds!r} must be positive (or None: no bound)")
    if count is not None and count < 1:
        raise InvalidArgument(f"max_shrinks={count!r} must be at least 1 (or None: no bound)")
    if runs is not None and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
        raise InvalidArgument(f"shrink_runs={runs!r} must be a whole number >= 1 (or None: no "
                              "bound)")
    before = (getattr(_engine, "MAX_SHRINKING_SECONDS", None),
              getattr(_engine, "MAX_SHRINKS", None), getattr(_engine, "time", None))
    if seconds is not None and before[0] is not None:
        _engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    if runs is not None and clock is not None and before[0] is not None and before[2] is time:
        _engine.MAX_SHRINKING_SECONDS = runs
        setattr(_engine, "time", _RunClock(clock))  # noqa: B010 (not an exported name)
    if count is not None and before[1] is not None:
        _engine.MAX_SHRINKS = count
    try:
        yield
    finally:
        if before[0] is not None:
            _engine.MAX_SHRINKING_SECONDS = before[0]
        if before[1] is not None:
            _engine.MAX_SHRINKS = before[1]
        if before[2] is not None:
            setattr(_engine, "time", before[2])  # noqa: B010
