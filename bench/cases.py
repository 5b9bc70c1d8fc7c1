"""The data of a benchmark or identity case (``bench/bench_engine.py``, ``scripts/kernel_identity.py``).

Only APIs that every checkout since the engine's first kernels has (``task.sample``,
``task.chunk``, ``tasks.grammar.make_train_test``): ``kernel_identity`` runs it against an older
checkout's package.
"""

from __future__ import annotations

import numpy as np


def case_data(cfg: dict, task, rng: np.random.Generator, n: int):
    """``(chunk, order)``: for Exp 1's grammar a 256-string training set and ``n`` strings drawn
    from it at random (as Exp 1 trains); for every other task ``n`` fresh sequences in order."""
    if cfg["task"]["name"] == "embedded_reber":
        from lstmrun.tasks.grammar import make_train_test

        train, _ = make_train_test(task.grammar, rng, 256, 256)
        chunk = task.chunk(train)
        return chunk, rng.integers(0, chunk.n, n)
    return task.sample(rng, n), np.arange(n)
