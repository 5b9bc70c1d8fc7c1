"""protocols/base.py: the learning curve's log-spaced rows, train settings, threshold, divergence."""

import numpy as np

from lstmrun.engine.judge import M_CORRECT, M_NTGT, M_SSE, N_METRICS
from lstmrun.protocols.base import Curve, TrainSettings, diverged, threshold


def _metrics(n, sse=1.0, correct=1.0):
    m = np.zeros((n, N_METRICS))
    m[:, M_SSE], m[:, M_NTGT], m[:, M_CORRECT] = sse, 1.0, correct
    return m


def test_a_trial_that_solves_early_in_a_long_budget_draws_a_curve():
    c = Curve(5_000_000, 100, 1)
    seen = 0
    while seen < 80_000:
        seen += 1000
        c.add(_metrics(1000), seen)
    c.flush(seen)
    xs = [r[0] for r in c.rows]
    assert len(xs) >= 20 and xs == sorted(set(xs)) and xs[-1] == 80_000
    # the rows aggregate everything in between: every sequence counted once
    assert all(r[1] == 1.0 and r[2] == 1.0 for r in c.rows)


def test_a_whole_budget_gives_at_most_points_rows_spread_on_a_log_scale():
    c = Curve(100_000, 20, 2)
    for seen in range(100, 100_001, 100):
        c.add(_metrics(100, sse=2.0), seen)
    c.flush(100_000)
    xs = np.array([r[0] for r in c.rows])
    assert len(xs) <= 21 and xs[-1] == 100_000
    gaps = np.diff(np.log(xs))
    assert gaps.max() < 3 * np.log(100_000) / 20      # no long stretch without a row
    assert all(r[1] == 1.0 for r in c.rows)              # mse = sse / (targets x outputs)


def test_no_points_no_rows():
    c = Curve(1000, 0, 1)
    c.add(_metrics(10), 10)
    c.flush(10)
    assert c.rows == []


def test_settings_threshold_divergence():
    cfg = {"train": {"lr": 0.5, "update": "sequence", "sampling": "random"},
           "protocol": {"threshold": None}}
    ts = TrainSettings.of(cfg)
    assert ts.lr == 0.5 and ts.per_step is False and ts.sampling == "random"

    class T:
        threshold = 0.25

    assert threshold(cfg, T) == 0.25
    cfg["protocol"]["threshold"] = 0.1
    assert threshold(cfg, T) == 0.1

    class Net:
        Wh = np.zeros((2, 2))
        Wo = np.zeros((1, 2))

    assert not diverged(Net)
    Net.Wo = np.array([[np.nan, 0.0]])
    assert diverged(Net)


def test_every_protocol_declares_what_it_runs():
    import glob

    from lstmrun.config import SCHEMA, load
    from lstmrun.protocols import BY_NAME, check

    allowed = SCHEMA["protocol"]["name"]
    assert all(allowed.check(n) is None for n in BY_NAME)
    assert allowed.check("nope") is not None
    for f in glob.glob(str(__import__("pathlib").Path(__file__).resolve().parents[1]
                           / "configs" / "*" / "*.yaml")):
        cfg = load(f)
        assert check(cfg["protocol"]["name"], cfg["task"]["name"], cfg["model"]["kind"]) is None
    assert "cslang" in check("exp1", "anbn", "lstm97")          # anbn runs under cslang only
    assert "timing" in check("st3", "msd", "lstm97")
    assert "task.name cerg" in check("cerg", "embedded_reber", "lstm97")
    assert "model.kind lstm97" in check("timing", "msd", "frnn")
