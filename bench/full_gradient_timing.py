"""Cost per time step of the full gradient (engine/lstm_full.py) against the truncated rule.

For each config: one batch of the row's own sequences, the row's own freshly initialised net, one
thread, after compilation; the same training call (the config's ``train.update``) is timed with
``train.gradient`` truncated and full, alternating, best of ``--repeats``. Prints a Markdown table
and, with ``--json``, writes the numbers.

Usage: python bench/full_gradient_timing.py [--repeats 7] [--n 200] [--json PATH] [CONFIG ...]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from lstmrun.config import load
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["configs/paper/exp1_erg_3x2_lr05.yaml", "configs/paper/exp4_adding_t100.yaml",
           "configs/paper/exp6a_temporal_order.yaml"]


def measure(path: str, n: int, repeats: int) -> dict:
    cfg = load(ROOT / path)
    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    net0 = make_model(cfg, task, rng)
    chunk = task.sample(rng, n)
    per_step = cfg["train"]["update"] == "step"
    lr = cfg["train"]["lr"]
    best = {}
    for full in (False, True):           # compile / load both kernels first
        net = net0.copy()
        net.full_gradient = full
        net.train(chunk, lr=lr, update_per_step=per_step)
    for _ in range(repeats):
        for full in (False, True):
            net = net0.copy()
            net.full_gradient = full
            t0 = time.perf_counter()
            net.train(chunk, lr=lr, update_per_step=per_step)
            dt = time.perf_counter() - t0
            key = "full" if full else "truncated"
            best[key] = min(best.get(key, np.inf), dt)
    steps = int(chunk.offsets[-1])
    us = {k: 1e6 * v / steps for k, v in best.items()}
    return {"config": path, "weights": net0.n_weights(), "steps": steps,
            "mean_length": steps / n, "us_per_step_truncated": us["truncated"],
            "us_per_step_full": us["full"], "ratio": us["full"] / us["truncated"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*")
    ap.add_argument("--n", type=int, default=200, help="sequences per timed call")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    rows = [measure(c, a.n, a.repeats) for c in (a.configs or DEFAULT)]
    print("| config | weights | mean length | truncated us/step | full us/step | full/truncated |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {Path(r['config']).stem} | {r['weights']} | {r['mean_length']:.1f} | "
              f"{r['us_per_step_truncated']:.3f} | {r['us_per_step_full']:.3f} | "
              f"{r['ratio']:.2f} |")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
