"""Group the valid combinations into families, and compare with the two published
families, C (COCA/CODEX) and J (Jing et al.; docs/families.md).

A *family* here is a sub-product of the design space (for every parameter and option, a set
of values) lying wholly inside the valid set.  :func:`group_families` covers the valid set
with the fewest such families, each maximal (the prime implicants of the valid set over the
options, q and t, and a smallest cover of them, as in two-level logic minimisation);
:func:`describe_family` names what its members share.  Membership in the
published families C and J (:func:`published_family`) is checked per combination, so the
summary reports what was found, never forces it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

import attrs

from tssbqs_pbt.protocols.api import canonical_quorum
from tssbqs_pbt.protocols.families import FAMILY_C_OPTIONS, FAMILY_J_OPTIONS
from tssbqs_pbt.protocols.options import OPTION_TYPES, Design, RequestDedup

__all__ = ["Comparison", "Family", "compare_with_published", "describe_family",
           "group_families", "published_family"]

DIMS: tuple[str, ...] = ("q", "t", *OPTION_TYPES)


def _point(design: Design) -> tuple[object, ...]:
    return (design.q, design.t, *(getattr(design.options, k) for k in OPTION_TYPES))


@attrs.frozen
class Family:
    """A product of value sets, one per dimension (q, t, then the options)."""

    values: tuple[frozenset[object], ...]
    members: tuple[Design, ...]

    def shared(self) -> dict[str, frozenset[object]]:
        return dict(zip(DIMS, self.values, strict=True))


#: the prime implicants enumerated at most, and the branches of the exact cover tried at
#: most, before :func:`group_families` settles for its greedy cover (a valid set of a few
#: hundred combinations stays far below both)
_MAX_IMPLICANTS = 50_000
_MAX_BRANCHES = 200_000


def group_families(valid: Sequence[Design], space: Sequence[Design]) -> list[Family]:
    """Cover ``valid`` with the fewest families: sub-products of ``space``'s axes lying inside
    ``valid``.  Every maximal one (a prime implicant: no value can be added on any axis) is
    enumerated, and a smallest set of them covering ``valid`` is found by branch and bound
    (the least-covered combination first); families may overlap.  Past ``_MAX_IMPLICANTS``
    or ``_MAX_BRANCHES`` it falls back to a greedy cover by maximal products (largest first)."""
    if not valid:
        return []
    axes = [sorted({_point(d)[i] for d in space}, key=_order) for i in range(len(DIMS))]
    inside = {_point(d): d for d in valid}
    primes = _prime_implicants(inside, axes)
    chosen = _smallest_cover(primes, set(inside)) if primes is not None else None
    if chosen is None:
        chosen = _greedy_cover(inside, axes)
    families = []
    for cube in chosen:
        members = sorted((inside[p] for p in _points(cube)), key=lambda d: _point_key(d))
        families.append(Family(tuple(frozenset(v) for v in cube), tuple(members)))
    families.sort(key=lambda fam: (-len(fam.members), _point_key(fam.members[0])))
    return families


Cube = tuple[frozenset[object], ...]


def _prime_implicants(inside: dict[tuple[object, ...], Design], axes: list[list[object]]
                      ) -> list[Cube] | None:
    """Every maximal sub-product inside ``inside``, largest first (None past the bound)."""
    start: set[Cube] = {tuple(frozenset({v}) for v in p) for p in inside}
    seen, todo, primes = set(start), list(start), []
    while todo:
        cube = todo.pop()
        grown = False
        for i, axis in enumerate(axes):
            for value in axis:
                if value in cube[i]:
                    continue
                side = [s if j != i else frozenset({value}) for j, s in enumerate(cube)]
                if not all(p in inside for p in _points(side)):
                    continue
                grown = True
                bigger = tuple(s | {value} if j == i else s for j, s in enumerate(cube))
                if bigger not in seen:
                    seen.add(bigger)
                    todo.append(bigger)
                    if len(seen) > _MAX_IMPLICANTS:
                        return None
        if not grown:
            primes.append(cube)
    return sorted(primes, key=lambda c: (-_size(c), _cube_key(c)))


def _smallest_cover(primes: list[Cube], points: set[tuple[object, ...]]) -> list[Cube] | None:
    """A smallest set of ``primes`` covering ``points`` (None past ``_MAX_BRANCHES``)."""
    covers = [frozenset(_points(c)) for c in primes]
    by_point: dict[tuple[object, ...], list[int]] = {p: [] for p in points}
    for index, covered in enumerate(covers):
        for p in covered:
            by_point[p].append(index)
    best: list[list[int]] = [list(range(len(primes)))]  # (an upper bound: all of them)
    branches = [0]

    def search(uncovered: frozenset[tuple[object, ...]], taken: list[int]) -> bool:
        branches[0] += 1
        if branches[0] > _MAX_BRANCHES:
            return False
        if not uncovered:
            if len(taken) < len(best[0]):
                best[0] = list(taken)
            return True
        largest = max(len(covers[i] & uncovered) for p in uncovered for i in by_point[p])
        if len(taken) + -(-len(uncovered) // largest) >= len(best[0]):
            return True  # (cannot beat the best cover found)
        point = min(uncovered, key=lambda p: (len(by_point[p]), _point_order(p)))
        return all(search(uncovered - covers[index], [*taken, index])
                   for index in by_point[point])

    if not search(frozenset(points), []):
        return None
    return [primes[i] for i in sorted(best[0])]


def _greedy_cover(inside: dict[tuple[object, ...], Design], axes: list[list[object]]
                  ) -> list[Cube]:
    uncovered = set(inside)
    chosen: list[Cube] = []
    while uncovered:
        best: list[set[object]] | None = None
        best_new = -1
        for seed in sorted(uncovered, key=_point_order):
            cube = _grow(seed, axes, inside)
            new = sum(1 for p in _points(cube) if p in uncovered)
            if new > best_new:
                best, best_new = cube, new
        assert best is not None
        chosen.append(tuple(frozenset(s) for s in best))
        uncovered -= set(_points(best))
    return chosen


def _size(cube: Cube) -> int:
    size = 1
    for values in cube:
        size *= len(values)
    return size


def _point_order(point: tuple[object, ...]) -> tuple[tuple[int, str], ...]:
    return tuple(_order(v) for v in point)


def _cube_key(cube: Cube) -> tuple[tuple[tuple[int, str], ...], ...]:
    return tuple(tuple(sorted(_order(v) for v in values)) for values in cube)


def _order(value: object) -> tuple[int, str]:
    if isinstance(value, enum.Enum):
        return (list(type(value)).index(value), value.name)
    assert isinstance(value, int)
    return (value, "")


def _point_key(design: Design) -> tuple[tuple[int, str], ...]:
    return tuple(_order(v) for v in _point(design))


def _points(cube: Sequence[Iterable[object]]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = [()]
    for values in cube:
        out = [(*p, v) for p in out for v in values]
    return out


def _grow(seed: tuple[object, ...], axes: list[list[object]],
          inside: dict[tuple[object, ...], Design]) -> list[set[object]]:
    cube: list[set[object]] = [{v} for v in seed]
    changed = True
    while changed:
        changed = False
        for i, axis in enumerate(axes):
            for value in axis:
                if value in cube[i]:
                    continue
                trial = [s if j != i else {value} for j, s in enumerate(cube)]
                if all(p in inside for p in _points(trial)):
                    cube[i].add(value)
                    changed = True
    return cube


def describe_family(family: Family, *, n: int, f: int,
                    axes: dict[str, frozenset[object]]) -> str:
    """``SIGN_GUARD=EVIDENCE ..., any REQUEST_DEDUP, t in [f+1, n-f] = [2, 3], q = 3``."""
    parts: list[str] = []
    free: list[str] = []
    for name, values in family.shared().items():
        if name == "t":
            parts.insert(0, _describe_t(sorted(int(v) for v in values), n, f))  # type: ignore[call-overload]
        elif name == "q":
            qs = sorted(int(v) for v in values)  # type: ignore[call-overload]
            parts.insert(1, f"q = {qs[0]}" if len(qs) == 1 else f"q in {{{_join(qs)}}}")
        elif values == axes[name] and len(values) > 1:
            free.append(name.upper())
        elif len(values) == 1:
            (value,) = values
            parts.append(f"{name.upper()}={value.name}")  # type: ignore[attr-defined]
        else:
            names = sorted(v.name for v in values)  # type: ignore[attr-defined]
            parts.append(f"{name.upper()} in {{{', '.join(names)}}}")
    if free:
        parts.append("any " + ", ".join(free))
    return ", ".join(parts)


def _join(values: Sequence[int]) -> str:
    return ", ".join(str(v) for v in values)


def _describe_t(ts: list[int], n: int, f: int) -> str:
    names = {f + 1: "f+1", n - f: "n−f", f: "f", n: "n"}
    if len(ts) == 1:
        t = ts[0]
        return f"t = {names[t]} = {t}" if t in names else f"t = {t}"
    if ts == list(range(ts[0], ts[-1] + 1)):
        lo, hi = ts[0], ts[-1]
        if lo in names and hi in names:
            return f"t in [{names[lo]}, {names[hi]}] = [{lo}, {hi}]"
        return f"t in [{lo}, {hi}]"
    return f"t in {{{_join(ts)}}}"


# -- the published families C and J -------------------------------------------------------

_C = FAMILY_C_OPTIONS  # REQUEST_DEDUP=OFF; C's description leaves it open (see below)
_J = FAMILY_J_OPTIONS


def published_family(design: Design) -> str | None:
    """``"C"``, ``"J"`` or ``None``: membership in the published families as described
    in docs/families.md.

    C: EVIDENCE guards everywhere, SIGNED store, client basis, f+1 delegates, two-phase reads,
    any t in [f+1, n-f] (REQUEST_DEDUP is not part of C's description: either value);
    J: t = n-f, quorum-max timestamps, LOCAL guards, PIGGYBACK acknowledgements, write-back
    reads, REQUEST_DEDUP=STORED.  Both at the canonical quorum size.
    """
    n, f, o = design.n, design.f, design.options
    if design.q != canonical_quorum(n, f):
        return None
    if (f + 1 <= design.t <= n - f
            and attrs.evolve(o, request_dedup=RequestDedup.OFF) == _C):
        return "C"
    if design.t == n - f and o == _J:
        return "J"
    return None


@attrs.frozen
class Comparison:
    """What the sweep found next to the published two-family result."""

    c_members: tuple[Design, ...]  # every combination of the swept space that is in C
    j_members: tuple[Design, ...]
    c_valid: int
    j_valid: int
    others_valid: tuple[Design, ...]  # valid combinations outside C and J
    families: int
    complete: bool  # every combination of the space has a verdict

    @property
    def matches(self) -> bool:
        return (self.complete and self.c_valid == len(self.c_members) > 0
                and self.j_valid == len(self.j_members) > 0 and not self.others_valid)

    def summary(self) -> str:
        found = (f"{self.families} famil{'y' if self.families == 1 else 'ies'} found; "
                 f"family C: {self.c_valid} of {len(self.c_members)} members valid, "
                 f"family J: {self.j_valid} of {len(self.j_members)} valid, "
                 f"{len(self.others_valid)} other valid combination"
                 f"{'s' * (len(self.others_valid) != 1)}")
        if not self.complete:
            return found + " — the sweep is not complete: no comparison yet."
        if self.matches:
            return found + " — matches the published two-family result (C and J only)."
        return found + " — does NOT match the published two-family result (see the lists)."


def compare_with_published(valid: Sequence[Design], space: Sequence[Design],
                           families: int, *, complete: bool) -> Comparison:
    valid_set = set(valid)
    c = tuple(d for d in space if published_family(d) == "C")
    j = tuple(d for d in space if published_family(d) == "J")
    others = tuple(d for d in valid if published_family(d) is None)
    return Comparison(c, j, sum(d in valid_set for d in c), sum(d in valid_set for d in j),
                      others, families, complete)
