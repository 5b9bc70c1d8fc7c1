"""Run folders: their layout, their single (locked) writer, and reading them back.

A run folder holds ``config.yaml`` (the resolved config), ``meta.json``, ``trials.jsonl`` (one line
per finished trial, appended and fsync'ed by the parent process only), ``weights/trial_KKK.npz``,
``summary.json`` and ``.lock``; while trials run, ``checkpoints/trial_KKKKK.pkl`` (a running
trial's saved state, :mod:`lstmrun.protocols.checkpoint`; deleted once its record is written).
Every name is spelled here; the other modules ask this one.

One process writes a run folder at a time: :func:`open_run` takes an exclusive ``flock`` on
``.lock`` before it writes or even checks anything, and holds it until the writer is closed (the
kernel drops it when the process dies, so a killed run can be resumed at once).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from . import __version__
from .config import ConfigError, dump, validate

CONFIG = "config.yaml"
META = "meta.json"
TRIALS = "trials.jsonl"
SUMMARY = "summary.json"
WEIGHTS = "weights"
LOCK = ".lock"
CHECKPOINTS = "checkpoints"
# the key of a job's config (never written to config.yaml) that tells run_trial where trial
# checkpoints go: {"dir": run folder / CHECKPOINTS, "every": seconds}
CHECKPOINT_KEY = "_checkpoint"


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (the CLI prints it as one line, exit 2)."""


def weights_path(run_dir, trial: int) -> Path:
    return Path(run_dir) / WEIGHTS / f"trial_{trial:03d}.npz"


def checkpoint_name(trial: int) -> str:
    return f"trial_{trial:05d}.pkl"


def pending_checkpoints(run_dir) -> int:
    """How many unfinished trials of a run folder wait in a checkpoint."""
    return len(list((Path(run_dir) / CHECKPOINTS).glob(checkpoint_name(0).replace("00000", "*"))))


def with_checkpoints(cfg: dict, run_dir, every: float | None) -> dict:
    """The config a run's jobs get: ``cfg`` itself, or with ``every`` > 0 a copy that also
    names the folder for its trials' checkpoints (:data:`CHECKPOINT_KEY`)."""
    if not every:
        return cfg
    return {**cfg, CHECKPOINT_KEY: {"dir": str(Path(run_dir) / CHECKPOINTS), "every": float(every)}}


def default_out(cfg: dict) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / cfg["experiment"] / f"{stamp}-{secrets.token_hex(3)}"


# ------------------------------------------------------------------------------------------------
# reading

def read_trials(run_dir) -> list[dict]:
    """The finished trials of a run; a torn last line (a killed writer) and lines that are not a
    trial record (``null``, a bare number) are ignored."""
    p = Path(run_dir) / TRIALS
    out = []
    try:
        text = p.read_text(errors="replace")
    except FileNotFoundError:
        return out
    except OSError as e:
        raise RunFolderError(f"{p}: cannot read ({e.strerror})") from None
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("trial"), int) and "solved" in rec:
            out.append(rec)
    return out


def trial_record(run_dir, trial: int) -> dict:
    """Trial ``trial``'s trials.jsonl record ({} if none)."""
    return next((t for t in read_trials(run_dir) if t["trial"] == trial), {})


def load_config(run_dir, config=None) -> dict:
    """The run's config (or ``config``, a file of the same network), resolved against today's
    defaults (older run folders lack newer keys)."""
    from .config import load

    cpath = Path(config) if config is not None else Path(run_dir) / CONFIG
    if not cpath.is_file():
        raise RunFolderError(f"{cpath}: no such config (is {run_dir} a run folder?)")
    try:
        return load(cpath)
    except ConfigError as e:
        raise RunFolderError(str(e)) from None


def load_weights(run_dir, trial: int) -> dict:
    """``{"Wh": ..., "Wo": ...}`` of trial ``trial``; RunFolderError (one line) for a missing,
    empty, truncated or corrupt file."""
    wpath = weights_path(run_dir, trial)
    if not wpath.exists():
        raise RunFolderError(f"{wpath}: no weights for trial {trial} in this run")
    try:
        with np.load(wpath, allow_pickle=False) as w:
            out = {k: np.array(w[k], dtype=np.float64) for k in ("Wh", "Wo")}
    except KeyError as e:
        raise RunFolderError(f"{wpath}: not a weights file of lstmrun (no {e} array)") from None
    except Exception as e:  # noqa: BLE001  (zipfile, EOF, pickle, format errors: all one answer)
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RunFolderError(f"{wpath}: not a readable weights file ({why})") from None
    return out


def load_trained(run_dir, trial: int, config=None):
    """``(cfg, task, net, record)``: the run's config, its task, trial ``trial``'s network with
    its trained weights (cells enabled as the trial ended, for sequential construction) and its
    trials.jsonl record ({} if none). The one loader of ``eval``, ``inspect`` and the plots."""
    from .factory import make_model
    from .tasks.registry import build_task

    cfg = load_config(run_dir, config)
    w = load_weights(run_dir, trial)
    task = build_task(cfg["task"])
    net = make_model(cfg, task, np.random.default_rng(0))
    if net.Wh.shape != w["Wh"].shape or net.Wo.shape != w["Wo"].shape:
        raise RunFolderError(f"{weights_path(run_dir, trial)}: weights do not fit the run's "
                             "network")
    net.Wh[...] = w["Wh"]
    net.Wo[...] = w["Wo"]
    rec = trial_record(run_dir, trial)
    if cfg["train"].get("sequential"):  # a trial that ended before its cells joined has none
        if "blocks_added_at" in rec:    # train.grow: one
            net.enable_blocks(len(rec["blocks_added_at"]))
        else:
            net.enable_cells("cells_added_at" in rec)
    return cfg, task, net, rec


def check_resume(run_dir, cfg: dict) -> list[int]:
    """The trials of ``run_dir`` still to run; RunFolderError if the run's config differs from
    ``cfg``."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists() or not (run_dir / META).exists():
        raise RunFolderError(f"{run_dir}: not a run folder (no {CONFIG}/{META})")
    new = yaml.safe_load(dump(cfg))
    old = _resolved_run_config(run_dir)
    for c in (old, new):        # derived from the overrides, not a setting (runs made before it)
        if isinstance(c, dict) and isinstance(c.get("paper"), dict):
            c["paper"].pop("setup_differs", None)
    if old != new:
        diff = sorted(diff_keys(old, new))
        raise RunFolderError(
            f"{run_dir}: this command's config differs from the run's ({', '.join(diff)}); "
            f"`lstmrun train --resume {run_dir}` alone continues the run with its own config")
    done = {t["trial"] for t in read_trials(run_dir)}
    return [k for k in range(cfg["trials"]) if k not in done]


def _resolved_run_config(run_dir: Path) -> dict:
    from .config import read_yaml

    try:
        old = read_yaml(run_dir / CONFIG)
    except ConfigError as e:
        raise RunFolderError(str(e)) from None
    try:  # keys added to the schema since the run was made count with their defaults
        return yaml.safe_load(dump(validate(old, str(run_dir / CONFIG))))
    except ConfigError:
        return old  # compared as written: the difference is then reported


def diff_keys(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            yield from diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
    elif a != b:
        yield prefix.rstrip(".")


# ------------------------------------------------------------------------------------------------
# summary

def count_unit(cfg: dict) -> str:
    """What a trial counts until it solves: ``guesses`` (random weight guessing) or training
    ``sequences`` (every other protocol). trials.jsonl and summary.json name it so."""
    return "guesses" if cfg["protocol"]["name"] == "guess" else "sequences"


def summarize(cfg: dict, trials: list[dict]) -> dict:
    from .protocols import summary as protocol_summary

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
    extra = protocol_summary(cfg["protocol"]["name"], trials)   # GSC00's cerg, GS01's cslang
    if extra is not None:
        s[cfg["protocol"]["name"]] = extra
    s["paper"] = cfg.get("paper")
    return s


# ------------------------------------------------------------------------------------------------
# writing

def json_safe(obj):
    """``obj`` with every non-finite float replaced by None: a diverged trial's NaN curve point
    is written as ``null`` (valid JSON), never as a bare ``NaN``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.floating):
        return json_safe(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def dumps(obj, **kw) -> str:
    return json.dumps(json_safe(obj), allow_nan=False, **kw)


def write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def git_info() -> dict:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
        # tracked files only: result folders written inside the checkout do not make it dirty
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                    cwd=here, capture_output=True, text=True,
                                    timeout=5).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def versions() -> dict:
    import numba

    return {"lstmrun": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__}


class FolderLock:
    """An exclusive, non-blocking ``flock`` on ``DIR/.lock`` (held while the object lives; the
    kernel releases it if the process dies)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (documented)
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise RunFolderError(f"{folder}: another lstmrun process is writing this folder "
                                 "(it holds its lock); wait for it, or choose another --out") \
                from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()} {socket.gethostname()}\n".encode())

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)       # closing the descriptor drops the flock
            self.fd = None


def lock_folder(folder) -> FolderLock:
    """Create ``folder`` (and its parents) and take its lock."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return FolderLock(folder)


def open_run(run_dir, cfg: dict, resume: bool = False, argv: list[str] | None = None):
    """Lock ``run_dir`` and open it for writing: ``(writer, trials still to run)``.

    A new run needs a new or empty folder; ``resume`` needs a run folder of the same config.
    Everything is checked under the lock, so two processes never both pass."""
    run_dir = Path(run_dir)
    lock = lock_folder(run_dir)
    try:
        if resume:
            todo = check_resume(run_dir, cfg)
        else:
            if (run_dir / TRIALS).exists():
                raise RunFolderError(f"{run_dir} already holds a run; choose another --out, or "
                                     f"`lstmrun train --resume {run_dir}`")
            other = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK)
            if other:
                raise RunFolderError(f"{run_dir} is not empty ({', '.join(other[:3])}"
                                     f"{', ...' if len(other) > 3 else ''}); a new run needs a "
                                     "new or empty folder")
            todo = list(range(cfg["trials"]))
        writer = RunWriter(run_dir, cfg, argv=argv, resume=resume, lock=lock)
    except BaseException:
        lock.release()
        raise
    return writer, todo


class RunWriter:
    """The single writer of a run folder (see :func:`open_run`, which takes the folder's lock
    first). ``resume=True`` reopens an existing run: its finished trials are kept (a torn last
    line of a killed run is dropped) and new ones are appended."""

    def __init__(self, run_dir: Path, cfg: dict, argv: list[str] | None = None,
                 resume: bool = False, lock: FolderLock | None = None):
        self.dir = Path(run_dir)
        self.lock = lock
        (self.dir / WEIGHTS).mkdir(parents=True, exist_ok=True)
        now = _dt.datetime.now().isoformat(timespec="seconds")
        if resume:
            try:
                self.meta = json.loads((self.dir / META).read_text())
            except (OSError, ValueError) as e:
                raise RunFolderError(f"{self.dir / META}: unreadable ({e})") from None
            if not isinstance(self.meta, dict):
                raise RunFolderError(f"{self.dir / META}: not a run's meta data")
            self.meta.setdefault("resumed", []).append(now)
            # the code a resumed run continues with (the report lists the commits that ran a row)
            self.meta.setdefault("resumed_git", []).append(git_info())
            self.meta.update(status="running", finished=None)
            kept = read_trials(self.dir)
            tmp = self.dir / (TRIALS + ".tmp")
            tmp.write_text("".join(dumps(t) + "\n" for t in kept))
            os.replace(tmp, self.dir / TRIALS)
            for t in kept:      # a checkpoint outlived its trial's record (killed in between)
                self._drop_checkpoint(t["trial"])
        else:
            (self.dir / CONFIG).write_text(dump(cfg))
            self.meta = {"experiment": cfg["experiment"], "seed": cfg["seed"],
                         "trials": cfg["trials"], "versions": versions(), "git": git_info(),
                         "host": socket.gethostname(), "argv": argv or sys.argv,
                         "started": now, "finished": None, "status": "running"}
        write_json(self.dir / META, self.meta)
        self._fh = open(self.dir / TRIALS, "a")

    def record_lanes(self, lanes: int) -> None:
        """Say in ``meta.json`` how many trials this session runs side by side in one kernel call
        (``--lanes``; 1: one at a time): ``lanes`` for the session that started the run,
        ``resumed_lanes`` beside ``resumed`` for each later one (None for a resume that did not
        record it). In lockstep a trial's ``wall_seconds`` is time it shared with the others."""
        if "resumed" in self.meta:
            known = self.meta.setdefault("resumed_lanes", [])
            known += [None] * (len(self.meta["resumed"]) - 1 - len(known))
            known.append(int(lanes))
        else:
            self.meta["lanes"] = int(lanes)
        write_json(self.dir / META, self.meta)

    def add(self, rec: dict, weights: dict) -> None:
        np.savez(weights_path(self.dir, rec["trial"]), **weights)
        self._fh.write(dumps(rec) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._drop_checkpoint(rec["trial"])

    def _drop_checkpoint(self, trial: int) -> None:
        (self.dir / CHECKPOINTS / checkpoint_name(trial)).unlink(missing_ok=True)

    def close(self, cfg: dict, status: str) -> dict:
        try:
            self._fh.close()
            trials = sorted(read_trials(self.dir), key=lambda t: t["trial"])
            summary = summarize(cfg, trials)
            write_json(self.dir / SUMMARY, summary)
            self.meta.update(finished=_dt.datetime.now().isoformat(timespec="seconds"),
                             status=status)
            write_json(self.dir / META, self.meta)
        finally:
            if self.lock is not None:
                self.lock.release()
        return summary
