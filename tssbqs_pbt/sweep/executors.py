"""Where combinations run: a local process pool (default) or a Dask distributed cluster.

Both take the same picklable task function; the sweep loop only needs ``submit``,
``wait_any``, ``result`` and ``shutdown``.  Dask is imported only when asked for.

Worker processes started here (the local pool's, a Dask ``LocalCluster``'s) never outlive the
sweep: each runs a watchdog thread that ends the process within half a second of its parent's
death (``kill -9`` of the sweep gives them no chance to be told), so no orphan keeps computing
or holds the multiprocessing resource tracker alive.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Protocol

from tssbqs_pbt.errors import InvalidArgument

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "check_dask_local", "exit_with_parent",
           "make_executor"]


class Executor(Protocol):
    workers: int
    description: str

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any: ...

    def wait_any(self, pending: set[Any], timeout: float) -> set[Any]: ...

    def result(self, future: Any) -> Any: ...

    def shutdown(self, *, cancel: bool) -> None: ...


#: how often a worker checks that its parent is alive, in seconds
PARENT_CHECK_S = 0.5
#: exit status of a worker that ended because its parent died
ORPHANED = 70


def exit_with_parent(parent: int | None = None, interval: float = PARENT_CHECK_S) -> None:
    """Start a daemon thread ending this process (``os._exit``) once the sweep is gone.

    ``parent`` is the sweep's process id (default: this process's parent).  The sweep is gone
    when this process is handed to another parent (init or a subreaper: its parent died) or
    when ``parent`` no longer runs (it may have died before this process got here, or not be
    its direct parent).  Polling works on every POSIX system and whichever thread started the
    process, which ``PR_SET_PDEATHSIG`` does not (it fires when the *thread* that forked
    exits).  Idempotent: one watchdog per process."""
    if os.name != "posix" or getattr(exit_with_parent, "started", False):
        return
    first = os.getppid()
    sweep = first if parent is None else parent

    def watch() -> None:
        while True:
            if os.getppid() != first or not _running(sweep):
                os._exit(ORPHANED)
            time.sleep(interval)

    threading.Thread(target=watch, name="tssbqs-pbt-parent-watchdog", daemon=True).start()
    exit_with_parent.started = True  # type: ignore[attr-defined]


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux: /proc says; elsewhere a
    zombie counts as running, and the parent change shows its death)."""
    if pid <= 1:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _worker_init(sweep: int) -> None:
    # Ctrl-C is the parent's to handle: it saves what is done and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(sweep)


class LocalExecutor:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"local process pool, {workers} worker{'s' * (workers != 1)}"
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init, initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        return self._pool.submit(fn, arg)

    def wait_any(self, pending: set[Any], timeout: float) -> set[Any]:
        done, _ = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def result(self, future: Any) -> Any:
        return future.result()

    def shutdown(self, *, cancel: bool) -> None:
        if cancel:
            processes = list(getattr(self._pool, "_processes", {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)
        else:
            self._pool.shutdown(wait=True)


def on_dask_worker(fn: Callable[[Any], Any], arg: Any) -> Any:
    """``fn(arg)`` in a Dask worker.  The worker's own threads use the global ``random`` while
    a rule machine runs, and Hypothesis, seeing its state change during a draw, warns that a
    strategy used it (one warning per draw, on the sweep's terminal).  No strategy here does:
    the warning is about Dask's threads, so the worker silences it."""
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
    return fn(arg)


class DaskExecutor:
    """A Dask ``Client``: on a scheduler address, or on a fresh loopback ``LocalCluster``."""

    def __init__(self, *, scheduler: str | None = None, local_workers: int | None = None) -> None:
        try:
            import distributed as _distributed
        except ImportError:
            raise InvalidArgument(
                "Dask is not installed; pip install 'tssbqs-pbt[dask]' to use --dask-local or "
                "--scheduler"
            ) from None
        distributed: Any = _distributed  # untyped library: keep it out of mypy's way
        self._distributed = distributed
        self._cluster: Any = None
        if scheduler is not None:
            if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
                raise InvalidArgument(f"--scheduler {scheduler!r} is not a scheduler address; "
                                      "use tcp://HOST:PORT")
            try:
                self._client = distributed.Client(scheduler, timeout="20s")
            except OSError as exc:
                raise InvalidArgument(f"--scheduler {scheduler!r}: cannot connect ({exc}); is "
                                      "'dask scheduler' running there?") from None
            self.workers = max(1, sum(
                w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()))
            self.description = f"Dask cluster at {scheduler}, {self.workers} worker threads"
        else:
            n = local_workers or os.cpu_count() or 1
            self._cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=50,
            )
            self._client = distributed.Client(self._cluster)
            # its worker processes are ours: they end with us (not a shared cluster's)
            self._client.run(exit_with_parent, os.getpid())
            self.workers = n
            self.description = f"Dask LocalCluster on loopback, {n} worker processes"

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (what the explorer runs its levels on)."""
        return self._client

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        return self._client.submit(on_dask_worker, fn, arg, pure=False)

    def wait_any(self, pending: set[Any], timeout: float) -> set[Any]:
        try:
            done, _ = self._distributed.wait(list(pending), timeout=timeout,
                                             return_when="FIRST_COMPLETED")
        except self._distributed.TimeoutError:  # type: ignore[attr-defined,unused-ignore]
            return set()
        except TimeoutError:
            return set()
        return set(done)

    def result(self, future: Any) -> Any:
        return future.result()

    def shutdown(self, *, cancel: bool) -> None:
        client: Any = self._client
        client.close()
        if self._cluster is not None:
            self._cluster.close()


def check_dask_local(workers: int | None) -> None:
    """Refuse a ``--dask-local`` count below one (None: not asked for)."""
    if workers is not None and workers < 1:
        raise InvalidArgument(f"--dask-local {workers!r}: use a whole number >= 1 of workers")


def make_executor(*, workers: int | None = None, dask_local: int | None = None,
                  scheduler: str | None = None) -> Executor:
    if dask_local is not None and scheduler is not None:
        raise InvalidArgument("give --dask-local N or --scheduler ADDRESS, not both")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InvalidArgument(f"--workers {workers!r}: use a whole number >= 1")
    check_dask_local(dask_local)
    if scheduler is not None or dask_local is not None:
        return DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    return LocalExecutor(workers or os.cpu_count() or 1)
