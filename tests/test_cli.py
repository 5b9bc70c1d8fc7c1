"""The CLI in-process (Click's runner): train a tiny run, show, sample, eval, and config errors."""

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lstmrun.cli import main

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / "configs" / "paper" / "exp1_erg_3x2_lr05.yaml"
TINY = ["--set", "protocol.budget=300", "--set", "protocol.check_every=100",
        "--set", "task.n_train=16", "--set", "task.n_test=16"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_show_prints_weight_count():
    r = run("show", CFG)
    assert r.exit_code == 0
    assert "weights: 276" in r.output
    r = run("show", ROOT / "configs/paper/exp1_erg_4x1_lr01.yaml", "--set",
            "model.input_to_output=false", "--set", "model.output_bias=false")
    assert "weights: 264" in r.output


def test_train_tiny_run_writes_results(tmp_path):
    out = tmp_path / "run"
    r = run("train", CFG, "--trials", 3, "--seed", 5, "--out", out, "--quiet", *TINY)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == str(out)
    trials = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    assert sorted(t["trial"] for t in trials) == [0, 1, 2]
    for t in trials:
        assert {"trial", "seed", "solved", "sequences", "reason", "wall_seconds"} <= set(t)
        assert t["sequences"] <= 300
        assert (out / "weights" / f"trial_{t['trial']:03d}.npz").exists()
    s = json.loads((out / "summary.json").read_text())
    assert s["trials"] == 3 and s["paper"]["mean_sequences"] == 8440
    assert {"success_rate", "solved", "sequences_to_solve"} <= set(s)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 5 and meta["status"] == "finished"
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["protocol"]["budget"] == 300 and cfg["trials"] == 3


def test_same_seed_same_trials_whatever_jobs(tmp_path):
    def lines(out):
        rows = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
        for r in rows:
            r.pop("wall_seconds")
        return sorted(rows, key=lambda r: r["trial"])

    a, b = tmp_path / "a", tmp_path / "b"
    assert run("train", CFG, "--trials", 2, "--seed", 3, "--out", a, "-q", *TINY).exit_code == 0
    assert run("train", CFG, "--trials", 2, "--seed", 3, "--out", b, "-q", "--jobs", 2,
               *TINY).exit_code == 0
    assert lines(a) == lines(b)


@pytest.mark.parametrize("override,needle", [
    ("train.lr=-0.1", "train.lr: must be positive"),
    ("model.blocks=0", "model.blocks: must be positive"),
    ("model.bloks=2", "unknown key model.bloks"),
    ("train.lr=fast", "train.lr: expected"),
    ("task.n_train=abc", "task.n_train"),
    ("init.output_gate_bias=[-1]", "one value per block"),
    ("protocol.name=nope", "protocol.name"),
])
def test_bad_overrides_exit_2_with_one_line(override, needle):
    r = run("train", CFG, "--set", override)
    assert r.exit_code == 2
    assert needle in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_bad_config_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiment: x\ntask: {name: embedded_reber}\nmodel: {blocks: two}\n")
    r = run("show", bad)
    assert r.exit_code == 2 and "bad.yaml" in r.output and "model.blocks" in r.output
    r = run("show", tmp_path / "missing.yaml")
    assert r.exit_code == 2 and "no such config" in r.output
    (tmp_path / "notyaml.yaml").write_text("a: [1,\n")
    r = run("show", tmp_path / "notyaml.yaml")
    assert r.exit_code == 2 and "not valid YAML" in r.output


def test_sample_then_eval(tmp_path):
    r = run("sample", CFG, "--n", 4, "--seed", 1)
    assert r.exit_code == 0
    recs = [json.loads(x) for x in r.output.splitlines()]
    assert len(recs) == 4
    for rec in recs:
        syms = rec["symbols"]
        assert syms[0] == "B" and syms[-1] == "E"
        assert len(rec["inputs"]) == len(syms) - 1 == len(rec["targets"])
        assert all(sum(v) == 1.0 for v in rec["inputs"])
    data = tmp_path / "strings.jsonl"
    data.write_text(r.output)
    out = tmp_path / "run"
    assert run("train", CFG, "--trials", 1, "--out", out, "-q", *TINY).exit_code == 0
    r = run("eval", out, "--trial", 0, "--data", data, "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert len(res["sequences"]) == 4 and 0.0 <= res["fraction_correct"] <= 1.0
    r = run("eval", out, "--trial", 7, "--data", data)
    assert r.exit_code == 2 and "no weights for trial 7" in r.output
    data.write_text('{"symbols": ["B", "T", "E"]}\n')
    r = run("eval", out, "--data", data)
    assert r.exit_code == 2 and "not a string of the grammar" in r.output


def test_resume_runs_only_the_missing_trials_and_refuses_a_changed_config(tmp_path):
    out = tmp_path / "run"
    assert run("train", CFG, "--trials", 2, "--out", out, "-q", *TINY).exit_code == 0
    full = tmp_path / "full"
    assert run("train", CFG, "--trials", 4, "--out", full, "-q", *TINY).exit_code == 0
    # simulate a run of 4 trials killed after 2, with a torn last line
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    cfg["trials"] = 4
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    with open(out / "trials.jsonl", "a") as fh:
        fh.write('{"trial": 3, "solv')
    r = run("train", CFG, "--trials", 4, "--resume", out, "-q", *TINY)
    assert r.exit_code == 0, r.output

    def rows(d):
        rs = [json.loads(x) for x in (d / "trials.jsonl").read_text().splitlines()]
        for x in rs:
            x.pop("wall_seconds")
        return sorted(rs, key=lambda x: x["trial"])

    assert rows(out) == rows(full)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["resumed"] and len(meta["resumed_git"]) == len(meta["resumed"])
    r = run("train", CFG, "--trials", 4, "--resume", out, "--set", "train.lr=0.3", *TINY)
    assert r.exit_code == 2 and "train.lr" in r.output and "differs" in r.output


def test_resume_accepts_a_run_made_before_a_key_was_added_with_its_default(tmp_path):
    out = tmp_path / "run"
    assert run("train", CFG, "--trials", 1, "--out", out, "-q", *TINY).exit_code == 0
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    del cfg["train"]["gradient"]  # as written by a version without train.gradient
    cfg["trials"] = 2
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = run("train", CFG, "--trials", 2, "--resume", out, "-q", *TINY)
    assert r.exit_code == 0, r.output
    assert len((out / "trials.jsonl").read_text().splitlines()) == 2


def test_report_tabulates_runs_and_rejects_other_folders(tmp_path):
    out = tmp_path / "run"
    assert run("train", CFG, "--trials", 2, "--out", out, "-q", *TINY).exit_code == 0
    r = run("report", out, "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    assert "exp1_erg_3x2_lr05" in r.output or "run" in r.output
    assert (tmp_path / "rep" / "REPORT.md").exists() and (tmp_path / "rep" / "summary.csv").exists()
    r = run("report", tmp_path)
    assert r.exit_code == 2 and "not a run folder" in r.output
