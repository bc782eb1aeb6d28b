"""The ideal and the real threshold scheme give the same runs.

Each schedule runs twice on the same design, once with :class:`IdealScheme` and once with a
512-bit :class:`ShoupRSA`.  The two traces must be identical once the crypto values are blanked
(``value`` and ``proof`` of every ``PartialSignature`` and ``Signature``, every ``key_id``, and
the header's ``scheme``), and the three verdicts must agree.  Schedules are deterministic: the
scripted ones deliver oldest first, the seeded one draws its choices from ``random.Random`` over
the (identical) in-flight pool.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import attacks
import pytest
from scenario import Attack
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, family_c, family_j

from tssbqs_pbt.crypto import IdealScheme, ThresholdScheme
from tssbqs_pbt.crypto.real import ShoupRSA
from tssbqs_pbt.kernel import Learned, Trace, client, encode, read, write
from tssbqs_pbt.properties import Status, operations

CRYPTO_TYPES = {"PartialSignature", "Signature"}
BLANK = "<crypto>"

FAMILIES: dict[str, Design] = {
    "C t=2": family_c(4, 1, 2),
    "C t=3": family_c(4, 1, 3),
    "J": family_j(4, 1),
}
# designs the attack breaks, so that the verdicts compared include violations
BROKEN: dict[str, Design] = {
    "C ACK_MODE=PIGGYBACK": Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(ack_mode="PIGGYBACK")),
    "C READ_GUARD=NONE": Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(read_guard="NONE")),
}

Script = Callable[[Attack], None]


def honest_concurrent(a: Attack) -> None:
    """Three clients, writes and reads overlapping; B runs the correct protocol (run())."""
    def until(steps: int) -> None:
        a.run_until(lambda: a.world.step_count >= steps)

    a.invoke(1, write("v1"))
    until(12)
    a.invoke(2, read())
    until(30)
    a.invoke(3, write("v2"))
    until(60)
    a.run()  # all three complete
    a.invoke(1, read())
    a.invoke(2, write("v3"))
    until(a.world.step_count + 25)
    a.invoke(3, read())
    a.run()


def honest_seeded(a: Attack) -> None:
    """Random interleaving from a fixed seed; B participates honestly."""
    rng = random.Random(2024)
    plan = {1: [write("v1"), read()], 2: [read(), write("v2")], 3: [write("v3"), read()]}
    while True:
        idle = [c for c, ops in plan.items() if ops and client(c) not in a.world.pending]
        if idle and rng.random() < 0.15:
            c = rng.choice(idle)
            a.invoke(c, plan[c].pop(0))
        elif a.run_random(rng, 1) == 0:
            if not idle:
                return
            a.invoke(idle[0], plan[idle[0]].pop(0))


SCHEDULES: dict[str, Script] = {
    "honest concurrent": honest_concurrent,
    "honest seeded": honest_seeded,
    "A9 done after one store": attacks.done_after_one_store,
    "A10 stale read reply": attacks.stale_read_reply,
}

CASES: list[tuple[str, Design, str]] = [
    *((f, d, s) for f, d in FAMILIES.items() for s in SCHEDULES),
    ("C ACK_MODE=PIGGYBACK", BROKEN["C ACK_MODE=PIGGYBACK"], "A9 done after one store"),
    ("C READ_GUARD=NONE", BROKEN["C READ_GUARD=NONE"], "A10 stale read reply"),
]


@pytest.fixture(scope="module")
def real_scheme(tmp_path_factory: pytest.TempPathFactory) -> ShoupRSA:
    return ShoupRSA(bits=512, cache_dir=tmp_path_factory.mktemp("shoup-keys"))


def normalise(data: Any, counter: list[int]) -> Any:
    """``data`` with the crypto values blanked; ``counter[0]`` counts the blanked fields."""
    if isinstance(data, dict):
        crypto = data.get("$") in CRYPTO_TYPES
        out = {}
        for key, value in data.items():
            if key == "key_id" or (crypto and key in ("value", "proof")):
                out[key] = BLANK
                counter[0] += 1
            else:
                out[key] = normalise(value, counter)
        return out
    if isinstance(data, list):
        return [normalise(v, counter) for v in data]
    return data


def normalised_trace(trace: Trace) -> tuple[Any, int]:
    counter = [0]
    data = normalise(json.loads(trace.to_json()), counter)
    assert data["header"]["scheme"] == trace.header.scheme
    data["header"]["scheme"] = BLANK
    # the codec's own encoding gives the same steps as the JSON file
    assert data["steps"][0] == normalise(encode(trace.steps[0]), [0])
    return data, counter[0]


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path}: length {len(a)} != {len(b)}"
    return None if a == b else f"{path}: {a!r:.200} != {b!r:.200}"


def run(design: Design, schedule: str, scheme: ThresholdScheme) -> Attack:
    attack = Attack(design, scheme=scheme)
    SCHEDULES[schedule](attack)
    attack.drain()
    return attack


@pytest.mark.parametrize(("name", "design", "schedule"), CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_real_and_ideal_schemes_give_the_same_trace(
    name: str, design: Design, schedule: str, real_scheme: ShoupRSA
) -> None:
    ideal = run(design, schedule, IdealScheme())
    real = run(design, schedule, real_scheme)
    ideal_trace, real_trace = Trace.of(ideal.world), Trace.of(real.world)
    assert (ideal_trace.header.scheme, real_trace.header.scheme) == ("ideal", "real")
    assert ideal_trace.to_json() != real_trace.to_json()  # the crypto values do differ

    ideal_data, ideal_blanked = normalised_trace(ideal_trace)
    real_data, real_blanked = normalised_trace(real_trace)
    assert ideal_blanked == real_blanked
    assert ideal_blanked > 100, "the schedule should carry many partials and signatures"
    difference = first_difference(ideal_data, real_data)
    assert difference is None, f"{name} / {schedule}: traces differ at {difference}"

    ideal_verdicts, real_verdicts = ideal.verdicts(), real.verdicts()
    assert [v.status for v in ideal_verdicts] == [v.status for v in real_verdicts]
    assert ideal_verdicts == real_verdicts  # the evidence too (it holds no crypto values)
    assert ideal.world.pending == {} and real.world.pending == {}

    # every signature the adversary learnt in the real run is a genuine RSA signature
    pk = real.world.dealing.public_key
    learned = [e.signature for s in real_trace.steps for e in s.events if isinstance(e, Learned)]
    assert all(real_scheme.verify(pk, sig.msg, sig) for sig in learned)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_families_hold_on_the_honest_schedules_with_real_signatures(
    name: str, real_scheme: ShoupRSA
) -> None:
    for schedule in ("honest concurrent", "honest seeded"):
        attack = run(FAMILIES[name], schedule, real_scheme)
        statuses = [v.status for v in attack.verdicts()]
        assert statuses == [Status.HOLDS] * 3, (name, schedule, attack.verdicts())
        assert len(attack.world.history) == 12  # six operations invoked and completed
        ops = operations(attack.world.history)
        overlapping = [
            (x.op, y.op) for i, x in enumerate(ops) for y in ops[i + 1:]
            if x.is_write != y.is_write and not x.precedes(y) and not y.precedes(x)
        ]
        assert overlapping, f"{schedule}: no read overlaps a write; the schedule is sequential"


@pytest.mark.parametrize(("name", "schedule", "violated"), [
    ("C ACK_MODE=PIGGYBACK", "A9 done after one store", [True, False, False]),
    ("C READ_GUARD=NONE", "A10 stale read reply", [True, False, True]),
])
def test_broken_designs_are_broken_with_real_signatures_too(
    name: str, schedule: str, violated: list[bool], real_scheme: ShoupRSA
) -> None:
    attack = run(BROKEN[name], schedule, real_scheme)
    assert [v.violated for v in attack.verdicts()] == violated, attack.verdicts()
