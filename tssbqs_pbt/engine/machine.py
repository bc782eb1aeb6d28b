"""The rule machine: one ``RuleBasedStateMachine`` per (protocol, configuration, tactic).

Four tactics (:class:`Tactic`; no single rule set wins, see benchmarks/README.md), one machine
class each (:mod:`tssbqs_pbt.engine.tactics`, whose classes' docstrings say what each does):

- ``FINE`` (:class:`~tssbqs_pbt.engine.tactics.FineMachine`): one message at a time; B acts on
  single messages;
- ``COARSE`` (:class:`~tssbqs_pbt.engine.tactics.CoarseMachine`): adds whole exchanges (settle
  with B honest, possibly delaying one correct server) and a warm-up of 0..2 complete writes;
- ``LAG`` (:class:`~tssbqs_pbt.engine.tactics.LagMachine`): few, coarse rules while the network
  may delay one *lagging* correct server; B keeps, withholds, synthesises and answers;
- ``SPLIT`` (:class:`~tssbqs_pbt.engine.tactics.SplitMachine`): the model's whole network
  adversary (any cut of correct servers) and every Byzantine server
  (:mod:`tssbqs_pbt.engine.partition`).

What they share — the state, the warm-up, the invariants, the teardown (B releases what it
kept, the network drains, a final read) and the helpers — is
:class:`~tssbqs_pbt.engine.machine_base.RuleMachine`.  :func:`make_machine` gives the class a
search runs.
"""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from tssbqs_pbt.engine.machine_base import (
    FaultFound,
    PropertyViolated,
    RuleMachine,
    SearchSetup,
    Tactic,
)
from tssbqs_pbt.engine.tactics import CoarseMachine, FineMachine, LagMachine, SplitMachine

__all__ = ["FaultFound", "PropertyViolated", "SearchSetup", "Tactic", "make_machine"]

#: each tactic's rule machine, built once per process (when this module is imported)
MACHINES: dict[Tactic, type[RuleMachine]] = {
    Tactic.FINE: FineMachine,
    Tactic.COARSE: CoarseMachine,
    Tactic.LAG: LagMachine,
    Tactic.SPLIT: SplitMachine,
}


def make_machine(setup: SearchSetup) -> type[RuleBasedStateMachine]:
    """A machine class for ``setup``: a subclass of the tactic's rule machine that carries it.

    The rule machine of a tactic is built once per process (:data:`MACHINES`: running
    Hypothesis's rule decorators for every search cost ~1.4 ms of the 2.8 ms of a one-example
    search, and a sweep runs ~40,000 searches); ``setup`` is a class attribute of the subclass,
    so concurrent searches in one process never share it."""
    base = MACHINES[setup.tactic]
    return type(base.__name__, (base,), {"setup": setup})
