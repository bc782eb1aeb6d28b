"""A seeded random scheduler for kernel tests (tests may use randomness; the kernel may not)."""

from __future__ import annotations

import random

from toy_protocols import Query

from tssbqs_pbt.kernel import (
    ByzantineSend,
    Deliver,
    Drain,
    Invoke,
    SystemConfig,
    World,
    read,
    step,
    write,
)
from tssbqs_pbt.kernel.node import NodeProtocol


def random_run(protocol: NodeProtocol, config: SystemConfig, seed: int, steps: int = 60) -> World:
    """Invoke, deliver and let Byzantine servers query, chosen by ``random.Random(seed)``."""
    rng = random.Random(seed)
    world = World(protocol, config)
    writes = 0
    for _ in range(steps):
        choice = rng.random()
        idle = [c for c in config.client_ids if c not in world.pending]
        if choice < 0.2 and idle:
            who = rng.choice(idle)
            if rng.random() < 0.5:
                writes += 1
                step(world, Invoke(who, write(f"v{writes}")))
            else:
                step(world, Invoke(who, read()))
        elif choice < 0.3 and config.byzantine:
            src = sorted(config.byzantine_ids)[0]
            dst = rng.choice(config.correct_servers)
            step(world, ByzantineSend(src, dst, Query(None), immediate=rng.random() < 0.5))
        elif len(world.pool):
            ids = world.pool.ids()
            step(world, Deliver(ids[rng.randrange(len(ids))]))
    step(world, Drain())
    return world
