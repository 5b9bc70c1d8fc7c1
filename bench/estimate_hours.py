"""Project the time of every paper row from measured throughput (``make estimate``).

For each config in ``configs/paper/`` this times the training of a batch of the row's own sequences
on its own network (one thread, after compilation), and projects

    hours = trials x sequences per trial x mean sequence length / (time steps per second x jobs)

with the paper's mean sequences per trial (where the paper gives one) -- i.e. the time the row needs
if our runs learn at the paper's pace -- and prints the total. A second column gives the bound
when every trial runs to the config's budget (a row whose trials fail costs that: e.g. the 2c rows
at q = 1000 that stay at chance for 5,000,000 sequences), so the real time lies between the two.
Frozen-weight checks and post-tests are not included (a few percent on the rows measured).

With ``--lanes L`` (``make estimate LANES=L``) the rows that can run in lockstep (``lstmrun train
--lanes L``: the on-line rows of Exps 2c-6) are also timed in the lanes kernel, L nets on the same
sequences, and projected as ``lstmrun train --lanes L --jobs J`` runs them: each process takes
ceil(trials / J) trials, L at a time, and a call costs the same whether its lanes are all live or
not, so a process needs ceil(trials per process / L) rounds of one trial's length each. Trials of
unequal length make the real time longer than this (a round lasts as long as its longest trial).

Usage: python bench/estimate_hours.py [--jobs 2] [--lanes 1] [--seconds 1.0] [CONFIG ...]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from lstmrun.config import load
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task

ROOT = Path(__file__).resolve().parents[1]


def measure(cfg: dict, seconds: float, lanes: int = 0) -> tuple[float, float]:
    """(time steps per second, mean sequence length) of training on the row's sequences: one net
    (``lanes`` 0), or ``lanes`` nets in one call of the lanes kernel, each on its share of one
    batch (time steps summed over the lanes)."""
    from lstmrun.engine.model import train_lanes

    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    net = make_model(cfg, task, rng)
    lr = cfg["train"]["lr"]
    per_step = cfg["train"]["update"] == "step"

    def train(chunk):
        if lanes:
            train_lanes([net.copy() for _ in range(lanes)], [chunk] * lanes,
                        np.array_split(np.arange(chunk.n), lanes), lr=lr)
        else:
            net.copy().train(chunk, lr=lr, update_per_step=per_step)

    n = 20 * max(lanes, 1)
    train(task.sample(rng, n))  # compile
    while True:
        chunk = task.sample(rng, n)
        t0 = time.perf_counter()
        train(chunk)
        dt = time.perf_counter() - t0
        if dt > seconds or n > 200_000:
            return chunk.total_steps / dt, chunk.total_steps / n
        n *= 4


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--lanes", type=int, default=1,
                    help="also project the rows that qualify as run with lstmrun train --lanes L")
    ap.add_argument("--seconds", type=float, default=1.0, help="minimum timed batch")
    ap.add_argument("configs", nargs="*")
    a = ap.parse_args(argv)
    paths = [Path(c) for c in a.configs] or sorted((ROOT / "configs" / "paper").glob("*.yaml"))
    lanes = a.lanes > 1
    extra_head = (f" lanes-{a.lanes} time steps/s | projected hours, --lanes {a.lanes} | hours if "
                  f"every trial runs to the budget, --lanes {a.lanes} |" if lanes else "")
    print(f"| row | trials | paper mean sequences | mean length | time steps/s | projected hours "
          f"({a.jobs} jobs) | hours if every trial runs to the budget |{extra_head}")
    print("|---|---|---|---|---|---|---|" + ("---|---|---|" if lanes else ""))
    total = bound = total_lanes = bound_lanes = best = best_bound = 0.0
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
        extra = ""
        if lanes:
            from lstmrun.lockstep import reason_not

            if reason_not(cfg) is None:
                sps_l, _ = measure(cfg, a.seconds, a.lanes)
                rounds = math.ceil(math.ceil(cfg["trials"] / a.jobs) / a.lanes)
                hours_l = rounds * a.lanes * mean * length / sps_l / 3600
                worst_l = rounds * a.lanes * cfg["protocol"]["budget"] * length / sps_l / 3600
                extra = f" {sps_l:,.0f} | {hours_l:.2f} | {worst_l:.1f} |"
            else:
                hours_l, worst_l = hours, worst
                extra = " - | (one at a time) | |"
            total_lanes += hours_l
            bound_lanes += worst_l
            best += min(hours, hours_l)
            best_bound += min(worst, worst_l)
        print(f"| {p.stem} | {cfg['trials']} | {mean:,.0f} | {length:.0f} | {sps:,.0f} | "
              f"{hours:.2f} | {worst:.1f} |{extra}", flush=True)
    extra = f" | **{total_lanes:.1f}** | **{bound_lanes:.0f}** |" if lanes else ""
    print(f"| **total** | | | | | **{total:.1f}** | **{bound:.0f}** |{extra}")
    if lanes:
        print(f"with --lanes {a.lanes} on the rows where it is faster (each row's better "
              f"column): {best:.1f} h at the paper's pace, {best_bound:.1f} h if every trial runs "
              f"to the budget")


if __name__ == "__main__":
    main()
