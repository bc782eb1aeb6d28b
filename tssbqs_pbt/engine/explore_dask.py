"""The explorer's levels on a Dask cluster: each chunk of a level is a task on some worker.

The breadth-first search itself stays in the caller (:class:`~tssbqs_pbt.engine.bfs.
BreadthFirst`): it merges each level's chunks in order, so a cluster keeps the same states,
counts the same transitions and finds the same first violation as one process.  What a
worker needs travels with the task: how to build the rule machine (a picklable factory,
built once per worker and exploration), the scope, and the visited set as it stood when the
level began (scattered to every worker once a level).

A state's fingerprint there is :func:`~tssbqs_pbt.kernel.fingerprint.stable_hash` of its
canonical tuple, not Python's ``hash`` (which forked workers share with their parent, but
separate processes do not: strings hash by a per-process seed, ``None`` by its address), so
every worker files a state under the same 64 bits.  Every fingerprint of a Dask exploration is
taken on the workers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from tssbqs_pbt.engine.bfs import Child, Job, Visited, expand
from tssbqs_pbt.engine.certificate import Moves
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel.fingerprint import stable_hash

__all__ = ["DaskLevels", "hash_probe"]

#: the machine classes this worker built, by exploration (one entry per exploration it ran)
_BUILT: dict[str, Any] = {}
_BUILT_MAX = 4


def hash_probe() -> int:
    """This process's fingerprint of a probe value (the same on every worker unless one runs
    other code: a different version of the project or of a protocol)."""
    return stable_hash(("tssbqs-pbt fingerprint", None, b"probe", 1.5, frozenset({1, "a"})))


class DaskLevels:
    """Runs an exploration's chunks on the workers of ``client`` (a ``distributed.Client``);
    ``factory()`` builds the rule machine class there."""

    def __init__(self, client: Any, factory: Callable[[], Any]) -> None:
        self.client, self.factory = client, factory
        probes = client.run(hash_probe)
        if not probes:
            raise InvalidArgument("the Dask cluster has no workers: start at least one "
                                  "('dask worker tcp://HOST:PORT')")
        if len(set(probes.values())) > 1:
            raise InvalidArgument(
                f"the Dask cluster's {len(probes)} workers fingerprint a value differently "
                f"({sorted(set(probes.values()))}), so they would file one state under two "
                "fingerprints; run the same version of tssbqs-pbt on every worker")
        self.workers = max(1, sum(w.get("nthreads", 1) for w in
                                  client.scheduler_info()["workers"].values()))
        self.token = uuid.uuid4().hex  # (this exploration's machine class, on each worker)

    def chunks(self, scope: Any, visited: Visited, jobs: list[Job]
               ) -> Iterator[tuple[list[Child], str]]:
        """Each job's children, in job order, from the cluster (against ``visited`` as it
        is now: a worker may do work the merge throws away, never the other way round)."""
        shared = self.client.scatter(visited, broadcast=True)
        futures = [self.client.submit(
            _expand_on_worker, self.token, self.factory, scope, shared, parents,
            None if deadline is None else deadline - time.perf_counter(), limit, pure=False)
            for parents, deadline, limit in jobs]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _expand_on_worker(token: str, factory: Callable[[], Any], scope: Any, visited: Visited,
                      parents: Any, seconds_left: float | None, limit: int
                      ) -> tuple[list[Child], str]:
    machine_class = _BUILT.get(token)
    if machine_class is None:
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()
        machine_class = _BUILT[token] = factory()
    deadline = None if seconds_left is None else time.perf_counter() + seconds_left
    return expand(machine_class, scope, Moves, parents, visited, deadline=deadline,
                  fresh_limit=limit, digest=stable_hash)
