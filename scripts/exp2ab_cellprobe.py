"""Exp 2a/2b probe (docs/fidelity/exp2ab.md): per class, each enabled cell's state after step 1, at step 50, at the last two steps; in-gate on the first symbol, the middle and the last step; cell->x/y output weights; x/y outputs at the end.

    PYTHONPATH=. python scripts/exp2ab_cellprobe.py RUN_DIR TRIAL[,TRIAL...]
"""
import sys, numpy as np
from lstmrun.rundir import load_trained
from lstmrun.inspect import trace
run = sys.argv[1]; trials = [int(t) for t in sys.argv[2].split(",")]
for k in trials:
    cfg, task, net, rec = load_trained(run, k)
    P = task.P; I = net.arch.n_in
    ch = task.sample(np.random.default_rng(5), 20)
    nb = net.blocks_enabled
    print(f"trial {k}: solved={rec.get('solved')} seq={rec.get('sequences')} blocks_added_at={rec.get('blocks_added_at')}")
    print("   Wo[x, cells]", np.round(net.Wo[P-1, I+1:I+1+nb], 2), " Wo[y, cells]", np.round(net.Wo[P, I+1:I+1+nb], 2))
    for c in (0, 1):
        idx = [i for i in range(ch.n) if ch.extra["cls"][i] == c][:3]
        for i in idx[:1]:
            tr = trace(net, ch, i)
            s = tr["s"][:, :nb]; g = tr["in_gates"][:, :nb]; o = tr["outputs"]
            print(f"   class {'xy'[c]}: s1 {np.round(s[0],2)} s50 {np.round(s[50],2)} s_end-1 {np.round(s[-2],2)} s_end {np.round(s[-1],2)}"
                  f" gate1 {np.round(g[0],2)} gate_mid {np.round(g[1:-1].mean(0),2)} gate_end {np.round(g[-1],2)}"
                  f" | end x {o[-1,P-1]:.2f} y {o[-1,P]:.2f}, mid max x {o[:-1,P-1].max():.2f} y {o[:-1,P].max():.2f}")
