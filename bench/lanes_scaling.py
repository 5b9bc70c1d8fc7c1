"""The lanes kernel against the one-net kernel as the net grows (issue 19; docs/speed.md).

Trains the same N sequences once with one net (``net.train``) and once split over 8 nets in one
lanes call (``model.train_lanes``), for nets of 1x1, 2x2, 3x2 and 4x2 blocks x cells on the
adding task (or SIZES), and prints ns a net-step for each (best of the rounds after a warm-up).

Usage: python bench/lanes_scaling.py [--config configs/paper/exp4_adding_t100.yaml]
       [--sizes 1x1,2x2,3x2,4x2] [--sequences 4000] [--rounds 3]

Sizes other than the config's own need per-block input-gate biases: block j gets -(j+1) (the
adding config's 2 blocks keep their -3, -6).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lstmrun.config import load
from lstmrun.engine.model import train_lanes
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="configs/paper/exp4_adding_t100.yaml")
    ap.add_argument("--sizes", default="1x1,2x2,3x2,4x2")
    ap.add_argument("--sequences", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lanes", type=int, default=8)
    args = ap.parse_args(argv)
    n, L = args.sequences, args.lanes
    print("| blocks x cells | weights | one net, ns a net-step | lanes-%d, ns a net-step | "
          "lanes / one net |" % L)
    print("|---|---|---|---|---|")
    for size in args.sizes.split(","):
        b, s = (int(v) for v in size.split("x"))
        sets = [f"model.blocks={b}", f"model.cells_per_block={s}"]
        base = load(args.config)
        if base["init"].get("input_gate_bias") is not None and b != base["model"]["blocks"]:
            sets.append(f"init.input_gate_bias={[-float(j + 1) for j in range(b)]}")
        cfg = load(args.config, sets)
        lr = cfg["train"]["lr"]
        task = build_task(cfg["task"])
        net0 = make_model(cfg, task, np.random.default_rng(1))
        chunk = task.sample(np.random.default_rng(2), n)
        parts = np.array_split(np.arange(n), L)
        best = {1: float("inf"), L: float("inf")}
        for rnd in range(args.rounds + 1):          # round 0 compiles
            for lanes in (1, L):
                nets = [net0.copy() for _ in range(lanes)]
                t0 = time.perf_counter()
                if lanes == 1:
                    nets[0].train(chunk, np.arange(n), lr=lr, update_per_step=True)
                else:
                    train_lanes(nets, [chunk] * L, parts, lr=lr, lanes=L)
                dt = (time.perf_counter() - t0) / chunk.total_steps * 1e9
                if rnd:
                    best[lanes] = min(best[lanes], dt)
        print(f"| {b}x{s} | {net0.n_weights()} | {best[1]:.1f} | {best[L]:.1f} | "
              f"{best[1] / best[L]:.2f}x |")


if __name__ == "__main__":
    main()
