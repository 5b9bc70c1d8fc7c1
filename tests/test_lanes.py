"""The lanes kernel (engine/lanes.py): NL nets trained in one call must end bit for bit where each
net ends trained alone by the one-net kernel (weights and every metrics row), whatever their
sequence lengths, target steps and how many lanes are filled."""

from __future__ import annotations

import numpy as np
import pytest
from test_engine import make_chunk

from lstmrun.engine.arch import Arch, Init, init_weights
from lstmrun.engine.model import LSTM97, train_lanes

# (arch, onehot inputs, where targets are, criterion): the nets of the on-line experiments
CASES = {
    # Exp 2c: one-hot, no biases, 2 blocks x 1 cell, targets at the end
    "2c": (Arch(9, 2, 2, 1, biases="none"), True, "end", "abs"),
    # Exp 4: real inputs, linear output, 2 blocks x 2 cells, biases everywhere
    "adding": (Arch(2, 1, 2, 2, biases="all", output_act="identity"), False, "end", "abs"),
    # every step a target, legal-symbol criterion, logistic g and h, cells-only recurrence
    "every": (Arch(7, 7, 3, 2, connectivity="C", g="logistic", h="logistic"), True, "every",
              "legal"),
    # no output gate, targets at random steps, real inputs and inputs -> outputs
    "no_og": (Arch(3, 2, 2, 2, output_gate=False, connectivity="B"), False, "random", "abs"),
    # the centred reading of 2c, identity g and h
    "centred": (Arch(6, 2, 2, 1, biases="none", gate_sources="centred", g="identity",
                     h="identity"), True, "end", "abs"),
}
FAST = ("2c", "adding")


def _nets_and_data(arch, onehot, target, n_nets, seed, reset_act=0.0, fast_exp=False):
    rng = np.random.default_rng(seed)
    nets, chunks, orders = [], [], []
    for i in range(n_nets):
        Wh, Wo = init_weights(arch, Init(scale=0.4), rng)
        net = LSTM97(arch, Wh, Wo, reset_act=reset_act)
        net.fast_exp = fast_exp
        nets.append(net)
        # unequal counts and lengths, so that lanes finish at different ticks
        ch = make_chunk(rng, 6 + 3 * i, arch.n_in, arch.n_out, onehot=onehot,
                        lengths=(2, 9 + 4 * i), target=target, real_targets=not onehot)
        chunks.append(ch)
        orders.append(rng.integers(0, ch.n, size=5 + 4 * i))
    return nets, chunks, orders


def _check(name, n_nets=3, lanes=4, seed=0, reset_act=0.0, fast_exp=False, lr=0.7, thr=0.3):
    arch, onehot, target, crit = CASES[name]
    nets, chunks, orders = _nets_and_data(arch, onehot, target, n_nets, seed, reset_act,
                                          fast_exp)
    alone = [net.copy() for net in nets]
    ms = [a.train(ch, o, lr=lr, criterion=crit, threshold=thr)
          for a, ch, o in zip(alone, chunks, orders)]
    w0 = [net.Wh.copy() for net in nets]
    ml = train_lanes(nets, chunks, orders, lr=lr, criterion=crit, threshold=thr, lanes=lanes)
    for i in range(n_nets):
        assert np.abs(alone[i].Wh - w0[i]).max() > 1e-3      # the nets did learn
        np.testing.assert_array_equal(nets[i].Wh, alone[i].Wh)
        np.testing.assert_array_equal(nets[i].Wo, alone[i].Wo)
        np.testing.assert_array_equal(ml[i], ms[i])
    return ms


@pytest.mark.parametrize("name", FAST)
def test_lanes_bit_identical_to_one_net(name):
    _check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in CASES if n not in FAST])
def test_lanes_bit_identical_other_nets(name):
    _check(name)


@pytest.mark.slow
@pytest.mark.parametrize("fast_exp", [False, True])
def test_lanes_full_lanes_reset_and_exp(fast_exp):
    _check("2c", n_nets=4, reset_act=0.5, fast_exp=fast_exp, seed=3)
    _check("adding", n_nets=1, fast_exp=fast_exp, seed=4)


def test_lanes_judge_counts_failures():
    """The metrics are not vacuous: some sequences pass the criterion, some fail."""
    ms = _check("2c", seed=5, thr=0.5)
    correct = np.concatenate([m[:, 2] for m in ms])
    assert 0 < correct.sum() < len(correct)


def test_lanes_refuses_what_it_does_not_run():
    arch, onehot, target, crit = CASES["2c"]
    nets, chunks, orders = _nets_and_data(arch, onehot, target, 2, 1)
    with pytest.raises(ValueError, match="qualify"):
        train_lanes(nets, chunks, orders, lr=0.1, update_per_step=False)
    nets[1].set_momentum(0.9)
    with pytest.raises(ValueError, match="qualify"):
        train_lanes(nets, chunks, orders, lr=0.1)
    nets[1].set_momentum(0.0)
    nets[1].enable_cells(False)
    with pytest.raises(ValueError, match="qualify"):
        train_lanes(nets, chunks, orders, lr=0.1)
    with pytest.raises(ValueError, match="1..1 nets"):
        train_lanes(nets, chunks, orders, lr=0.1, lanes=1)


def test_lanes_one_chunk_for_every_lane():
    """Lanes that draw their sequences from one shared chunk (the benchmark's use)."""
    arch, onehot, target, crit = CASES["adding"]
    nets, chunks, orders = _nets_and_data(arch, onehot, target, 3, 6)
    alone = [net.copy() for net in nets]
    ms = [a.train(chunks[2], o % chunks[2].n, lr=0.5, criterion=crit, threshold=0.3)
          for a, o in zip(alone, orders)]
    ml = train_lanes(nets, [chunks[2]] * 3, [o % chunks[2].n for o in orders], lr=0.5,
                     criterion=crit, threshold=0.3, lanes=4)
    for i in range(3):
        np.testing.assert_array_equal(nets[i].Wh, alone[i].Wh)
        np.testing.assert_array_equal(nets[i].Wo, alone[i].Wo)
        np.testing.assert_array_equal(ml[i], ms[i])


def test_lanes_calls_in_turn_reuse_their_buffers():
    """train_lanes joins the lanes' chunks into buffers kept between calls: calls of other sizes
    and codings in turn (a large one, a smaller one, a larger one, real inputs) each give the
    one-net kernel's results, and the zeros lent to calls that do not read legal-symbol sets
    stay zero."""
    from lstmrun.engine import model

    for name, seed, n_nets in (("2c", 7, 4), ("2c", 8, 2), ("adding", 9, 3), ("2c", 10, 4)):
        _check(name, n_nets=n_nets, seed=seed)
    zeros = model._JOIN_BUFS[("zeros",)]
    assert zeros.size > 0 and not zeros.any()
