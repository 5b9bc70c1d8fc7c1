"""Record ST1/ST2 test trajectories, to compare readings of the test rule (A13) offline.

Trains trial K of CONFIG exactly as the st12 protocol does (same seeds, same training stream: the
protocol draws its test sets from a separate stream, so the training path does not depend on the
test rule), and every CHECK training sequences evaluates the frozen net on one fixed pool of POOL
sequences (drawn from a stream of its own). Saves, per check, each pool sequence's correctness and
absolute end error. scripts/st_readings.py then applies each reading of the rule to the same paths.

Usage: python scripts/st_trajectory.py CONFIG --trial K [--seed S] [--check 100] [--pool 1024]
         [--max N] [--out FILE.npz]
Stops at --max training sequences, or once the pool-wide reading (pool error rate and pool MAE
within the bounds) has held on --hold (5) checks in a row.
"""
import argparse
import time

import numpy as np

from lstmrun.config import load
from lstmrun.engine.lstm97 import M_CORRECT, M_NTGT, M_SUMABS
from lstmrun.runner import build_task, make_model, trial_seed
from lstmrun.protocols.base import threshold as _threshold

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--trial", type=int, required=True)
ap.add_argument("--seed", type=int)
ap.add_argument("--check", type=int, default=100)
ap.add_argument("--pool", type=int, default=1024)
ap.add_argument("--max", type=int, default=400_000)
ap.add_argument("--out", required=True)
ap.add_argument("--set", action="append", default=[])
ap.add_argument("--hold", type=int, default=5)
a = ap.parse_args()

cfg = load(a.config, a.set + ([f"seed={a.seed}"] if a.seed is not None else []))
pr, tr = cfg["protocol"], cfg["train"]
task = build_task(cfg["task"])
seed = trial_seed(cfg["seed"], a.trial)
init_rng, train_rng, test_rng = (np.random.default_rng(s)
                                 for s in np.random.SeedSequence(seed).spawn(3))
net = make_model(cfg, task, init_rng)
thr = _threshold(cfg, task)
K = task.n_out
pool = task.sample(np.random.default_rng([seed % (2**32), 77]), a.pool)
per_step = tr["update"] == "step"
frac_bound = (pr["st1_max_wrong"] + 0.5) / pr["test_size"]
seen, run = 0, 0
at, wrong, err = [], [], []
t0 = time.time()
while seen < a.max:
    data = task.sample(train_rng, a.check)
    net.train(data, lr=tr["lr"], update_per_step=per_step, criterion="abs", threshold=thr)
    seen += a.check
    if not (np.isfinite(net.Wh).all() and np.isfinite(net.Wo).all()):
        break
    m = net.evaluate(pool, criterion="abs", threshold=thr)
    w = (m[:, M_CORRECT] == 0)
    e = m[:, M_SUMABS] / np.maximum(1.0, m[:, M_NTGT] * K)
    at.append(seen)
    wrong.append(w)
    err.append(e.astype(np.float32))
    run = run + 1 if (w.mean() <= frac_bound and e.mean() < pr["st2_max_error"]) else 0
    if run >= a.hold:
        break
np.savez_compressed(a.out, at=np.array(at), wrong=np.array(wrong), err=np.array(err),
                    st1_max_wrong=pr["st1_max_wrong"], st2_max_error=pr["st2_max_error"],
                    test_size=pr["test_size"], paper=np.array([
                        (cfg.get("paper") or {}).get("st1_sequences") or 0,
                        (cfg.get("paper") or {}).get("mean_sequences") or 0]))
print(f"trial {a.trial}: {seen} sequences, {time.time() - t0:.0f} s, pool-wide reading "
      f"{'held' if run >= a.hold else 'not held'}")
