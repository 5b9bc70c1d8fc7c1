"""Checkpoints inside a trial (lstmrun/protocols/checkpoint.py): a trial stopped after a checkpoint
and started again on it must give the record of a trial never stopped, bit for bit (wall time
aside), on every path of the on-line protocols; run folders delete a trial's checkpoint once its
record is written; a checkpoint of other code is ignored."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from lstmrun.cli import main
from lstmrun.config import load
from lstmrun.protocols import checkpoint
from lstmrun.rundir import CHECKPOINT_KEY, CHECKPOINTS, checkpoint_name
from lstmrun.runner import run_trial

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "configs" / "paper"

# small versions of the on-line rows, one per path of protocols/online.py
CASES = {
    # ST3: the stop replays the chunk up to the hit; post-test; the diagnostic halves
    "st3": ("exp4_adding_t100.yaml", ["task.T=12", "protocol.budget=30000", "protocol.window=200",
                                      "protocol.post_test=100", "protocol.st3_halves=true",
                                      "protocol.chunk=500"]),
    # ABS on frozen windows, one-hot inputs, no biases; data_rng draws the checks
    "abs_frozen": ("exp2c_q50_p50.yaml", ["task.q=6", "task.p=6", "protocol.budget=6000",
                                          "protocol.window=300", "protocol.check_every=200",
                                          "init.scale=0.2", "train.lr=0.1"]),
    # ABS counted on-line: a run of successes that may straddle chunks
    "abs_online": ("exp2c_q50_p50.yaml", ["task.q=6", "task.p=6", "protocol.budget=6000",
                                          "protocol.window=300", "protocol.abs_mode=online",
                                          "protocol.chunk=200", "init.scale=0.2",
                                          "train.lr=0.1"]),
    # ST1/ST2 on a fixed test set, two checks in a row
    "st12": ("exp3a_t100_n1.yaml", ["task.T=8", "protocol.budget=30000", "protocol.check_every=250",
                                    "protocol.test_size=32", "protocol.post_test=50",
                                    "protocol.st_test_set=fixed", "protocol.st_consecutive=2"]),
    # sequential construction: the cell is added in mid-trial
    "grow": ("exp2a_p100.yaml", ["task.p=5", "model.blocks=1", "protocol.budget=2000",
                                 "protocol.window=200"]),
    # a trial that runs out of budget
    "budget": ("exp4_adding_t100.yaml", ["task.T=30", "protocol.budget=3000",
                                         "protocol.chunk=500"]),
}


def _cfg(case, tmp_path=None):
    name, sets = CASES[case]
    cfg = load(str(PAPER / name), sets + ["seed=11"])
    if tmp_path is not None:
        cfg = {**cfg, CHECKPOINT_KEY: {"dir": str(tmp_path), "every": 0.0}}
    return cfg


class Stop(Exception):
    pass


def _stop_after(n):
    """A wrap() that ends the trial at its n-th training call (a kill, as the protocol sees it)."""
    def wrap(net):
        real = net.train
        calls = [0]

        def train(*a, **kw):
            calls[0] += 1
            if calls[0] == n:
                raise Stop
            return real(*a, **kw)
        net.train = train
    return wrap


def _strip(rec):
    rec = dict(rec)
    rec.pop("wall_seconds")
    return rec


def _counting(calls):
    def wrap(net):
        real = net.train

        def train(*a, **kw):
            calls.append(1)
            return real(*a, **kw)
        net.train = train
    return wrap


@pytest.mark.parametrize("case", list(CASES))
def test_a_trial_resumed_from_its_checkpoint_is_the_trial_never_stopped(tmp_path, case):
    calls = []
    whole, w_whole = run_trial(_cfg(case), 0, wrap=_counting(calls))
    if case == "budget":
        assert not whole["solved"]
    else:
        assert whole["solved"], whole["reason"]
    assert len(calls) >= 4
    cfg = _cfg(case, tmp_path)
    path = tmp_path / checkpoint_name(0)
    # stopped early, then again later on (counted from the restart)
    for stop in (2, len(calls) // 2):
        with pytest.raises(Stop):
            run_trial(cfg, 0, wrap=_stop_after(stop))
        assert path.exists()
    resumed, w_res = run_trial(cfg, 0)
    assert _strip(resumed) == _strip(whole)
    for k in ("Wh", "Wo"):
        assert (w_res[k] == w_whole[k]).all()


def test_checkpoint_holds_the_loop_state_and_wall_time_adds_up(tmp_path):
    cfg = _cfg("st3", tmp_path)
    with pytest.raises(Stop):
        run_trial(cfg, 0, wrap=_stop_after(4))
    blob = pickle.loads((tmp_path / checkpoint_name(0)).read_bytes())
    assert blob["format"] == checkpoint.FORMAT and blob["code"] == checkpoint.code_hash()
    st = blob["state"]
    assert st["seen"] == 3 * 500         # saved before the 4th chunk
    assert st["net"]["Wh"].shape and "train_rng" in st and "data_rng" in st
    assert blob["elapsed"] > 0
    rec, _ = run_trial(cfg, 0)
    assert rec["wall_seconds"] >= blob["elapsed"]


def test_a_checkpoint_of_other_code_is_ignored(tmp_path, capsys):
    cfg = _cfg("st3", tmp_path)
    whole, _ = run_trial(_cfg("st3"), 0)
    with pytest.raises(Stop):
        run_trial(cfg, 0, wrap=_stop_after(4))
    path = tmp_path / checkpoint_name(0)
    blob = pickle.loads(path.read_bytes())
    blob["state"]["seen"] = 10 ** 9          # would end the trial at once if it were used
    blob["code"] = "not-this-code"
    path.write_bytes(pickle.dumps(blob))
    rec, _ = run_trial(cfg, 0)
    assert "other protocol code" in capsys.readouterr().err
    assert _strip(rec) == _strip(whole)
    path.write_bytes(b"torn")
    rec, _ = run_trial(cfg, 0)
    assert "unreadable checkpoint" in capsys.readouterr().err
    assert _strip(rec) == _strip(whole)


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _rows(out: Path) -> list[dict]:
    rows = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    return sorted((_strip(r) for r in rows), key=lambda r: r["trial"])


def _train(out, every, *more):
    name, sets = CASES["st3"]
    args = ["train", PAPER / name, "--trials", 3, "--seed", 11, "--out", out, "-q", "--jobs", 1,
            "--checkpoint-every", every, *more]
    for s in sets:
        args += ["--set", s]
    r = _run(*args)
    assert r.exit_code == 0, r.output
    return _rows(out)


def test_run_folders_drop_a_trials_checkpoint_once_its_record_is_written(tmp_path):
    plain = _train(tmp_path / "plain", 0)
    assert not (tmp_path / "plain" / CHECKPOINTS).exists()
    assert _train(tmp_path / "ck", 1e-6) == plain
    assert (tmp_path / "ck" / CHECKPOINTS).is_dir()
    assert not list((tmp_path / "ck" / CHECKPOINTS).iterdir())
    assert "_checkpoint" not in (tmp_path / "ck" / "config.yaml").read_text()
    # trials in lockstep save and drop their checkpoints the same way
    assert _train(tmp_path / "lanes", 1e-6, "--lanes", 2) == plain
    assert not list((tmp_path / "lanes" / CHECKPOINTS).iterdir())


def test_sigterm_mid_trial_then_resume_continues_from_the_checkpoint(tmp_path):
    """A run killed in the middle of a trial keeps that trial's checkpoint; --resume continues
    it, and the run's trials are those of a run never stopped."""
    import signal
    import subprocess
    import sys
    import time

    name, sets = CASES["budget"]
    # a trial that runs its whole budget (a learning rate too small to solve) for a few seconds,
    # so that the signal comes while it runs, however fast the kernels are
    budget = 200_000
    sets = ([s for s in sets if not s.startswith("protocol.budget")]
            + [f"protocol.budget={budget}", "train.lr=1e-9"])
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", str(PAPER / name), "--trials", "1",
           "--seed", "11", "--jobs", "1", "--out", str(out), "-q", "--checkpoint-every", "0.2"]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ck = out / CHECKPOINTS / checkpoint_name(0)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not ck.exists():
        time.sleep(0.05)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=60)
    meta = out / "meta.json"
    if rc == 0 or (rc == -signal.SIGTERM and meta.exists()
                   and json.loads(meta.read_text()).get("status") == "finished"):
        # the trial ended first (a signal after the run closed, as it exits, is not handled)
        pytest.skip("the run finished before the signal")
    err = proc.stderr.read().decode()
    assert rc == 143, err
    assert "1 unfinished trial(s) saved in mid-trial" in err
    assert ck.exists()
    seen = pickle.loads(ck.read_bytes())["state"]["seen"]
    assert 0 < seen < budget
    r = _run("train", "--resume", out, "-q", "--jobs", 1)
    assert r.exit_code == 0, r.output
    assert not ck.exists()
    whole = tmp_path / "whole"
    args = ["train", PAPER / name, "--trials", 1, "--seed", 11, "--out", whole, "-q", "--jobs", 1,
            "--checkpoint-every", 0]
    for s in sets:
        args += ["--set", s]
    assert _run(*args).exit_code == 0
    assert _rows(out) == _rows(whole)
