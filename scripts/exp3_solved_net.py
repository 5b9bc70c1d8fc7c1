"""Weights and gate activity of a trained 2-sequence net (HS97 Exp 3, 3 blocks x 1 cell): which
block stores the class, how open each input gate is on step 1 and on the later steps, and the cell
states at the end, on a few fresh sequences.

Usage: python scripts/exp3_solved_net.py RUN_DIR [--trial K] [--n N] [--seed S]
"""
import argparse

import numpy as np

from lstmrun.inspect import load_net, trace

ap = argparse.ArgumentParser()
ap.add_argument("run_dir")
ap.add_argument("--trial", type=int, default=0)
ap.add_argument("--n", type=int, default=6)
ap.add_argument("--seed", type=int, default=5)
a = ap.parse_args()
np.set_printoptions(precision=3, suppress=True, linewidth=150)
cfg, task, net, rec = load_net(a.run_dir, a.trial)
B = cfg["model"]["blocks"]
units = [f"c{b + 1}" for b in range(B)] + [f"in{b + 1}" for b in range(B)] + \
    [f"out{b + 1}" for b in range(B)]
print(f"{a.run_dir} trial {a.trial}: solved={rec.get('solved')} at {rec.get('sequences')}")
print("Wh rows:", " ".join(units), "| columns: x bias", " ".join(units))
print(np.asarray(net.Wh))
print("Wo (x bias c1..):", np.asarray(net.Wo))
ch = task.sample(np.random.default_rng(a.seed), a.n)
for i in range(a.n):
    tr = trace(net, ch, i)
    print(f"class {ch.extra['cls'][i]} x1 {tr['inputs'][0, 0]:+.2f} output at end "
          f"{tr['outputs'][-1, 0]:.3f}")
    print("  input gates step 1", tr["in_gates"][0], " later (mean)", tr["in_gates"][1:].mean(0))
    print("  s after step 1", tr["s"][0], " s at end", tr["s"][-1],
          " output gates at end", tr["out_gates"][-1])
