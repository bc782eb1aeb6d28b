"""Root conftest: Hypothesis profiles for every test run.

Choose one with ``TSSBQS_PBT_PROFILE=dev|ci|thorough`` (``ci`` is the default when ``CI`` is set,
``dev`` otherwise) or with pytest's own ``--hypothesis-profile``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_default = "ci" if os.environ.get("CI") else "dev"
_profile = os.environ.get("TSSBQS_PBT_PROFILE", _default)
if _profile not in ("dev", "ci", "thorough"):
    raise SystemExit(
        f"TSSBQS_PBT_PROFILE={_profile!r} is not a profile; use dev, ci or thorough"
    )
settings.load_profile(_profile)
