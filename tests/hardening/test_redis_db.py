"""``--example-db redis://...`` against a real Redis server, started here on a loopback port:
two sweeps share one database, and the second replays the first's counterexamples.

Skipped only when no ``redis-server`` binary can be found (``.ci/run`` installs Debian's
``redis-server``; ``apt-get install redis-server`` does it by hand).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tssbqs_pbt.sweep.work import ITSELF

pytestmark = [pytest.mark.sweep]

SERVER = shutil.which("redis-server")
# six combinations, every one broken (t=1: P3, t=4: P2); the default window: each is searched
FLAGS = ["--q", "3", "--t", "1,4", "--only", "STORE_FORM=SIGNED", "--only", "READ_SHAPE=TWO_PHASE",
         "--only", "REQUEST_DEDUP=OFF", "--only", "DELEGATES=F_PLUS_ONE", "--only",
         "TS_SOURCE=CLIENT_BASIS", "--only", "ACK_MODE=EVIDENCE", "--only", "SIGN_GUARD=EVIDENCE",
         "--budget", "30", "--workers", "2", "--no-progress"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if SERVER is None:
        pytest.skip("no redis-server binary on PATH (apt-get install redis-server; .ci/run "
                    "installs it)")
    import redis

    port = _free_port()
    server = subprocess.Popen(
        [SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def _sweep(out: Path, seed: str, url: str) -> dict[str, dict[str, object]]:
    done = subprocess.run([sys.executable, "-m", "tssbqs_pbt.cli", "sweep", "--out", str(out),
                           "--seed", seed, "--example-db", url, "--no-explore", *FLAGS],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    return {line["key"]: line for line in lines}


def test_two_sweeps_share_a_redis_example_database(redis_url: str, tmp_path: Path) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    first = _sweep(tmp_path / "first", "1", redis_url)
    assert len(first) == 6 and all(r["verdict"] == "invalid" for r in first.values())
    searched = {k for k, r in first.items() if r["source"] == "search"}
    assert searched, "the first sweep found nothing by search: nothing to share"
    assert client.dbsize() >= len(searched)  # each found schedule was saved there

    # another seed, another directory, the same database: each counterexample the first sweep
    # found by search is replayed first, and breaks its combination again at once
    second = _sweep(tmp_path / "second", "2", redis_url)
    assert second.keys() == first.keys()
    for key in searched:
        result = second[key]
        assert result["verdict"] == "invalid" and result["source"] == "reuse", result
        assert result["reused_from"] == ITSELF, result
        assert result["property"] == first[key]["property"]
        assert result["searched_examples"] == 1 and result["confirmed"]
    assert not any(r["source"] == "search" for r in second.values())
