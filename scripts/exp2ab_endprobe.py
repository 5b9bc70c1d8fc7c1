"""Exp 2a/2b probe (docs/fidelity/exp2ab.md): over 40 fresh sequences per trial, the end-of-sequence x/y outputs by class, the largest x/y outputs before the end, the other outputs at the end, cell states after step 1 and at the end, mean middle in-gate.

    PYTHONPATH=. python scripts/exp2ab_endprobe.py RUN_DIR TRIAL[,TRIAL...]
"""
import sys, numpy as np
from lstmrun.rundir import load_trained
from lstmrun.inspect import trace
run = sys.argv[1]; trials = [int(t) for t in sys.argv[2].split(",")]
for k in trials:
    cfg, task, net, rec = load_trained(run, k)
    ch = task.sample(np.random.default_rng(5), 40)
    rows = []
    for i in range(ch.n):
        tr = trace(net, ch, i)
        c = int(ch.extra["cls"][i]); P = task.P
        o = tr["outputs"]; s = tr["s"]
        others = np.delete(o[-1], [P-1, P]).max()
        rows.append((c, o[-1, P-1], o[-1, P], o[:-1, P-1].max(), o[:-1, P].max(), others,
                     s[0].tolist(), s[-1].tolist(), tr["in_gates"][1:-1].mean(axis=0).tolist()))
    print(f"trial {k}: solved={rec.get('solved')} seq={rec.get('sequences')} added={rec.get('cells_added_at')} {rec.get('blocks_added_at','')}")
    for c in (0, 1):
        r = [x for x in rows if x[0] == c]
        a = np.array([x[1:6] for x in r])
        print(f"  class {'xy'[c]}: end x-out {a[:,0].min():.2f}-{a[:,0].max():.2f}  end y-out {a[:,1].min():.2f}-{a[:,1].max():.2f}"
              f"  mid max x {a[:,2].max():.2f} y {a[:,3].max():.2f}  other-out max {a[:,4].max():.2f}")
        s0 = np.array([x[6] for x in r]); se = np.array([x[7] for x in r]); g = np.array([x[8] for x in r])
        print(f"    s after step1 {np.round(s0.mean(0),2)}  s end {np.round(se.min(0),2)}..{np.round(se.max(0),2)}  mean mid in-gate {np.round(g.mean(0),3)}")
