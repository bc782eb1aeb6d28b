"""The design space a sweep covers: every option combination times every (q, t).

A :class:`SweepSpec` is what the user asked for (n, f, the q and t values, pinned options, the
budget, the seed); :meth:`SweepSpec.designs` enumerates the combinations in a fixed order.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tssbqs_pbt.engine.explore import Scope
from tssbqs_pbt.engine.search import BUDGETS, Budget
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.protocols.options import OPTION_TYPES, Design, DesignOptions, parse_option
from tssbqs_pbt.search import parse_budget
from tssbqs_pbt.validation import int_at_least

__all__ = ["SWEEP_SCOPE", "SWEEP_WALKS", "SweepSpec", "combination_key", "distance",
           "feature_distance", "features", "parse_pins", "parse_sweep_budget"]


def _values(kind: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not value:
            raise InvalidArgument(f"--{kind}: give at least one value")
        n = instance.n
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= n:
                raise InvalidArgument(f"{kind}={v!r} is outside 1..n={n}; choose values in 1..{n}")

    return check


def _pins(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for name, member in value.items():
        if name not in OPTION_TYPES or not isinstance(member, OPTION_TYPES[name]):
            raise InvalidArgument(f"pinned option {name}={member!r} is not a design option value")


def _int_tuple(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


#: the scope the sweep explores every survivor of its random stages in: one client (any of the
#: configuration's, so that a Byzantine delegate serves it in some schedules), two operations,
#: two interventions, any cut, and an operation may pause for the adversary's action once
#: the Byzantine servers answered up to three of its messages (B can then get a request signed
#: ahead of its write).  Family C t=2: 12,432 states, family J 10,704 (without pauses 7,658 and
#: 6,913; with C1 alone and no pauses 2,342), against 38,000-45,000 states in the explorer's
#: default of two clients and three interventions; bounded by a count of states only (never
#: by time), so that a certificate is the same on any machine and at any seed
SWEEP_SCOPE = Scope(clients=1, which_clients="any", interventions=2, pauses=3,
                    max_states=20_000)


#: deep random walks (:func:`tssbqs_pbt.engine.walks.deep_walks`, within its ``DEEP`` scope:
#: six operations by any three clients, eight chained adversary actions, no bound on
#: interventions) each survivor gets after its exploration: search beyond the scope, where
#: breadth first cannot go (64 walks of family C t=2: about 4 s of one core)
SWEEP_WALKS = 64


def _scope(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Scope):
        raise InvalidArgument(f"explore={value!r:.60} is not a tssbqs_pbt.explore.Scope (or None "
                              "for no exploration)")


def scope_to_json(scope: Scope | None) -> dict[str, Any] | None:
    return None if scope is None else attrs.asdict(scope)


def scope_from_json(data: Any) -> Scope | None:
    """The scope :func:`scope_to_json` wrote; a bad field raises TypeError naming it."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise TypeError(f"'explore' must be an object or null, not {type(data).__name__}")
    known = {a.name for a in attrs.fields(Scope)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TypeError(f"'explore' has an unknown field {unknown[0]!r:.40}")
    try:
        return Scope(**data)
    except InvalidArgument as exc:
        raise TypeError(f"'explore': {exc}") from None


@attrs.frozen
class SweepSpec:
    """Which combinations to search, and how hard."""

    n: int = attrs.field(default=4, validator=int_at_least(1))
    f: int = attrs.field(default=1, validator=int_at_least(0))
    qs: tuple[int, ...] = attrs.field(default=(), converter=_int_tuple)
    ts: tuple[int, ...] = attrs.field(default=(), converter=_int_tuple)
    pins: Mapping[str, enum.Enum] = attrs.field(factory=dict, validator=_pins)
    budget: Budget = attrs.field(factory=lambda: BUDGETS["standard"])
    budget_name: str = "standard"
    seed: int = 0
    #: shrinking of one counterexample stops after this many machine runs (~3 s at n=4 on
    #: this machine's cores; a count, not a time, so a seed gives the same sweep anywhere;
    #: most shrinks hit the bound, and 350 cost 1.5x the time of a slice for no fewer valid)
    shrink_runs: int = attrs.field(default=120, validator=int_at_least(1))
    #: ...and once this many runs in a row found no failing run with fewer steps (None: only
    #: ``shrink_runs`` bounds it)
    shrink_plateau: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(int_at_least(1)))
    #: task p of a pass is offered the library learned from the tasks before p - window (and
    #: the earlier passes): the verdicts depend on it, not on how many workers run the tasks;
    #: it bounds how many tasks can run at once
    window: int = attrs.field(default=32, validator=int_at_least(1))
    #: every combination still valid after the random stages is explored in this scope (its
    #: line then carries the certificate, or the shortest violation within the scope); None:
    #: no exploration (``--no-explore``)
    explore: Scope | None = attrs.field(default=SWEEP_SCOPE, validator=_scope)
    #: then this many deep random walks of each survivor, seeded by the combination's seed
    #: (0: none; ``--walks``); run in the explore stage, so not with ``--no-explore``
    walks: int = attrs.field(default=SWEEP_WALKS, validator=int_at_least(0))

    def __attrs_post_init__(self) -> None:
        if self.f > self.n:
            raise InvalidArgument(f"f={self.f} exceeds n={self.n}; use f <= n (e.g. n=3f+1)")
        if not self.qs:
            object.__setattr__(self, "qs", tuple(range(1, self.n + 1)))
        if not self.ts:
            object.__setattr__(self, "ts", tuple(range(1, self.n + 1)))
        _values("q")(self, None, self.qs)
        _values("t")(self, None, self.ts)
        object.__setattr__(self, "qs", tuple(sorted(set(self.qs))))
        object.__setattr__(self, "ts", tuple(sorted(set(self.ts))))

    def designs(self) -> list[Design]:
        """Every combination, options varying fastest, in a stable order."""
        axes = [
            [self.pins[name]] if name in self.pins else list(kind)
            for name, kind in OPTION_TYPES.items()
        ]
        out: list[Design] = []
        for q, t in itertools.product(self.qs, self.ts):
            for values in itertools.product(*axes):
                options = DesignOptions(**dict(zip(OPTION_TYPES, values, strict=True)))  # type: ignore[arg-type]
                out.append(Design(self.n, self.f, q, t, options))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n, "f": self.f, "qs": list(self.qs), "ts": list(self.ts),
            "pins": {k: v.name for k, v in sorted(self.pins.items())},
            "budget": {"name": self.budget_name, "examples": self.budget.examples,
                       "steps": self.budget.steps},
            "seed": self.seed,
            "shrink_runs": self.shrink_runs,
            "shrink_plateau": self.shrink_plateau,
            "window": self.window,
            "explore": scope_to_json(self.explore),
            "walks": self.walks,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SweepSpec:
        """The spec of :meth:`to_json`; a field of the wrong type or shape raises
        :class:`TypeError` or :class:`KeyError` naming it (the manifest reader reports it)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"'spec' must be an object, not {type(data).__name__}")
        budget = data["budget"]
        if not isinstance(budget, Mapping):
            raise TypeError(f"'budget' must be an object, not {type(budget).__name__}")
        pins = data["pins"]
        if not isinstance(pins, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in pins.items()):
            raise TypeError("'pins' must be an object of OPTION: VALUE strings")
        plateau = data.get("shrink_plateau")
        if not isinstance(budget.get("name"), str):
            raise TypeError("'budget.name' must be a string")
        return cls(
            n=_whole(data, "n"), f=_whole(data, "f"), qs=_wholes(data, "qs"),
            ts=_wholes(data, "ts"),
            pins={k.lower(): parse_option(k, v) for k, v in pins.items()},
            budget=Budget(_whole(budget, "examples"), _whole(budget, "steps")),
            budget_name=budget["name"], seed=_whole(data, "seed"),
            shrink_runs=_whole(data, "shrink_runs"), window=_whole(data, "window"),
            shrink_plateau=None if plateau is None else _whole(data, "shrink_plateau"),
            # (a sweep written before exploration existed is explored in the default scope)
            explore=scope_from_json(data.get("explore", scope_to_json(SWEEP_SCOPE))),
            # (and one written before the deep walks existed took none)
            walks=_whole(data, "walks") if "walks" in data else 0,
        )

    def same_search(self, other: SweepSpec, *, scope: bool = True) -> bool:
        """Everything but the seed agrees (a resumed sweep may not change what it searches);
        with ``scope=False`` the exploration scope and the walks may differ too (a resumed
        sweep may explore and walk its survivors anew: a verdict found so stands)."""
        mine, theirs = attrs.evolve(self, seed=0), attrs.evolve(other, seed=0)
        if not scope:
            mine = attrs.evolve(mine, explore=None, walks=0)
            theirs = attrs.evolve(theirs, explore=None, walks=0)
        return mine == theirs


def _whole(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{key!r} must be a whole number, not {type(value).__name__} {value!r:.40}")
    return value


def _wholes(data: Mapping[str, Any], key: str) -> tuple[int, ...]:
    values = data[key]
    if not isinstance(values, list) or not values or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{key!r} must be a non-empty list of whole numbers, not {values!r:.40}")
    return tuple(values)


def combination_key(design: Design) -> str:
    """The stable name of a combination: ``n=4 f=1 q=3 t=2 STORE_FORM=SIGNED ...``."""
    return design.describe()


def combination_seed(sweep_seed: int, key: str) -> int:
    digest = hashlib.sha256(f"{sweep_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def features(design: Design) -> tuple[object, ...]:
    """The parameters and options of ``design`` as one tuple (what :func:`distance` compares)."""
    return (design.q, design.t, design.n, design.f,
            *(getattr(design.options, k) for k in OPTION_TYPES))


def distance(a: Design, b: Design) -> int:
    """How many parameters and options differ (neighbours first when reusing a schedule)."""
    return feature_distance(features(a), features(b))


def feature_distance(a: tuple[object, ...], b: tuple[object, ...]) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


def parse_pins(words: list[str] | tuple[str, ...]) -> dict[str, enum.Enum]:
    """``["SIGN_GUARD=LOCAL", "t=3"]`` -> pins; q/t go to the caller (returned under 'q'/'t')."""
    pins: dict[str, enum.Enum] = {}
    given: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep or not value:
            raise InvalidArgument(
                f"--only {word!r} is not OPTION=VALUE (e.g. --only SIGN_GUARD=LOCAL)")
        key = name.strip().lower().replace("-", "_")
        member = parse_option(name.strip(), value)
        if key in pins:  # (even with the same value: as a design string's keys, each once)
            raise InvalidArgument(
                f"{key.upper()} is given twice (--only {given[key]} and --only {word}); pin "
                "each option once")
        pins[key], given[key] = member, word
    return pins


def parse_sweep_budget(text: str) -> tuple[str, Budget]:
    """``quick | standard | thorough`` or a number of examples per combination."""
    return parse_budget(text)
