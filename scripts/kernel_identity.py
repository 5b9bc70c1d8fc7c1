"""Are two checkouts' kernels the same, bit for bit? Train the same nets on the same data with each.

    python scripts/kernel_identity.py OLD_CHECKOUT [NEW_CHECKOUT (default: this one)] [--cases A,B]
                                      [--keep DIR]

For each case (a paper config or a later one, a fixed seed, a few hundred sequences) both
checkouts build the net and the data from OLD_CHECKOUT's config file and train it; the final
weights and the per-sequence metrics must be equal bit for bit. Each checkout runs in its own
process, with its own kernel cache folder (``LSTMRUN_KERNEL_CACHE``). A speed change that claims to
keep the arithmetic (``lstmrun/engine``: the flat buffer, SLP, transposed forward copies, the RTRL
one-hot seeds) is checked this way against the commit before it, e.g. with
``git worktree add /tmp/old <commit>``. ``--keep DIR`` keeps the two kernel caches in DIR
(``kernels0``: the old checkout's, ``kernels1``: the new one's), so that a second comparison
compiles only what changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = [  # name, config (relative to configs/), sequences, --set overrides
    ("erg", "paper/exp1_erg_3x2_lr05.yaml", 3000, []),
    ("erg_step", "paper/exp1_erg_3x2_lr05.yaml", 3000, ["train.update=step"]),
    ("adding", "paper/exp4_adding_t100.yaml", 500, []),
    ("2c", "paper/exp2c_q100_p100.yaml", 300, []),
    ("2a", "paper/exp2a_p100.yaml", 300, []),
    ("6a", "paper/exp6a_temporal_order.yaml", 500, []),
    ("3a", "paper/exp3a_t100_n3.yaml", 300, []),
    ("cerg_forget", "gers2000/cerg_forget.yaml", 300, []),
    ("gss02_peep", "gers2002/msd_f10_peep.yaml", 20, []),
    ("anbn_peep", "gers2001/anbn_forget_peephole.yaml", 300, []),
    ("rtrl_h3", "paper/exp1_erg_rtrl_h3.yaml", 300, ["train.update=step"]),
    ("rtrl_p4", "paper/exp2a_rtrl_p4_lr1.yaml", 500, []),
    ("rtrl_p100", "paper/exp2a_rtrl_p100.yaml", 50, ["train.exp=exact"]),
    ("bptt_p100", "paper/exp2a_bptt_p100.yaml", 50, ["train.exp=exact"]),
    ("rtrl_p100_fast", "paper/exp2a_rtrl_p100.yaml", 50, []),
    ("bptt_p100_fast", "paper/exp2a_bptt_p100.yaml", 50, []),
    ("elman_h15", "paper/exp1_erg_elman_h15.yaml", 300, ["train.update=step"]),
    ("elman_h15_seq", "paper/exp1_erg_elman_h15.yaml", 300, ["train.update=sequence"]),
    ("full_2c", "paper/exp2c_q50_p50.yaml", 100, ["train.gradient=full"]),
    ("full_adding", "paper/exp4_adding_t100.yaml", 200, ["train.gradient=full"]),
    ("full_erg_seq", "paper/exp1_erg_3x2_lr05.yaml", 300, ["train.gradient=full",
                                                          "train.update=sequence"]),
]
# every 1997/forget/peephole case again with the fast exp, and the later nets' with per-sequence
# changes as well
CASES += [(f"{n}_fast", c, k, s + ["train.exp=fast"]) for n, c, k, s in list(CASES)
          if n in ("erg", "erg_step", "adding", "2c", "cerg_forget", "gss02_peep", "anbn_peep")]
CASES += [(f"{n}_seq_fast", c, k, ["train.update=sequence", "train.exp=fast"])
          for n, c, k, _ in list(CASES) if n in ("cerg_forget", "anbn_peep", "gss02_peep")]

WORKER = r"""
import sys, numpy as np
root, cfg_root, out, bench = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sys.path.insert(0, root)
sys.path.insert(1, bench)             # bench/cases.py of this checkout (APIs every checkout has)
import lstmrun
assert lstmrun.__file__.startswith(root), lstmrun.__file__
from lstmrun.config import validate
from lstmrun.runner import make_model
from lstmrun.tasks.registry import build_task
from cases import case_data
import yaml
res = {}
for name, path, n, sets in CASES:
    raw = yaml.safe_load(open(cfg_root + '/configs/' + path))
    known = lstmrun.config.defaults()
    for kv in sets:   # keys this checkout does not have yet (train.exp) are left out
        k, v = kv.split('=')
        sec, key = k.split('.')
        if key in known.get(sec, {}):
            raw.setdefault(sec, {})[key] = yaml.safe_load(v)
    cfg = validate(raw)
    task = build_task(cfg['task'])
    rng = np.random.default_rng(0)
    ch, order = case_data(cfg, task, rng, n)
    net = make_model(cfg, task, rng)
    m = net.train(ch, order, lr=cfg['train']['lr'],
                  update_per_step=cfg['train']['update'] == 'step')
    res[name + '/Wh'], res[name + '/Wo'], res[name + '/metrics'] = net.Wh, net.Wo, m
np.savez(out, **res)
"""


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.exit(__doc__)
    cases = CASES
    if "--cases" in argv:
        i = argv.index("--cases")
        wanted = argv[i + 1].split(",")
        del argv[i:i + 2]
        cases = [c for c in CASES if c[0] in wanted]
        if len(cases) != len(wanted):
            sys.exit(f"unknown case in {wanted}; cases: {[c[0] for c in CASES]}")
    keep = None
    if "--keep" in argv:
        i = argv.index("--keep")
        keep = Path(argv[i + 1]).resolve()
        del argv[i:i + 2]
    old = str(Path(argv[0]).resolve())
    new = str(Path(argv[1]).resolve()) if len(argv) > 1 else str(Path(__file__).parents[1])
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="lstmrun-identity-"))
    outs = []
    for i, root in enumerate((old, new)):
        out = tmp / f"{i}.npz"
        env = {**os.environ, "LSTMRUN_KERNEL_CACHE": str((keep or tmp) / f"kernels{i}")}
        code = f"CASES = {cases!r}\n" + WORKER
        subprocess.run([sys.executable, "-c", code, root, old, str(out),
                        str(Path(__file__).resolve().parents[1] / "bench")], check=True, env=env,
                       cwd=tmp)
        outs.append(np.load(out))
    a, b = outs
    bad = [k for k in a.files if not np.array_equal(a[k], b[k])]
    for name, *_ in cases:
        keys = [k for k in a.files if k.startswith(name + "/")]
        print(f"{name:20s} {'identical' if not any(k in bad for k in keys) else 'DIFFERENT'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
