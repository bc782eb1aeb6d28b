"""The sweep's space, flags, families and results file, without running searches."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from tssbqs_pbt.protocols import family_c, family_j
from tssbqs_pbt.protocols.options import OPTION_TYPES, Design, DesignOptions, SignGuard

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.engine.search import Budget
from tssbqs_pbt.errors import InvalidArgument, TraceFormatError
from tssbqs_pbt.sweep.families import (
    compare_with_published,
    describe_family,
    group_families,
    published_family,
)
from tssbqs_pbt.sweep.library import Library, LibraryEntry
from tssbqs_pbt.sweep.space import (
    SweepSpec,
    distance,
    feature_distance,
    features,
    parse_pins,
    parse_sweep_budget,
)
from tssbqs_pbt.sweep.store import (
    ResultsLog,
    load_log,
    load_results,
    read_manifest,
    write_manifest,
)
from tssbqs_pbt.sweep.work import CombinationResult


def test_default_space_is_every_option_times_every_q_and_t() -> None:
    spec = SweepSpec()
    designs = spec.designs()
    per_options = 1
    for kind in OPTION_TYPES.values():
        per_options *= len(kind)
    assert per_options == 1728
    assert len(designs) == 1728 * 4 * 4 == len(set(designs))
    assert {(d.q, d.t) for d in designs} == {(q, t) for q in range(1, 5) for t in range(1, 5)}


def test_pins_restrict_the_space() -> None:
    spec = SweepSpec(qs=(3,), ts=(2, 3), pins=parse_pins(["SIGN_GUARD=local"]))
    designs = spec.designs()
    assert len(designs) == 1728 // 3 * 2
    assert all(d.options.sign_guard is SignGuard.LOCAL and d.q == 3 for d in designs)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"qs": (5,)}, "q=5"),
    ({"ts": (0,)}, "t=0"),
    ({"n": 4, "f": 5}, "f=5"),
])
def test_bad_parameters_are_named(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        SweepSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("words", "message"), [
    (["SIGN_GUARD"], "not OPTION=VALUE"),
    (["SIGN_GUARD=sometimes"], "SIGN_GUARD='sometimes' is not a value"),
    (["COLOUR=red"], "unknown option 'COLOUR'"),
    (["SIGN_GUARD=LOCAL", "SIGN_GUARD=NONE"], "twice"),
])
def test_bad_pins_are_named(words: list[str], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_pins(words)


def test_budget_names_and_numbers() -> None:
    assert parse_sweep_budget("quick") == ("quick", Budget(100))
    assert parse_sweep_budget("250") == ("250", Budget(250))
    with pytest.raises(InvalidArgument, match="unknown budget 'huge'"):
        parse_sweep_budget("huge")


def test_manifest_round_trip_and_corruption(tmp_path: Path) -> None:
    spec = SweepSpec(qs=(3,), ts=(2,), pins=parse_pins(["DELEGATES=ONE"]), seed=9,
                     shrink_runs=40)
    write_manifest(tmp_path, spec)
    assert read_manifest(tmp_path) == spec
    assert not spec.same_search(attrs.evolve(spec, shrink_runs=41))  # it decides verdicts
    plateau = attrs.evolve(spec, shrink_plateau=30)
    assert SweepSpec.from_json(plateau.to_json()) == plateau
    assert not spec.same_search(plateau)
    older = spec.to_json()
    del older["shrink_plateau"]  # a manifest written before the option: no plateau
    assert SweepSpec.from_json(older) == spec
    # a sweep written before lines named their phase cannot be continued deterministically
    data = json.loads((tmp_path / "sweep.json").read_text())
    data["version"] = 1
    (tmp_path / "sweep.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidArgument, match=r"older tssbqs-pbt .*start a new sweep"):
        read_manifest(tmp_path)
    (tmp_path / "sweep.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TraceFormatError, match="not a readable sweep manifest"):
        read_manifest(tmp_path)
    with pytest.raises(InvalidArgument, match=r"no sweep\.json"):
        read_manifest(tmp_path / "elsewhere")


def test_results_log_round_trip_skips_a_cut_line(tmp_path: Path) -> None:
    design = family_c(4, 1, 2)
    result = CombinationResult(3, design, "invalid", Budget(10), 5, examples=4, property="P2 "
                               "data availability", clause="completion", steps=2,
                               source="search", tactic="fine", choices=b"\x01\x02",
                               files={"replay": "cx/a.json"}, confirmed=True, phase=0)
    log = ResultsLog(tmp_path)
    log.append(result)
    provisional = CombinationResult(4, family_j(4, 1), "valid", Budget(5), 6, examples=5,
                                    phase=0)
    log.append(provisional)
    log.append(attrs.evolve(provisional, budget=Budget(10), examples=10, phase=2))
    log.close()
    with (tmp_path / "results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"key": "n=4 f=1 q=3 t=3", "verdict": "val')  # killed mid-write
    results, warnings = load_results(tmp_path)
    assert [r.verdict for r in results] == ["invalid", "valid"]
    assert results[0] == result and results[1].budget == Budget(10)  # the later line counts
    assert len(warnings) == 1 and "runs again" in warnings[0]
    lines, _ = load_log(tmp_path)  # every line, with the phase that wrote it (for --resume)
    assert [(r.index, r.phase) for r in lines] == [(3, 0), (4, 0), (4, 2)]
    # a resumed sweep appends after the cut line, not onto it
    log = ResultsLog(tmp_path)
    log.append(attrs.evolve(result, index=5, phase=4))
    log.close()
    lines, warnings = load_log(tmp_path)
    assert [(r.index, r.phase) for r in lines] == [(3, 0), (4, 0), (4, 2), (5, 4)]
    assert len(warnings) == 1
    line = json.loads((tmp_path / "results.jsonl").read_text().splitlines()[0])
    assert line["options"]["SIGN_GUARD"] == "EVIDENCE" and line["budget"]["examples"] == 10


def test_published_families_as_spec_describes_them() -> None:
    assert published_family(family_c(4, 1, 2)) == "C"
    assert published_family(family_c(4, 1, 3)) == "C"
    assert published_family(family_j(4, 1)) == "J"
    dedup = family_c(4, 1, 2)
    dedup = Design(4, 1, 3, 2, dedup.options.with_(request_dedup="stored"))
    assert published_family(dedup) == "C"  # C's description leaves REQUEST_DEDUP open
    assert published_family(Design(4, 1, 3, 1, family_c(4, 1, 2).options)) is None  # t <= f
    assert published_family(Design(4, 1, 2, 2, family_c(4, 1, 2).options)) is None  # q small
    assert published_family(Design(4, 1, 3, 2, family_j(4, 1).options)) is None  # J needs n-f


def test_grouping_finds_the_two_published_families() -> None:
    space = SweepSpec().designs()
    valid = [d for d in space if published_family(d)]
    families = group_families(valid, space)
    assert len(families) == 2
    axes = {k: frozenset(getattr(d.options, k) for d in space) for k in OPTION_TYPES}
    c, j = (describe_family(f, n=4, f=1, axes=axes) for f in families)
    assert "t in [f+1, n−f] = [2, 3]" in c and "any REQUEST_DEDUP" in c
    assert "t = n−f = 3" in j and "SIGN_GUARD=LOCAL" in j
    summary = compare_with_published(valid, space, 2, complete=True)
    assert summary.matches and "matches the published" in summary.summary()


def test_a_mixture_is_reported_not_hidden() -> None:
    space = SweepSpec().designs()
    extra = Design(4, 1, 3, 3, family_j(4, 1).options.with_(sign_guard="evidence"))
    valid = [d for d in space if published_family(d)] + [extra]
    families = group_families(valid, space)
    comparison = compare_with_published(valid, space, len(families), complete=True)
    assert not comparison.matches and comparison.others_valid == (extra,)
    assert "does NOT match" in comparison.summary()
    assert {d for f in families for d in f.members} == set(valid)


def test_grouping_finds_the_fewest_families_where_largest_first_does_not() -> None:
    """Nine (q, t) points of one option combination: taking the largest product first (what
    the grouping did) needs four families; the fewest is three, two of them overlapping, and
    every family is a maximal product inside the valid set."""
    space = [d for d in SweepSpec().designs() if d.options == DesignOptions()]
    points = {(1, 1), (1, 4), (2, 1), (2, 2), (3, 1), (3, 2), (3, 4), (4, 2), (4, 3)}
    valid = [d for d in space if (d.q, d.t) in points]
    families = group_families(valid, space)
    cubes = sorted((sorted(f.shared()["q"]), sorted(f.shared()["t"])) for f in families)
    assert cubes == [([1, 3], [1, 4]), ([2, 3], [1, 2]), ([4], [2, 3])]
    assert {d for f in families for d in f.members} == set(valid)
    for family in families:  # (maximal: no q or t can be added)
        qs, ts = family.shared()["q"], family.shared()["t"]
        for q in range(1, 5):
            assert q in qs or not all((q, t) in points for t in ts)
        for t in range(1, 5):
            assert t in ts or not all((q, t) in points for q in qs)


def test_grouping_merges_a_free_option() -> None:
    space = SweepSpec(qs=(3,), ts=(2,)).designs()
    base = DesignOptions()
    valid = [d for d in space if d.options.with_(read_guard="evidence") == base]
    (family,) = group_families(valid, space)
    assert len(family.members) == 3
    axes = {k: frozenset(getattr(d.options, k) for d in space) for k in OPTION_TYPES}
    assert "any READ_GUARD" in describe_family(family, n=4, f=1, axes=axes)


def test_the_library_answers_as_it_stood_at_an_earlier_tick() -> None:
    """The sweep offers task p the library of a fixed earlier point (its window), so what a
    task sees does not depend on which results have arrived since."""
    near, far = family_c(4, 1, 2), family_j(4, 1)
    library = Library()
    first = LibraryEntry(Tactic.FINE, b"\x01", far, "P2 data availability")
    library.add(first)
    library.tick()
    library.hit(b"\x01")
    library.tick()
    second = LibraryEntry(Tactic.LAG, b"\x03", near, "P2 data availability")
    assert library.add(second) and not library.add(second)  # one schedule is one entry
    library.tick()
    assert library.clock == 3
    assert library.candidates(near, 5, before=0) == []
    assert library.candidates(near, 5, before=1) == [first]
    assert library.candidates(near, 5, before=3) == [second, first]  # nearest origin first
    assert library.candidates(near, 5) == [second, first]
    assert (library.hits(b"\x01", before=1), library.hits(b"\x01")) == (0, 1)
    assert [e.choices for e in library.candidates(far, 1)] == [b"\x01"]
    assert distance(near, far) == feature_distance(features(near), features(far)) > 0
