"""Cell states of a trained or half-trained adding net (HS97 Exp 4) over fresh sequences: how far
the states drift during the lag, how saturated h is (h'(s) = (1 - h(s)^2) / 2, 0.5 at s = 0), how
open the input gates are on unmarked steps, and whether the output follows the target.

Usage: python scripts/adding_state_trace.py RUN_DIR [--trial K] [--n N] [--seed S]
"""
import json

import numpy as np

from lstmrun.inspect import trace
from probe_common import probe_args, trained_net

a = probe_args(__doc__, 20, 7)
cfg, task, net, rec, chunk = trained_net(a)
rows = []
for i in range(a.n):
    tr = trace(net, chunk, i)
    s, ig = tr["s"], tr["in_gates"]
    mk = chunk.extra["marked"][i]
    h = 2.0 / (1.0 + np.exp(-s)) - 1.0
    hp = (1.0 - h ** 2) / 2.0
    unm = np.ones(len(ig), bool)
    unm[mk] = False
    unm[0] = unm[-1] = False
    rows.append({"abs_s_end": np.abs(s[-1]), "hprime_end": hp[-1], "hprime_mean": hp.mean(0),
                 "drift_per_step": (s[-1] - s[mk[1]]) / max(1, len(s) - 1 - mk[1]),
                 "in_gate_unmarked": ig[unm].mean(0), "in_gate_x2": ig[mk[1]],
                 "out_gate_end": tr["out_gates"][-1],
                 "y": float(tr["outputs"][-1, 0]),
                 "t": float(0.5 + (chunk.extra["x1"][i] + chunk.extra["x2"][i]) / 4)})
agg = {k: np.round(np.mean([r[k] for r in rows], axis=0), 4).tolist()
       for k in ("abs_s_end", "hprime_end", "hprime_mean", "drift_per_step", "in_gate_unmarked",
                 "in_gate_x2", "out_gate_end")}
y = np.array([r["y"] for r in rows])
t = np.array([r["t"] for r in rows])
agg.update(run=a.run_dir, trial=a.trial, record_sequences=rec.get("sequences"),
           solved=rec.get("solved"),
           n=a.n, output_mean=round(float(y.mean()), 4), output_std=round(float(y.std()), 4),
           corr_output_target=round(float(np.corrcoef(y, t)[0, 1]), 4) if y.std() > 0 else None,
           mse=round(float(((y - t) ** 2).mean()), 5))
print(json.dumps(agg))
