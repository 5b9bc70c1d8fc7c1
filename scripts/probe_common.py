"""What the probe scripts (scripts/*_probe.py, scripts/*_trace.py) share: the command line
``RUN_DIR [--trial K] [--n N] [--seed S]`` and a trained net with N fresh sequences of its task."""
from __future__ import annotations

import argparse

import numpy as np

from lstmrun.inspect import load_net


def probe_args(doc: str | None, n: int, seed: int, *more) -> argparse.Namespace:
    """Parse RUN_DIR, --trial (0), --n (``n``) and --seed (``seed``); ``more``: further
    (flags, keyword arguments) pairs for ``add_argument``."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--trial", type=int, default=0)
    ap.add_argument("--n", type=int, default=n)
    ap.add_argument("--seed", type=int, default=seed)
    for flags, kw in more:
        ap.add_argument(*flags, **kw)
    return ap.parse_args()


def trained_net(a: argparse.Namespace):
    """(cfg, task, net, trial record, chunk): trial ``a.trial`` of ``a.run_dir`` and ``a.n`` fresh
    sequences drawn with seed ``a.seed``."""
    cfg, task, net, rec = load_net(a.run_dir, a.trial)
    chunk = task.sample(np.random.default_rng(a.seed), a.n)
    return cfg, task, net, rec, chunk
