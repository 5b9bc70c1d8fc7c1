"""Stop rules: exact sequence counts of windowed rules, and every paper config runs end to end."""

from pathlib import Path

import numpy as np
import pytest

from lstmrun.config import load
from lstmrun.protocols.online import _Window
from lstmrun.rundir import count_unit
from lstmrun.runner import run_trial

ROOT = Path(__file__).resolve().parents[1]
PAPER = sorted((ROOT / "configs" / "paper").glob("*.yaml"))


def brute_first_hit(ok, err, w, rule):
    for end in range(w, len(ok) + 1):
        if rule(ok[end - w:end].sum(), err[end - w:end].sum()):
            return end - 1
    return None


@pytest.mark.parametrize("w,chunk", [(1, 7), (5, 3), (20, 7), (20, 50), (64, 64)])
def test_window_finds_the_first_sequence_exactly(w, chunk):
    rng = np.random.default_rng(w * 100 + chunk)
    for _ in range(20):
        n = 400
        ok = (rng.random(n) < 0.97).astype(float)
        err = rng.random(n) * 0.02
        rule = (lambda so, se: (so == w) & (se / w < 0.0105))
        want = brute_first_hit(ok, err, w, rule)
        win = _Window(w)
        got = None
        for a in range(0, n, chunk):
            h = win.first_hit(ok[a:a + chunk], err[a:a + chunk], rule)
            if h is not None:
                got = a + h
                break
        assert got == want


@pytest.mark.parametrize("path", PAPER, ids=[p.stem for p in PAPER])
def test_every_paper_config_runs_a_tiny_trial(path, monkeypatch):
    # the generic kernel: one compile for all configs (specialised kernels are tested elsewhere)
    monkeypatch.setenv("LSTMRUN_SPECIALIZE", "0")
    cfg = load(path, ["protocol.budget=40", "protocol.check_every=20", "protocol.chunk=20",
                      "protocol.window=10", "protocol.post_test=5", "protocol.test_size=5"])
    if cfg["task"]["name"] == "embedded_reber":
        cfg["task"].update(n_train=8, n_test=8)
    for key in ("T", "q"):  # shorter sequences: this is a smoke test of the plumbing
        if key in cfg["task"]:
            cfg["task"][key] = min(cfg["task"][key], 50)
    rec, w = run_trial(cfg, 0)
    assert rec[count_unit(cfg)] <= 40      # training sequences, or guesses (random guessing)
    assert rec["solved"] in (True, False) and rec["reason"]
    assert np.isfinite(w["Wh"]).all() and np.isfinite(w["Wo"]).all()


def test_cells_off_is_the_input_output_net_and_cells_do_not_learn():
    """Sequential construction, phase 1 (HS97 §4 remedy 1): without cells the outputs see only
    the inputs, and the cells' and gates' weights stay as they are."""
    from lstmrun.engine import LSTM97
    from lstmrun.tasks.registry import build_task, validate_task

    cfg = load(ROOT / "configs/paper/exp2a_p100.yaml", ["task.p=10"])
    task = build_task(cfg["task"])
    from lstmrun.runner import make_arch, make_init

    rng = np.random.default_rng(0)
    net = LSTM97.random(make_arch(cfg, task), make_init(cfg), rng)
    net.enable_cells(False)
    chunk = task.sample(rng, 20)
    wh0 = net.Wh.copy()
    other = net.copy()
    other.Wh[:] = rng.uniform(-1, 1, other.Wh.shape)  # different cell/gate weights
    m1 = net.evaluate(chunk, criterion="abs", threshold=0.25)
    m2 = other.evaluate(chunk, criterion="abs", threshold=0.25)
    assert np.array_equal(m1, m2)
    net.train(chunk, lr=1.0, update_per_step=False)
    assert np.array_equal(net.Wh, wh0)
    net.enable_cells(True)
    net.train(chunk, lr=1.0, update_per_step=False)
    assert not np.array_equal(net.Wh, wh0)
    assert validate_task({"name": "exp2a", "p": 10})["p"] == 10


def test_legal_targets_are_multi_hot():
    from lstmrun.tasks.registry import build_task, validate_task

    task = build_task(validate_task({"name": "embedded_reber", "targets": "legal",
                                     "target_on": 0.9, "target_off": 0.1}))
    c = task.sample(np.random.default_rng(3), 10)
    bits = (c.legal[:, None] >> np.arange(7)) & 1
    assert np.array_equal(c.targets, np.where(bits == 1, 0.9, 0.1))
    assert (bits.sum(1) >= 1).all()


# ---- ST1/ST2 readings (A13): a fixed test set, and the rule on k checks in a row ----------------

class _StubNet:
    """Trains nothing; each evaluate() of a test set returns the next scripted (wrong, mae)."""

    def __init__(self, script):
        from lstmrun.engine.lstm97 import N_METRICS
        self.n_metrics = N_METRICS
        self.script = list(script)
        self.seen_sets = []
        self.Wh, self.Wo = np.zeros(3), np.zeros(3)
        self.cells_enabled = True

    def enable_cells(self, on):
        self.cells_enabled = on

    def train(self, data, idx=None, **kw):
        from lstmrun.engine.lstm97 import M_CORRECT, M_NTGT
        n = data if isinstance(data, int) else data["n"]
        m = np.zeros((n, self.n_metrics))
        m[:, M_NTGT] = 1.0
        m[:, M_CORRECT] = 1.0
        return m

    def evaluate(self, data, **kw):
        from lstmrun.engine.lstm97 import M_CORRECT, M_NTGT, M_SUMABS
        self.seen_sets.append(data["id"])
        n = data["n"]
        wrong, mae = self.script.pop(0) if self.script else (0, 0.0)
        m = np.zeros((n, self.n_metrics))
        m[:, M_NTGT] = 1.0
        m[:, M_CORRECT] = 1.0
        m[:wrong, M_CORRECT] = 0.0
        m[:, M_SUMABS] = mae
        return m


class _StubTask:
    n_out = 1
    threshold = 0.2

    def __init__(self):
        self.drawn = 0

    def sample(self, rng, n):
        self.drawn += 1
        return {"n": n, "id": self.drawn}


def _st12_cfg(**proto):
    cfg = load(ROOT / "configs" / "paper" / "exp3b_t100_n3.yaml",
               ["protocol.check_every=10", "protocol.post_test=0", "protocol.budget=200"])
    cfg["protocol"].update(proto)
    return cfg


# checks: (wrong, mae); 3b: ST1 <= 5 wrong, ST2 also mae < 0.04
_SCRIPT = [(9, 0.1), (3, 0.05), (2, 0.03), (7, 0.02), (1, 0.03), (0, 0.01), (0, 0.01)]


def test_st12_defaults_are_fresh_sets_and_one_check():
    from lstmrun.protocols.online import run
    cfg = _st12_cfg()
    assert cfg["protocol"]["st_test_set"] == "fresh" and cfg["protocol"]["st_consecutive"] == 1
    net, task = _StubNet(_SCRIPT), _StubTask()
    res = run(cfg, task, net, np.random.default_rng(0), np.random.default_rng(1))
    assert res["solved"] and res["sequences"] == 30 and res["st1_sequences"] == 20
    assert net.seen_sets == [2, 4, 6]          # a fresh set per check (training draws between)


def test_st12_consecutive_checks_and_fixed_set():
    from lstmrun.protocols.online import run
    net, task = _StubNet(_SCRIPT), _StubTask()
    res = run(_st12_cfg(st_consecutive=2), task, net, np.random.default_rng(0),
              np.random.default_rng(1))
    # ST1 holds at checks 2,3 (first pair: count 30); ST2 at 3, 5, 6, 7 -> first pair 5,6 (60)
    assert res["st1_sequences"] == 30 and res["sequences"] == 60
    net, task = _StubNet(_SCRIPT), _StubTask()
    res = run(_st12_cfg(st_test_set="fixed"), task, net, np.random.default_rng(0),
              np.random.default_rng(1))
    assert res["sequences"] == 30 and set(net.seen_sets) == {1}   # one set, drawn first


def test_st3_halves_records_each_half_and_leaves_the_run_unchanged(monkeypatch):
    """protocol.st3_halves is diagnostic: the same trial, the same stop, the same weights; the halves
    of ST3 each held no later than ST3 itself."""
    monkeypatch.setenv("LSTMRUN_SPECIALIZE", "0")
    sets = ["protocol.budget=3000", "protocol.chunk=100", "protocol.window=20", "protocol.beta=0.05",
            "protocol.threshold=0.3", "protocol.post_test=0", "task.T=20", "protocol.error_kind=mse"]
    base = load(ROOT / "configs/paper/exp4_adding_t100.yaml", sets)
    diag = load(ROOT / "configs/paper/exp4_adding_t100.yaml", sets + ["protocol.st3_halves=true"])
    assert base["protocol"]["st3_halves"] is False
    r0, w0 = run_trial(base, 0)
    r1, w1 = run_trial(diag, 0)
    assert "st3_all_correct_at" not in r0 and "st3_mean_below_at" not in r0
    assert r0["solved"] == r1["solved"] and r0["sequences"] == r1["sequences"]
    assert np.array_equal(w0["Wh"], w1["Wh"]) and np.array_equal(w0["Wo"], w1["Wo"])
    assert r1["solved"], "the tiny task should meet ST3 within the budget"
    assert r1["st3_all_correct_at"] <= r1["sequences"] and r1["st3_mean_below_at"] <= r1["sequences"]
    assert max(r1["st3_all_correct_at"], r1["st3_mean_below_at"]) <= r1["sequences"]
