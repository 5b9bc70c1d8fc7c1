"""Peephole connections (Gers & Schmidhuber 2000; GSS02 §3; PROTOCOLS §13.1; issue 8 parts 2, 5).

- weight counts: GSS02's timing net (17 weights, PROTOCOLS §1.3) and the peephole mask (each gate
  sees the states of its own block's cells only);
- the Numba kernel against the NumPy reference ``tests/reference.py`` (extended for peepholes from
  §13.1) to 1e-10 after a few hundred on-line steps, with and without forget gates;
- peephole weights pinned at 0 (not learning) give the model without peepholes, bit for bit;
- finite differences where the truncation loses nothing (zero recurrent and zero peephole
  weights: the peephole weights' own partials are then exact and not trivially zero), and a
  negative control (nonzero peepholes: the error path through them is cut, as §13.1 says);
- the specialised kernels, ``lstmrun inspect``'s trace, and the full gradient's refusal.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import ref_forward
from test_engine import (assert_specialised_is_generic, check_fd_zero_recurrent,
                         compare_with_reference, _engine_update, make_chunk, _numeric_grad,
                         random_weights, reference_case)

from lstmrun.engine import lstm97
from lstmrun.engine.arch import Arch, Init, init_weights
from lstmrun.engine.model import LSTM97

M_SSE = lstm97.M_SSE

# GSS02's timing net (PROTOCOLS §13.2, secondary PFX02): 1 input, 1 block of 1 cell with forget
# gate, 1 output; cell input and gates read input, cell output and bias; output reads cell and
# bias; g and h identity
GSS02 = dict(n_in=1, n_out=1, blocks=1, cells_per_block=1, connectivity="C", biases="b1",
             output_bias=True, input_to_output=False, g="identity", h="identity",
             forget_gate=True)
GSS02_INIT = Init(scale=0.1, input_gate_bias=(0.0,), forget_gate_bias=(-2.0,),
                  output_gate_bias=(2.0,))


def test_weight_counts():
    assert Arch(**GSS02, peepholes=True).n_weights() == 17            # PROTOCOLS §1.3
    assert Arch(**GSS02).n_weights() == 14                             # the no-peephole control
    # 3 gates x 2 cells of the own block per block
    assert Arch(7, 7, 3, 2, peepholes=True).n_weights() == 276 + 3 * 2 * 2
    assert Arch(7, 7, 3, 2, forget_gate=True, peepholes=True).n_weights() == \
        Arch(7, 7, 3, 2, forget_gate=True).n_weights() + 3 * 3 * 2
    assert Arch(3, 2, 2, 2, output_gate=False, peepholes=True).n_weights() == \
        Arch(3, 2, 2, 2, output_gate=False).n_weights() + 2 * 1 * 2
    a = Arch(5, 3, 2, 2, forget_gate=True, peepholes=True)
    Mh, Mo = a.masks()
    H, C, NZ = a.n_hidden, a.n_cells, 5 + 1 + a.n_hidden
    assert Mh.shape == (H, NZ + C) and Mo.shape == (3, 5 + 1 + C)
    P = Mh[:, NZ:]
    assert not P[:C].any()                                             # cells: no peepholes
    for j in range(2):
        for row in (a.in_gate0 + j, a.out_gate0 + j, a.forget_gate0 + j):
            np.testing.assert_array_equal(P[row], np.repeat(np.arange(2) == j, 2))
    # the layout without peepholes is unchanged
    assert Arch(5, 3, 2, 2, forget_gate=True).masks()[0].shape == (H, NZ)
    assert "peepholes" in a.describe()


def test_gss02_init():
    arch = Arch(**GSS02, peepholes=True)
    Wh, Wo = init_weights(arch, GSS02_INIT, np.random.default_rng(0))
    assert Wh.shape == (4, 7) and Wo.shape == (1, 3)
    np.testing.assert_array_equal(Wh[[1, 2, 3], 1], [0.0, 2.0, -2.0])
    assert np.abs(Wh[1:, 6]).max() > 0 and np.abs(Wh[1:, 6]).max() <= 0.1   # peepholes drawn


# --------------------------------------------------------------------------------------------
# kernel vs reference
# --------------------------------------------------------------------------------------------
def _compare(arch, init, chunk, order, lr, per_step, reset_act=0.0, seed=0):
    NZ = arch.n_in + 1 + arch.n_hidden
    Mh = arch.masks()[0]

    def learns(Wh0, Wh_r):
        for r in range(arch.n_cells, arch.n_hidden):                   # every peephole learns
            cols = np.nonzero(Mh[r, NZ:])[0] + NZ
            assert np.abs(Wh_r[r, cols] - Wh0[r, cols]).min() > 1e-8
        assert np.abs(Wh_r[:, NZ:] - Wh0[:, NZ:]).max() > 1e-4

    return compare_with_reference(arch, init, chunk, order, lr, per_step, reset_act, seed,
                                  learns=learns)


PP_CASES = [
    # (arch, init, onehot)
    # the GSS02 net, with larger weights than GSS02's init (forget bias -2 keeps s tiny there)
    (Arch(**GSS02, peepholes=True),
     Init(0.6, input_gate_bias=(0.0,), forget_gate_bias=(1.0,), output_gate_bias=(0.0,)), False),
    (Arch(7, 7, 3, 2, forget_gate=True, peepholes=True),
     Init(0.2, output_gate_bias=(-1.0, -2.0, -3.0), forget_gate_bias=(1.0, 2.0, 3.0)), True),
    (Arch(7, 7, 3, 2, peepholes=True), Init(0.2, output_gate_bias=(-1.0, -2.0, -3.0)), True),
    (Arch(2, 1, 2, 2, biases="all", peepholes=True), Init(0.3, input_gate_bias=(-1.0, -2.0)),
     False),                                                                     # 1997 + peep
    (Arch(7, 7, 4, 2, connectivity="C", output_bias=True, input_to_output=True,
          forget_gate=True, peepholes=True),
     Init(0.2, input_gate_bias=(-0.5, -1.0, -1.5, -2.0), forget_gate_bias=(0.5, 1.0, 1.5, 2.0)),
     True),                                                                      # CERG + peep
    (Arch(3, 2, 2, 1, output_gate=False, connectivity="B", biases="b1", forget_gate=True,
          output_act="identity", input_to_output=True, peepholes=True), Init(0.5), False),
    (Arch(2, 1, 2, 2, biases="all", state_decay=0.8, peepholes=True), Init(0.3), False),
]
PP_IDS = ["gss02", "3x2-F-fg", "3x2-F-1997", "real-1997", "cerg", "noog-fg", "decay"]


@pytest.mark.parametrize("arch, init, onehot", PP_CASES, ids=PP_IDS)
@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_kernel_matches_reference(arch, init, onehot, per_step):
    chunk, order = reference_case(arch, onehot, seed=61)
    _compare(arch, init, chunk, order, 0.5, per_step, reset_act=0.0 if onehot else 0.5)


def test_forward_matches_reference():
    for arch, init, onehot in PP_CASES:
        rng = np.random.default_rng(62)
        net = LSTM97.random(arch, init, rng)
        net.Wh[net.Mh == 1] += rng.uniform(-1, 1, int(net.Mh.sum()))      # strong peepholes
        chunk = make_chunk(rng, 4, arch.n_in, arch.n_out, onehot=onehot, lengths=(10, 30))
        m = net.evaluate(chunk, criterion="none")
        for q in range(chunk.n):
            y = ref_forward(arch, net.Wh, net.Wo, chunk, q)
            a, b = chunk.offsets[q], chunk.offsets[q + 1]
            sse = float(((chunk.targets[a:b] - y) ** 2)[chunk.has_target[a:b] == 1].sum())
            assert abs(m[q, M_SSE] - sse) < 1e-9


# --------------------------------------------------------------------------------------------
# peepholes pinned at 0 = the model without them
# --------------------------------------------------------------------------------------------
def _pair(base: dict, rng):
    a0 = Arch(**base)
    ap = Arch(**base, peepholes=True)
    Wh, Wo = random_weights(a0, rng, scale=0.5)
    Whp = np.zeros(ap.masks()[0].shape)
    Whp[:, :Wh.shape[1]] = Wh                          # peephole columns: zero
    return LSTM97(a0, Wh, Wo.copy()), LSTM97(ap, Whp, Wo.copy())


BASES = [dict(GSS02), dict(n_in=7, n_out=7, blocks=3, cells_per_block=2),
         dict(n_in=7, n_out=7, blocks=3, cells_per_block=2, forget_gate=True),
         dict(n_in=3, n_out=2, blocks=2, cells_per_block=2, biases="all", state_decay=0.9)]


@pytest.mark.parametrize("base", BASES, ids=["gss02", "3x2-1997", "3x2-fg", "decay"])
@pytest.mark.parametrize("per_step", [True, False], ids=["per_step_end", "per_seq"])
def test_pinned_peepholes_are_the_plain_model(base, per_step):
    """Peephole weights 0 and kept at 0 (reset after every sequence; with per-step updates the
    only target is the last step, so they change only after it): outputs, statistics and every
    other weight change are those of the net without peepholes, bit for bit."""
    rng = np.random.default_rng(63)
    n0, npp = _pair(base, rng)
    onehot = base["n_in"] == 7
    chunk = make_chunk(rng, 10, base["n_in"], base["n_out"], onehot=onehot, lengths=(5, 30),
                       target="end" if per_step else "every", real_targets=True)
    NZ = n0.Wh.shape[1]
    assert npp.Wh.shape[1] == NZ + n0.arch.n_cells
    W0 = n0.Wh.copy()
    moved = False
    for q in rng.integers(0, chunk.n, 20):
        order = np.array([q])
        m0 = n0.train(chunk, order, lr=0.5, update_per_step=per_step, criterion="abs",
                      threshold=0.4)
        mp = npp.train(chunk, order, lr=0.5, update_per_step=per_step, criterion="abs",
                       threshold=0.4)
        assert np.array_equal(m0, mp)
        assert np.array_equal(n0.Wh, npp.Wh[:, :NZ]) and np.array_equal(n0.Wo, npp.Wo)
        moved |= bool(np.abs(npp.Wh[:, NZ:]).max() > 0)                # the peepholes would learn
        npp.Wh[:, NZ:] = 0.0
    assert moved and np.abs(n0.Wh - W0).max() > 1e-3
    # frozen weights: the same outputs too
    assert np.array_equal(n0.evaluate(chunk, criterion="none"),
                          npp.evaluate(chunk, criterion="none"))


# --------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------
FD_ARCHS = [
    (Arch(**GSS02, peepholes=True), False),
    (Arch(5, 3, 2, 2, forget_gate=True, peepholes=True), True),
    (Arch(3, 2, 2, 2, biases="all", peepholes=True), False),
    (Arch(5, 3, 2, 2, connectivity="C", output_bias=True, input_to_output=True,
          forget_gate=True, peepholes=True), True),
    (Arch(3, 2, 2, 1, output_gate=False, biases="b1", forget_gate=True, output_act="identity",
          peepholes=True), False),
    (Arch(3, 2, 2, 2, biases="all", state_decay=0.8, peepholes=True), False),
]
FD_IDS = ["gss02", "fg-onehot", "1997-real", "fg-cerg-wiring", "fg-noog-linear", "decay"]


def _zero_rec_and_peep(arch, Wh):
    Wh = Wh.copy()
    Wh[:, arch.n_in + 1:] = 0.0          # recurrent and peephole columns
    return Wh


@pytest.mark.parametrize("arch, onehot", FD_ARCHS, ids=FD_IDS)
@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_fd_zero_recurrent_and_peephole_weights(arch, onehot, reset_act):
    """Length 6, every hidden->hidden and every peephole weight zero: the truncation cuts
    d net(t)/d y(t-1) (= the recurrent weights) and d net_gate/d s (= the peephole weights), both
    zero, so the truncated update is the exact gradient -- also for the peephole weights, whose
    sources s(t-1) / s(t) are not zero: their partials of §13.1 are checked for real."""
    model, chunk = check_fd_zero_recurrent(arch, onehot, reset_act, seed=64,
                                           zero=_zero_rec_and_peep)
    NZ = arch.n_in + 1 + arch.n_hidden
    dWh, _ = _engine_update(model, chunk, 0)
    for r in range(arch.n_cells, arch.n_hidden):                       # every gate's peepholes
        assert np.abs(dWh[r, NZ:]).max() > 1e-5


@pytest.mark.parametrize("arch, onehot", FD_ARCHS[:3], ids=FD_IDS[:3])
def test_fd_peephole_flow_is_cut(arch, onehot):
    """Negative control: with nonzero peephole weights (recurrent ones still zero) the error
    path through the peepholes into the CEC is cut (§13.1), so the gate and cell updates are not
    the exact gradient; the output weights' still are (they see only the same step)."""
    rng = np.random.default_rng(65)
    chunk = make_chunk(rng, 1, arch.n_in, arch.n_out, onehot=onehot, lengths=6,
                       real_targets=True)
    Wh, Wo = random_weights(arch, rng, scale=0.7)
    Wh = _zero_rec_and_peep(arch, Wh)
    NZ = arch.n_in + 1 + arch.n_hidden
    Mh = arch.masks()[0]
    Wh[:, NZ:] = rng.uniform(-1.5, 1.5, Mh[:, NZ:].shape) * Mh[:, NZ:]
    model = LSTM97(arch, Wh, Wo)
    dWh, dWo = _engine_update(model, chunk, 0)
    Gh, Go = _numeric_grad(model, chunk, 0)
    assert np.abs(dWh + Gh).max() > 1e-4
    np.testing.assert_allclose(dWo, -Go, rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------------------------------
# specialised kernels, inspect, full gradient, config
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, init, onehot", [
    c if PP_IDS[i] == "gss02" else pytest.param(*c, marks=pytest.mark.slow)
    for i, c in enumerate(PP_CASES)], ids=PP_IDS)
def test_specialised_kernel_bit_identical_peepholes(monkeypatch, arch, init, onehot):
    """GSS02's net (forget gate and peepholes) in the fast tier (each specialised compile costs
    10-30 s on a fresh machine); the other wirings in `make test-slow`."""
    rng = np.random.default_rng(66)
    chunk = make_chunk(rng, 10, arch.n_in, arch.n_out, onehot=onehot, lengths=(5, 20),
                       real_targets=not onehot)
    net = LSTM97.random(arch, init, rng)
    assert_specialised_is_generic(
        monkeypatch, net,
        lambda n: [n.train(chunk, lr=0.5, update_per_step=ps) for ps in (True, False)])


@pytest.mark.parametrize("arch, init, onehot", [PP_CASES[0], PP_CASES[1], PP_CASES[6]],
                         ids=["gss02", "3x2-F-fg", "decay"])
def test_inspect_trace_matches_reference(arch, init, onehot):
    from lstmrun.inspect import trace

    rng = np.random.default_rng(67)
    net = LSTM97.random(arch, init, rng)
    net.Wh[net.Mh == 1] += rng.uniform(-1, 1, int(net.Mh.sum()))
    chunk = make_chunk(rng, 3, arch.n_in, arch.n_out, onehot=onehot, lengths=(10, 30))
    for q in range(chunk.n):
        tr = trace(net, chunk, q)
        np.testing.assert_allclose(tr["outputs"], ref_forward(arch, net.Wh, net.Wo, chunk, q),
                                   rtol=0, atol=1e-12)


def test_full_gradient_refuses_peepholes():
    rng = np.random.default_rng(68)
    arch, init, _ = PP_CASES[0]
    net = LSTM97.random(arch, init, rng)
    net.full_gradient = True
    chunk = make_chunk(rng, 2, 1, 1, onehot=False, lengths=5, target="end", real_targets=True)
    net.evaluate(chunk, criterion="none")                    # frozen runs are fine
    with pytest.raises(ValueError, match="peephole"):
        net.train(chunk, lr=0.1, update_per_step=False)


def test_config_key():
    from lstmrun.config import ConfigError, validate
    from lstmrun.runner import make_arch
    from lstmrun.tasks.registry import build_task

    base = {"task": {"name": "exp6a"}, "protocol": {"name": "st3"},
            "model": {"blocks": 2, "cells_per_block": 2, "biases": "all", "peepholes": True}}
    cfg = validate(base)
    assert cfg["model"]["peepholes"] is True
    assert validate({"task": {"name": "exp6a"}, "protocol": {"name": "st3"}}
                    )["model"]["peepholes"] is False
    arch = make_arch(cfg, build_task(cfg["task"]))
    assert arch.peepholes and arch.n_weights() == 156 + 2 * 2 * 2
    with pytest.raises(ConfigError, match="model.peepholes"):
        validate({"task": {"name": "exp6a"}, "protocol": {"name": "st3"},
                  "model": {"kind": "elman", "peepholes": True}})
    with pytest.raises(ConfigError, match="peepholes"):
        validate(dict(base, train={"gradient": "full", "update": "sequence"}))
