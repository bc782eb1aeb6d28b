"""The explorer on a Dask cluster, and the fingerprint every process computes alike.

A Dask worker is a process of its own, not a fork: Python's ``hash`` of a string (its seed)
or of ``None`` (its address, before Python 3.12) differs there, so the first attempt counted
4,441 states where one process counts 3,812.  States are fingerprinted there by
:func:`stable_hash`, and a cluster must give what one process gives."""

from __future__ import annotations

import enum
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest
from foreign_protocols import PairRegister
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.engine.explore import Scope, explore
from tssbqs_pbt.errors import InvalidArgument
from tssbqs_pbt.kernel import SystemConfig
from tssbqs_pbt.kernel.fingerprint import stable_hash

pytestmark = pytest.mark.search
ROOT = Path(__file__).resolve().parents[2]
SMALL = Scope(clients=1, interventions=2)


class Colour(enum.Enum):
    RED = "red"


@attrs.frozen
class Point:
    x: Any
    y: Any


class Pair(NamedTuple):
    a: Any
    b: Any


VALUE = (Point("s", None), frozenset({b"b", 2, ("t", None)}), Colour.RED, 1.5, Pair(1, "x"))


def _summary(result: Any) -> tuple[Any, ...]:
    c = result.certificate
    return (c.states, c.transitions, c.depth, c.exhausted, c.cut_by, result.moves,
            result.described, str(result.failure).split("\n")[0])


def test_equal_values_have_equal_fingerprints() -> None:
    assert stable_hash(1) == stable_hash(True) == stable_hash(1.0)  # (1 == True == 1.0)
    assert stable_hash(Pair(1, "x")) == stable_hash((1, "x"))  # (a named tuple is a tuple)
    assert stable_hash(frozenset({"a", "b"})) == stable_hash(frozenset({"b", "a"}))
    assert stable_hash(Point(1, (2, "3"))) == stable_hash(Point(1, (2, "3")))
    different = [("a", "b"), ("b", "a"), ("a",), "a", b"a", None, 0, Point("a", "b"),
                 frozenset({"a", "b"}), Colour.RED, "red"]
    assert len({stable_hash(v) for v in different}) == len(different)


def test_the_fingerprint_is_the_same_in_every_process() -> None:
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/../lib']; "
            "from test_explore_dask import VALUE; "
            "from tssbqs_pbt.kernel.fingerprint import stable_hash; "
            "print(stable_hash(VALUE), hash(('s', None)))")
    fingerprints, hashes = set(), set()
    for seed in ("0", "1", "random"):
        done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)],
                              capture_output=True, text=True, timeout=60, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        fingerprint, python_hash = done.stdout.split()
        fingerprints.add(fingerprint)
        hashes.add(python_hash)
    assert len(hashes) == 3, "Python's own hash differs from process to process"
    assert len(fingerprints) == 1


def test_a_cut_counts_the_same_states_with_one_worker_and_two() -> None:
    """Regression: a chunk counted every state it saw, those reached before too, against its
    share of ``max_states``, so one process stopped at 2,998 states where two stopped at
    3,000 (the bound)."""
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol, config = DesignProtocol(design), design.config(byzantine={4})
    scope = Scope(operations=2, clients=1, max_states=3000)
    one = explore(protocol, config, scope)
    two = explore(protocol, config, scope, workers=2)
    assert _summary(one) == _summary(two)
    assert one.certificate.states == 3000 and one.certificate.cut_by == "max_states"


@pytest.fixture(scope="module")
def client() -> Any:
    distributed = pytest.importorskip("distributed")
    if os.environ.get("TSSBQS_PBT_SKIP_DASK") == "1":
        pytest.skip("asked to skip Dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.parametrize("q", [2, 3])
def test_a_dask_cluster_finds_what_one_process_finds_on_a_foreign_protocol(
        client: Any, q: int) -> None:
    config = SystemConfig(n=4, f=1, q=q, t=2, byzantine={4})
    one = explore(PairRegister(q), config, SMALL)
    on_dask = explore(PairRegister(q), config, SMALL, client=client)
    assert _summary(one) == _summary(on_dask)
    assert (one.failure is not None) is (q == 2), "q=2 breaks, q=3 holds"
    assert on_dask.certificate.workers == 2


@pytest.mark.parametrize("scope", [Scope(operations=2, clients=1, interventions=2),
                                   Scope(operations=2, clients=1, max_states=400)],
                         ids=["exhausted", "cut"])
def test_a_dask_cluster_explores_a_design_as_one_process_does(client: Any,
                                                              scope: Scope) -> None:
    design = Design(4, 1, 3, 2, FAMILY_C_OPTIONS)
    protocol, config = DesignProtocol(design), design.config(byzantine={4})
    assert _summary(explore(protocol, config, scope)) == _summary(
        explore(protocol, config, scope, client=client))


def test_a_cluster_and_forked_workers_are_not_both_taken(client: Any) -> None:
    config = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    with pytest.raises(InvalidArgument, match="give one or the other"):
        explore(PairRegister(3), config, SMALL, workers=2, client=client)


def test_the_command_line_explores_on_a_local_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    if os.environ.get("TSSBQS_PBT_SKIP_DASK") == "1":
        pytest.skip("asked to skip Dask")
    base = [sys.executable, "-m", "tssbqs_pbt.cli", "explore", "--protocol", "family-c",
            "--operations", "1", "--clients", "1", "--no-progress", "--out", str(tmp_path)]
    outputs = []
    for how in (["--workers", "1"], ["--dask-local", "2"]):
        done = subprocess.run([*base, *how], capture_output=True, text=True, timeout=300,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr
        explored = next(line for line in done.stdout.splitlines() if line.startswith("explored"))
        outputs.append(explored.split(" in ")[0])
        if how[0] == "--dask-local":
            assert "on Dask LocalCluster on loopback, 2 worker processes" in done.stdout
    assert outputs[0] == outputs[1]
    for bad, said in ((["--dask-local", "0"], "--dask-local 0: use a whole number >= 1"),
                      (["--dask-local", "2", "--workers", "2"], "give one or the other")):
        done = subprocess.run([*base, *bad], capture_output=True, text=True, timeout=60,
                              cwd=ROOT)
        assert done.returncode == 2 and said in done.stderr, done.stderr
