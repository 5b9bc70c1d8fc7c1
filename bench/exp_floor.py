"""The exact exp's share of a time step, and the ceiling it puts on any lanes speed-up.

Issue 19's second target asks 16 trials of ``configs/paper/exp4_adding_t100.yaml`` on one worker
to reach 2.5x the one-net kernel's time steps/s. The config trains with ``train.exp: exact``: every
logistic called the C library's ``exp`` (now ``train.exp: libm``), a scalar call that no lane
layout vectorises while staying bit-identical to the one-trial path; since session 12 it computes
the same bits inline (``engine/exactexp.py``: scalar code with branches and a table lookup, which
LLVM schedules with the rest of the step). A net-step needs one exp per hidden unit (cells' g and
the gates; HS97 eqs. 7-9) and per cell's h, whatever the layout, so ``exps per step x ns per exp``
is a floor under the time of a net-step in lockstep, and ``engine ns/step / floor`` the most any
lanes kernel can gain over the one-net kernel.

Measured side by side in one run: the engine on the bench's adding case (5,000 sequences, T=100)
and the engine's own ``logistic`` (``engine/kernel_common.py``) over that many independent values
per step, so throughput, not latency, is timed: with the inlined exact exp and with the C
library's call.

Usage: python bench/exp_floor.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import cpu_line, make_case  # noqa: E402  (bench/)

from lstmrun.engine.kernel_common import EXP_EXACT, EXP_LIBM, logistic  # noqa: E402


@njit(cache=False)
def _logistics(x, steps, mode):
    # every result is summed, so no call can be dropped as dead; the calls of one step are
    # independent of each other, as a step's units are
    acc = 0.0
    for t in range(steps):
        for j in range(x.size):
            acc += logistic(x[j] + t * 1e-12, mode)
    return acc


def exps_per_step(net) -> int:
    """The exact exp calls of one net-step of the 1997 LSTM: f on every hidden unit (the cells'
    g and the gates), h on every cell, f on a logistic output unit (``lstm97.run_sequences``)."""
    a = net.arch
    gates = a.blocks * a.n_gates_per_block
    g = 0 if a.g == "identity" else a.n_cells
    h = 0 if a.h == "identity" else a.n_cells
    return gates + g + h + (a.n_out if a.output_act == "logistic" else 0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args(argv)
    case = make_case("adding_t100", "exp4_adding_t100.yaml", [], 5000, 0)
    net = case["net"]
    assert net.exp_mode == "exact", "the config's exp is expected to be the exact one"
    n_exp = exps_per_step(net)
    x = np.random.default_rng(1).uniform(-4, 4, n_exp)
    _logistics(x, 10, EXP_EXACT)
    _logistics(x, 10, EXP_LIBM)
    case["engine"]()                       # compile / load the cached kernel
    steps, eng, flo, lib = case["steps"], [], [], []
    for _ in range(a.rounds):              # interleaved rounds: all see the same machine load
        eng.append(case["engine"]() / steps * 1e9)
        for mode, out in ((EXP_EXACT, flo), (EXP_LIBM, lib)):
            t0 = time.perf_counter()
            _logistics(x, steps, mode)
            out.append((time.perf_counter() - t0) / steps * 1e9)
    e, f, g = float(np.median(eng)), float(np.median(flo)), float(np.median(lib))
    print(cpu_line())
    print(f"adding_t100 (exp4_adding_t100.yaml, train.exp: exact), {steps:,} steps, "
          f"median of {a.rounds} interleaved rounds")
    print("| measure | ns per net-step |")
    print("|---|---|")
    print(f"| engine, one net | {e:.0f} |")
    print(f"| {n_exp} exact logistics alone, inlined exp (the exp floor) | {f:.0f} "
          f"({f / n_exp:.1f} a call) |")
    print(f"| {n_exp} exact logistics alone, the C library's exp call | {g:.0f} "
          f"({g / n_exp:.1f} a call) |")
    print(f"ceiling on any bit-identical lanes speed-up: {e / f:.2f}x (issue 19's target: 2.5x)")


if __name__ == "__main__":
    main()
