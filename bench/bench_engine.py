"""Engine throughput: training time steps per second and sequences per second, beside peers.

Run with ``make bench`` (or ``python bench/bench_engine.py [--rounds N] [--quick]``). Every case is
measured in interleaved rounds (engine, then each peer, then the engine again, ...) and reported as
medians with the median per-round ratio, because this machine (2 cores) is shared.

Cases (each exactly as ``lstmrun train`` runs it):
- ``erg_3x2``: Exp 1, 3x2 net (332 weights as configured, 276 literal), per-string weight changes,
  strings drawn from a 256-string training set;
- ``erg_3x2_step``: the same with per-step weight changes (the 1997 rule applied every step);
- ``adding_t100``: Exp 4, the 93-weight net, T=100, error at the sequence end only;
- ``2c_q1000``: Exp 2c, q = p = 1000, 6,064 weights, one-hot input over 1004 symbols.

Peers:
- ``engine-generic``: the same Numba kernel without per-architecture specialisation;
- ``numpy``: a vectorised NumPy implementation of the same rule (``tests/reference.py``, which the
  tests check equal to the engine to 1e-10), timed on fewer sequences and scaled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lstmrun.config import load
from lstmrun.engine import LSTM97
from lstmrun.runner import make_arch, make_init
from lstmrun.tasks.registry import build_task


def make_case(name, config, sets, n_seqs, n_numpy):
    cfg = load(ROOT / "configs" / "paper" / config, sets)
    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    if cfg["task"]["name"] == "embedded_reber":
        from lstmrun.tasks.grammar import make_train_test

        train, _ = make_train_test(task.grammar, rng, 256, 256)
        chunk = task.chunk(train)
        order = rng.integers(0, chunk.n, n_seqs)
    else:
        chunk = task.sample(rng, n_seqs)
        order = np.arange(n_seqs)
    net0 = LSTM97.random(make_arch(cfg, task), make_init(cfg), rng)
    per_step = cfg["train"]["update"] == "step"
    lr = cfg["train"]["lr"]
    steps = int(chunk.lengths()[order].sum())

    def engine():
        net = net0.copy()
        t0 = time.perf_counter()
        net.train(chunk, order, lr=lr, update_per_step=per_step)
        return time.perf_counter() - t0

    def generic():
        os.environ["LSTMRUN_SPECIALIZE"] = "0"
        try:
            return engine()
        finally:
            os.environ.pop("LSTMRUN_SPECIALIZE")

    def numpy_peer():
        from reference import ref_train

        sub = order[:n_numpy]
        t0 = time.perf_counter()
        ref_train(net0.arch, net0.Wh.copy(), net0.Wo.copy(), chunk, sub, lr, per_step)
        dt = time.perf_counter() - t0
        return dt * steps / int(chunk.lengths()[sub].sum())  # scaled to the full case

    peers = {"engine-generic": generic}
    if n_numpy:
        peers["numpy"] = numpy_peer
    return {"name": name, "weights": net0.n_weights(), "steps": steps, "seqs": n_seqs,
            "engine": engine, "peers": peers}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller cases (a smoke run)")
    a = ap.parse_args(argv)
    s = 0.1 if a.quick else 1.0
    cases = [
        make_case("erg_3x2", "exp1_erg_3x2_lr05.yaml", [], int(20000 * s), int(100 * s) or 10),
        make_case("erg_3x2_step", "exp1_erg_3x2_lr05.yaml", ["train.update=step"],
                  int(20000 * s), int(100 * s) or 10),
        make_case("adding_t100", "exp4_adding_t100.yaml", [], int(5000 * s), int(20 * s) or 2),
        make_case("2c_q1000", "exp2c_q1000_p1000.yaml", [], int(1000 * s), int(5 * s) or 1),
    ]
    for c in cases:  # compile / warm up
        c["engine"]()
        c["peers"]["engine-generic"]()
    times = {c["name"]: {"engine": [], **{p: [] for p in c["peers"]}} for c in cases}
    for _ in range(a.rounds):
        for c in cases:
            times[c["name"]]["engine"].append(c["engine"]())
            for p, fn in c["peers"].items():
                times[c["name"]][p].append(fn())
    print(f"training throughput, one thread, median of {a.rounds} interleaved rounds "
          f"(ratio = median of per-round peer/engine time)")
    print("| case | weights | implementation | time steps/s | sequences/s | ns/step | engine speed-up |")
    print("|---|---|---|---|---|---|---|")
    for c in cases:
        t = times[c["name"]]
        e = t["engine"]
        for impl, ts in t.items():
            med = statistics.median(ts)
            ratio = "1.0" if impl == "engine" else \
                f"{statistics.median(p / q for p, q in zip(ts, e)):.1f}x"
            print(f"| {c['name']} | {c['weights']} | {impl} | {c['steps'] / med:,.0f} | "
                  f"{c['seqs'] / med:,.0f} | {1e9 * med / c['steps']:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
