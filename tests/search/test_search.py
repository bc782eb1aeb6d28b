"""The search engine finds violations by itself, shrinks them, saves a replayable file, and
raises no false alarm on the valid families.

Budgets: ``TSSBQS_PBT_SEARCH_EXAMPLES`` (default 300 here; the ``thorough`` profile of the
benchmarks uses 2,000).  Seeds are fresh on every run (printed on failure) and no example
database is used, as the issue asks.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import attrs
import pytest
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol, family_c, family_j

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import (
    Budget,
    replay_counterexample,
    search,
    transplant_counterexample,
)
from tssbqs_pbt.errors import ReplayError, TraceFormatError

pytestmark = pytest.mark.search
EXAMPLES = int(os.environ.get("TSSBQS_PBT_SEARCH_EXAMPLES", "300"))


def c_with(t: int = 2, **changes: str) -> Design:
    return Design(4, 1, 3, t, FAMILY_C_OPTIONS.with_(**changes))


FINDABLE = {
    "t=1": (c_with(t=1), "P3"),
    "t=4": (c_with(t=4), "P2"),
    "DELEGATES=1": (c_with(delegates="ONE"), "P2"),
    "SIGN_GUARD=LOCAL t=2": (c_with(sign_guard="LOCAL"), None),
}


@pytest.mark.parametrize("name", sorted(FINDABLE))
def test_search_finds_a_violation_and_saves_a_replayable_file(name: str, tmp_path: Path) -> None:
    design, expected = FINDABLE[name]
    seed = random.randrange(2**32)
    protocol = DesignProtocol(design)
    result = search(protocol, design.config(byzantine={4}), budget=Budget(EXAMPLES), seed=seed,
                    save_dir=tmp_path)
    assert result.found, f"{name}: nothing found with seed {seed}"
    found = result.counterexample
    assert found is not None and found.path is not None and found.path.exists()
    if expected is not None:
        assert found.property.startswith(expected), (found.property, seed)
    outcome = replay_counterexample(found.path)
    assert outcome.confirmed, outcome.summary()
    # the first failing run was saved before shrinking, and replays too
    (first,) = tmp_path.glob("counterexample-*-first.json")
    assert replay_counterexample(first).confirmed


def test_shrunk_counterexample_is_minimal_for_a_silent_byzantine_server(tmp_path: Path) -> None:
    design = c_with(t=4)
    # FINE and COARSE shrink to the minimum on every seed; LAG stops at a 15-step local
    # minimum on about 1 seed in 4 (its invoke-and-exchange rule), hence the tactics here
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(200),
                    seed=random.randrange(2**32), tactics=(Tactic.FINE, Tactic.COARSE))
    assert result.counterexample is not None
    kinds = [type(s.action).__name__ for s in result.counterexample.trace.steps]
    assert kinds == ["Invoke", "Drain"], kinds  # the hand-written A2 schedule: 2 steps


@pytest.mark.slow
@pytest.mark.parametrize("name", ["C t=2", "C t=3", "J"])
def test_no_false_alarm_on_the_valid_families(name: str) -> None:
    design = {"C t=2": family_c(4, 1, 2), "C t=3": family_c(4, 1, 3), "J": family_j(4, 1)}[name]
    seed = random.randrange(2**32)
    result = search(DesignProtocol(design), design.config(byzantine={4}),
                    budget=Budget(EXAMPLES), seed=seed)
    assert not result.found, (seed, result.counterexample)
    assert result.examples >= EXAMPLES * 0.9


def _saved(tmp_path: Path) -> Path:
    return _saved_for(c_with(t=4), tmp_path)


def _saved_for(design: Design, tmp_path: Path) -> Path:
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(100),
                    seed=1, save_dir=tmp_path)
    assert result.counterexample is not None and result.counterexample.path is not None
    return result.counterexample.path


def test_replay_rejects_corrupt_and_foreign_files(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text(path.read_text()[:100])
    with pytest.raises(TraceFormatError, match="not readable JSON"):
        replay_counterexample(broken)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(TraceFormatError, match="not a tssbqs-pbt counterexample"):
        replay_counterexample(foreign)
    with pytest.raises(TraceFormatError, match="does not exist"):
        replay_counterexample(tmp_path / "missing.json")


def test_replay_reports_a_protocol_that_no_longer_violates(tmp_path: Path) -> None:
    design = c_with(delegates="ONE")
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(300),
                    seed=2, save_dir=tmp_path)
    assert result.counterexample is not None and result.counterexample.path is not None
    data = json.loads(result.counterexample.path.read_text())
    # the "fixed" protocol: clients now contact f+1 delegates (same keys, same schedule)
    data["header"]["protocol"] = data["header"]["protocol"].replace(
        "DELEGATES=ONE", "DELEGATES=F_PLUS_ONE"
    )
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(data))
    with pytest.raises(ReplayError, match="diverged"):
        replay_counterexample(fixed)


def test_a_counterexample_moves_to_a_design_that_behaves_alike(tmp_path: Path) -> None:
    """One-phase reads never consult READ_GUARD: the file re-runs against the other design
    step by step and shows the same violation; a design that answers differently is refused."""
    design = c_with(t=4, read_shape="ONE_PHASE", read_guard="NONE")
    path = _saved_for(design, tmp_path)
    alike = attrs.evolve(design, options=design.options.with_(read_guard="LOCAL"))
    assert alike.representative() == design
    moved = transplant_counterexample(path, DesignProtocol(alike))
    original = replay_counterexample(path)
    assert moved.property == original.expected["property"]
    assert moved.trace.header.protocol == DesignProtocol(alike).name
    assert len(moved.trace.steps) == original.expected["steps"]
    other = attrs.evolve(design, options=design.options.with_(delegates="ONE"))
    with pytest.raises(ReplayError):
        transplant_counterexample(path, DesignProtocol(other))
    with pytest.raises(TraceFormatError, match="does not exist"):
        transplant_counterexample(tmp_path / "missing.json", DesignProtocol(alike))


def test_n7_f2_threshold_at_most_f_is_found_and_family_c_passes_a_bounded_budget() -> None:
    seed = random.randrange(2**32)
    weak = Design(7, 2, 5, 2, FAMILY_C_OPTIONS)
    found = search(DesignProtocol(weak), weak.config(byzantine={6, 7}), budget=Budget(50),
                   seed=seed)
    assert found.counterexample is not None, seed
    assert found.counterexample.property.startswith("P3"), found.counterexample
    valid = family_c(7, 2, 3)
    result = search(DesignProtocol(valid), valid.config(byzantine={6, 7}),
                    budget=Budget(min(EXAMPLES, 100)), seed=seed)
    assert not result.found, (seed, result.counterexample)


# Found by the LAG tactic (a lagging correct server, a synthesised signing request, B handing
# the client the reply it could sign; for UNSIGNED, a made-up unsigned datum above every
# timestamp stored, for an old request; for SIGN_GUARD=NONE, a datum B had signed at a high
# timestamp and kept, released after a newer write; for ACK_MODE=NONE, B as a delegate keeping
# its stores; for ACK_MODE=PIGGYBACK, B telling the datum to one correct server, which the
# network then delays): pinned on fixed seeds, bounded budget (re-pinned when the machine's
# draws change: of seeds 1-20 at 200 examples, the LAG machine of session 13 found READ_GUARD=LOCAL
# on 4, UNSIGNED on 11, SIGN_GUARD=NONE on 18, ACK_MODE=NONE on 10, PIGGYBACK on 5; with "stale
# data first" (session 14) UNSIGNED on 14, ACK_MODE=NONE on 10, PIGGYBACK on 2, and the pins of
# READ_GUARD=LOCAL and SIGN_GUARD=NONE still find it; session 16, stale data counting only what
# correct processes delivered, else the oldest first: READ_GUARD=LOCAL on 8, UNSIGNED on 12,
# SIGN_GUARD=NONE on 14, ACK_MODE=NONE on 10, PIGGYBACK on 2; then, while an operation runs,
# "stale data first" draws the kind among those carrying data: READ_GUARD=LOCAL on 14,
# UNSIGNED on 15, SIGN_GUARD=NONE on 13, ACK_MODE=NONE on 7, PIGGYBACK on 5; session 17, the
# probe after B kept something and the lag moving first to where the new request went:
# READ_GUARD=LOCAL on 15, UNSIGNED on 13, SIGN_GUARD=NONE on 14, ACK_MODE=NONE on 16,
# PIGGYBACK on 11; session 18, one data field in four among what B made up: READ_GUARD=LOCAL
# on 15, UNSIGNED on 18, SIGN_GUARD=NONE on 16, ACK_MODE=NONE on 18, PIGGYBACK on 12).
LAG_FINDABLE = {
    "READ_GUARD=LOCAL t=2": (c_with(read_guard="LOCAL"), (2, 3, 4)),
    "STORE_FORM=UNSIGNED": (c_with(store_form="UNSIGNED"), (1, 2, 4)),
    "SIGN_GUARD=NONE": (c_with(sign_guard="NONE"), (1, 4, 6)),
    "ACK_MODE=NONE": (c_with(ack_mode="NONE"), (1, 3, 4)),
    "ACK_MODE=PIGGYBACK t=2": (c_with(ack_mode="PIGGYBACK"), (3, 4, 5)),
}


@pytest.mark.parametrize(("name", "seed"), [(name, seed) for name, (_, seeds)
                                            in sorted(LAG_FINDABLE.items()) for seed in seeds])
def test_lag_tactic_finds_pinned_attacks(name: str, seed: int) -> None:
    design = LAG_FINDABLE[name][0]
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(200),
                    seed=seed, tactics=(Tactic.LAG,), shrink=False)
    assert result.counterexample is not None, (name, seed)
    assert result.counterexample.property.startswith("P1"), result.counterexample.property
    assert result.counterexample.tactic is Tactic.LAG


@pytest.mark.parametrize("name", ["C t=2", "C t=3", "J"])
def test_lag_tactic_raises_no_false_alarm_on_the_valid_families(name: str) -> None:
    design = {"C t=2": family_c(4, 1, 2), "C t=3": family_c(4, 1, 3), "J": family_j(4, 1)}[name]
    for seed in (2, 4):
        result = search(DesignProtocol(design), design.config(byzantine={4}),
                        budget=Budget(100), seed=seed, tactics=(Tactic.LAG,))
        assert not result.found, (name, seed, result.counterexample)


def test_without_shrinking_the_first_failing_run_is_the_result_and_runs_once(
    tmp_path: Path,
) -> None:
    # Hypothesis runs a failing example a second time to report it; a search that does not
    # shrink stops at the first failure instead (the sweep's reuse pass: half its runs)
    design = c_with(t=4)
    protocol = DesignProtocol(design)
    config = design.config(byzantine={4})
    quick = search(protocol, config, budget=Budget(50), seed=3, tactics=(Tactic.FINE,),
                   shrink=False, save_dir=tmp_path)
    assert quick.found and quick.counterexample is not None
    assert quick.counterexample.path is not None
    assert replay_counterexample(quick.counterexample.path).confirmed
    shrunk = search(protocol, config, budget=Budget(50), seed=3, tactics=(Tactic.FINE,))
    assert shrunk.first_failure_s is not None
    # the same first failure: every run before it, and it, counted once each
    assert quick.examples <= shrunk.examples


def test_a_search_without_shrinking_runs_its_failing_example_once() -> None:
    # t=1: the first run fails before any step (B holds t shares); no second run reports it
    design = c_with(t=1)
    result = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(20),
                    seed=1, tactics=(Tactic.LAG,), shrink=False)
    assert result.counterexample is not None
    assert result.counterexample.property.startswith("P3")
    assert result.examples == 1 and result.kernel_steps == 0
