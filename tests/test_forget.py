"""Forget gates, constant state decay and learning-rate decay (GSC00; PROTOCOLS §12.1, issue 8).

- weight counts: GSC00's CERG net (424 weights, derived in PROTOCOLS §12.2);
- the Numba kernel against the NumPy reference ``tests/reference.py`` (extended for forget gates
  from §12.1) to 1e-10 after a few hundred on-line steps;
- the forget model with the gate pinned at 1.0 is the 1997 model, bit for bit;
- finite differences where the truncation loses nothing (length-1 sequences; zero recurrent
  weights, where the forget-gate partials are exact and not trivially zero);
- the stop-at-first-error mode and the specialised kernels.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import ref_forward
from test_engine import (assert_specialised_is_generic, check_fd_length_one,
                         check_fd_zero_recurrent, compare_with_reference, _engine_update,
                         make_chunk, random_weights, reference_case)

from lstmrun.engine import lstm97
from lstmrun.engine.arch import Arch, Init, init_weights
from lstmrun.engine.model import LSTM97

M_SSE, M_CORRECT, M_NTGT = lstm97.M_SSE, lstm97.M_CORRECT, lstm97.M_NTGT

# GSC00's CERG net (PROTOCOLS §12.2): 7 in / 7 out, 4 blocks x 2 cells, recurrence from the cells
# only, gate and output biases, input->output shortcuts
CERG = dict(n_in=7, n_out=7, blocks=4, cells_per_block=2, connectivity="C", biases="ga",
            output_bias=True, input_to_output=True)
CERG_INIT = Init(scale=0.2, input_gate_bias=(-0.5, -1.0, -1.5, -2.0),
                 output_gate_bias=(-0.5, -1.0, -1.5, -2.0),
                 forget_gate_bias=(0.5, 1.0, 1.5, 2.0))


def test_weight_counts():
    assert Arch(**CERG, forget_gate=True).n_weights() == 424          # PROTOCOLS §12.2
    assert Arch(**CERG).n_weights() == 424 - 4 * 16                     # no forget gates: 360
    assert Arch(**CERG, state_decay=0.9).n_weights() == 360             # decay adds no weights
    # forget gates are gates: they read what the other gates read and have a bias under "ga"
    a = Arch(7, 7, 3, 2, forget_gate=True)
    assert a.n_hidden == 6 + 9 and a.forget_gate0 == 12
    # 3 new rows (7 inputs, bias, 15 hidden) and 3 new columns for the 12 old hidden rows
    assert a.n_weights() == Arch(7, 7, 3, 2).n_weights() + 3 * (7 + 1 + 15) + 12 * 3
    Mh, _ = a.masks()
    assert Mh[a.forget_gate0:, 7].all()                                 # biased
    with pytest.raises(ValueError):
        Arch(7, 7, 1, 1, forget_gate=True, state_decay=0.9)
    with pytest.raises(ValueError, match="no forget gates"):
        init_weights(Arch(7, 7, 1, 1), Init(forget_gate_bias=(1.0,)), np.random.default_rng(0))


def test_forget_bias_init():
    rng = np.random.default_rng(0)
    arch = Arch(**CERG, forget_gate=True)
    Wh, _ = init_weights(arch, CERG_INIT, rng)
    np.testing.assert_array_equal(Wh[arch.forget_gate0:arch.forget_gate0 + 4, 7],
                                  [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_array_equal(Wh[arch.in_gate0:arch.in_gate0 + 4, 7], [-0.5, -1, -1.5, -2])


# --------------------------------------------------------------------------------------------
# kernel vs reference
# --------------------------------------------------------------------------------------------
def _compare(arch, init, chunk, order, lr, per_step, reset_act=0.0, seed=0, lr_decay=1.0):
    def learns(Wh0, Wh_r):      # the forget gates learn
        if arch.forget_gate:
            f0 = arch.forget_gate0
            assert np.abs(Wh_r[f0:] - Wh0[f0:]).max() > 1e-4

    return compare_with_reference(arch, init, chunk, order, lr, per_step, reset_act, seed,
                                  lr_decay=lr_decay, learns=learns)


FG_CASES = [
    # (arch, init, onehot)
    (Arch(**CERG, forget_gate=True), CERG_INIT, True),                          # GSC00 net
    (Arch(7, 7, 3, 2, forget_gate=True),
     Init(0.2, output_gate_bias=(-1.0, -2.0, -3.0), forget_gate_bias=(1.0, 2.0, 3.0)), True),
    (Arch(2, 1, 2, 2, biases="all", forget_gate=True),
     Init(0.3, input_gate_bias=(-1.0, -2.0), forget_gate_bias=(0.5, 1.0)), False),
    (Arch(3, 2, 2, 1, output_gate=False, connectivity="B", biases="b1", forget_gate=True,
          output_act="identity", input_to_output=True), Init(0.5), False),
    (Arch(**CERG, state_decay=0.9),
     Init(0.2, input_gate_bias=(-0.5, -1.0, -1.5, -2.0),
          output_gate_bias=(-0.5, -1.0, -1.5, -2.0)), True),                    # GSC00 decay row
    (Arch(2, 1, 2, 2, biases="all", state_decay=0.7), Init(0.3), False),
]
FG_IDS = ["cerg-fg", "3x2-F-fg", "real-fg", "noog-B-fg", "cerg-decay", "real-decay"]


@pytest.mark.parametrize("arch, init, onehot", FG_CASES, ids=FG_IDS)
@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_kernel_matches_reference(arch, init, onehot, per_step):
    chunk, order = reference_case(arch, onehot, seed=41)
    _compare(arch, init, chunk, order, 0.5, per_step, reset_act=0.0 if onehot else 0.5)


@pytest.mark.parametrize("arch, init, onehot", [FG_CASES[0], FG_CASES[2], FG_CASES[4]],
                         ids=["cerg-fg", "real-fg", "cerg-decay"])
def test_lr_decay_matches_reference(arch, init, onehot):
    rng = np.random.default_rng(42)
    chunk = make_chunk(rng, 6, arch.n_in, arch.n_out, onehot=onehot, lengths=(20, 40),
                       real_targets=not onehot)
    order = np.arange(chunk.n)
    model = _compare(arch, init, chunk, order, 0.5, True, lr_decay=0.99)
    # and it differs from the undecayed run
    plain = LSTM97(arch, *init_weights(arch, init, np.random.default_rng(0)))
    plain.train(chunk, order, lr=0.5)
    assert np.abs(plain.Wh - model.Wh).max() > 1e-3


def test_lr_decay_one_is_the_plain_rule():
    arch, init, _ = FG_CASES[0]
    rng = np.random.default_rng(43)
    chunk = make_chunk(rng, 5, 7, 7, lengths=(10, 20))
    a = LSTM97.random(arch, init, rng)
    b = a.copy()
    b.lr_decay = 1.0 - 1e-300  # rounds to 1.0: the decay code runs, multiplying by 1.0
    assert b.lr_decay == 1.0
    a.train(chunk, lr=0.5)
    b.train(chunk, lr=0.5)
    assert np.array_equal(a.Wh, b.Wh)


# --------------------------------------------------------------------------------------------
# the forget gate pinned at 1.0 is the 1997 model
# --------------------------------------------------------------------------------------------
def _pinned_pair(base: dict, rng, onehot):
    """A 1997 net and the same net plus forget gates whose bias is so large that y_phi == 1.0
    exactly in float64 (f(50) = 1 - 2e-22), with every other forget-gate weight zero."""
    a97 = Arch(**base)
    afg = Arch(**base, forget_gate=True)
    Wh97, Wo = random_weights(a97, rng, scale=0.5)
    Mh, _ = afg.masks()
    Whf = np.zeros(Mh.shape)
    H97 = a97.n_hidden
    Whf[:H97, :Wh97.shape[1]] = Wh97                  # the forget gates' columns (F) stay zero
    Whf[afg.forget_gate0:, afg.n_in] = 50.0
    assert 1.0 / (1.0 + np.exp(-50.0)) == 1.0
    return LSTM97(a97, Wh97, Wo.copy()), LSTM97(afg, Whf, Wo.copy())


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
@pytest.mark.parametrize("onehot", [True, False], ids=["onehot", "real"])
def test_pinned_forget_gate_learns_like_1997(per_step, onehot):
    """With recurrence from the cells only (GSC00's wiring) nothing reads the forget gates, so the
    whole run -- outputs, statistics, every weight change -- is the 1997 one, bit for bit, and
    the forget-gate weights do not move (f'(net_phi) = 0)."""
    base = dict(CERG) if onehot else dict(CERG, n_in=3, n_out=2)
    rng = np.random.default_rng(44)
    n97, nfg = _pinned_pair(base, rng, onehot)
    chunk = make_chunk(rng, 10, base["n_in"], base["n_out"], onehot=onehot, lengths=(5, 30),
                       real_targets=not onehot)
    order = rng.integers(0, chunk.n, 30)
    Wf0 = nfg.Wh[nfg.arch.forget_gate0:].copy()
    Wh97_0 = n97.Wh.copy()
    m97 = n97.train(chunk, order, lr=0.5, update_per_step=per_step, criterion="abs",
                    threshold=0.4)
    mfg = nfg.train(chunk, order, lr=0.5, update_per_step=per_step, criterion="abs",
                    threshold=0.4)
    H97, NZ97 = n97.Wh.shape
    assert np.array_equal(m97, mfg)
    assert np.array_equal(n97.Wh, nfg.Wh[:H97, :NZ97]) and np.array_equal(n97.Wo, nfg.Wo)
    assert not nfg.Wh[:, NZ97:].any()                 # the forget gates' columns: no connections
    assert np.array_equal(nfg.Wh[nfg.arch.forget_gate0:], Wf0)
    assert np.abs(n97.Wh - Wh97_0).max() > 1e-3       # the run did learn


def test_pinned_forget_gate_full_connectivity_forward():
    """HS97's "F" wiring: the forget gates are sources of every unit (their weights zero here),
    so the frozen-weight outputs equal the 1997 net's."""
    rng = np.random.default_rng(45)
    n97, nfg = _pinned_pair(dict(n_in=7, n_out=7, blocks=3, cells_per_block=2), rng, True)
    chunk = make_chunk(rng, 10, 7, 7, lengths=(5, 30))
    assert np.array_equal(n97.evaluate(chunk, criterion="none"),
                          nfg.evaluate(chunk, criterion="none"))
    for q in range(3):
        np.testing.assert_array_equal(ref_forward(n97.arch, n97.Wh, n97.Wo, chunk, q),
                                      ref_forward(nfg.arch, nfg.Wh, nfg.Wo, chunk, q))


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_state_decay_one_is_1997(per_step):
    """The constant-decay path with d = 1.0 is the 1997 CEC bit for bit (any wiring)."""
    rng = np.random.default_rng(46)
    a97 = Arch(7, 7, 3, 2)
    ad = Arch(7, 7, 3, 2, state_decay=1.0)
    Wh, Wo = random_weights(a97, rng)
    n97, nd = LSTM97(a97, Wh, Wo), LSTM97(ad, Wh.copy(), Wo.copy())
    chunk = make_chunk(rng, 10, 7, 7, lengths=(5, 30))
    order = rng.integers(0, chunk.n, 30)
    assert np.array_equal(n97.train(chunk, order, lr=0.5, update_per_step=per_step),
                          nd.train(chunk, order, lr=0.5, update_per_step=per_step))
    assert np.array_equal(n97.Wh, nd.Wh) and np.array_equal(n97.Wo, nd.Wo)


# --------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------
FD_ARCHS = [
    (Arch(5, 3, 2, 2, forget_gate=True), True),
    (Arch(3, 2, 2, 2, biases="all", forget_gate=True), False),
    (Arch(5, 3, 2, 2, connectivity="C", biases="ga", output_bias=True, input_to_output=True,
          forget_gate=True), True),
    (Arch(3, 2, 2, 1, output_gate=False, biases="b1", forget_gate=True,
          output_act="identity"), False),
    (Arch(3, 2, 2, 2, biases="all", state_decay=0.8), False),
]
FD_IDS = ["fg-onehot", "fg-real", "fg-cerg-wiring", "fg-noog-linear", "decay-real"]


@pytest.mark.parametrize("arch, onehot", FD_ARCHS, ids=FD_IDS)
@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_fd_length_one_sequences(arch, onehot, reset_act):
    """One step: nothing depends on y(t-1) but the reset activations, the truncation drops
    nothing. (s(0) = 0, so the forget weights' gradient is 0 here: see the next test.)"""
    check_fd_length_one(arch, onehot, reset_act, seed=51)


@pytest.mark.parametrize("arch, onehot", FD_ARCHS, ids=FD_IDS)
@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_fd_zero_recurrent_weights(arch, onehot, reset_act):
    """Length 6, every hidden->hidden weight zero: the cut derivatives are the weights, zero, so
    the truncated update is the exact gradient (see test_engine). Here y_phi varies with the
    input and s(t-1) != 0, so the forget-gate partials of §12.1 are checked for real."""
    model, chunk = check_fd_zero_recurrent(arch, onehot, reset_act, seed=52)
    if arch.forget_gate:
        dWh, _ = _engine_update(model, chunk, 0)
        assert np.abs(dWh[arch.forget_gate0:]).max() > 1e-4     # not a vacuous comparison


# --------------------------------------------------------------------------------------------
# stop at the first error (continual streams)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("learn", [True, False])
def test_stop_at_first_error(learn):
    """With ``stop_at_error`` a call ends right after the first failing judged step (its weight
    change applied): the same as running the sequences up to that step and no further."""
    arch, init, _ = FG_CASES[0]
    rng = np.random.default_rng(53)
    net = LSTM97.random(arch, init, rng)
    chunk = make_chunk(rng, 6, 7, 7, lengths=(30, 60), real_targets=True)
    thr = 0.45
    full = net.copy().run(chunk, learn=learn, lr=0.5, criterion="abs", threshold=thr)
    assert (full[:, M_CORRECT] == 0).any()
    stopper = net.copy()
    stopper.stop_at_error = True
    m = stopper.run(chunk, learn=learn, lr=0.5, criterion="abs", threshold=thr)
    first_bad = int(np.argmax(full[:, M_CORRECT] == 0))
    assert len(m) == first_bad + 1 and m[-1, M_CORRECT] == 0
    # the steps processed: find the failing step by running the truncated chunk without stop
    steps = int(m[:, M_NTGT].sum())
    assert steps < chunk.total_steps
    cut = chunk.offsets[first_bad] + int(m[-1, M_NTGT])
    ref = net.copy()
    sub = _truncate(chunk, first_bad, cut)
    mr = ref.run(sub, learn=learn, lr=0.5, criterion="abs", threshold=thr)
    assert np.array_equal(m, mr)
    assert np.array_equal(stopper.Wh, ref.Wh) and np.array_equal(stopper.Wo, ref.Wo)


def _truncate(chunk, last_seq, cut):
    from lstmrun.engine.chunk import Chunk

    offsets = chunk.offsets[:last_seq + 2].copy()
    offsets[-1] = cut
    return Chunk(offsets, chunk.x_idx[:cut], chunk.x_real[:cut], chunk.targets[:cut],
                 chunk.has_target[:cut], chunk.legal[:cut], chunk.onehot, chunk.n_in,
                 chunk.n_out)


# --------------------------------------------------------------------------------------------
# specialised kernels
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, init, onehot", [
    pytest.param(*c, marks=pytest.mark.slow) for c in FG_CASES], ids=FG_IDS)
def test_specialised_kernel_bit_identical_forget(monkeypatch, arch, init, onehot):
    """`make test-slow` only (each specialised compile costs 10-30 s on a fresh machine): the fast
    tier checks the specialised kernels on the 1997 net, GSS02's forget-gate and peephole net
    (tests/test_peephole.py) and the full gradient's."""
    rng = np.random.default_rng(54)
    chunk = make_chunk(rng, 10, arch.n_in, arch.n_out, onehot=onehot, lengths=(5, 20),
                       real_targets=not onehot)
    net = LSTM97.random(arch, init, rng)
    net.lr_decay = 0.995
    assert_specialised_is_generic(monkeypatch, net, lambda n: [n.train(chunk, lr=0.5)])


# --------------------------------------------------------------------------------------------
# lstmrun inspect's NumPy trace
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, init, onehot", [FG_CASES[0], FG_CASES[1], FG_CASES[4]],
                         ids=["cerg-fg", "3x2-F-fg", "cerg-decay"])
def test_inspect_trace_matches_kernel(arch, init, onehot):
    from lstmrun.inspect import trace

    rng = np.random.default_rng(55)
    net = LSTM97.random(arch, init, rng)
    chunk = make_chunk(rng, 4, arch.n_in, arch.n_out, onehot=onehot, lengths=(10, 30))
    for q in range(chunk.n):
        tr = trace(net, chunk, q)
        np.testing.assert_allclose(tr["outputs"], ref_forward(arch, net.Wh, net.Wo, chunk, q),
                                   rtol=0, atol=1e-12)
        assert tr["forget_gates"].shape == (len(tr["outputs"]), arch.blocks)
        if arch.state_decay is not None:
            assert (tr["forget_gates"] == arch.state_decay).all()
        else:
            assert 0 < tr["forget_gates"].min() and tr["forget_gates"].max() < 1
