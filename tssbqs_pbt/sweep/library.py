"""Counterexample reuse: schedules that broke one combination, tried first on its neighbours.

A schedule is kept as Hypothesis's own *choice sequence* of the rule machine that found it
(the bytes Hypothesis saves in its example database).  Replayed against a neighbouring
combination, the same choices drive the same rules against the other protocol: when that run
violates a property too, it is a genuine counterexample *of the neighbour*, recorded as its own
trace and confirmed by a deterministic replay.

:class:`LibraryDatabase` is the bridge: an :class:`~hypothesis.database.ExampleDatabase` that
offers the chosen candidates to Hypothesis's reuse phase, never deletes them (a schedule that
does not break *this* combination may break the next), records what Hypothesis saves, and
mirrors saves to a backing database (a directory, or Redis to share across machines).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import attrs
from hypothesis.database import ExampleDatabase

from tssbqs_pbt.engine.machine import Tactic
from tssbqs_pbt.protocols.options import Design
from tssbqs_pbt.sweep.space import feature_distance, features

__all__ = ["Library", "LibraryDatabase", "LibraryEntry"]

_SUFFIXES = (b".secondary", b".pareto")


@attrs.frozen
class LibraryEntry:
    """A shrunk schedule: the choices, the tactic whose machine reads them, where it came from."""

    tactic: Tactic
    choices: bytes
    origin: Design
    property: str


@attrs.define
class Library:
    """Known breaking schedules, ranked per combination: nearest origin first, then most used.

    The library keeps a clock (one tick per result it learns from) and stamps every entry and
    every hit with it, so :meth:`candidates` can answer as the library stood at an earlier
    tick: the sweep offers each task the library of a fixed earlier point, whatever order the
    workers' results arrived in.
    """

    entries: list[LibraryEntry] = attrs.field(factory=list)
    clock: int = 0
    _added: list[int] = attrs.field(factory=list, init=False)  # the tick of each entry
    _hits: dict[bytes, list[int]] = attrs.field(factory=dict, init=False)  # ticks of hits
    _known: set[tuple[Tactic, bytes]] = attrs.field(factory=set, init=False)
    _features: list[tuple[object, ...]] = attrs.field(factory=list, init=False)

    def __attrs_post_init__(self) -> None:
        entries, self.entries = self.entries, []
        for entry in entries:
            self.add(entry)

    def add(self, entry: LibraryEntry) -> bool:
        if (entry.tactic, entry.choices) in self._known:
            return False
        self._known.add((entry.tactic, entry.choices))
        self.entries.append(entry)
        self._added.append(self.clock)
        self._features.append(features(entry.origin))
        return True

    def hit(self, choices: bytes) -> None:
        self._hits.setdefault(choices, []).append(self.clock)

    def tick(self) -> None:
        """One result learned (whether or not it added or hit anything)."""
        self.clock += 1

    def hits(self, choices: bytes, before: int | None = None) -> int:
        ticks = self._hits.get(choices, [])
        return len(ticks) if before is None else bisect.bisect_left(ticks, before)

    def candidates(self, design: Design, limit: int, *,
                   before: int | None = None) -> list[LibraryEntry]:
        """The ``limit`` entries nearest ``design``, as the library stood before tick
        ``before`` (now, if None)."""
        mine = features(design)
        known = len(self.entries) if before is None else bisect.bisect_left(self._added, before)
        ranked = sorted(
            range(known),
            key=lambda i: (feature_distance(self._features[i], mine),
                           -self.hits(self.entries[i].choices, before), i),
        )
        return [self.entries[i] for i in ranked[:limit]]

    def __len__(self) -> int:
        return len(self.entries)


class LibraryDatabase(ExampleDatabase):
    """Offers ``candidates`` to Hypothesis's reuse phase; keeps what Hypothesis saves.

    Every primary key sees the same candidates (Hypothesis keys its database on the machine
    class, which differs per combination); deletions are ignored; saves are recorded in
    :attr:`saved` and mirrored to ``backing`` under ``backing_key``.
    """

    def __init__(self, candidates: Sequence[bytes] = (), *,
                 backing: ExampleDatabase | None = None, backing_key: bytes = b"") -> None:
        super().__init__()
        self.candidates = list(candidates)
        self.saved: list[bytes] = []
        self.backing = backing
        self.backing_key = backing_key

    @staticmethod
    def _primary(key: bytes) -> bool:
        return not key.endswith(_SUFFIXES)

    def save(self, key: bytes, value: bytes) -> None:
        if self._primary(key):
            self.saved.append(value)
            if self.backing is not None:
                self.backing.save(self.backing_key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return list(self.candidates) if self._primary(key) else []

    def delete(self, key: bytes, value: bytes) -> None:
        return None

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        return None

    def last_saved(self) -> bytes | None:
        """The last choice sequence Hypothesis saved: its final shrink of the failure."""
        return self.saved[-1] if self.saved else None
