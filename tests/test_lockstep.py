"""Trials in lockstep (``--lanes``, lstmrun/lockstep.py): the whole ``trials.jsonl`` of a run must be
the one-trial path's, bit for bit (wall times aside), whatever the lane count, with lanes refilled
as trials end, and with ``--jobs``; configs the lanes kernel cannot take run one trial at a time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from lstmrun import lockstep
from lstmrun.cli import main
from lstmrun.config import load

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "configs" / "paper"

# small versions of the on-line rows: each protocol's paths (a stop inside a chunk that is
# replayed, frozen-weight checks, test sets, cells added in mid-trial by sequential construction)
CASES = {
    # ST3: the stop replays the chunk up to the hit; post-test
    "adding": ("exp4_adding_t100.yaml", ["task.T=12", "protocol.budget=30000",
                                         "protocol.window=200", "protocol.post_test=100"]),
    # ABS on frozen windows, one-hot inputs, no biases
    "2c": ("exp2c_q50_p50.yaml", ["task.q=6", "task.p=6", "protocol.budget=6000",
                                  "protocol.window=300", "protocol.check_every=200",
                                  "init.scale=0.2", "train.lr=0.1"]),
    # ST1/ST2 on test sets
    "3a": ("exp3a_t100_n1.yaml", ["task.T=8", "protocol.budget=3000", "protocol.check_every=500",
                                  "protocol.test_size=32", "protocol.post_test=50"]),
    # sequential construction: the calls before the cell is added go to the one-net kernel
    "2a": ("exp2a_p100.yaml", ["task.p=5", "model.blocks=1", "protocol.budget=2000",
                               "protocol.window=200"]),
}


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _rows(out: Path) -> list[dict]:
    rows = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("wall_seconds")
    return sorted(rows, key=lambda r: r["trial"])


def _train(tmp_path, case, lanes, trials=5, jobs=1):
    cfg, sets = CASES[case]
    out = tmp_path / f"{case}_l{lanes}_j{jobs}"
    args = ["train", PAPER / cfg, "--trials", trials, "--seed", 11, "--out", out, "-q",
            "--jobs", jobs, "--lanes", lanes]
    for s in sets:
        args += ["--set", s]
    r = _run(*args)
    assert r.exit_code == 0, r.output
    return _rows(out)


@pytest.mark.parametrize("case", list(CASES))
def test_lockstep_trials_are_the_one_trial_paths(tmp_path, monkeypatch, case):
    calls = []
    real = lockstep.train_lanes
    monkeypatch.setattr(lockstep, "train_lanes",
                        lambda nets, *a, **kw: calls.append(len(nets)) or real(nets, *a, **kw))
    alone = _train(tmp_path, case, 1)
    assert not calls
    assert [r["trial"] for r in alone] == [0, 1, 2, 3, 4]
    if case == "adding":
        assert all(r["solved"] for r in alone)     # the replay of a stop's chunk is exercised
    # 3 lanes for 5 trials: two lanes are refilled; 4 lanes: one lane runs two trials
    for lanes in (3, 4):
        assert _train(tmp_path, case, lanes) == alone
        assert max(calls) > 1        # trials did share kernel calls
        calls.clear()


def test_meta_records_the_lanes_of_each_session_and_the_report_flags_shared_trial_seconds(
        tmp_path):
    """A trial's wall_seconds in lockstep is time it shared with the other lanes, so the run
    folder says it ran in lockstep (meta.json: ``lanes`` at the start, ``resumed_lanes`` per
    resume) and the report's trial-s carry a flag for it."""
    from lstmrun.report import row_stats

    _train(tmp_path, "adding", 2, trials=2)
    two = tmp_path / "adding_l2_j1"
    assert json.loads((two / "meta.json").read_text())["lanes"] == 2
    assert any("shared by --lanes 2" in f for f in row_stats(two)["flags"])
    # a one-lane run stopped after its first trial, resumed in lockstep: the resume's lanes (no
    # more than the trials left to run) are recorded beside its time
    three = _train(tmp_path, "adding", 1, trials=3)
    one = tmp_path / "adding_l1_j1"
    assert json.loads((one / "meta.json").read_text())["lanes"] == 1
    assert not any("lanes" in f for f in row_stats(one)["flags"])
    lines = one / "trials.jsonl"
    kept = [x for x in lines.read_text().splitlines() if json.loads(x)["trial"] == 0]
    lines.write_text(kept[0] + "\n")
    r = _run("train", "--resume", one, "-q", "--jobs", 1, "--lanes", 4)
    assert r.exit_code == 0, r.output
    assert _rows(one) == three
    meta = json.loads((one / "meta.json").read_text())
    assert meta["lanes"] == 1 and meta["resumed_lanes"] == [2] and len(meta["resumed"]) == 1
    assert any("shared by --lanes 2" in f for f in row_stats(one)["flags"])
    # a config the lanes kernel cannot take runs one trial at a time: recorded as 1
    out = tmp_path / "erg"
    r = _run("train", PAPER / "exp1_erg_3x2_lr05.yaml", "--trials", 1, "--lanes", 4, "--out", out,
             "-q", "--set", "protocol.budget=200", "--set", "task.n_train=16",
             "--set", "task.n_test=16")
    assert r.exit_code == 0, r.output
    assert json.loads((out / "meta.json").read_text())["lanes"] == 1


def test_lockstep_with_jobs(tmp_path):
    """Two processes, each running its share of the trials in 2 lanes."""
    assert _train(tmp_path, "adding", 2, trials=5, jobs=2) == _train(tmp_path, "adding", 1)


def test_config_that_does_not_qualify_runs_one_at_a_time(tmp_path):
    cfg = load(PAPER / "exp1_erg_3x2_lr05.yaml")
    assert "per sequence" in lockstep.reason_not(cfg)
    assert lockstep.reason_not(load(PAPER / "exp4_adding_t100.yaml")) is None
    out = tmp_path / "erg"
    r = _run("train", PAPER / "exp1_erg_3x2_lr05.yaml", "--trials", 2, "--lanes", 4, "--out", out,
             "--set", "protocol.budget=200", "--set", "task.n_train=16", "--set", "task.n_test=16")
    assert r.exit_code == 0
    assert "runs one trial at a time (weight changes per sequence" in r.output
    assert len(_rows(out)) == 2


def test_an_error_in_one_trial_stops_the_others_and_is_raised(monkeypatch):
    """No thread is left waiting at the barrier for a trial that died."""
    from lstmrun import runner

    cfg = load(PAPER / "exp4_adding_t100.yaml", ["task.T=12", "protocol.budget=30000",
                                                 "protocol.window=200"])
    real = runner.PROTOCOLS["st3"]

    def flaky(cfg, task, net, data_rng, train_rng):
        if threading.current_thread().name.endswith("-1"):
            net.train(task.sample(train_rng, 10), lr=0.1)     # meets the others once
            raise RuntimeError("boom")
        return real(cfg, task, net, data_rng, train_rng)

    monkeypatch.setitem(runner.PROTOCOLS, "st3", flaky)
    got = []
    with pytest.raises(RuntimeError, match="boom"):
        lockstep.run_trials(cfg, range(6), 3, lambda k, rec, w: got.append(k))
    assert len(got) < 6


def test_sigterm_keeps_finished_trials_and_resume_completes_them(tmp_path):
    """A lockstep run stopped by SIGTERM exits 143 with its finished trials kept (the others'
    threads stop at their next training call); --resume runs the rest, and the run's trials are
    the one-trial path's."""
    import signal
    import subprocess
    import sys
    import time

    cfg, sets = CASES["adding"]
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", str(PAPER / cfg), "--trials", "8",
           "--seed", "11", "--jobs", "1", "--lanes", "2", "--out", str(out), "-q"]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    trials = out / "trials.jsonl"
    while time.time() < deadline and proc.poll() is None and not (
            trials.exists() and trials.read_text().count("\n") >= 1):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=60)
    if rc == 0:
        pytest.skip("the run finished before the signal")
    assert rc == 143, proc.stderr.read()
    assert json.loads((out / "meta.json").read_text())["status"] == "terminated"
    kept = len(_rows(out))
    assert kept >= 1
    r = _run("train", "--resume", out, "--lanes", 2, "-q")
    assert r.exit_code == 0, r.output
    assert _rows(out) == _train(tmp_path, "adding", 1, trials=8)
