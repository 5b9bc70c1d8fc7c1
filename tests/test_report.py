"""lstmrun.report: binomial and bootstrap intervals, flags, rendering, run-folder checks."""

import csv
import io
import json

import numpy as np
import pytest
import yaml

from lstmrun.report import (FLAG_MEAN, FLAG_NONE, FLAG_SUCCESS, bootstrap_mean_ci,
                            clopper_pearson, is_lstm_row, render, report_command, row_stats,
                            scoreboard, seed_pools, wilson)


# --------------------------------------------------------------------------- intervals
@pytest.mark.parametrize("k,n,lo,hi", [
    (0, 10, 0.0, 0.3085), (10, 10, 0.6915, 1.0), (5, 10, 0.1871, 0.8129),
    (27, 30, 0.7347, 0.9789), (20, 30, 0.4719, 0.8271), (1, 20, 0.00127, 0.2487)])
def test_clopper_pearson_published(k, n, lo, hi):
    a, b = clopper_pearson(k, n)
    assert a == pytest.approx(lo, abs=1e-4)
    assert b == pytest.approx(hi, abs=1e-4)


def test_clopper_pearson_closed_forms_and_large_n():
    # k = n: lower = (alpha/2)^(1/n); k = 0: upper = 1 - (alpha/2)^(1/n); k = n-1 upper likewise
    for n in (1, 7, 30, 200):
        assert clopper_pearson(n, n)[0] == pytest.approx(0.025 ** (1 / n), abs=1e-10)
        assert clopper_pearson(0, n)[1] == pytest.approx(1 - 0.025 ** (1 / n), abs=1e-10)
    assert clopper_pearson(29, 30)[1] == pytest.approx(0.975 ** (1 / 30), abs=1e-10)
    lo, hi = clopper_pearson(1280, 2560)             # symmetric, near the normal interval
    assert lo == pytest.approx(1 - hi, abs=1e-10)
    assert 0.4804 < lo < 0.4806
    lo99, hi99 = clopper_pearson(5, 10, conf=0.99)
    assert lo99 < 0.1871 and hi99 > 0.8129


def test_wilson():
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-4)


@pytest.mark.parametrize("k,n", [(-1, 10), (11, 10), (0, 0)])
def test_interval_bad_input(k, n):
    with pytest.raises(ValueError):
        clopper_pearson(k, n)
    with pytest.raises(ValueError):
        wilson(k, n)


def test_bootstrap_contains_mean_shrinks_and_is_deterministic():
    rng = np.random.default_rng(1)
    small = rng.exponential(30000, size=10)
    big = rng.exponential(30000, size=400)
    for x in (small, big):
        lo, hi = bootstrap_mean_ci(x)
        assert lo <= x.mean() <= hi
    w_small = np.subtract(*bootstrap_mean_ci(small)[::-1])
    w_big = np.subtract(*bootstrap_mean_ci(big)[::-1])
    assert w_big < w_small / 3                          # ~ 1/sqrt(n)
    assert bootstrap_mean_ci(small) == bootstrap_mean_ci(small)
    assert bootstrap_mean_ci(small, seed=1) != bootstrap_mean_ci(small, seed=2)
    assert bootstrap_mean_ci([5.0]) == (5.0, 5.0)
    with pytest.raises(ValueError):
        bootstrap_mean_ci([])


# --------------------------------------------------------------------------- run folders
def make_run(path, name, seqs, paper, n_trials=None, post=False, st1=False,
             status="finished", torn=False, seed=1, experiment=None):
    """A minimal run folder: ``seqs`` = sequences of the solved trials; further trials (up to
    ``n_trials``) are unsolved at a 100,000 budget."""
    d = path / name
    d.mkdir(parents=True)
    n_trials = n_trials or len(seqs)
    cfg = {"experiment": experiment or name, "seed": seed, "trials": n_trials,
           "protocol": {"name": "abs", "budget": 100000}, "paper": paper}
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    (d / "meta.json").write_text(json.dumps({"experiment": name, "trials": n_trials,
                                             "status": status}))
    lines = []
    for k in range(n_trials):
        ok = k < len(seqs)
        t = {"trial": k, "seed": k, "solved": ok, "sequences": seqs[k] if ok else 100000,
             "reason": "x", "wall_seconds": 2.0}
        if post and ok:
            t["post_test"] = {"n": 2560, "wrong": k % 3, "fraction_wrong": (k % 3) / 2560,
                              "mse": 0.001 * (k + 1), "mae": 0.01, "max_abs_error": 0.1}
        if st1:
            t["st1_sequences"] = (seqs[k] - 500) if ok else None
        lines.append(json.dumps(t))
    text = "\n".join(lines) + "\n"
    if torn:
        text += '{"trial": 99, "sol'
    (d / "trials.jsonl").write_text(text)
    return d


SEQS = [28000, 30000, 31000, 32000, 29000, 33000, 30500, 31500, 29500, 30200]


def test_paper_mean_far_outside_is_flagged(tmp_path):
    r = row_stats(make_run(tmp_path, "far", SEQS, {"mean_sequences": 90000, "trials": 10}))
    assert FLAG_MEAN in r["flags"]
    assert r["ratio_mean"] == pytest.approx(np.mean(SEQS) / 90000)


def test_paper_mean_inside_is_not_flagged(tmp_path):
    r = row_stats(make_run(tmp_path, "in", SEQS, {"mean_sequences": 30500, "trials": 10,
                                                  "success_pct": 100}))
    assert r["flags"] == []
    s = r["sequences"]
    assert s["ci"][0] <= s["mean"] <= s["ci"][1]
    assert s["min"] == 28000 and s["max"] == 33000 and s["median"] == np.median(SEQS)
    assert r["trials"] == r["solved"] == 10 and r["success_rate"] == 1.0
    assert r["trial_seconds"] == pytest.approx(20.0)


def test_mean_flag_needs_two_solved_and_a_numeric_paper_mean(tmp_path):
    one = row_stats(make_run(tmp_path, "one", [5000], {"mean_sequences": 90000}, n_trials=1))
    assert FLAG_MEAN not in one["flags"]
    txt = row_stats(make_run(tmp_path, "txt", SEQS, {"mean_sequences": ">5,000,000"}))
    assert FLAG_MEAN not in txt["flags"] and txt["ratio_mean"] is None
    comma = row_stats(make_run(tmp_path, "comma", SEQS, {"mean_sequences": "90,000"}))
    assert FLAG_MEAN in comma["flags"]


def test_success_below_paper(tmp_path):
    low = row_stats(make_run(tmp_path, "low", SEQS * 2, {"success_pct": 100}, n_trials=30))
    assert (low["solved"], low["trials"]) == (20, 30)
    assert FLAG_SUCCESS in low["flags"]
    assert low["success_ci"] == pytest.approx([0.4719, 0.8271], abs=1e-4)
    ok = row_stats(make_run(tmp_path, "ok", SEQS * 2 + SEQS[:9], {"success_pct": 100},
                            n_trials=30))
    assert (ok["solved"], ok["trials"]) == (29, 30)
    assert FLAG_SUCCESS not in ok["flags"]


def test_failing_baseline_not_flagged_for_low_success(tmp_path):
    for name, paper in [("zero", {"success_pct": 0, "mean_sequences": 25000}),
                        ("gt", {"success_pct": 78, "mean_sequences": ">5,000,000"})]:
        r = row_stats(make_run(tmp_path, name, [], paper, n_trials=18))
        assert r["solved"] == 0 and r["sequences"] is None
        assert r["flags"] == []


def test_no_trial_solved_and_unfinished(tmp_path):
    r = row_stats(make_run(tmp_path, "none", [], {"success_pct": 56, "mean_sequences": 892000},
                           n_trials=10, status="running"))
    assert FLAG_NONE in r["flags"] and FLAG_SUCCESS in r["flags"]
    assert any("unfinished" in f for f in r["flags"])
    assert FLAG_SUCCESS not in row_stats(make_run(tmp_path, "few", [], {"success_pct": 56},
                                                  n_trials=3))["flags"]     # 0/3: CI up to 71%
    r = row_stats(make_run(tmp_path, "nopaper", [], None, n_trials=3))
    assert r["flags"] == [FLAG_NONE] and r["paper"] == {}


def test_post_test_st1_and_torn_line(tmp_path):
    r = row_stats(make_run(tmp_path, "pt", SEQS[:6], {"mean_sequences": 30000,
                                                      "wrong_of_2560": 1, "mse": 0.01},
                           n_trials=8, post=True, st1=True, torn=True))
    assert r["trials"] == 8 and r["solved"] == 6          # the torn line is ignored
    pt = r["post_test"]
    assert pt["trials"] == 6 and pt["n"] == 2560
    assert pt["mean_wrong"] == pytest.approx(np.mean([k % 3 for k in range(6)]))
    assert pt["mean_mse"] == pytest.approx(0.001 * np.mean(range(1, 7)))
    assert r["st1_mean"] == pytest.approx(np.mean(SEQS[:6]) - 500) and r["st1_trials"] == 6


# --------------------------------------------------------------------------- rendering
@pytest.fixture
def two_runs(tmp_path):
    a = make_run(tmp_path / "runs", "exp_a", SEQS, {"source": "HS97 Table 3",
                                                   "mean_sequences": 90000, "trials": 10})
    b = make_run(tmp_path / "runs", "exp_b", SEQS[:6], {"mean_sequences": 30000,
                                                       "wrong_of_2560": 1}, n_trials=8,
                 post=True)
    return [a, b]


def test_render_md(two_runs):
    md = report_command(two_runs, "md")
    top, table = md.split("## Every row\n")
    assert top.startswith("**0 of 2 LSTM rows reproduce** (2 of the paper's 31")
    lines = table.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("| run |") and set(lines[1]) <= set("|-")
    ncol = lines[0].count("|")
    assert all(line.count("|") == ncol for line in lines)
    assert "runs/exp_a" in lines[2] and "10/10" in lines[2] and FLAG_MEAN in lines[2]
    assert "runs/exp_b" in lines[3] and "6/8" in lines[3] and "of 2560" in lines[3]
    assert "90,000" in lines[2] and "HS97" not in md


def test_render_csv(two_runs):
    rows = list(csv.DictReader(io.StringIO(report_command(two_runs, "csv"))))
    assert [r["experiment"] for r in rows] == ["exp_a", "exp_b"]
    assert rows[0]["solved"] == "10" and rows[1]["trials"] == "8"
    assert float(rows[0]["mean_sequences"]) == pytest.approx(np.mean(SEQS))
    assert FLAG_MEAN in rows[0]["flags"]
    assert rows[1]["post_test_n"] == "2560" and rows[0]["post_test_n"] == ""
    assert render([], "csv").startswith("run,experiment,")


def test_render_json_and_out_dir(two_runs, tmp_path):
    out = tmp_path / "rep" / "sub"
    text = report_command(two_runs, "json", out=out)
    data = json.loads(text)
    assert [d["experiment"] for d in data] == ["exp_a", "exp_b"]
    assert data[0]["paper"]["source"] == "HS97 Table 3"
    assert data[0]["success_ci"] == pytest.approx([0.6915, 1.0], abs=1e-4)
    assert (out / "report.json").read_text() == text
    assert (out / "REPORT.md").read_text().startswith("**0 of 2 LSTM rows reproduce**")
    assert (out / "summary.csv").read_text().startswith("run,")
    with pytest.raises(ValueError, match="unknown format"):
        render(data, "xml")


def test_not_a_run_dir(tmp_path, two_runs):
    bogus = tmp_path / "not_a_run"
    bogus.mkdir()
    (bogus / "config.yaml").write_text("experiment: x\n")          # no meta.json
    with pytest.raises(ValueError, match="not_a_run"):
        report_command([two_runs[0], bogus])
    with pytest.raises(ValueError, match="missing_dir"):
        report_command([tmp_path / "missing_dir"])
    with pytest.raises(ValueError, match="not a run folder"):
        row_stats(bogus)


# ---- the scoreboard: the rule of issues 14-16 ------------------------------------------------
def _row(tmp_path, name, seqs, n_trials, paper, **kw):
    return row_stats(make_run(tmp_path, name, seqs, paper, n_trials=n_trials, **kw))


@pytest.mark.parametrize("seqs, n, paper, expect", [
    ([30000] * 10, 10, {"mean_sequences": 30000, "trials": 10}, "reproduces"),
    ([44900] * 10, 10, {"mean_sequences": 30000, "trials": 10}, "reproduces"),       # x1.497
    ([45300] * 10, 10, {"mean_sequences": 30000, "trials": 10}, "outside"),          # x1.51
    ([20200] * 10, 10, {"mean_sequences": 30000, "trials": 10}, "reproduces"),       # x0.673
    ([20000] * 10, 10, {"mean_sequences": 30000, "trials": 10}, "outside"),          # x0.667
    ([30000] * 9, 9, {"mean_sequences": 30000, "trials": 10}, "of the paper's 10 trials"),
    ([30000] * 9, 10, {"mean_sequences": 30000, "trials": 10}, "reproduces"),        # 0.9 x 100%
    ([30000] * 8, 10, {"mean_sequences": 30000, "trials": 10}, "success 8/10 below"),
    ([30000] * 26, 30, {"mean_sequences": 30000, "trials": 30, "success_pct": 97}, "below"),
    ([30000] * 27, 30, {"mean_sequences": 30000, "trials": 30, "success_pct": 97}, "reproduces"),
    ([], 10, {"mean_sequences": 30000, "trials": 10}, "no trial solved"),
    ([30000] * 10, 10, {"mean_sequences": 30000, "trials": 10,
                        "setup_differs": ["init.scale"]}, "not the paper's setup"),
])
def test_verdict_follows_the_rule(tmp_path, seqs, n, paper, expect):
    v = _row(tmp_path, "r", seqs, n, paper)["verdict"]
    assert (v == "reproduces") if expect == "reproduces" else (expect in v and v != "reproduces")


def test_unfinished_and_baseline_rows(tmp_path):
    assert "unfinished" in _row(tmp_path, "u", [30000] * 10, 10,
                                {"mean_sequences": 30000, "trials": 10}, status="running")["verdict"]
    d = make_run(tmp_path, "rtrl", [], {"mean_sequences": ">5,000,000", "success_pct": 0}, 3)
    cfg = yaml.safe_load((d / "config.yaml").read_text())
    cfg["model"] = {"kind": "frnn"}
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    r = row_stats(d)
    assert r["verdict"] is None and not is_lstm_row(r)
    board = scoreboard([r, _row(tmp_path, "ok", [30000] * 10, 10,
                                {"mean_sequences": 30000, "trials": 10})])
    assert board.startswith("**1 of 1 LSTM rows reproduce**")
    assert "| rtrl | frnn | 0/3 solved | 0% successful, mean >5,000,000 |" in board
    assert "unfinished" not in board
    # a baseline still running says so, in its row and in the scoreboard line
    d2 = make_run(tmp_path, "bptt", [], {"mean_sequences": ">5,000,000", "success_pct": 0,
                                         "trials": 18}, 3, status="running")
    cfg2 = yaml.safe_load((d2 / "config.yaml").read_text())
    (d2 / "config.yaml").write_text(yaml.safe_dump({**cfg2, "model": {"kind": "frnn"}}))
    board = scoreboard([r, row_stats(d2), _row(tmp_path, "ok2", [30000] * 10, 10,
                                               {"mean_sequences": 30000, "trials": 10})])
    assert "reproduce** (1 of the paper's 31 LSTM rows are in this report); 1 baseline run is " \
           "unfinished. A row" in board.split("\n")[0]
    assert ("| bptt | frnn | 0/3 solved (run unfinished: 3 of the paper's 18 trials) | "
            "0% successful, mean >5,000,000 |") in board


def test_overview_figure_is_embedded(two_runs, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "rep"
    from lstmrun.plots import plot_overview

    report_command(two_runs, "md", out=out, overview=plot_overview)
    assert (out / "overview.png").stat().st_size > 1000 and (out / "overview.svg").exists()
    md = (out / "REPORT.md").read_text().splitlines()
    assert md[0].startswith("**0 of 2") and md[2] == "![every LSTM row, ours / paper](overview.png)"


def test_seeds_pool_and_the_first_run_is_the_row(tmp_path):
    paper = {"mean_sequences": 30000, "trials": 10, "success_pct": 100}
    runs = [make_run(tmp_path, f"s{k}", [30000 + 1000 * k] * (10 - k), paper, n_trials=10,
                     seed=k, experiment="exp_x") for k in range(3)]
    rows = [row_stats(d) for d in runs]
    (g,) = seed_pools(rows)
    assert (g["seeds"], g["solved"], g["trials"]) == (3, 27, 30)
    vals = [30000] * 10 + [31000] * 9 + [32000] * 8
    assert g["mean"] == pytest.approx(np.mean(vals))
    assert g["mean_ci"][0] <= g["mean"] <= g["mean_ci"][1]
    assert g["rate_ci"] == pytest.approx(list(wilson(27, 30)))
    assert g["verdict"] == "reproduces"                              # 27/30 >= 0.9 x 100%
    board = scoreboard(rows)
    assert board.startswith("**1 of 1 LSTM rows reproduce**")
    assert "; 1 when the 1 row(s) run over several seeds are judged on their pooled" in board
    assert "| exp_x | 3 | 27/30 | 0.900 [" in board
    # seed 0 fails alone (9/10 would pass; make it 8/10): the pooled verdict can differ
    runs2 = [make_run(tmp_path / "b", f"s{k}", [30000] * (8 + 2 * k), paper, n_trials=10,
                      seed=k, experiment="exp_y") for k in range(2)]
    rows2 = [row_stats(d) for d in runs2]
    assert rows2[0]["verdict"] != "reproduces" and seed_pools(rows2)[0]["verdict"] == "reproduces"
    board2 = scoreboard(rows2)
    assert board2.startswith("**0 of 1 LSTM rows reproduce**") and "; 1 when the 1 row(s)" in board2
    # one seed only, or a departure from the paper's setup: no pooled row
    assert seed_pools(rows[:1]) == []


def test_run_commits_lists_the_start_then_each_other_resuming_commit():
    from lstmrun.report import run_commits

    g = lambda c: {"commit": c, "dirty": False}  # noqa: E731
    assert run_commits({"git": g("a")}) == ["a"]
    assert run_commits({"git": g("a"), "resumed_git": [g("a"), g("b"), g("a"), g(None)]}) == [
        "a", "b"]
    assert run_commits({}) == []


def test_md_names_the_writing_commit_and_the_commits_the_trials_ran_at(two_runs, tmp_path):
    import json as _json

    from lstmrun.report import provenance

    md = report_command(two_runs, "md")
    assert "## Provenance" in md.split("## Every row")[0]
    meta = _json.loads((two_runs[0] / "meta.json").read_text())
    meta["git"] = {"commit": "a" * 40, "dirty": False}
    meta["resumed_git"] = [{"commit": "b" * 40, "dirty": False}]
    (two_runs[0] / "meta.json").write_text(_json.dumps(meta))
    rows = [row_stats(d) for d in two_runs]
    text = provenance(rows, {"commit": "c" * 40, "dirty": True})
    assert f"written at commit `{'c' * 40}` (with uncommitted changes)" in text
    assert f"`{'a' * 10}` then `{'b' * 10}`: 1 run folder(s)" in text
    csv_rows = list(csv.DictReader(io.StringIO(report_command(two_runs, "csv"))))
    assert csv_rows[0]["commits"] == f"{'a' * 40} {'b' * 40}"


def test_overview_marks_a_row_with_no_finished_trial_as_not_run(two_runs, tmp_path):
    pytest.importorskip("matplotlib")
    from lstmrun.plots import plot_overview

    empty = make_run(tmp_path / "runs", "exp_c", [], {"mean_sequences": 50000, "trials": 20},
                     n_trials=20, status="running")
    (empty / "trials.jsonl").write_text("")
    rows = [row_stats(d) for d in [*two_runs, empty]]
    svgs = [p for p in plot_overview(rows, tmp_path / "ov") if p.suffix == ".svg"]
    text = svgs[0].read_text()                  # text stays text in these SVGs (plots._save)
    assert text.count("not run yet") == 1 and "0/0" not in text
    assert rows[2]["verdict"].startswith("0 of the paper's 20 trials; no trial run yet")
    assert scoreboard(rows).startswith("**0 of 3 LSTM rows reproduce** (3 of the paper's 31 LSTM "
                                       "rows are in this report); 1 of these runs is unfinished")
    assert "unfinished" not in scoreboard(rows[:2]).split("\n")[0]
