"""Hypothesis strategies for tssbqs-pbt (installed as ``tssbqs_pbt.strategies``).

- :func:`configurations` and :func:`design_options`: the system and the design under test;
- :func:`workloads`: concurrent client operations;
- :func:`adversary_actions`: one action of the protocol-generic Byzantine adversary, built from
  its pooled knowledge (see :class:`Adversary` for what it can do).

Hypothesis is imported here and in the layers above only.
"""

from __future__ import annotations

from tssbqs_pbt.strategies.adversary import FABRICATED_VALUE, Adversary, Position
from tssbqs_pbt.strategies.system import configurations, design_options
from tssbqs_pbt.strategies.workloads import adversary_actions, workloads

__all__ = [
    "FABRICATED_VALUE",
    "Adversary",
    "Position",
    "adversary_actions",
    "configurations",
    "design_options",
    "workloads",
]
