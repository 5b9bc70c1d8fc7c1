"""Where does Exp 2c learning stop?  Statistics of a trained (or untrained) 2c net at the judged step.

Usage: python scripts/exp2c_probe.py RUN_DIR [--trial K] [--n 200] [--untrained] [--seed S]
Runs the net of trial K (with --untrained: a fresh net drawn from the run's config, seed S)
frozen over N fresh sequences of the run's task and prints, per cell: the state s at the judged
step (mean |s|, and the class separation d' = |mean_x - mean_y| / pooled std), h'(s) there, the
input- and output-gate activations averaged over the sequence, the per-step state drift
(mean of s(T)/T), the output weights; and the outputs' mean absolute error at the judged step.
"""
import argparse

import numpy as np

from lstmrun.inspect import load_net, trace


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--trial", type=int, default=0)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--untrained", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.untrained:
        from pathlib import Path

        from lstmrun.config import load as load_config
        from lstmrun.runner import make_model
        from lstmrun.tasks.registry import build_task
        cfg = load_config(Path(a.run_dir) / "config.yaml")
        task = build_task(cfg["task"])
        net, rec = make_model(cfg, task, np.random.default_rng(a.seed)), {}
    else:
        cfg, task, net, rec = load_net(a.run_dir, a.trial)
    chunk = task.sample(np.random.default_rng(12345), a.n)
    S, H, IG, OG, ERR, CLS, DR = [], [], [], [], [], [], []
    for i in range(a.n):
        tr = trace(net, chunk, i)
        j = np.flatnonzero(tr["judged"])[-1]
        s = tr["s"][j]
        S.append(s)
        h = 2 / (1 + np.exp(-s)) - 1
        H.append((1 + h) * (1 - h) / 2)
        IG.append(tr["in_gates"][:j + 1].mean(0))
        OG.append(tr["out_gates"][:j + 1].mean(0))
        ERR.append(np.abs(tr["clean_targets"][j] - tr["outputs"][j]).max())
        CLS.append(int(np.argmax(tr["clean_targets"][j])))
        DR.append(s / (j + 1))
    S, H, IG, OG, ERR, CLS, DR = map(np.asarray, (S, H, IG, OG, ERR, CLS, DR))
    Wo = np.asarray(net.Wo)
    C = S.shape[1]
    print(f"{a.run_dir} trial {a.trial} {'untrained seed %d' % a.seed if a.untrained else ''} "
          f"solved={rec.get('solved')} seqs={rec.get('sequences')}")
    print(f"  judged-step max abs error: mean {ERR.mean():.3f}, correct (<0.2) {np.mean(ERR < 0.2):.2f}")
    for c in range(C):
        s0, s1 = S[CLS == 0, c], S[CLS == 1, c]
        sd = np.sqrt((s0.var() + s1.var()) / 2) + 1e-12
        print(f"  cell {c}: |s| {np.abs(S[:, c]).mean():7.3f}  drift/step {DR[:, c].mean():+.4f}  "
              f"d' {abs(s0.mean() - s1.mean()) / sd:6.2f}  h'(s) {H[:, c].mean():.4f}  "
              f"in-gate {IG[:, c].mean():.3f}  out-gate {OG[:, c].mean():.3f}  "
              f"w_out {np.abs(Wo[:, -C + c]).round(3).tolist()}")


if __name__ == "__main__":
    main()
