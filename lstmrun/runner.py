"""Trials, seeds, parallel execution and results on disk.

Seeds: one run seed ``S``. Trial ``k`` gets ``SeedSequence(S, spawn_key=(1, k))`` (recorded as the
integer ``seed`` in ``trials.jsonl``; initial weights and training order are drawn from it) and
uses data set ``k % task.data_sets``, drawn from ``SeedSequence(S, spawn_key=(0, d))`` -- so HS97's
"3 set pairs x 10 initialisations" is ``trials: 30, data_sets: 3``. A trial depends on nothing
else, so the same seed gives the same ``trials.jsonl`` whatever ``--jobs`` is.

A run folder holds ``config.yaml`` (resolved), ``meta.json``, ``trials.jsonl`` (one line per
finished trial, appended and fsync'ed by the parent process only), ``weights/trial_K.npz`` and
``summary.json``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from . import __version__
from .config import ConfigError, dump, validate
from .engine import LSTM97, Arch, Init
from .protocols import cerg, cslang, exp1, guess, online, timing
from .tasks.registry import build_task

PROTOCOLS = {"exp1": exp1.run, "guess": guess.run, "abs": online.run, "st12": online.run,
             "st3": online.run, "nseq": online.run, "cerg": cerg.run, "cslang": cslang.run,
             "timing": timing.run}


def make_arch(cfg: dict, task) -> Arch:
    m = cfg["model"]
    return Arch(n_in=task.n_in, n_out=task.n_out, blocks=m["blocks"],
                cells_per_block=m["cells_per_block"], output_gate=m["output_gate"],
                connectivity=m["connectivity"], biases=m["biases"], output_bias=m["output_bias"],
                input_to_output=m["input_to_output"], g=m["g"], h=m["h"],
                output_act=m["output_act"], forget_gate=m["forget_gate"],
                state_decay=m["state_decay"], peepholes=m["peepholes"])


def make_model(cfg: dict, task, rng: np.random.Generator):
    """A freshly initialised network of the config's ``model.kind``."""
    m = cfg["model"]
    if m["kind"] == "lstm97":
        net = LSTM97.random(make_arch(cfg, task), make_init(cfg), rng, reset_act=m["reset_act"])
        net.full_gradient = cfg["train"].get("gradient") == "full"
        net.fast_exp = cfg["train"].get("exp") == "fast"
        net.set_momentum(float(cfg["train"].get("momentum", 0.0)))
        return net
    if m["kind"] == "guess":
        from .engine.guessnet import make_guess_net

        return make_guess_net(m, task)
    scale = cfg["init"]["scale"]
    if m["kind"] == "frnn":
        from .engine.frnn import FRNN, FRNNArch

        arch = FRNNArch(task.n_in, task.n_out, m["hidden"], outputs=m["outputs"],
                        hidden_bias=m["hidden_bias"], output_bias=bool(m["output_bias"]),
                        hidden_self_only=m["hidden_self_only"],
                        outputs_from_inputs=m["input_to_output"] is not False)
        net = FRNN.random(arch, scale, rng, rule=m["rule"], reset_act=m["reset_act"])
        net.fast_exp = cfg["train"].get("exp") == "fast"
        return net
    from .engine.elman import Elman, ElmanArch

    arch = ElmanArch(task.n_in, task.n_out, m["hidden"], hidden_bias=m["hidden_bias"],
                     output_bias=bool(m["output_bias"]),
                     outputs_from_inputs=bool(m["input_to_output"]))
    return Elman.random(arch, scale, rng, reset_act=m["reset_act"])


def make_init(cfg: dict) -> Init:
    i = cfg["init"]
    tup = (lambda v: None if v is None else tuple(float(x) for x in v))
    return Init(scale=i["scale"], input_gate_bias=tup(i["input_gate_bias"]),
                output_gate_bias=tup(i["output_gate_bias"]),
                forget_gate_bias=tup(i["forget_gate_bias"]), bias_mode=i["bias_mode"])


def count_unit(cfg: dict) -> str:
    """What a trial counts until it solves: ``guesses`` (random weight guessing) or training
    ``sequences`` (every other protocol). trials.jsonl and summary.json name it so."""
    return "guesses" if cfg["protocol"]["name"] == "guess" else "sequences"


def trial_seed(run_seed: int, k: int) -> int:
    return int(np.random.SeedSequence(run_seed, spawn_key=(1, k)).generate_state(1, np.uint64)[0])


def data_seed(run_seed: int, d: int) -> int:
    return int(np.random.SeedSequence(run_seed, spawn_key=(0, d)).generate_state(1, np.uint64)[0])


def run_trial(cfg: dict, k: int) -> tuple[dict, dict]:
    """Run trial ``k`` of a resolved config. Returns (the trials.jsonl record, final weights)."""
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
    res = PROTOCOLS[cfg["protocol"]["name"]](cfg, task, net, data_rng, train_rng)
    unit = count_unit(cfg)
    rec = {"trial": k, "seed": seed, "data_set": d, "solved": bool(res["solved"]),
           unit: int(res[unit]), "reason": res["reason"],
           "wall_seconds": round(time.perf_counter() - t0, 3)}
    rec.update({key: v for key, v in res.items() if key not in ("solved", unit, "reason")})
    return rec, {"Wh": net.Wh, "Wo": net.Wo}


# ------------------------------------------------------------------------------------------------
# results on disk

def git_info() -> dict:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=here,
                                    capture_output=True, text=True, timeout=5).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def versions() -> dict:
    import numba

    return {"lstmrun": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__}


def default_out(cfg: dict) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / cfg["experiment"] / f"{stamp}-{secrets.token_hex(3)}"


def read_trials(run_dir: Path) -> list[dict]:
    """The finished trials of a run; a torn last line (a killed writer) is ignored."""
    p = Path(run_dir) / "trials.jsonl"
    out = []
    if p.exists():
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def check_resume(run_dir: Path, cfg: dict) -> list[int]:
    """The trials of ``run_dir`` still to run; ValueError if the run's config differs from ``cfg``."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").exists() or not (run_dir / "meta.json").exists():
        raise ValueError(f"{run_dir}: not a run folder (no config.yaml/meta.json)")
    old = yaml.safe_load((run_dir / "config.yaml").read_text())
    try:  # keys added to the schema since the run was made count with their defaults
        old = yaml.safe_load(dump(validate(old, str(run_dir / "config.yaml"))))
    except ConfigError:
        pass  # compared as written: the difference is then reported below
    new = yaml.safe_load(dump(cfg))
    if old != new:
        diff = sorted(_diff_keys(old, new))
        raise ValueError(f"{run_dir}: the config differs from the run's ({', '.join(diff)}); "
                         "refusing to mix results -- start a new run instead")
    done = {t["trial"] for t in read_trials(run_dir)}
    return [k for k in range(cfg["trials"]) if k not in done]


def _diff_keys(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            yield from _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
    elif a != b:
        yield prefix.rstrip(".")


def summarize(cfg: dict, trials: list[dict]) -> dict:
    unit = count_unit(cfg)
    solved = sorted(t[unit] for t in trials if t["solved"])
    n = len(trials)
    s: dict = {"experiment": cfg["experiment"], "trials": n, "solved": len(solved),
               "success_rate": (len(solved) / n) if n else None,
               "budget": cfg["protocol"]["budget"], "unit": unit}
    if solved:
        a = np.asarray(solved, float)
        s[f"{unit}_to_solve"] = {
            "mean": float(a.mean()), "median": float(np.median(a)), "min": int(a.min()),
            "max": int(a.max()), "q25": float(np.percentile(a, 25)),
            "q75": float(np.percentile(a, 75))}
    else:
        s[f"{unit}_to_solve"] = None
    fr = [t["test_fraction_correct"] for t in trials
          if t["solved"] and t.get("test_fraction_correct") is not None]
    if fr:                                  # guessing: the solvers' share of correct test sequences
        s["test_fraction_correct"] = {"mean": float(np.mean(fr)), "min": float(np.min(fr))}
    if cfg["protocol"]["name"] == "cerg":   # GSC00 Table 2: perfect / good / rest
        s["cerg"] = cerg.summary(trials)
    if cfg["protocol"]["name"] == "cslang":  # GS01: generalisation (largest n all correct)
        s["cslang"] = cslang.summary(trials)
    s["paper"] = cfg.get("paper")
    return s


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


class RunWriter:
    """The single writer of a run folder. ``resume=True`` reopens an existing run: its finished
    trials are kept (a torn last line of a killed run is dropped) and new ones are appended."""

    def __init__(self, run_dir: Path, cfg: dict, argv: list[str] | None = None,
                 resume: bool = False):
        self.dir = Path(run_dir)
        (self.dir / "weights").mkdir(parents=True, exist_ok=True)
        now = _dt.datetime.now().isoformat(timespec="seconds")
        if resume:
            self.meta = json.loads((self.dir / "meta.json").read_text())
            self.meta.setdefault("resumed", []).append(now)
            self.meta.update(status="running", finished=None)
            kept = read_trials(self.dir)
            tmp = self.dir / "trials.jsonl.tmp"
            tmp.write_text("".join(json.dumps(t) + "\n" for t in kept))
            os.replace(tmp, self.dir / "trials.jsonl")
        else:
            (self.dir / "config.yaml").write_text(dump(cfg))
            self.meta = {"experiment": cfg["experiment"], "seed": cfg["seed"],
                         "trials": cfg["trials"], "versions": versions(), "git": git_info(),
                         "host": socket.gethostname(), "argv": argv or sys.argv,
                         "started": now, "finished": None, "status": "running"}
        _write_json(self.dir / "meta.json", self.meta)
        self._fh = open(self.dir / "trials.jsonl", "a")

    def add(self, rec: dict, weights: dict) -> None:
        np.savez(self.dir / "weights" / f"trial_{rec['trial']:03d}.npz", **weights)
        self._fh.write(json.dumps(rec) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self, cfg: dict, status: str) -> dict:
        self._fh.close()
        trials = sorted(read_trials(self.dir), key=lambda t: t["trial"])
        summary = summarize(cfg, trials)
        _write_json(self.dir / "summary.json", summary)
        self.meta.update(finished=_dt.datetime.now().isoformat(timespec="seconds"), status=status)
        _write_json(self.dir / "meta.json", self.meta)
        return summary


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
    else:
        net.train(chunk, lr=0.1)


def execute(cfg: dict, trials: list[int], jobs: int, on_result, executor: str = "local",
            scheduler: str | None = None) -> None:
    """Run ``trials`` of ``cfg``; call ``on_result(rec, weights)`` in this process as each ends
    (see :mod:`lstmrun.executors`)."""
    from .executors import run_jobs

    run_jobs([(None, cfg, k) for k in trials], lambda _key, rec, w: on_result(rec, w),
             executor=executor, jobs=jobs, scheduler=scheduler)
