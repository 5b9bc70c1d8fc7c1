"""Where a trained adding net (HS97 Exp 4) still errs: run trial K of RUN_DIR on N fresh sequences
and tabulate the sequences wrong (|error| >= 0.04) by target, by X2's distance to the end and by
X1 on pair 1; trace the worst few (signed error, in-gate activity during the lag).

Usage: python scripts/adding_probe.py RUN_DIR [--trial K] [--n N] [--seed S] [--trace 5]
"""
import json

import numpy as np

from lstmrun.engine.lstm97 import M_CORRECT, M_SSE
from lstmrun.inspect import trace
from probe_common import probe_args, trained_net

a = probe_args(__doc__, 5000, 12345, (("--trace",), {"type": int, "default": 5}))
cfg, task, net, rec, chunk = trained_net(a)
m = net.evaluate(chunk, criterion="abs", threshold=task.threshold)
err = np.sqrt(m[:, M_SSE])
wrong = m[:, M_CORRECT] == 0
tgt = 0.5 + (chunk.extra["x1"] + chunk.extra["x2"]) / 4
lens = chunk.lengths()
m2 = chunk.extra["marked"][:, 1]
dist = lens - 1 - m2                      # steps from X2 to the last step
out = {"run": a.run_dir, "trial": a.trial, "record_sequences": rec.get("sequences"),
       "n": a.n, "wrong": int(wrong.sum()), "mae": float(err.mean()), "mse": float((err ** 2).mean()),
       "max_abs": float(err.max())}
edges = [0, 0.1, 0.2, 0.8, 0.9, 1.0001]
out["by_target"] = {f"[{lo},{hi})": [int(((tgt >= lo) & (tgt < hi)).sum()),
                                     int((wrong & (tgt >= lo) & (tgt < hi)).sum()),
                                     round(float(err[(tgt >= lo) & (tgt < hi)].mean()), 5)]
                    for lo, hi in zip(edges[:-1], edges[1:])}
q = np.quantile(dist, [0, 0.25, 0.5, 0.75, 1.0])
out["by_x2_distance_quartile"] = {}
for lo, hi in zip(q[:-1], q[1:]):
    sel = (dist >= lo) & (dist <= hi)
    out["by_x2_distance_quartile"][f"[{int(lo)},{int(hi)}]"] = [
        int(sel.sum()), int((wrong & sel).sum()), round(float(err[sel].mean()), 5)]
p1 = chunk.extra["marked"][:, 0] == 0
out["x1_on_pair1"] = [int(p1.sum()), int((wrong & p1).sum())]
worst = np.argsort(-err)[:a.trace]
out["worst"] = []
for i in worst:
    tr = trace(net, chunk, int(i))
    y = float(tr["outputs"][-1, 0])
    ig = tr["in_gates"]
    mk = chunk.extra["marked"][i]
    lagmask = np.ones(len(ig), bool)
    lagmask[mk] = False
    lagmask[0] = lagmask[-1] = False
    out["worst"].append({"i": int(i), "target": round(float(tgt[i]), 4), "output": round(y, 4),
                         "signed_error": round(float(tgt[i] - y), 4), "len": int(lens[i]),
                         "x1_pos": int(mk[0]), "x2_pos": int(mk[1]),
                         "in_gate_mean_unmarked": [round(float(v), 5) for v in ig[lagmask].mean(0)],
                         "in_gate_at_marks": [[round(float(v), 3) for v in ig[j]] for j in mk],
                         "s_end": [round(float(v), 3) for v in tr["s"][-1]]})
print(json.dumps(out, indent=1))
