"""A newcomer's faults: every bad input is one line and exit 2, NaN is never correct, one writer per
run folder, no worker outlives its parent, resume by folder. docs/errors.md lists the cases."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_cli import ROOT, run


CFG = ROOT / "configs" / "paper" / "exp1_erg_4x1_lr05.yaml"
TINY = ["--set", "protocol.budget=200", "--set", "protocol.check_every=100",
        "--set", "task.n_train=16", "--set", "task.n_test=16"]


def one_line_exit_2(r, needle):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [x for x in r.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith("error: ") and needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "run"
    r = run("train", CFG, "--trials", 2, "--out", out, "-q", "--jobs", 1, *TINY)
    assert r.exit_code == 0, r.output
    return out


# ---- config files and overrides ----------------------------------------------------------------

@pytest.mark.parametrize("content, needle", [
    (bytes(range(256)) * 2, "not UTF-8 text"),
    ("experiment: x\n# caf\u00e9 in Latin-1\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
    (b"- experiment: a\n- experiment: b\n", "a config must be a mapping"),
    (b"experiment: a\nexperiment: b\n", "duplicate key 'experiment'"),
    (b"experiment: a\ntrain: {lr: 0.1, lr: 0.2}\n", "duplicate key 'lr'"),
])
def test_bad_config_files(tmp_path, content, needle):
    p = tmp_path / "c.yaml"
    p.write_bytes(content)
    one_line_exit_2(run("train", p, "--trials", 2), needle)
    one_line_exit_2(run("show", p), needle)


@pytest.mark.parametrize("override, needle", [
    ("task.name=[a]", "task.name: unknown task ['a']"),
    ("train.lr=.inf", "train.lr: must be finite"),
    ("train.lr=.nan", "train.lr: must be finite"),
    ("init.scale=-.inf", "init.scale: must be finite"),
    ("task.n_train=[1", "not valid YAML"),
    ("protocol.budget=2.5e0", "protocol.budget: expected an integer"),
])
def test_bad_overrides(override, needle):
    one_line_exit_2(run("show", CFG, "--set", override), needle)


def test_scientific_notation_as_researchers_type_it():
    r = run("show", CFG, "--set", "train.lr=1e-3", "--set", "protocol.budget=5e3",
            "--set", "init.scale=2E-2")
    assert r.exit_code == 0, r.output
    cfg = yaml.safe_load(r.output.split("\n---\n")[0])
    assert cfg["train"]["lr"] == 0.001 and cfg["protocol"]["budget"] == 5000
    assert isinstance(cfg["protocol"]["budget"], int) and cfg["init"]["scale"] == 0.02


def test_scientific_notation_in_a_config_file(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(CFG.read_text().replace("lr: 0.5", "lr: 5e-1"))
    assert "lr: 5e-1" in p.read_text()
    r = run("show", p)
    assert r.exit_code == 0 and "lr: 0.5" in r.output


# ---- run folders -------------------------------------------------------------------------------

def test_out_below_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    one_line_exit_2(run("train", CFG, "--out", tmp_path / "f" / "run", *TINY), "Not a directory")


@pytest.mark.parametrize("errno_name", ["EROFS", "ENOSPC", "EACCES"])
def test_out_on_an_unwritable_filesystem(tmp_path, monkeypatch, errno_name):
    """Read-only, full or forbidden (simulated: the tests run as root, who may write anywhere)."""
    import errno

    code = getattr(errno, errno_name)

    def refuse(self, *a, **k):
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    one_line_exit_2(run("train", CFG, "--out", tmp_path / "run", *TINY), os.strerror(code))


def test_out_a_folder_that_is_not_empty(tmp_path):
    out = tmp_path / "run"
    (out / "weights").mkdir(parents=True)
    (out / "summary.json").write_text("{}")
    one_line_exit_2(run("train", CFG, "--out", out, *TINY), "is not empty")
    assert (out / "summary.json").read_text() == "{}"
    assert not (out / "config.yaml").exists()


def test_a_locked_run_folder_is_refused(tmp_path):
    from lstmrun.rundir import lock_folder

    out = tmp_path / "run"
    lock = lock_folder(out)        # another writer holds it
    try:
        one_line_exit_2(run("train", CFG, "--out", out, *TINY), "another lstmrun process")
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        lock.release()


def test_two_runs_started_together_on_one_folder(tmp_path):
    """Only one of two `lstmrun train` started at the same moment on one --out runs."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", str(CFG), "--trials", "2", "--jobs", "1",
           "--out", str(out), "-q", *TINY]
    procs = [subprocess.Popen(cmd + ["--set", f"train.lr={lr}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for lr in (0.5, 0.2)]
    res = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert sorted(rc for rc, _ in res) == [0, 2], res
    assert any("another lstmrun process" in err or "already holds a run" in err
               for _, err in res)
    assert len((out / "trials.jsonl").read_text().splitlines()) == 2


def test_resume_by_folder_alone(tmp_path):
    out = tmp_path / "run"
    assert run("train", CFG, "--trials", 2, "--out", out, "-q", "--jobs", 1, *TINY).exit_code == 0
    full = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    (out / "trials.jsonl").write_text(json.dumps(full[0]) + "\nnull\n42\n")
    r = run("train", "--resume", out, "-q", "--jobs", 1)
    assert r.exit_code == 0, r.output
    again = sorted((json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()),
                   key=lambda t: t["trial"])
    for a, b in zip(again, full):
        a.pop("wall_seconds"), b.pop("wall_seconds")
    assert again == full
    # a config given with other options: the advice is the folder alone, not a new run
    one_line_exit_2(run("train", CFG, "--resume", out), f"lstmrun train --resume {out}` alone")
    one_line_exit_2(run("train"), "missing CONFIG")


def test_overrides_that_change_the_paper_setup_are_marked(tmp_path):
    out = tmp_path / "run"
    r = run("train", CFG, "--trials", 1, "--out", out, "--jobs", 1, "--set", "train.lr=0.2",
            *TINY)
    assert r.exit_code == 0, r.output
    assert "the paper's row is another setup" in r.output or "other setup" in r.output
    s = json.loads((out / "summary.json").read_text())
    assert "train.lr" in s["paper"]["setup_differs"]
    rep = run("report", out)
    assert rep.exit_code == 0 and "setup differs" in rep.output
    # trials and seed leave the setup as the paper describes it
    out2 = tmp_path / "run2"
    assert run("train", CFG, "--trials", 1, "--seed", 3, "--out", out2, "-q",
               "--jobs", 1).exit_code == 0
    assert "setup_differs" not in json.loads((out2 / "summary.json").read_text())["paper"]


def test_report_out_unwritable(tiny_run, tmp_path, monkeypatch):
    import errno

    def refuse(self, *a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    one_line_exit_2(run("report", tiny_run, "--out", tmp_path / "rep"), "Read-only file system")


def test_a_null_trials_line_is_skipped(tiny_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    with open(copy / "trials.jsonl", "a") as fh:
        fh.write("null\n[1, 2]\n")
    r = run("report", copy)
    assert r.exit_code == 0, r.output


# ---- eval and inspect: weights and data --------------------------------------------------------

@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "no_arrays"])
@pytest.mark.parametrize("command", ["eval", "inspect"])
def test_damaged_weight_files(tiny_run, tmp_path, damage, command):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(tiny_run, run_dir)
    w = run_dir / "weights" / "trial_000.npz"
    data = w.read_bytes()
    if damage == "empty":
        w.write_bytes(b"")
    elif damage == "truncated":
        w.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        w.write_bytes(os.urandom(300))
    else:
        np.savez(w, other=np.zeros(3))
    seqs = tmp_path / "s.jsonl"
    seqs.write_text(run("sample", CFG, "--n", 2).output)
    args = ["--data", seqs] if command == "eval" else ["--json"]
    one_line_exit_2(run(command, run_dir, "--trial", 0, *args), "trial_000.npz")


@pytest.mark.parametrize("line, needle", [
    ("42", "expected a JSON object"),
    ("null", "expected a JSON object"),
    ('{"symbols": 42}', "not sequences of task"),
    ('{"inputs": 3}', "not sequences of task"),
    ("{", "not valid JSON"),
])
def test_eval_bad_data_lines(tiny_run, tmp_path, line, needle):
    p = tmp_path / "d.jsonl"
    p.write_text(line + "\n")
    one_line_exit_2(run("eval", tiny_run, "--data", p), needle)


# ---- NaN is never correct ----------------------------------------------------------------------

@pytest.mark.parametrize("cfg_name", ["exp1_erg_4x1_lr05.yaml", "exp6a_temporal_order.yaml"])
def test_nan_outputs_are_never_correct(cfg_name):
    """A diverged net (NaN weights) fails the 'legal' (Exp 1) and 'abs' criteria on every
    sequence."""
    from lstmrun.config import load
    from lstmrun.engine.judge import M_CORRECT
    from lstmrun.runner import make_model
    from lstmrun.tasks.registry import build_task

    cfg = load(ROOT / "configs" / "paper" / cfg_name)
    task = build_task(cfg["task"])
    net = make_model(cfg, task, np.random.default_rng(0))
    chunk = task.sample(np.random.default_rng(1), 8)
    net.Wh[...] = np.nan
    net.Wo[...] = np.nan
    m = net.evaluate(chunk, criterion=task.criterion, threshold=task.threshold)
    assert not m[:, M_CORRECT].any()


def test_nan_is_written_as_null():
    from lstmrun.rundir import dumps

    s = dumps({"curve": [[100, float("nan"), 0.5]], "x": np.float64("inf")})
    assert json.loads(s) == {"curve": [[100, None, 0.5]], "x": None}


# ---- processes ---------------------------------------------------------------------------------

def _workers_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"], capture_output=True,
                         text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_worker_outlives_its_parent(tmp_path, sig):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", str(CFG), "--trials", "30", "--jobs", "2",
           "--out", str(out), "-q", "--set", "protocol.budget=400000"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: list[int] = []
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(workers) < 2:
        workers = _workers_of(proc.pid)
        time.sleep(0.2)
    assert len(workers) == 2, "the run should have started two workers"
    proc.send_signal(sig)
    rc = proc.wait(timeout=60)
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    if sig == signal.SIGTERM:
        assert rc == 143
        assert b"terminated" in proc.stderr.read()
        meta = json.loads((out / "meta.json").read_text())
        assert meta["status"] == "terminated"
        assert (out / "summary.json").exists()


# ---- packaging ---------------------------------------------------------------------------------

def test_task_data_ship_inside_the_package():
    """A wheel carries lstmrun/tasks/data/*.yaml (package data): the grammars of Exp 1 and the
    long-lag tasks' defaults are found relative to the installed package."""
    tomllib = pytest.importorskip("tomllib")
    from lstmrun.tasks import grammar, longlag

    assert grammar.TASKS_DIR == Path(grammar.__file__).resolve().parent / "data"
    assert longlag.TASKS_DIR == grammar.TASKS_DIR
    assert (grammar.TASKS_DIR / "embedded_reber.yaml").is_file()
    pkg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "data/*.yaml" in pkg["package-data"]["lstmrun.tasks"]


def test_sweep_points_that_change_the_paper_setup_are_marked(tmp_path):
    out = tmp_path / "sw"
    r = run("sweep", CFG, "--grid", "train.lr=0.5,0.2", "--trials", 1, "--out", out, "-q",
            "--jobs", 1, *TINY)
    assert r.exit_code == 0, r.output
    for name in ("exp1_erg_4x1_lr05__lr=0.5", "exp1_erg_4x1_lr05__lr=0.2"):
        differs = json.loads((out / name / "summary.json").read_text())["paper"]["setup_differs"]
        assert ("train.lr" in differs) == name.endswith("0.2")
    # a run folder written before setup_differs existed resumes all the same
    run_dir = out / "exp1_erg_4x1_lr05__lr=0.2"
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    del cfg["paper"]["setup_differs"]
    cfg["trials"] = 2
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = run("train", CFG, "--trials", 2, "--resume", run_dir, "-q", "--set", "train.lr=0.2", *TINY)
    assert r.exit_code == 0, r.output
