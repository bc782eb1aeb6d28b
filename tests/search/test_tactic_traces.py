"""Golden traces of the rule machine: every tactic, on a few designs and seeds, runs exactly the
examples it ran when the digests below were recorded.

Hypothesis picks a rule by its place in the machine's rule list (sorted by argument count and
name), swarm testing enables a random subset of rule *names*, and every draw of a rule is a
choice in the run's sequence: renaming, adding or dropping a rule (even one whose precondition
is always false), or adding, removing or reordering a draw changes the runs every recorded seed
makes.  The digests pin each example's trace (canonical JSON of its steps), in order, and the
number of examples; the rule names of each tactic are pinned too, so a change there is named
rather than seen as a digest mismatch.

A change of the machine that is meant to change what seeds do updates the literals: run
``python tests/search/test_tactic_traces.py`` and paste what it prints (and say so in the
commit: every recorded seed, benchmark and sweep result then reruns differently).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.reporting import with_reporter
from hypothesis.stateful import run_state_machine_as_test
from tssbqs_pbt.protocols import (
    FAMILY_C_OPTIONS,
    Design,
    DesignProtocol,
    ProtocolSpec,
    parse_design,
)

from tssbqs_pbt.engine.limits import seed_only
from tssbqs_pbt.engine.machine import (
    FaultFound,
    PropertyViolated,
    SearchSetup,
    Tactic,
    make_machine,
)
from tssbqs_pbt.kernel import Trace, World

EXAMPLES = 10  # per (tactic, design, seed): the whole file runs in about 15 s
STEPS = 30  # the search's default budget.steps
SEEDS = (52170026, 7)
QUORUM_MAX = ("n=4 f=1 q=3 t=3 STORE_FORM=SIGNED TS_SOURCE=QUORUM_MAX SIGN_GUARD=NONE "
              "ACK_MODE=EVIDENCE READ_GUARD=EVIDENCE READ_SHAPE=TWO_PHASE DELEGATES=F_PLUS_ONE "
              "REQUEST_DEDUP=STORED")


def _c(t: int = 2, **changes: str) -> Design:
    return Design(4, 1, 3, t, FAMILY_C_OPTIONS.with_(**changes))


#: name -> (design, Byzantine servers)
DESIGNS: dict[str, tuple[Design, frozenset[int]]] = {
    "C": (_c(), frozenset({4})),
    "C t=4": (_c(t=4), frozenset({4})),  # P2: B alone can block every operation
    # (P1 in a longer search: the CLI finds it with seed 52170026)
    "QUORUM_MAX": (parse_design(QUORUM_MAX), frozenset({4})),
    "C PIGGYBACK": (_c(ack_mode="PIGGYBACK"), frozenset({4})),
    "C READ_GUARD=LOCAL": (_c(read_guard="LOCAL"), frozenset({4})),
    "C n=7 f=2": (Design(7, 2, 5, 3, FAMILY_C_OPTIONS), frozenset({6, 7})),
    "C no Byzantine": (_c(), frozenset()),
}

#: each tactic's rules in Hypothesis's order, its initializers and invariants
RULES = {
    Tactic.FINE: (["done", "forget", "settle", "deliver", "forge", "honest", "invoke", "mutate",
                   "outbid", "plant", "replay"], ["start"], ["safe"]),
    Tactic.COARSE: (["done", "forget", "settle", "settle_with_b", "deliver", "forge", "honest",
                     "invoke", "isolate", "mutate", "outbid", "plant", "replay"],
                    ["start"], ["safe"]),
    Tactic.LAG: (["done", "forget", "answer", "forge", "invoke", "mutate", "outbid", "plant",
                  "release", "replay", "synthesise"], ["start"], ["safe"]),
    Tactic.SPLIT: (["done", "forget", "answer", "forge", "give_back", "invoke", "mutate",
                    "outbid", "plant", "release", "repartition", "replay", "synthesise"],
                   ["start"], ["safe"]),
}
#: the warm-up each tactic's ``start`` may draw (0..this many writes)
WARMUP = {Tactic.FINE: 0, Tactic.COARSE: 2, Tactic.LAG: 2, Tactic.SPLIT: 2}

#: (tactic, design, seed) -> (examples run, sha256 of their traces (24 hex digits),
#: how the last one ended)
GOLDEN: dict[str, tuple[int, str, str]] = {
    "fine|C|52170026":
        (11, "6102eb7d38a9b23dcfb168f8", "passed"),
    "fine|C|7":
        (12, "a0dac27975b6e52baaab41ff", "passed"),
    "fine|C t=4|52170026":
        (4, "6bf396fb0c0e6773e302d2a0", "P2 data availability: 11 steps"),
    "fine|C t=4|7":
        (4, "49bb5ede76c410b5ea1427d9", "P2 data availability: 20 steps"),
    "fine|QUORUM_MAX|52170026":
        (12, "63f9587dc961500ab867c9e0", "passed"),
    "fine|QUORUM_MAX|7":
        (12, "6369b6e72e769df518f768c6", "passed"),
    "fine|C PIGGYBACK|52170026":
        (11, "c373f7d3250ca69900093de9", "passed"),
    "fine|C PIGGYBACK|7":
        (12, "6765f298bf9064ca19862431", "passed"),
    "fine|C READ_GUARD=LOCAL|52170026":
        (11, "6102eb7d38a9b23dcfb168f8", "passed"),
    "fine|C READ_GUARD=LOCAL|7":
        (13, "23238c9662131ce43d5a4893", "passed"),
    "fine|C n=7 f=2|52170026":
        (10, "5bf58122e403ffc822fa104d", "passed"),
    "fine|C n=7 f=2|7":
        (11, "482427fcfe038048781e6cc8", "passed"),
    "fine|C no Byzantine|52170026":
        (16, "630fab62f1da07193ad10eb1", "passed"),
    "fine|C no Byzantine|7":
        (12, "1889dfa278a4f9e087ca2447", "passed"),
    "coarse|C|52170026":
        (10, "3a9dff7d01d279ae4fed2ba7", "passed"),
    "coarse|C|7":
        (11, "a34a5aa6c86756a17d1c89c0", "passed"),
    "coarse|C t=4|52170026":
        (3, "07a463590f714b28fb1e2890", "P2 data availability: 18 steps"),
    "coarse|C t=4|7":
        (3, "07a463590f714b28fb1e2890", "P2 data availability: 18 steps"),
    "coarse|QUORUM_MAX|52170026":
        (11, "afe8bee5b249b81caf43eb63", "passed"),
    "coarse|QUORUM_MAX|7":
        (11, "41a281e9d6c7a0730675ec80", "passed"),
    "coarse|C PIGGYBACK|52170026":
        (10, "da917096911f631ec1391d49", "passed"),
    "coarse|C PIGGYBACK|7":
        (10, "9b719c8ce48f7e719436b146", "passed"),
    "coarse|C READ_GUARD=LOCAL|52170026":
        (10, "09177c1e9b9e4aed8f4a12e9", "passed"),
    "coarse|C READ_GUARD=LOCAL|7":
        (11, "65560dcdbfc5a28a6e5c05d4", "passed"),
    "coarse|C n=7 f=2|52170026":
        (10, "9919cd90019c939a483893ec", "passed"),
    "coarse|C n=7 f=2|7":
        (10, "7375898bf8b32d8a2f722d21", "passed"),
    "coarse|C no Byzantine|52170026":
        (13, "7ecde5451b742ea1653fe3b8", "passed"),
    "coarse|C no Byzantine|7":
        (12, "fa5caa292d6b24b97a5eabfe", "passed"),
    "lag|C|52170026":
        (14, "a31e5c0278c982d7c02e60a6", "passed"),
    "lag|C|7":
        (13, "19110f951d2de953d1cad462", "passed"),
    "lag|C t=4|52170026":
        (3, "07a463590f714b28fb1e2890", "P2 data availability: 25 steps"),
    "lag|C t=4|7":
        (3, "07a463590f714b28fb1e2890", "P2 data availability: 25 steps"),
    "lag|QUORUM_MAX|52170026":
        (18, "066e8d8b25c8122bf5b5632d", "passed"),
    "lag|QUORUM_MAX|7":
        (12, "0c88a35beaa529dbec0934fe", "passed"),
    "lag|C PIGGYBACK|52170026":
        (16, "dbd8ef76db7cf0af58e44bfc", "passed"),
    "lag|C PIGGYBACK|7":
        (12, "2197f2af155fca6a5694b0a1", "passed"),
    "lag|C READ_GUARD=LOCAL|52170026":
        (19, "49207af469ed1eb94d655caf", "passed"),
    "lag|C READ_GUARD=LOCAL|7":
        (15, "7fead4cc39773d8f4e9f9ab4", "passed"),
    "lag|C n=7 f=2|52170026":
        (13, "584a13bf696533e22932f3d4", "passed"),
    "lag|C n=7 f=2|7":
        (13, "37c1ab5f45c6a266f8fbde5c", "passed"),
    "lag|C no Byzantine|52170026":
        (13, "63b9ea8988eb4cde2fbc9442", "passed"),
    "lag|C no Byzantine|7":
        (12, "779b0d9cbf7caf39dcbdb4ef", "passed"),
    "split|C|52170026":
        (12, "633564e8ee7ba3fe49981385", "passed"),
    "split|C|7":
        (13, "5de39001cccf060f5e07e82f", "passed"),
    "split|C t=4|52170026":
        (3, "2087ba0492e0e670b20726b8", "P2 data availability: 129 steps"),
    "split|C t=4|7":
        (3, "2087ba0492e0e670b20726b8", "P2 data availability: 129 steps"),
    "split|QUORUM_MAX|52170026":
        (11, "fcb50f1926464746bad3d488", "passed"),
    "split|QUORUM_MAX|7":
        (14, "1fdf672d303450bb7e6f569a", "passed"),
    "split|C PIGGYBACK|52170026":
        (13, "5b5c0bd4df4616a233ca5346", "passed"),
    "split|C PIGGYBACK|7":
        (11, "9b5db33044946fcf0a15f91d", "passed"),
    "split|C READ_GUARD=LOCAL|52170026":
        (12, "633564e8ee7ba3fe49981385", "passed"),
    "split|C READ_GUARD=LOCAL|7":
        (13, "76d6879b42fc09417f9c2e3a", "passed"),
    "split|C n=7 f=2|52170026":
        (11, "03ff2c225058956bca02598d", "passed"),
    "split|C n=7 f=2|7":
        (12, "cd450aeb2de42d849b9e5f8d", "passed"),
    "split|C no Byzantine|52170026":
        (13, "d4371af5c1acdf3f11a4a857", "passed"),
    "split|C no Byzantine|7":
        (11, "5b0b490b7ad29a579c841894", "passed"),
}


def run(tactic: Tactic, design_name: str, seed: int) -> tuple[int, str, str]:
    """Run ``EXAMPLES`` examples of ``tactic``'s machine with ``seed`` (generation only, as the
    search generates them); the number of runs, the digest of their traces, and the outcome."""
    design, byzantine = DESIGNS[design_name]
    protocol = DesignProtocol(design)
    declarations = ProtocolSpec(name=protocol.name, build=lambda n, f: protocol).declarations(
        protocol)
    digest = hashlib.sha256()
    runs = [0]

    def seen(world: World) -> None:
        runs[0] += 1
        steps = Trace.of(world).to_document()["steps"]
        digest.update(json.dumps(steps, sort_keys=True, separators=(",", ":")).encode())
        digest.update(b"\n")

    setup = SearchSetup(protocol, design.config(byzantine=byzantine), declarations,
                        signed_value=protocol.signed_value, tactic=tactic, on_example=seen)
    machine = hypothesis_seed(seed)(make_machine(setup))
    outcome = "passed"
    try:
        with seed_only(), with_reporter(lambda _: None):
            run_state_machine_as_test(machine, settings=settings(
                max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
                report_multiple_bugs=False, print_blob=False,
                suppress_health_check=list(HealthCheck), phases=[Phase.generate]))
    except PropertyViolated as failure:
        outcome = f"{failure.verdict.property.value}: {len(failure.trace.steps)} steps"
    except FaultFound as failure:
        outcome = f"fault: {len(failure.trace.steps)} steps"
    return runs[0], digest.hexdigest()[:24], outcome


def _key(tactic: Tactic, design_name: str, seed: int) -> str:
    return f"{tactic.value}|{design_name}|{seed}"


def rule_names(tactic: Tactic) -> tuple[list[str], list[str], list[str]]:
    machine: Any = make_machine(SearchSetup(*_setup_args(), tactic=tactic))
    state = machine.setup_state()
    # (the order Hypothesis's RuleStrategy samples them in)
    rules = sorted(state.rules, key=lambda r: (sorted(r.targets), len(r.arguments),
                                               r.function.__name__))
    return ([r.function.__name__ for r in rules],
            [r.function.__name__ for r in state.initializers],
            [i.function.__name__ for i in state.invariants])


def _setup_args() -> tuple[Any, Any, Any]:
    design, byzantine = DESIGNS["C"]
    protocol = DesignProtocol(design)
    return protocol, design.config(byzantine=byzantine), {}


@pytest.mark.parametrize("tactic", list(Tactic), ids=lambda t: t.value)
def test_each_tactic_keeps_its_rules(tactic: Tactic) -> None:
    assert rule_names(tactic) == RULES[tactic]
    machine: Any = make_machine(SearchSetup(*_setup_args(), tactic=tactic))
    (start,) = machine.setup_state().initializers
    warmup = start.arguments_strategies["warmup"]
    assert repr(warmup) == f"integers(min_value=0, max_value={WARMUP[tactic]})"


@pytest.mark.parametrize("design_name", list(DESIGNS))
@pytest.mark.parametrize("tactic", list(Tactic), ids=lambda t: t.value)
def test_every_seed_keeps_its_trace(tactic: Tactic, design_name: str) -> None:
    for seed in SEEDS:
        assert run(tactic, design_name, seed) == GOLDEN[_key(tactic, design_name, seed)], \
            f"{tactic.value} on {design_name} with seed {seed} runs other examples than recorded"


def test_the_machine_class_is_built_once_per_tactic() -> None:
    one = make_machine(SearchSetup(*_setup_args(), tactic=Tactic.LAG))
    other = make_machine(SearchSetup(*_setup_args(), tactic=Tactic.LAG))
    assert one is not other and one.__bases__ == other.__bases__


if __name__ == "__main__":  # print the literals of GOLDEN for the current machine
    for tactic in Tactic:
        for name in DESIGNS:
            for seed in SEEDS:
                runs, digest, outcome = run(tactic, name, seed)
                print(f'    "{_key(tactic, name, seed)}":\n'
                      f'        ({runs}, "{digest}", "{outcome}"),')
