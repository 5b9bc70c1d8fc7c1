"""Why the 2-sequence net (HS97 Exp 3, 3 blocks x 1 cell) sits on the output-0.5 plateau: the
per-sequence truncated gradient on the weights the solution needs, its mean (the drift, what the
class signal pushes) against its spread (the diffusion, what the ~T noise elements push).

Builds trial K of CONFIG (with --set options) exactly as the runner does (same seeds), optionally
trains it for --train sequences on the trial's own training stream (so the net is the run's trial K
after that many sequences), then computes the weight change of one on-line update per sequence
(lr = 1, so it is -dE/dw with E = 1/2 (t - y)^2, the kernel's own truncated gradient; with the target
at the sequence end only, per-step and per-sequence updates are the same) on --n fresh sequences.

Per weight it prints mean, std and n* = (std / mean)^2, the number of sequences after which the
summed drift exceeds the summed noise (one standard deviation); a weight whose n* is large learns
only after about n* x (a few) sequences. Also: the gate activations on step 1 and later (the
"step-1 marker" the solved nets use: with activations reset to 0 the recurrent inputs are 0 on
step 1 only) and the class separation of the cell states at the sequence end.

Usage: python scripts/exp3b_plateau_probe.py CONFIG [--trial K] [--set KEY=VALUE ...]
         [--train B] [--n N] [--seed S] [--json FILE]
"""
import json
import time

import numpy as np

from lstmrun.config import load
from lstmrun.inspect import trace
from probe_common import config_probe_args, drift_and_noise, sequence_gradients, trial_net

a = config_probe_args(__doc__, (["--snap"], {"type": int, "default": 0,
                                "help": "save all weights every SNAP training sequences"}))

cfg = load(a.config, a.set)
tr = cfg["train"]
t0 = time.time()
task, net, snaps = trial_net(cfg, a.trial, a.train, a.snap)

B = cfg["model"]["blocks"]
names_h = [f"c{b + 1}" for b in range(B)] + [f"in{b + 1}" for b in range(B)] + \
    [f"out{b + 1}" for b in range(B)]
cols = ["x", "bias"] + names_h
rng = np.random.default_rng(a.seed)
W0h, W0o = np.array(net.Wh, float), np.array(net.Wo, float)
chunks = [task.sample(rng, 1) for _ in range(a.n)]
G = sequence_gradients(net, task, cfg, chunks)
cls, ig1, igl, s_end, y_end, marker = [], [], [], [], [], []
for i, ch in enumerate(chunks):
    cls.append(int(ch.extra["cls"][0]))
    if i < 200:
        t = trace(net, ch, 0)
        ig1.append(t["in_gates"][0])
        igl.append(t["in_gates"][1:].mean(0))
        s_end.append(t["s"][-1])
        y_end.append(t["outputs"][-1, 0])
        # the step-1 marker: the recurrent inputs on step 1 (the reset value) against their mean
        # on the later steps (what a gate must tell apart to open on step 1 only)
        yh = np.concatenate([t["cells"], t["in_gates"], t["out_gates"]], axis=1)
        marker.append(np.full(yh.shape[1], t["reset_act"]) - yh[:-1].mean(0))
cls = np.array(cls)
mean, std, nstar = drift_and_noise(G)
wnames = [f"{r}<-{c}" for r in names_h for c in cols] + \
    [f"y<-{c}" for c in (["x"] if np.asarray(net.Wo).shape[1] == 2 + B else []) + ["bias"] +
     [f"c{b + 1}" for b in range(B)]]
wnames = wnames[:G.shape[1]]
s_end, cl = np.array(s_end), cls[:len(s_end)]
sep = [(s_end[cl == 0, j].mean() - s_end[cl == 1, j].mean()) / (s_end[:, j].std() + 1e-12)
       for j in range(s_end.shape[1])]
res = {"config": a.config, "set": a.set, "trial": a.trial, "trained": a.train, "n": a.n,
       "T": cfg["task"].get("T"), "N": cfg["task"].get("N"),
       "reset_act": cfg["model"]["reset_act"], "lr": tr["lr"],
       "in_gate_step1": np.round(np.mean(ig1, 0), 4).tolist(),
       "in_gate_later": np.round(np.mean(igl, 0), 4).tolist(),
       "s_end_class_separation": np.round(sep, 3).tolist(),
       "abs_s_end": np.round(np.abs(s_end).mean(0), 3).tolist(),
       "hprime_end": np.round(((1 - (2 / (1 + np.exp(-s_end)) - 1) ** 2) / 2).mean(0), 4).tolist(),
       "step1_marker": np.round(np.mean(marker, 0), 4).tolist(),
       "step1_marker_norm": round(float(np.linalg.norm(np.mean(marker, 0))), 4),
       "output_mean": round(float(np.mean(y_end)), 4), "output_std": round(float(np.std(y_end)), 4),
       "seconds": round(time.time() - t0, 1),
       "weights": {}, "snap_names": ["sequences"] + wnames, "snaps": snaps}
order = np.argsort(nstar)
for j in order:
    if std[j] == 0:
        continue
    res["weights"][wnames[j]] = {"w": round(float(np.concatenate([W0h.ravel(), W0o.ravel()])[j]), 4),
                                 "mean": float(f"{mean[j]:.3g}"), "std": float(f"{std[j]:.3g}"),
                                 "nstar": float(f"{nstar[j]:.3g}")}
print(json.dumps({k: v for k, v in res.items() if k not in ("weights", "snaps", "snap_names")}))
print(f"{'weight':>12} {'w':>8} {'mean dw':>10} {'std dw':>10} {'n*':>10}")
for k, v in list(res["weights"].items())[:14]:
    print(f"{k:>12} {v['w']:8.3f} {v['mean']:10.3g} {v['std']:10.3g} {v['nstar']:10.3g}")
for k in ("c2<-x", "in2<-x", "in2<-in1", "in2<-out1", "in2<-bias", "out2<-bias", "y<-c2", "c1<-x",
          "in1<-x", "y<-bias"):
    if k in res["weights"]:
        v = res["weights"][k]
        print(f"{k:>12} {v['w']:8.3f} {v['mean']:10.3g} {v['std']:10.3g} {v['nstar']:10.3g}  (key)")
if a.json:
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
