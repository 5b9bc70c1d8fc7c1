"""Sweeps, executors (local pool and Dask), and resume after a hard kill."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lstmrun.cli import main
from lstmrun.config import ConfigError
from lstmrun.sweep import expand, parse_pairs

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / "configs" / "paper" / "exp1_erg_3x2_lr05.yaml"
TINY = ["--set", "protocol.budget=300", "--set", "task.n_train=16", "--set", "task.n_test=16"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def rows(path):
    out = [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]
    for r in out:
        r.pop("wall_seconds")
    return sorted(out, key=lambda r: r["trial"])


def test_grid_is_a_product_and_zip_pairs_values():
    g = parse_pairs(["train.lr=0.1,0.2", "model.blocks=3,4"], "grid")
    assert g == [("train.lr", [0.1, 0.2]), ("model.blocks", [3, 4])]
    pts = expand(g, [])
    assert len(pts) == 4 and {"train.lr": 0.2, "model.blocks": 3} in pts
    z = parse_pairs(["model.blocks=3,4", "model.cells_per_block=2,1"], "zip")
    pts = expand(parse_pairs(["train.lr=0.1,0.5"], "grid"), z)
    assert len(pts) == 4
    assert {"train.lr": 0.5, "model.blocks": 4, "model.cells_per_block": 1} in pts
    with pytest.raises(ConfigError):
        expand([], parse_pairs(["a=1,2", "b=1"], "zip"))
    with pytest.raises(ConfigError):
        parse_pairs(["train.lr"], "grid")


def test_sweep_writes_a_manifest_and_a_run_per_point(tmp_path):
    out = tmp_path / "sw"
    r = run("sweep", CFG, "--grid", "train.lr=0.2,0.5", "--trials", 2, "--out", out, "-q", *TINY)
    assert r.exit_code == 0, r.output
    m = json.loads((out / "sweep.json").read_text())
    names = [p["name"] for p in m["points"]]
    assert names == ["exp1_erg_3x2_lr05__lr=0.2", "exp1_erg_3x2_lr05__lr=0.5"]
    for n in names:
        assert len(rows(out / n / "trials.jsonl")) == 2
    # a changed sweep is refused on resume; the same one is accepted and runs nothing new
    r = run("sweep", CFG, "--grid", "train.lr=0.2,0.3", "--trials", 2, "--resume", out, *TINY)
    assert r.exit_code == 2 and "differ" in r.output
    r = run("sweep", CFG, "--grid", "train.lr=0.2,0.5", "--trials", 2, "--resume", out, "-q", *TINY)
    assert r.exit_code == 0, r.output
    assert len(rows(out / names[0] / "trials.jsonl")) == 2


def test_sweep_file(tmp_path):
    f = tmp_path / "s.sweep.yaml"
    f.write_text(f"configs: [{CFG}]\nzip: {{model.blocks: [3, 4], model.cells_per_block: [2, 1], "
                 "init.output_gate_bias: [[-1, -2, -3], [-1, -2, -3, -4]]}\n"
                 "set: {trials: 1, protocol.budget: 200, task.n_train: 8, task.n_test: 8}\n")
    out = tmp_path / "sw"
    r = run("sweep", f, "--out", out, "-q")
    assert r.exit_code == 0, r.output
    names = [p["name"] for p in json.loads((out / "sweep.json").read_text())["points"]]
    assert names[0].startswith("exp1_erg_3x2_lr05__blocks=3__cells_per_block=2__")
    assert names[1].startswith("exp1_erg_3x2_lr05__blocks=4__cells_per_block=1__")
    assert len(rows(out / names[1] / "trials.jsonl")) == 1


def test_dask_localcluster_gives_the_same_trials_as_jobs_1(tmp_path):
    pytest.importorskip("distributed")
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["--grid", "train.lr=0.2,0.5", "--trials", 2, "-q", *TINY]
    assert run("sweep", CFG, "--out", a, "--jobs", 1, *args).exit_code == 0
    r = run("sweep", CFG, "--out", b, "--jobs", 2, "--executor", "dask", *args)
    assert r.exit_code == 0, r.output
    for p in ("exp1_erg_3x2_lr05__lr=0.2", "exp1_erg_3x2_lr05__lr=0.5"):
        assert rows(a / p / "trials.jsonl") == rows(b / p / "trials.jsonl")


def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path):
    """A run killed with SIGKILL mid-run keeps a readable trials.jsonl; --resume completes it and
    the final set of trials equals an uninterrupted run's."""
    sets = ["--set", "protocol.budget=20000", "--set", "task.n_train=32", "--set", "task.n_test=32"]
    full = tmp_path / "full"
    assert run("train", CFG, "--trials", 12, "--out", full, "-q", *sets).exit_code == 0
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", str(CFG), "--trials", "12", "--out",
           str(killed), "-q", *sets]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    tj = killed / "trials.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if tj.exists() and len(tj.read_text().splitlines()) >= 1:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = rows(tj)
    assert 1 <= len(before) < 12, "the kill should land mid-run"
    r = run("train", CFG, "--trials", 12, "--resume", killed, "-q", *sets)
    assert r.exit_code == 0, r.output
    assert rows(tj) == rows(full / "trials.jsonl")


def test_ctrl_c_with_a_worker_pool_stops_at_once_with_130(tmp_path):
    """SIGINT to the submitting process alone (as `kill -INT` sends it) must not wait for the
    trials in flight: workers are stopped, finished trials kept, exit code 130."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", str(CFG), "--trials", "30", "--jobs", "2",
           "--out", str(out), "-q", "--set", "protocol.budget=400000"]
    # a test session started in the background of a non-interactive shell inherits SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler: give the run the default
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    tj = out / "trials.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if tj.exists() and tj.read_text().strip():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    t0 = time.time()
    rc = proc.wait(timeout=60)
    assert rc == 130
    assert time.time() - t0 < 15
    assert b"interrupted" in proc.stderr.read()
    assert json.loads((out / "meta.json").read_text())["status"] == "interrupted"
    assert len(rows(tj)) >= 1


def test_git_info_dirty_means_a_tracked_file_changed(tmp_path, monkeypatch):
    """A run's meta.json `git.dirty`: result folders written inside the checkout (untracked) do
    not make it dirty; an edited tracked file does."""
    import shutil

    from lstmrun import rundir

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "code.py").write_text("x = 1\n")

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                       check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "c")
    monkeypatch.setattr(rundir, "__file__", str(repo / "pkg" / "rundir.py"))
    clean = rundir.git_info()
    assert clean["commit"] and len(clean["commit"]) == 40 and clean["dirty"] is False
    (repo / "results" / "run").mkdir(parents=True)
    (repo / "results" / "run" / "trials.jsonl").write_text("{}\n")
    assert rundir.git_info()["dirty"] is False
    (repo / "pkg" / "code.py").write_text("x = 2\n")
    assert rundir.git_info()["dirty"] is True
