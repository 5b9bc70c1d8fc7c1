"""Engine throughput: training time steps per second and sequences per second.

Run with ``make bench`` (or ``python bench/bench_engine.py [--rounds N] [--seqs N]``). Cases are
measured in interleaved rounds and reported as medians, because this machine is shared.

Cases
- ``erg_3x2``: the 3x2 embedded-Reber net (276 weights), per-step weight changes, training strings
  drawn at random from a 256-string set: Exp 1 exactly as `lstmrun train` runs it.
- ``erg_4x1``: the same for the 4x1 net (264 weights).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lstmrun.engine import Arch, Init, LSTM97  # noqa: E402
from lstmrun.tasks.grammar import Grammar, make_train_test  # noqa: E402


def erg_case(blocks: int, cells: int, n_seqs: int):
    g = Grammar.from_yaml("embedded_reber")
    rng = np.random.default_rng(0)
    train, _ = make_train_test(g, rng, 256, 256)
    chunk = g.to_chunk(train)
    arch = Arch(7, 7, blocks, cells)
    net = LSTM97.random(arch, Init(0.2, output_gate_bias=tuple(-1.0 - j for j in range(blocks))),
                        rng)
    order = rng.integers(0, chunk.n, n_seqs)
    steps = int(chunk.lengths()[order].sum())

    def run():
        n = net.copy()
        t0 = time.perf_counter()
        n.train(chunk, order, lr=0.1, update_per_step=True)
        return time.perf_counter() - t0

    return f"erg_{blocks}x{cells} ({arch.n_weights()} w)", run, steps, n_seqs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seqs", type=int, default=20000, help="training sequences per round")
    a = ap.parse_args(argv)
    cases = [erg_case(3, 2, a.seqs), erg_case(4, 1, a.seqs)]
    for _, run, _, _ in cases:  # compile / warm up
        run()
    times: dict[str, list[float]] = {c[0]: [] for c in cases}
    for _ in range(a.rounds):
        for name, run, _, _ in cases:
            times[name].append(run())
    print(f"engine throughput, single thread, median of {a.rounds} interleaved rounds")
    print(f"| case | steps/round | median s | time steps/s | sequences/s | ns/step |")
    print("|---|---|---|---|---|---|")
    for name, _, steps, nseq in cases:
        med = statistics.median(times[name])
        print(f"| {name} | {steps:,} | {med:.4f} | {steps / med:,.0f} | {nseq / med:,.0f} | "
              f"{1e9 * med / steps:.0f} |")


if __name__ == "__main__":
    main()
