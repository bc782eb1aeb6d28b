"""Plug-in tests.  The tutorial package is a separate project: its test runs inside it
(test_new_user.py), never in this suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

collect_ignore = ["tutorial_pkg"]


@pytest.fixture(autouse=True)
def _restore_hypothesis() -> Iterator[None]:
    """In-process pytester runs with --hypothesis-profile/--hypothesis-seed change Hypothesis's
    globals for this whole process; put them back so later tests run as configured."""
    import hypothesis.core as core
    from hypothesis import settings

    profile = settings._current_profile
    seed = core.global_force_seed
    yield
    core.global_force_seed = seed
    if profile is not None:
        settings.load_profile(profile)
