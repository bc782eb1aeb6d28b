"""Test order: the long tests first, so that ``pytest -n 2`` starts them on both workers at
once instead of leaving one of them for the end (the run then takes about the total time over
the number of workers, not that plus the longest test)."""

from __future__ import annotations

import pytest


def _weight(item: pytest.Item) -> int:
    if item.get_closest_marker("slow") is not None:
        return 0
    if item.get_closest_marker("sweep") is not None:
        return 1
    return 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_weight)  # (stable: within a weight, the order of collection)
