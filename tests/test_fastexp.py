"""The vectorisable exp (``lstmrun/engine/fastexp.py``) and the kernels' ``train.exp: fast`` switch.

- ``fexp`` within 2 ulp of the C library's exp over the whole finite range, and its stated values
  at the edges (inf, the value at -708, NaN);
- the LSTM kernel with the fast exp against the NumPy reference (which uses NumPy's exp) to 1e-10
  on the Exp 1 and Exp 4 nets; the RTRL kernel against the NumPy RTRL of the benchmark;
- the config switch reaches the models, and is refused where a kernel has no fast path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit
from test_engine import EXP1_3x2, compare_with_reference, make_chunk

from lstmrun.config import ConfigError, load
from lstmrun.engine.arch import Arch, Init
from lstmrun.engine.fastexp import fexp, flogistic
from lstmrun.engine.frnn import FRNN, FRNNArch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from numpy_rtrl import rtrl_train  # noqa: E402


@njit(error_model="numpy")
def _fexp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = fexp(x[i])


@njit(error_model="numpy")
def _libm_all(x, out):
    for i in range(x.shape[0]):
        out[i] = np.exp(x[i])


def _ulps(x):
    a, b = np.empty_like(x), np.empty_like(x)
    _fexp_all(x, a)
    _libm_all(x, b)
    return np.abs(a - b) / np.spacing(np.abs(b))


@pytest.mark.parametrize("lo, hi", [(-708.0, 709.78), (-40.0, 40.0), (-1.0, 1.0), (700.0, 709.78),
                                    (-1e-6, 1e-6)])
def test_fexp_within_2_ulp(lo, hi):
    x = np.random.default_rng(0).uniform(lo, hi, 400_000)
    assert _ulps(x).max() <= 2.0


def test_fexp_edges():
    x = np.array([0.0, -0.0, 709.79, 1e4, np.inf, -709.0, -1e4, -np.inf, np.nan])
    out = np.empty_like(x)
    _fexp_all(x, out)
    assert out[0] == 1.0 and out[1] == 1.0
    assert np.all(np.isinf(out[2:5]))
    at_lo = np.exp(-708.0)
    assert np.all(np.abs(out[5:8] - at_lo) <= np.spacing(at_lo) * 2)
    assert np.isnan(out[8])


def test_flogistic_saturates():
    for x, want in [(800.0, 1.0), (-800.0, 0.0), (0.0, 0.5)]:
        assert abs(flogistic(x) - want) < 1e-300 + 1e-16


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_lstm_fast_exp_matches_reference(per_step, monkeypatch):
    import lstmrun.engine.model as model_mod

    orig = model_mod.LSTM97.__init__

    def init_fast(self, *a, **k):
        orig(self, *a, **k)
        self.fast_exp = True

    monkeypatch.setattr(model_mod.LSTM97, "__init__", init_fast)
    rng = np.random.default_rng(21)
    arch, init = EXP1_3x2
    chunk = make_chunk(rng, 12, 7, 7, onehot=True, lengths=(5, 15))
    order = rng.integers(0, chunk.n, size=30)
    net = compare_with_reference(arch, init, chunk, order, 0.5, per_step)
    assert net.fast_exp
    arch = Arch(2, 1, 2, 2, biases="all")
    chunk = make_chunk(rng, 15, 2, 1, onehot=False, target="end", real_targets=True)
    compare_with_reference(arch, Init(0.1, input_gate_bias=(-3.0, -6.0)), chunk,
             rng.integers(0, chunk.n, size=40), 0.5, per_step)


def test_lstm_fast_exp_changes_only_low_bits():
    rng = np.random.default_rng(22)
    arch, init = EXP1_3x2
    from lstmrun.engine.model import LSTM97

    net = LSTM97.random(arch, init, rng)
    chunk = make_chunk(rng, 20, 7, 7, onehot=True)
    a, b = net.copy(), net.copy()
    b.fast_exp = True
    a.train(chunk, lr=0.5)
    b.train(chunk, lr=0.5)
    d = np.abs(a.Wh - b.Wh).max()
    assert 0.0 < d < 1e-12          # a different exp, the same rule


@pytest.mark.parametrize("per_step", [True, False])
def test_rtrl_fast_exp_matches_numpy(per_step):
    rng = np.random.default_rng(23)
    chunk = make_chunk(rng, 8, 12, 12, onehot=True, lengths=(3, 8))
    arch = FRNNArch(12, 12, 2, outputs="separate", hidden_bias=True, output_bias=True)
    net = FRNN.random(arch, 0.5, rng)
    fast = net.copy()
    fast.fast_exp = True
    assert fast.copy().fast_exp
    order = np.arange(chunk.n, dtype=np.int64)
    fast.train(chunk, order, lr=0.5, update_per_step=per_step)
    Wh, Wo = rtrl_train(net.arch, net.Wh, net.Wo, chunk, order, 0.5, per_step, net.reset_act)
    assert np.abs(fast.Wh - net.Wh).max() > 1e-3
    np.testing.assert_allclose(Wh, fast.Wh, rtol=0, atol=1e-10)
    np.testing.assert_allclose(Wo, fast.Wo, rtol=0, atol=1e-10)


def test_config_switch():
    from lstmrun.runner import make_model
    from lstmrun.tasks.registry import build_task

    cfg = load(ROOT / "configs" / "paper" / "exp1_erg_3x2_lr05.yaml", ["train.exp=fast"])
    assert make_model(cfg, build_task(cfg["task"]), np.random.default_rng(0)).fast_exp
    cfg = load(ROOT / "configs" / "paper" / "exp1_erg_3x2_lr05.yaml")
    assert cfg["train"]["exp"] == "exact"
    assert not make_model(cfg, build_task(cfg["task"]), np.random.default_rng(0)).fast_exp
    cfg = load(ROOT / "configs" / "paper" / "exp2a_rtrl_p100.yaml")
    assert make_model(cfg, build_task(cfg["task"]), np.random.default_rng(0)).fast_exp
    cfg = load(ROOT / "configs" / "paper" / "exp1_erg_3x2_lr05.yaml",
               ["train.exp=fast", "train.gradient=full", "train.update=sequence"])
    assert make_model(cfg, build_task(cfg["task"]), np.random.default_rng(0)).fast_exp
    with pytest.raises(ConfigError, match="train.exp"):
        load(ROOT / "configs" / "paper" / "exp1_erg_elman_h15.yaml", ["train.exp=fast"])
