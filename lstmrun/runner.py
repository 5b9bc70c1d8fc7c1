"""Trials: seeds, the protocol that trains a network, and compiling kernels before work starts.

Seeds: one run seed ``S``. Trial ``k`` gets ``SeedSequence(S, spawn_key=(1, k))`` (recorded as the
integer ``seed`` in ``trials.jsonl``; initial weights and training order are drawn from it) and
uses data set ``k % task.data_sets``, drawn from ``SeedSequence(S, spawn_key=(0, d))`` -- so HS97's
"3 set pairs x 10 initialisations" is ``trials: 30, data_sets: 3``. A trial depends on nothing
else, so the same seed gives the same ``trials.jsonl`` whatever ``--jobs`` is.

Where trials run is :mod:`lstmrun.executors`; what a run folder holds is :mod:`lstmrun.rundir`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .factory import make_arch, make_init, make_model  # noqa: F401  (the runner's public names)
from .protocols import BY_NAME
from .protocols.checkpoint import TrialCheckpoint
from .rundir import CHECKPOINT_KEY, checkpoint_name, count_unit
from .tasks.registry import build_task

PROTOCOLS = {name: m.run for name, m in BY_NAME.items()}


def trial_seed(run_seed: int, k: int) -> int:
    return int(np.random.SeedSequence(run_seed, spawn_key=(1, k)).generate_state(1, np.uint64)[0])


def data_seed(run_seed: int, d: int) -> int:
    return int(np.random.SeedSequence(run_seed, spawn_key=(0, d)).generate_state(1, np.uint64)[0])


def run_trial(cfg: dict, k: int, wrap=None) -> tuple[dict, dict]:
    """Run trial ``k`` of a resolved config. Returns (the trials.jsonl record, final weights).
    ``wrap(net)``, if given, is called on the new network before training (:mod:`lockstep`
    routes its training calls through the lanes kernel). ``cfg[CHECKPOINT_KEY]`` = {"dir": folder,
    "every": seconds}, if given, lets a protocol that can (``CHECKPOINTS`` in its module) save and
    resume the trial there (:mod:`lstmrun.protocols.checkpoint`); ``wall_seconds`` then counts
    the time before a restored checkpoint too."""
    t0 = time.perf_counter()
    task = build_task(cfg["task"])
    seed = trial_seed(cfg["seed"], k)
    d = k % cfg["task"].get("data_sets", 1)
    init_rng, train_rng, test_rng = (np.random.default_rng(s)
                                     for s in np.random.SeedSequence(seed).spawn(3))
    # Exp 1 draws fixed (training, test) set pairs shared by trials; the on-line protocols draw
    # their test sequences from the trial's own stream.
    data_rng = (np.random.default_rng(data_seed(cfg["seed"], d)) if "data_sets" in cfg["task"]
                else test_rng)
    net = make_model(cfg, task, init_rng)
    if wrap is not None:
        wrap(net)
    pname = cfg["protocol"]["name"]
    ck = cfg.get(CHECKPOINT_KEY)
    if ck and getattr(BY_NAME[pname], "CHECKPOINTS", False):
        ckpt = TrialCheckpoint(Path(ck["dir"]) / checkpoint_name(k), ck["every"])
        res = PROTOCOLS[pname](cfg, task, net, data_rng, train_rng, ckpt=ckpt)
        prior = ckpt.prior_seconds
    else:
        res = PROTOCOLS[pname](cfg, task, net, data_rng, train_rng)
        prior = 0.0
    unit = count_unit(cfg)
    rec = {"trial": k, "seed": seed, "data_set": d, "solved": bool(res["solved"]),
           unit: int(res[unit]), "reason": res["reason"],
           "wall_seconds": round(prior + time.perf_counter() - t0, 3)}
    rec.update({key: v for key, v in res.items() if key not in ("solved", unit, "reason")})
    return rec, {"Wh": net.Wh, "Wo": net.Wo}


# ------------------------------------------------------------------------------------------------
# execution

def warm_up(cfg: dict) -> None:
    """Compile (or load from Numba's cache) the kernels in this process before workers start, so
    that they load a warm cache instead of compiling in parallel."""
    task = build_task(cfg["task"])
    chunk = task.sample(np.random.default_rng(0), 2)
    net = make_model(cfg, task, np.random.default_rng(0))
    if cfg["model"]["kind"] == "guess":     # forward only
        net.evaluate(chunk, criterion="abs", threshold=0.1)
    else:   # with the config's update mode (the full gradient refuses per-step changes here)
        net.train(chunk, lr=0.1, update_per_step=cfg["train"]["update"] == "step")
