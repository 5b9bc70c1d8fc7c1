"""On-line momentum (``train.momentum``; GSS02 trains its timing nets with it).

- the kernel against the NumPy reference (``ref_train(momentum=...)``) to 1e-10, per-step and
  per-sequence changes, on the 1997, forget-gate and peephole nets, and across two calls (the
  velocity is kept between kernel calls, as between training streams);
- momentum 0 is the plain rule (to rounding: the step's change is summed before it is applied);
- config plumbing and refusals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference import ref_train
from test_engine import make_chunk

from lstmrun.config import ConfigError, load
from lstmrun.engine.arch import Arch, Init, init_weights
from lstmrun.engine.model import LSTM97

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    (Arch(7, 7, 3, 2), Init(0.2, output_gate_bias=(-1.0, -2.0, -3.0)), True),
    (Arch(2, 1, 2, 2, biases="all", forget_gate=True),
     Init(0.3, input_gate_bias=(-1.0, -2.0), forget_gate_bias=(0.5, 1.0)), False),
    (Arch(1, 1, 1, 1, connectivity="C", biases="b1", output_bias=True, forget_gate=True,
          peepholes=True, g="identity", h="identity"),
     Init(0.3, input_gate_bias=(0.0,), forget_gate_bias=(1.0,), output_gate_bias=(1.0,)), False),
]
IDS = ["3x2", "real-fg", "gss02-peep"]


@pytest.mark.parametrize("arch, init, onehot", CASES, ids=IDS)
@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_momentum_matches_reference(arch, init, onehot, per_step):
    rng = np.random.default_rng(31)
    chunk = make_chunk(rng, 12, arch.n_in, arch.n_out, onehot=onehot, lengths=(4, 12),
                       target="random", real_targets=not onehot)
    Wh0, Wo0 = init_weights(arch, init, rng)
    net = LSTM97(arch, Wh0.copy(), Wo0.copy())
    net.set_momentum(0.9)
    vel = {"h": np.zeros_like(Wh0), "o": np.zeros_like(Wo0)}
    Wh_r, Wo_r = Wh0, Wo0
    for order in (rng.integers(0, chunk.n, 15), rng.integers(0, chunk.n, 15)):  # two calls
        net.train(chunk, order, lr=0.1, update_per_step=per_step)
        Wh_r, Wo_r, _ = ref_train(arch, Wh_r, Wo_r, chunk, order, 0.1, per_step,
                                  momentum=0.9, vel=vel)
    assert np.abs(Wh_r - Wh0).max() > 1e-3
    assert np.abs(net.Wh - Wh_r).max() < 1e-10
    assert np.abs(net.Wo - Wo_r).max() < 1e-10
    v = np.concatenate([vel["h"].ravel(), vel["o"].ravel()])
    assert np.abs(net.vel - v).max() < 1e-10 and np.abs(v).max() > 1e-4
    # a plain run differs: momentum did something
    plain = LSTM97(arch, Wh0.copy(), Wo0.copy())
    plain.train(chunk, order, lr=0.1, update_per_step=per_step)
    assert np.abs(plain.Wh - net.Wh).max() > 1e-4


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_zero_momentum_is_the_plain_rule(per_step):
    arch, init, onehot = CASES[0]
    rng = np.random.default_rng(32)
    chunk = make_chunk(rng, 10, 7, 7, onehot=onehot)
    a = LSTM97.random(arch, init, rng)
    b = a.copy()
    b.set_momentum(1e-300)       # the momentum path, with a velocity that decays at once
    a.train(chunk, lr=0.5, update_per_step=per_step)
    b.train(chunk, lr=0.5, update_per_step=per_step)
    assert np.abs(a.Wh - b.Wh).max() < 1e-12 and np.abs(a.Wo - b.Wo).max() < 1e-12
    if not per_step:             # the summed change is applied in one go either way
        assert np.array_equal(a.Wh, b.Wh)


def test_copy_keeps_velocity():
    arch, init, _ = CASES[0]
    rng = np.random.default_rng(33)
    net = LSTM97.random(arch, init, rng)
    net.set_momentum(0.5)
    net.train(make_chunk(rng, 5, 7, 7), lr=0.5)
    c = net.copy()
    assert c.momentum == 0.5 and np.array_equal(c.vel, net.vel) and c.vel is not net.vel


def test_config():
    from lstmrun.runner import make_model
    from lstmrun.tasks.registry import build_task

    cfg = load(ROOT / "configs" / "paper" / "exp4_adding_t100.yaml", ["train.momentum=0.9"])
    net = make_model(cfg, build_task(cfg["task"]), np.random.default_rng(0))
    assert net.momentum == 0.9 and net.vel.size == net.Wh.size + net.Wo.size
    with pytest.raises(ConfigError, match="momentum"):
        load(ROOT / "configs" / "paper" / "exp4_adding_t100.yaml", ["train.momentum=1.0"])
    full = load(ROOT / "configs" / "paper" / "exp4_adding_t100.yaml",
                ["train.momentum=0.9", "train.gradient=full"])      # the full gradient too
    assert full["train"]["momentum"] == 0.9
    with pytest.raises(ConfigError, match="momentum"):
        load(ROOT / "configs" / "paper" / "exp1_erg_rtrl_h3.yaml", ["train.momentum=0.9"])
