"""The explorer's breadth-first search: compact visited states, a frontier of parent pointers,
levels expanded in chunks on every local core.

- **Visited states** are 64-bit fingerprints (a hash of :func:`explore_moves.fingerprint`'s
  canonical tuple), each with the budgets it was reached with: about a hundred bytes a state
  instead of the whole tuple (as TLC keeps them).  Two distinct states share a fingerprint
  with odds of about n²/2⁶⁵ for n states (under 10⁻⁷ at a million).
- **The frontier** keeps no machines: each state of a level is (its parent in the level
  before, the move from there), and a state is re-derived by replaying its schedule from the
  start (handlers are pure and remembered, :mod:`tssbqs_pbt.kernel.memo`, so a replay is
  cheap beside the children it then expands).
- **Chunks.**  A level is cut into chunks of parents; :func:`expand` runs one against the
  visited set as it was when the chunk started and returns what it found, in order.  The
  caller merges chunks in order (:class:`Visited.merge`), so with one worker or many the
  same states are kept, the same counted and the same first violation found: a worker may
  only do work the merge then throws away (a state another chunk reached first).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from array import array
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tssbqs_pbt.engine.certificate import Certificate, ExploreResult, Moves
from tssbqs_pbt.engine.explore_moves import Move, candidates, fingerprint, play
from tssbqs_pbt.engine.machine import FaultFound, PropertyViolated

__all__ = ["BreadthFirst", "Child", "Levels", "Progress", "Visited", "expand", "replay"]

#: one move tried: (parent index in its level, the move (as sorted items), the child's
#: fingerprint, adversary actions used, interventions spent, whether its run was ended here
#: (the first time the chunk saw it), whether it is paused, the violation found ("" if
#: none: with ``ended`` False, in the move itself))
Child = tuple[int, tuple[tuple[str, Any], ...], int, int, int, bool, bool, str]


#: told the counts so far after each chunk of a level
Progress = Callable[[Mapping[str, Any]], None]


#: what a 64-bit fingerprint costs as a Python int at most (28-36 bytes, by its magnitude)
_KEY_BYTES = sys.getsizeof(-(1 << 63))


def _budgets(acted: int, spent: int) -> int:
    return acted << 20 | spent


class Visited:
    """Fingerprints of the states reached, each with the (actions, interventions) budgets it
    was reached with that no other dominates."""

    def __init__(self) -> None:
        self.budgets: dict[int, int | tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self.budgets)

    def dominated(self, key: int, acted: int, spent: int) -> bool | None:
        """None if ``key`` was never reached; else whether it was reached with no more
        actions and interventions used (all it can do from here was explored from there)."""
        found = self.budgets.get(key)
        if found is None:
            return None
        for packed in (found,) if isinstance(found, int) else found:
            if packed >> 20 <= acted and packed & 0xFFFFF <= spent:
                return True
        return False

    def add(self, key: int, acted: int, spent: int) -> None:
        found = self.budgets.get(key)
        packed = _budgets(acted, spent)
        if found is None:
            self.budgets[key] = packed
        else:
            self.budgets[key] = (*((found,) if isinstance(found, int) else found), packed)


class Levels:
    """The schedules of every level as parent pointers: level ``d``'s state ``i`` is the
    move ``moves[d][i]`` from state ``parents[d][i]`` of level ``d - 1``."""

    def __init__(self) -> None:
        self.table: list[Move] = []
        self._ids: dict[tuple[tuple[str, Any], ...], int] = {}
        self.parents: list[array[int]] = [array("q", [-1])]
        self.moves: list[array[int]] = [array("q", [-1])]

    def intern(self, items: tuple[tuple[str, Any], ...]) -> int:
        found = self._ids.get(items)
        if found is None:
            found = self._ids[items] = len(self.table)
            self.table.append(dict(items))
        return found

    def schedule(self, level: int, index: int) -> tuple[Move, ...]:
        out: list[Move] = []
        while level > 0:
            out.append(self.table[self.moves[level][index]])
            index = self.parents[level][index]
            level -= 1
        return tuple(reversed(out))


def replay(machine_class: Any, schedule: tuple[Move, ...], moves: Any = Moves) -> Any:
    """A fresh machine with ``schedule``'s moves played (P1 and P3 checked after each)."""
    machine = machine_class()
    machine.start(warmup=0, data=moves({}))
    machine.described = []
    machine.safe()
    for move in schedule:
        play(machine, move, moves)
    return machine


def expand(machine_class: Any, scope: Any, moves: Any,
           parents: list[tuple[int, tuple[Move, ...], int, int]], visited: Visited, *,
           deadline: float | None = None, fresh_limit: int | None = None,
           digest: Callable[[Any], int] = hash) -> tuple[list[Child], str]:
    """Expand ``parents`` (index, schedule, actions used, interventions spent) in order:
    every move ``scope`` allows from each, in order, with the child's fingerprint; a child
    whose fingerprint is new (not in ``visited``, not earlier in this chunk) has its run
    ended as a search ends it.  Stops at the first violation, once ``fresh_limit`` new
    states were found (``"max_states"``) or at ``deadline`` (``"seconds"``); returns the
    children and why it stopped short ("" if it did not).  ``digest`` makes a fingerprint of
    the canonical tuple: ``hash`` in this process and forks of it, :func:`~tssbqs_pbt.kernel.
    fingerprint.stable_hash` where processes that are not forks of one another share a
    visited set (a Dask cluster)."""
    local: set[int] = set()
    fresh = 0
    out: list[Child] = []
    budget = scope.interventions
    prefixes = _Prefixes(machine_class, moves)
    for index, schedule, used, spent in parents:
        parent = prefixes.replay(schedule)
        left = None if budget is None else budget - spent
        for move, cost in candidates(parent, scope, scope.actions - used, left):
            if fresh_limit is not None and fresh >= fresh_limit:
                return out, "max_states"
            if deadline is not None and time.perf_counter() > deadline:
                return out, "seconds"
            acted, total = used + (move["rule"] != "invoke"), spent + cost
            items = tuple(sorted(move.items()))
            machine = parent.fork()
            try:
                play(machine, move, moves)
            except (PropertyViolated, FaultFound) as failure:
                out.append((index, items, 0, acted, total, False, False, _name(failure)))
                return out, ""
            key = digest(fingerprint(machine))
            paused = machine.paused
            new = key not in local and key not in visited.budgets
            fresh += new  # (a state the merge will count; one reached before it will not)
            ended = new and not paused
            local.add(key)
            verdict = _ended(machine) if ended else ""
            out.append((index, items, key, acted, total, ended, paused, verdict))
            if verdict:
                return out, ""
    return out, ""


class _Prefixes:
    """Replays of a chunk's parents that share the start of the one before (siblings do):
    the machine after each move of the last schedule is kept, and the next schedule replays
    only what differs."""

    def __init__(self, machine_class: Any, moves: Any) -> None:
        self.machine_class, self.moves = machine_class, moves
        self.schedule: tuple[Move, ...] = ()
        self.machines: list[Any] = []  # (the machine after 0, 1, ... moves of schedule)

    def replay(self, schedule: tuple[Move, ...]) -> Any:
        if not self.machines:
            self.machines = [replay(self.machine_class, (), self.moves)]
        same = 0
        for mine, theirs in zip(self.schedule, schedule, strict=False):
            if mine != theirs:
                break
            same += 1
        del self.machines[same + 1:]
        machine = self.machines[same]
        for move in schedule[same:]:
            machine = machine.fork()
            play(machine, move, self.moves)
            self.machines.append(machine)
        self.schedule = schedule
        return machine.fork()


def _ended(machine: Any) -> str:
    """The run ended here (a read while cut, a fair drain, a final read): "" if it holds."""
    try:
        machine.teardown()
    except (PropertyViolated, FaultFound) as failure:
        return _name(failure)
    return ""


def _name(failure: AssertionError) -> str:
    return type(failure).__name__ + ": " + str(failure).split("\n", 1)[0]



#: one state of the frontier: (index in its level, actions used, interventions spent, whether
#: its schedule pauses somewhere)
Entry = tuple[int, int, int, bool]

#: parents in a chunk at most (progress is told after each chunk)
_CHUNK = 16

Job = tuple[list[tuple[int, tuple[Move, ...], int, int]], float | None, int]


def forked_chunks(machine_class: Any, scope: Any, visited: Visited, jobs: list[Job],
                  workers: int) -> Iterator[tuple[list[Child], str]]:
    """Each job's children, in job order, from ``workers`` forked processes: worker w expands
    jobs w, w + workers, ... against ``visited`` as it was at the fork and sends each result
    down its pipe as it is done; they are read back in job order.  (Plain processes and pipes,
    not a Pool: a Pool's threads in this process could hold a lock at the next fork.)"""
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for w in range(workers):
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_work, daemon=True, args=(
            machine_class, scope, visited, jobs[w::workers], writer))
        process.start()
        writer.close()
        pipes.append(reader)
        processes.append(process)
    try:
        for at in range(len(jobs)):
            try:
                result = pipes[at % workers].recv()
            except EOFError:
                process = processes[at % workers]
                process.join()
                raise RuntimeError(f"explorer worker {at % workers + 1} ended (exit status "
                                   f"{process.exitcode}) before its chunk's result") from None
            yield result
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for reader in pipes:
            reader.close()


def _work(machine_class: Any, scope: Any, visited: Visited, jobs: list[Job],
          writer: Any) -> None:
    try:
        for parents, deadline, limit in jobs:
            writer.send(expand(machine_class, scope, Moves, parents, visited,
                               deadline=deadline, fresh_limit=limit))
        writer.close()
    finally:
        os._exit(0)  # (nothing of the parent's to flush or finalise here)


class BreadthFirst:
    """One exploration: levels of schedules, one move longer each, merged in order."""

    def __init__(self, machine_class: Any, scope: Any, reductions: tuple[str, ...],
                 workers: int, progress: Progress | None, cluster: Any = None) -> None:
        """``cluster``: an object whose ``chunks(scope, visited, jobs)`` runs a level's jobs
        elsewhere and yields their results in job order (a Dask cluster's
        :class:`~tssbqs_pbt.engine.explore_dask.DaskLevels`), with ``workers`` its size;
        None: this process and ``workers`` forked ones."""
        self.machine_class, self.scope, self.reductions = machine_class, scope, reductions
        self.cluster = cluster
        self.workers = workers if cluster is None else cluster.workers
        self.progress = progress
        self.visited, self.levels = Visited(), Levels()
        self.transitions = self.depth = 0
        self.started = time.perf_counter()
        self.deadline = None if scope.seconds is None else self.started + scope.seconds

    def certificate(self, exhausted: bool, cut_by: str | None = None) -> Certificate:
        return Certificate(self.scope, len(self.visited), self.transitions, self.depth,
                           exhausted, time.perf_counter() - self.started, self.reductions,
                           cut_by, self._bytes_per_state(), self.workers)

    def run(self) -> ExploreResult:
        try:  # (a violation before any move: the configuration)
            replay(self.machine_class, (), Moves)
        except (PropertyViolated, FaultFound) as failure:
            return ExploreResult(self.certificate(False, "violation"), failure, ())
        frontier: list[Entry] = [(0, 0, 0, False)]
        scope = self.scope
        for level in range(1, scope.operations + scope.actions + 1):
            outcome = self._level(level, frontier)
            if isinstance(outcome, ExploreResult):
                return outcome
            frontier = outcome
            if not frontier:
                break
        return ExploreResult(self.certificate(True))

    def _level(self, level: int, frontier: list[Entry]) -> list[Entry] | ExploreResult:
        """Expand one level; the next frontier (schedules with a pause last: within a level,
        a violation that needs none is found first), or the result that ends the search."""
        parents = [(i, self.levels.schedule(level - 1, i), used, spent)
                   for i, used, spent, _ in frontier]
        following: list[tuple[int, int, int, int, bool]] = []
        for children, stopped in self._chunks(parents):
            for child in children:
                ended = self._merge(level, frontier, child, following)
                if ended is not None:
                    return ended
            if stopped:  # (a chunk stops at max_states only once the merge has reached it)
                return ExploreResult(self.certificate(False, stopped))
            self._report(level, len(parents))
        following.sort(key=lambda entry: entry[4])
        self.levels.parents.append(array("q", (e[0] for e in following)))
        self.levels.moves.append(array("q", (e[1] for e in following)))
        return [(i, e[2], e[3], e[4]) for i, e in enumerate(following)]

    def _merge(self, level: int, frontier: list[Entry], child: Child,
               following: list[tuple[int, int, int, int, bool]]) -> ExploreResult | None:
        """Take one move tried, in breadth-first order: what a serial search does with it."""
        if len(self.visited) >= self.scope.max_states:
            return ExploreResult(self.certificate(False, "max_states"))
        self.transitions += 1
        index, items, key, acted, spent, ended, paused, verdict = child
        if verdict and not ended:  # (the move itself broke a property)
            return self._violation(level, index, items)
        before = self.visited.dominated(key, acted, spent)
        if before:
            return None
        self.visited.add(key, acted, spent)
        self.depth = level
        pauses = frontier[index][3] or any(name == "pause" for name, _ in items)
        following.append((index, self.levels.intern(items), acted, spent, pauses))
        if before is None and not paused:  # (the first time: its run was ended)
            assert ended, "a chunk saw as old a state its merge sees as new"
            if verdict:
                return self._violation(level, index, items)
        return None

    def _chunks(self, parents: list[tuple[int, tuple[Move, ...], int, int]]
                ) -> Iterator[tuple[list[Child], str]]:
        limit = self.scope.max_states - len(self.visited)
        if self.cluster is not None:  # (every level there: fingerprints are taken there)
            size = max(1, min(_CHUNK, len(parents) // (4 * self.workers)))
            yield from self.cluster.chunks(self.scope, self.visited, [
                (parents[at:at + size], self.deadline, limit)
                for at in range(0, len(parents), size)])
            return
        if self.workers == 1 or len(parents) < 2 * self.workers:
            for at in range(0, len(parents), _CHUNK):
                yield expand(self.machine_class, self.scope, Moves, parents[at:at + _CHUNK],
                             self.visited, deadline=self.deadline,
                             fresh_limit=self.scope.max_states - len(self.visited))
            return
        size = max(1, min(_CHUNK, len(parents) // (4 * self.workers)))
        jobs = [(parents[at:at + size], self.deadline, limit)
                for at in range(0, len(parents), size)]
        yield from forked_chunks(self.machine_class, self.scope, self.visited, jobs,
                                 self.workers)

    def _violation(self, level: int, index: int, items: tuple[tuple[str, Any], ...]
                   ) -> ExploreResult:
        """The violation found, reproduced by replaying its schedule here."""
        schedule = (*self.levels.schedule(level - 1, index), dict(items))
        machine = self.machine_class()
        machine.start(warmup=0, data=Moves({}))
        machine.described = []
        try:
            machine.safe()
            for move in schedule:
                play(machine, move, Moves)
            machine.teardown()
        except (PropertyViolated, FaultFound) as failure:
            return ExploreResult(self.certificate(False, "violation"), failure, schedule,
                                 tuple(machine.described))
        raise AssertionError(f"the violation found does not replay: {schedule!r}")

    def _report(self, level: int, frontier: int) -> None:
        if self.progress is not None:
            self.progress({"level": level, "states": len(self.visited),
                           "transitions": self.transitions, "frontier": frontier,
                           "elapsed_s": time.perf_counter() - self.started})

    def _bytes_per_state(self) -> int:
        """The visited set's and the parent pointers' bytes, over the states visited.  Each
        fingerprint counts as a full 64-bit int (``_KEY_BYTES``): the int Python holds for one
        is smaller when the hash happens to be small, and ``hash`` differs from process to
        process, so counting the real one made the figure differ between runs."""
        states = len(self.visited)
        if not states:
            return 0
        budgets = self.visited.budgets
        size = sys.getsizeof(budgets) + sum(_KEY_BYTES + sys.getsizeof(v)
                                            for v in budgets.values())
        size += sum(a.buffer_info()[1] * a.itemsize
                    for a in (*self.levels.parents, *self.levels.moves))
        return round(size / states)
