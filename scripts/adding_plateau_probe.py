"""Why the adding net (HS97 Exp 4, 2 blocks x 2 cells) sits on the "output the running mean"
plateau, and how that wait grows with T: the per-sequence truncated gradient on the weights that
storing X1 + X2 needs, its mean (the drift: what the marked values push) against its spread (the
diffusion: what the ~T unmarked values push), as in scripts/exp3b_plateau_probe.py.

Builds trial K of CONFIG (with --set options, e.g. ``task.T=500``) exactly as the runner does, trains
it for --train sequences on the trial's own stream, then takes one on-line pass at lr = 1 over each
of --n fresh sequences from the same weights (-dE/dw of the kernel's truncated gradient; the target
is at the sequence end only, so per-step and per-sequence changes are the same). Prints, per weight
group, the median n* = (std / mean)^2 (the number of sequences after which the summed drift exceeds
one standard deviation of the summed noise), and for the net as it is: each cell's end state's
correlation with the target, the input gates' activation on unmarked and marked steps, and the
output's spread; the output gates at the end, the output weights from the cells and h'(s) at the end
(the factors of the signal path from a stored value to the output).

Usage: python scripts/adding_plateau_probe.py CONFIG [--trial K] [--set KEY=VALUE ...]
         [--train B] [--n N] [--seed S] [--json FILE]
"""
import json
import time

import numpy as np

from lstmrun.config import load
from lstmrun.inspect import trace
from probe_common import config_probe_args, drift_and_noise, sequence_gradients, trial_net

a = config_probe_args(__doc__)

cfg = load(a.config, a.set)
if cfg["task"]["name"] != "adding":
    raise SystemExit(f"{a.config}: not an adding-problem config (task {cfg['task']['name']!r})")
t0 = time.time()
task, net, _ = trial_net(cfg, a.trial, a.train)

B, S = cfg["model"]["blocks"], cfg["model"]["cells_per_block"]
C = B * S
names_h = [f"c{c + 1}" for c in range(C)] + [f"in{b + 1}" for b in range(B)] + \
    [f"out{b + 1}" for b in range(B)]
cols = ["x", "m", "bias"] + names_h           # inputs: the value, the marker
wnames = [f"{r}<-{c}" for r in names_h for c in cols] + [f"y<-{c}" for c in ["x", "m", "bias"] +
                                                          [f"c{c + 1}" for c in range(C)]]
rng = np.random.default_rng(a.seed)
chunks = [task.sample(rng, 1) for _ in range(a.n)]
G = sequence_gradients(net, task, cfg, chunks)
wnames = wnames[:G.shape[1]]
mean, std, nstar = drift_and_noise(G)
live = std > 0

# the net as it is, on the first 200 sequences: end states against the target, gates on and off
# the marked steps, the output
s_end, tgt, y_end, ig_off, ig_mark, og_end = [], [], [], [], [], []
for ch in chunks[:200]:
    t = trace(net, ch, 0)
    mk = ch.extra["marked"][0]
    s_end.append(t["s"][-1])
    tgt.append(0.5 + (ch.extra["x1"][0] + ch.extra["x2"][0]) / 4)
    y_end.append(t["outputs"][-1, 0])
    off = np.ones(len(t["s"]), bool)
    off[mk] = False
    off[0] = off[-1] = False
    ig_off.append(t["in_gates"][off].mean(0))
    ig_mark.append(t["in_gates"][mk].mean(0))
    og_end.append(t["out_gates"][-1])
s_end, tgt = np.array(s_end), np.array(tgt)
corr = [float(np.corrcoef(s_end[:, c], tgt)[0, 1]) if s_end[:, c].std() > 0 else 0.0
        for c in range(C)]


def group(prefixes):
    """Median n* and the weights' mean |drift| over the live weights whose names start with any of
    ``prefixes`` (e.g. "c1<-x")."""
    idx = [j for j, w in enumerate(wnames) if live[j] and w.startswith(tuple(prefixes))]
    return {"weights": len(idx), "median_nstar": float(f"{np.median(nstar[idx]):.3g}"),
            "mean_abs_drift": float(f"{np.mean(np.abs(mean[idx])):.3g}"),
            "mean_std": float(f"{np.mean(std[idx]):.3g}")}


cells = [f"c{c + 1}" for c in range(C)]
gates = [f"in{b + 1}" for b in range(B)]
res = {"config": a.config, "set": a.set, "trial": a.trial, "trained": a.train, "n": a.n,
       "T": cfg["task"]["T"], "lr": cfg["train"]["lr"],
       "groups": {
           "output <- cells (y<-c)": group([f"y<-{c}" for c in cells]),
           "output <- bias": group(["y<-bias"]),
           "cells <- value (c<-x)": group([f"{c}<-x" for c in cells]),
           "cells <- marker (c<-m)": group([f"{c}<-m" for c in cells]),
           "input gates <- value (in<-x)": group([f"{g}<-x" for g in gates]),
           "input gates <- marker (in<-m)": group([f"{g}<-m" for g in gates]),
           "input gates <- bias (in<-bias)": group([f"{g}<-bias" for g in gates]),
       },
       "corr_s_end_target": np.round(corr, 3).tolist(),
       "abs_s_end": np.round(np.abs(s_end).mean(0), 4).tolist(),
       # h'(s) = (1 - h(s)^2) / 2 for h in [-1, 1]: 0.5 unsaturated, 0 saturated
       "hprime_end": np.round(((1 - (2 / (1 + np.exp(-s_end)) - 1) ** 2) / 2).mean(0), 4).tolist(),
       "out_gate_end": np.round(np.mean(og_end, 0), 4).tolist(),
       "w_out_cells": np.round(np.asarray(net.Wo)[0, -C:], 4).tolist(),
       "in_gate_unmarked": np.round(np.mean(ig_off, 0), 4).tolist(),
       "in_gate_marked": np.round(np.mean(ig_mark, 0), 4).tolist(),
       "output_mean": round(float(np.mean(y_end)), 4), "output_std": round(float(np.std(y_end)), 5),
       "seconds": round(time.time() - t0, 1),
       "weights": {wnames[j]: {"mean": float(f"{mean[j]:.3g}"), "std": float(f"{std[j]:.3g}"),
                               "nstar": float(f"{nstar[j]:.3g}")}
                   for j in np.argsort(nstar) if live[j]}}
if a.json:
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
print(json.dumps({k: v for k, v in res.items() if k not in ("groups", "weights")}))
print(f"{'weights':>32} {'#':>3} {'median n*':>10} {'|mean dw|':>10} {'std dw':>10}")
for k, v in res["groups"].items():
    print(f"{k:>32} {v['weights']:3d} {v['median_nstar']:10.3g} {v['mean_abs_drift']:10.3g} "
          f"{v['mean_std']:10.3g}")
