"""Project the time of every paper row from measured throughput (``make estimate``).

For each config in ``configs/paper/`` this times the training of a batch of the row's own sequences
on its own network (one thread, after compilation), and projects

    hours = trials x sequences per trial x mean sequence length / (time steps per second x jobs)

with the paper's mean sequences per trial (where the paper gives one) -- i.e. the time the row needs
if our runs learn at the paper's pace -- and prints the total. A second column gives the bound
when every trial runs to the config's budget (a row whose trials fail costs that: e.g. the 2c rows
at q = 1000 that stay at chance for 5,000,000 sequences), so the real time lies between the two.
Frozen-weight checks and post-tests are not included (a few percent on the rows measured).

Usage: python bench/estimate_hours.py [--jobs 2] [--seconds 1.0] [CONFIG ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from lstmrun.config import load
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task

ROOT = Path(__file__).resolve().parents[1]


def measure(cfg: dict, seconds: float) -> tuple[float, float]:
    """(time steps per second, mean sequence length) of training on the row's sequences."""
    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    net = make_model(cfg, task, rng)
    per_step = cfg["train"]["update"] == "step"
    n = 20
    chunk = task.sample(rng, n)
    net.copy().train(chunk, lr=cfg["train"]["lr"], update_per_step=per_step)  # compile
    while True:
        chunk = task.sample(rng, n)
        t0 = time.perf_counter()
        net.copy().train(chunk, lr=cfg["train"]["lr"], update_per_step=per_step)
        dt = time.perf_counter() - t0
        if dt > seconds or n > 200_000:
            return chunk.total_steps / dt, chunk.total_steps / n
        n *= 4


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0, help="minimum timed batch")
    ap.add_argument("configs", nargs="*")
    a = ap.parse_args(argv)
    paths = [Path(c) for c in a.configs] or sorted((ROOT / "configs" / "paper").glob("*.yaml"))
    print(f"| row | trials | paper mean sequences | mean length | time steps/s | projected hours "
          f"({a.jobs} jobs) | hours if every trial runs to the budget |")
    print("|---|---|---|---|---|---|---|")
    total = bound = 0.0
    for p in paths:
        cfg = load(p)
        if cfg["protocol"]["name"] == "guess":  # no training; seconds each (run_guessing.sh)
            continue
        mean = (cfg.get("paper") or {}).get("mean_sequences")
        if not isinstance(mean, (int, float)):
            mean = cfg["protocol"]["budget"]  # failing baselines: the whole budget
        sps, length = measure(cfg, a.seconds)
        hours = cfg["trials"] * mean * length / sps / a.jobs / 3600
        worst = cfg["trials"] * cfg["protocol"]["budget"] * length / sps / a.jobs / 3600
        total += hours
        bound += worst
        print(f"| {p.stem} | {cfg['trials']} | {mean:,.0f} | {length:.0f} | {sps:,.0f} | "
              f"{hours:.2f} | {worst:.1f} |", flush=True)
    print(f"| **total** | | | | | **{total:.1f}** | **{bound:.0f}** |")


if __name__ == "__main__":
    main()
