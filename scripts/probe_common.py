"""What the probe scripts (scripts/*_probe.py, scripts/*_trace.py) share: the command line
``RUN_DIR [--trial K] [--n N] [--seed S]`` and a trained net with N fresh sequences of its task;
a config's trial K built as the runner builds it, trained on its own stream; and the per-sequence
truncated gradient of a net (the plateau probes)."""
from __future__ import annotations

import argparse

import numpy as np

from lstmrun.inspect import load_net
from lstmrun.runner import build_task, make_model, trial_seed


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


def config_probe_args(doc: str | None, *more) -> argparse.Namespace:
    """The plateau probes' command line: CONFIG [--trial K] [--set KEY=VALUE ...] [--train B]
    [--n N] [--seed S] [--json FILE]; ``more``: further (flags, keyword arguments) pairs."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("--trial", type=int, default=0)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--train", type=int, default=0)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json")
    for flags, kw in more:
        ap.add_argument(*flags, **kw)
    return ap.parse_args()


def trial_net(cfg: dict, trial: int, train: int, snap: int = 0):
    """(task, net, snaps): trial ``trial`` of the resolved config ``cfg``, its net built from the
    trial's own seeds as :func:`lstmrun.runner.run_trial` builds it, then trained on ``train``
    sequences of the trial's training stream in chunks of 1,000 at the config's learning rate and
    update mode (the on-line protocols' chunking; a check's frozen sequences are drawn from another
    stream, so this is the run's trial after that many sequences). ``snap``: every ``snap``
    sequences, a row [sequences, Wh..., Wo...] is appended to ``snaps``."""
    tr = cfg["train"]
    task = build_task(cfg["task"])
    seed = trial_seed(cfg["seed"], trial)
    init_rng, train_rng, _ = (np.random.default_rng(s)
                              for s in np.random.SeedSequence(seed).spawn(3))
    net = make_model(cfg, task, init_rng)
    done, snaps = 0, []
    while done < train:
        k = min(1000, train - done)
        net.train(task.sample(train_rng, k), lr=tr["lr"], update_per_step=tr["update"] == "step",
                  criterion="abs", threshold=task.threshold)
        done += k
        if snap and done % snap == 0:
            snaps.append([done] + np.concatenate([np.ravel(net.Wh), np.ravel(net.Wo)]).tolist())
    return task, net, snaps


def sequence_gradients(net, task, cfg: dict, chunks):
    """One row per chunk (a one-sequence chunk each): the change of every weight (Wh then Wo,
    row-major) that one on-line pass over it makes at lr = 1 from the weights ``net`` has now,
    i.e. -dE/dw of the kernel's own truncated gradient (E = 1/2 (t - y)^2); ``net`` is left as
    it is."""
    per_step = cfg["train"]["update"] == "step"
    W0h, W0o = np.array(net.Wh, float), np.array(net.Wo, float)
    rows = []
    for ch in chunks:
        c = net.copy()
        c.train(ch, lr=1.0, update_per_step=per_step, criterion="abs", threshold=task.threshold)
        rows.append(np.concatenate([(np.asarray(c.Wh) - W0h).ravel(),
                                    (np.asarray(c.Wo) - W0o).ravel()]))
    return np.array(rows)


def drift_and_noise(G):
    """Per column of ``G`` (sequences x weights): mean, std and n* = (std / mean)^2, the number of
    sequences after which the summed drift exceeds the summed noise (one standard deviation)."""
    mean, std = G.mean(0), G.std(0)
    return mean, std, std ** 2 / np.maximum(mean ** 2, 1e-300)
