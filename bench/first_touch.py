"""The cost of fresh memory to the lanes kernel: one config's nets trained in lockstep (8 lanes,
one shared chunk of fresh sequences per call) and one net alone on a lane's share, at growing
sizes, twice in one process. The first pass meets memory the process has not touched before (a
page fault per 4 KB on first touch; in a VM, more); the second reuses it. ``--prewarm N``
allocates and frees N doubles first.

Usage: python bench/first_touch.py [--config configs/paper/exp2c_q1000_p1000.yaml]
       [--per 128 512 2048] [--prewarm 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lstmrun.config import load
from lstmrun.engine.model import train_lanes
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/paper/exp2c_q1000_p1000.yaml")
    ap.add_argument("--per", type=int, nargs="+", default=[128, 512, 2048],
                    help="sequences per lane in each call")
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--prewarm", type=int, default=0)
    a = ap.parse_args(argv)
    if a.prewarm:
        x = np.ones(a.prewarm)
        del x
    cfg = load(a.config)
    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    net = make_model(cfg, task, rng)
    lr, L = cfg["train"]["lr"], a.lanes
    train_lanes([net.copy() for _ in range(L)], [task.sample(rng, L)] * L,
                np.array_split(np.arange(L), L), lr=lr)           # compile / load
    print("| pass | sequences per lane | lanes kernel, ns a net-step | one net, ns a step |")
    print("|---|---|---|---|")
    for p in (1, 2):
        for per in a.per:
            n = per * L
            chunk = task.sample(rng, n)
            nets = [net.copy() for _ in range(L)]
            t0 = time.perf_counter()
            train_lanes(nets, [chunk] * L, np.array_split(np.arange(n), L), lr=lr)
            dt = time.perf_counter() - t0
            one, idx = net.copy(), np.arange(per)
            t1 = time.perf_counter()
            one.train(chunk, idx, lr=lr)
            d1 = time.perf_counter() - t1
            print(f"| {p} | {per} | {dt / chunk.total_steps * 1e9:.1f} | "
                  f"{d1 / chunk.lengths()[idx].sum() * 1e9:.1f} |", flush=True)


if __name__ == "__main__":
    main()
