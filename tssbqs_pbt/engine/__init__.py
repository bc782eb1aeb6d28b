"""The engine: everything that searches for an attack.

- :mod:`.machine` — the rule machine (Hypothesis ``RuleBasedStateMachine``) that drives a
  protocol through the kernel under one tactic: one class per tactic (:mod:`.tactics`) on a
  shared base (:mod:`.machine_base`), with its network helpers (:mod:`.exchanges`) and the
  SPLIT tactic's partitions and Byzantine modes (:mod:`.partition`);
- :mod:`.search` — random search over the tactics, shrinking, never losing a failure, saving
  and replaying counterexamples (public as :mod:`tssbqs_pbt.search`);
- :mod:`.explore` and :mod:`.explore_moves` — the bounded-exhaustive explorer, whose moves are
  the SPLIT rules with their draws given: one definition of what the adversary can do next,
  used by both (public as :mod:`tssbqs_pbt.explore`);
- :mod:`.minimize` — the trace pass: a failing trace shrunk on its kernel actions;
- :mod:`.limits` — the Hypothesis engine knobs the search turns.
"""
